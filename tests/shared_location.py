"""Where the team's shared reference folder is: $ASANB_SHARED, else ../shared next to the repository,
else /work/shared. Conformance cases and benchmark peers live there."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    candidates = [os.environ.get("ASANB_SHARED"), REPO.parent / "shared", "/work/shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "conformance").is_dir():
            return Path(candidate)
    return None


SHARED = shared_dir()
