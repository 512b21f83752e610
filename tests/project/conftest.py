"""Fixtures: a copy of the sample VS Code ASA project (fixtures/speeding) that a test may edit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def speeding(tmp_path: Path) -> Path:
    """The folder of a fresh copy of the sample project (asaproj.json, Inputs, Outputs, Functions, test)."""
    target = tmp_path / "speeding"
    shutil.copytree(FIXTURES / "speeding", target)
    return target


def edit_json(path: Path, change: Any) -> None:
    """Load ``path``, let ``change`` mutate the data in place, write it back."""
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
