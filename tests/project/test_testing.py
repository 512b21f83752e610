"""asanb.testing.run_test_config: testConfig.json cases with IgnoreFields and Required, the cicd summary
shape, per-case errors instead of crashes, and every shared conformance case written out as a project."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from project_helpers import FIXTURES, edit_json
from shared_location import SHARED

import asanb.testing
from asanb import ProjectError
from asanb.testing import EXIT_FAILED, EXIT_PASSED, compare_rows, run_test_config, write_conformance_project

CASES = sorted(((SHARED or Path("/nonexistent")) / "conformance" / "cases").glob("*.json"))
RESULT_KEYS = {"Name", "Status", "Time", "OutputMatched", "OutputNotEqual", "OutputMissing", "OutputUnexpected",
               "OutputUnrequired"}


def _config(project: Path) -> Path:
    return project / "test" / "testConfig.json"


def test_sample_project_passes_and_writes_the_cicd_summary(tmp_path: Path) -> None:
    report = run_test_config(FIXTURES / "speeding" / "asaproj.json", output_path=tmp_path)
    report.assert_passed()
    assert report.exit_code == EXIT_PASSED and report.path == tmp_path / "testResultSummary.json"
    summary = json.loads(report.path.read_text())
    assert (summary["Total"], summary["Passed"], summary["Failed"]) == (1, 1, 0)
    assert summary["Script"].endswith("speeding.asaql")
    case = summary["Results"][0]
    assert set(case) == RESULT_KEYS and case["Status"] == 0
    assert [m["OutputAlias"] for m in case["OutputMatched"]] == ["Fast", "Counts"]
    actual = Path(case["OutputMatched"][0]["Output"])
    assert actual.parent == tmp_path / "Case_1" and len(actual.read_text().splitlines()) == 2


def test_without_ignore_fields_the_differing_column_fails_the_case(speeding: Path, tmp_path: Path) -> None:
    edit_json(_config(speeding), lambda data: data["TestCases"][0]["ExpectedOutputs"][1].update(IgnoreFields=[]))
    report = run_test_config(speeding, output_path=tmp_path)
    assert report.exit_code == EXIT_FAILED
    case = report.summary["Results"][0]
    assert case["Status"] == 1 and [m["OutputAlias"] for m in case["OutputMatched"]] == ["Fast"]
    assert case["OutputNotEqual"][0]["OutputAlias"] == "Counts" and "windowEnd" in case["OutputNotEqual"][0]["Reason"]
    with pytest.raises(AssertionError, match="Case 1: output Counts"):
        report.assert_passed()


def test_a_wrong_expected_value_fails(speeding: Path, tmp_path: Path) -> None:
    expected = speeding / "test" / "Case1" / "Fast.json"
    expected.write_text(expected.read_text().replace("177", "178"))
    report = run_test_config(speeding, output_path=tmp_path)
    assert report.summary["Failed"] == 1 and "178" in report.summary["Results"][0]["OutputNotEqual"][0]["Reason"]


def test_unrequired_output_is_not_validated(speeding: Path, tmp_path: Path) -> None:
    (speeding / "test" / "Case1" / "Fast.json").unlink()
    edit_json(_config(speeding), lambda data: data["TestCases"][0]["ExpectedOutputs"][0].update(Required=False))
    report = run_test_config(speeding, output_path=tmp_path)
    report.assert_passed()
    assert [u["OutputAlias"] for u in report.summary["Results"][0]["OutputUnrequired"]] == ["Fast"]


def test_output_the_query_never_writes_is_reported_in_its_case(speeding: Path, tmp_path: Path) -> None:
    def add_case(data: dict) -> None:
        broken = json.loads(json.dumps(data["TestCases"][0]))
        broken["Name"] = "Case 2"
        broken["ExpectedOutputs"][0]["OutputAlias"] = "Slow"
        data["TestCases"].append(broken)

    edit_json(_config(speeding), add_case)
    report = run_test_config(speeding, output_path=tmp_path)
    first, second = report.summary["Results"]
    assert first["Status"] == 0 and second["Status"] == 1
    assert second["OutputMissing"] == [{"OutputAlias": "Slow", "ExpectedOutput": second["OutputMissing"][0][
        "ExpectedOutput"], "Output": ""}]
    assert "TestCases[1].ExpectedOutputs[0].OutputAlias" in second["Error"] and "'Slow'" in second["Error"]
    assert [u["OutputAlias"] for u in second["OutputUnexpected"]] == ["Fast"]
    assert report.exit_code == EXIT_FAILED


def test_missing_case_input_file_fails_only_that_case(speeding: Path, tmp_path: Path) -> None:
    def add_case(data: dict) -> None:
        broken = json.loads(json.dumps(data["TestCases"][0]))
        broken["Name"] = "Case 2"
        broken["Inputs"][0]["FilePath"] = "Case2/nowhere.json"
        data["TestCases"].insert(0, broken)

    edit_json(_config(speeding), add_case)
    report = run_test_config(speeding, output_path=tmp_path)
    broken, good = report.summary["Results"]
    assert broken["Status"] == 1 and good["Status"] == 0
    assert "testConfig.json" in broken["Error"] and "TestCases[0].Inputs[0].FilePath" in broken["Error"]
    assert "nowhere.json" in broken["Error"]


def test_a_failing_job_is_a_failed_case(speeding: Path, tmp_path: Path) -> None:
    (speeding / "Functions" / "kmh.js").write_text("function main(mph) { throw new Error('no speed'); }")
    report = run_test_config(speeding, output_path=tmp_path)
    case = report.summary["Results"][0]
    assert case["Status"] == 1 and "no speed" in case["Error"]


def test_unreadable_test_config_raises_with_its_line(speeding: Path, tmp_path: Path) -> None:
    _config(speeding).write_text('{\n "TestCases": [\n  {"Name": "x",}\n ]\n}')
    with pytest.raises(ProjectError) as caught:
        run_test_config(speeding, output_path=tmp_path)
    assert caught.value.line == 3 and caught.value.file.endswith("testConfig.json")


def test_missing_local_project_inputs_do_not_matter_when_cases_bring_inputs(speeding: Path, tmp_path: Path) -> None:
    (speeding / "Inputs" / "cars.json").unlink()
    run_test_config(speeding, output_path=tmp_path).assert_passed()


# --- conformance cases as ASA projects -------------------------------------------------------------------


def test_conformance_cases_are_found() -> None:
    assert CASES, "no conformance cases found: set ASANB_SHARED to the shared/ folder"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_conformance_case_as_project_passes_asanb_test(path: Path, tmp_path: Path) -> None:
    project_file = write_conformance_project(path, tmp_path / "project")
    assert asanb.Project.load(project_file).script == json.loads(path.read_text())["query"]
    run_test_config(project_file, output_path=tmp_path / "out").assert_passed()


@pytest.mark.parametrize("path", CASES[:4], ids=[p.stem for p in CASES[:4]])
def test_conformance_project_with_a_wrong_expected_row_fails(path: Path, tmp_path: Path) -> None:
    project_file = write_conformance_project(path, tmp_path / "project")
    expected = sorted((project_file.parent / "test" / "Case1").glob("expected_*.json"))[0]
    rows = json.loads(expected.read_text())
    expected.write_text(json.dumps(rows + [rows[0]] if rows else [{"x": 1}]))
    assert run_test_config(project_file, output_path=tmp_path / "out").exit_code == EXIT_FAILED


def _shared_compare_rows():
    spec = importlib.util.spec_from_file_location("run_conformance", SHARED / "conformance" / "run_conformance.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.compare_rows


@pytest.mark.parametrize(("expected", "actual", "ordered"), [
    ([{"a": 1, "t": "2026-01-01T00:00:01Z"}], [{"A": 1.0000001, "t": "2026-01-01T00:00:01.0000000Z"}], False),
    ([{"a": 1}, {"a": 2}], [{"a": 2}, {"a": 1}], False),
    ([{"a": 1}, {"a": 2}], [{"a": 2}, {"a": 1}], True),
    ([{"a": None}], [{"a": float("nan")}], False),
    ([{"a": "1"}], [{"a": 1}], False),
    ([{"a": 1}], [{"a": 1.01}], False),
    ([{"r": {"x": [1, 2]}}], [{"r": {"X": [1, 2]}}], False),
    ([{"a": 1}], [{"a": 1}, {"a": 1}], False),
    ([{"a": 1}], [{"b": 1}], False),
])
def test_comparison_agrees_with_the_shared_conformance_runner(expected, actual, ordered) -> None:
    ours = compare_rows(expected, actual, order_sensitive=ordered)
    theirs = _shared_compare_rows()(expected, actual, ordered)
    assert (ours is None) == (theirs is None), (ours, theirs)


def test_ignore_fields_drop_columns_on_both_sides() -> None:
    assert compare_rows([{"a": 1, "At": 5}], [{"a": 1, "at": 6}], ignore_fields=["AT"]) is None
    assert compare_rows([{"a": 1, "At": 5}], [{"a": 1, "at": 6}]) is not None
