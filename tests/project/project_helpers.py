"""Helpers for the ASA project tests: the sample project folder and an in-place JSON editor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def edit_json(path: Path, change: Any) -> None:
    """Load ``path``, let ``change`` mutate the data in place, write it back."""
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
