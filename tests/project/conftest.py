"""Fixtures: a copy of the sample VS Code ASA project (fixtures/speeding) that a test may edit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from project_helpers import FIXTURES


@pytest.fixture
def speeding(tmp_path: Path) -> Path:
    """The folder of a fresh copy of the sample project (asaproj.json, Inputs, Outputs, Functions, test)."""
    target = tmp_path / "speeding"
    shutil.copytree(FIXTURES / "speeding", target)
    return target
