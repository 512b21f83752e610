"""``python -m asanb``: the same command line as the ``asanb`` console script."""

import sys

from asanb.cli import main

sys.exit(main())
