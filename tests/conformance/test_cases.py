"""Every shared ASA conformance case runs through asanb.run and must match its expected output."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from shared_location import SHARED as SHARED_ROOT

import asanb

SHARED = (SHARED_ROOT or Path("/nonexistent")) / "conformance"
CASES = sorted((SHARED / "cases").glob("*.json"))

# Cases that need a feature of another open issue: {file name: issue}. Empty the entry when it lands.
NEEDS_ISSUE: dict[str, int] = {}


def test_conformance_cases_are_found() -> None:
    # Without the shared cases the suite would pass vacuously; CI must see them (set ASANB_SHARED).
    assert CASES, "no conformance cases found: set ASANB_SHARED to the shared/ folder"


def _comparator():
    spec = importlib.util.spec_from_file_location("run_conformance", SHARED / "run_conformance.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_conformance_case(path: Path) -> None:
    if path.name in NEEDS_ISSUE:
        pytest.xfail(f"needs issue #{NEEDS_ISSUE[path.name]}")
    case = json.loads(path.read_text())
    comparator = _comparator()
    results = asanb.run(case["query"], case.get("inputs", {}), reference=case.get("reference_inputs") or None)
    assert results.state == "Stopped", results.error
    for alias, expected in case["expected"].items():
        actual = results[alias].to_dict(orient="records")
        reason = comparator.compare_rows(expected, actual, bool(case.get("order_sensitive")))
        assert reason is None, f"{path.name} output {alias}: {reason}"
