"""Run an ASA project's testConfig.json cases and write ``testResultSummary.json`` in the shape of the
azure-streamanalytics-cicd ``test`` command (../shared/spec/asa_project.md, "Local run and tests").

A case whose files are missing or malformed, whose job fails, or that expects an output the query never
writes is reported as a failed case with an ``Error`` message (an asanb addition to the summary shape)
instead of stopping the run. Exit codes as the cicd tool: 0 all passed, -2 a case failed, -1 the project
or test configuration could not be read.
"""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asanb.errors import AsanbError, ProjectError
from asanb.job import run
from asanb.project.compare import compare_rows
from asanb.project.loader import find_project_file, load_project
from asanb.project.model import Project
from asanb.project.runner import local_source, read_json_events
from asanb.project.testconfig import TestCase, read_test_config

__all__ = ["EXIT_EXCEPTION", "EXIT_FAILED", "EXIT_PASSED", "TestReport", "run_test_config", "test_command"]

EXIT_PASSED, EXIT_EXCEPTION, EXIT_FAILED = 0, -1, -2
SUMMARY_FILE = "testResultSummary.json"


@dataclass(frozen=True, slots=True)
class TestReport:
    """The summary written to ``path`` (``summary`` is its JSON content) and the cicd exit code."""

    __test__ = False  # not a pytest test class, though its name starts with Test

    summary: dict[str, Any]
    path: Path

    @property
    def exit_code(self) -> int:
        return EXIT_PASSED if self.summary["Failed"] == 0 else EXIT_FAILED

    @property
    def passed(self) -> bool:
        return self.exit_code == EXIT_PASSED

    def failures(self) -> list[str]:
        """One line per failed case: its name and what went wrong."""
        return [f"{case['Name']}: {_case_problems(case)}" for case in self.summary["Results"] if case["Status"]]

    def assert_passed(self) -> None:
        """For pytest: an AssertionError listing every failed case."""
        if not self.passed:
            raise AssertionError("ASA test cases failed:\n" + "\n".join(self.failures()))


def run_test_config(project: Project | str | os.PathLike[str], test_config_path: str | os.PathLike[str] | None = None,
                    output_path: str | os.PathLike[str] | None = None) -> TestReport:
    """Run every case of ``test_config_path`` (default ``test/testConfig.json`` beside asaproj.json) and write
    ``testResultSummary.json`` and each case's actual outputs under ``output_path`` (default: the
    testConfig folder).

    Raises:
        ProjectError: the project or the test configuration cannot be read (exit code -1 in the CLI).
    """
    if not isinstance(project, Project):
        # The cases bring their own inputs, so missing local input files do not matter here.
        project = load_project(find_project_file(project), check_local_inputs=False)
    root = project.root or Path.cwd()
    config_file = Path(test_config_path) if test_config_path else root / "test" / "testConfig.json"
    config = read_test_config(config_file.resolve(), root)
    out = Path(output_path) if output_path else config.file.parent
    out.mkdir(parents=True, exist_ok=True)
    script_path = config.script or project.script_path
    script = config.script.read_text(encoding="utf-8-sig") if config.script else project.script
    results = [_run_case(project, script, case, out / _safe(case.name or f"case{index}"))
               for index, case in enumerate(config.cases)]
    passed = sum(1 for case in results if case["Status"] == 0)
    summary = {"Total": len(results), "Passed": passed, "Failed": len(results) - passed,
               "Script": str(script_path or ""), "Results": results}
    path = out / SUMMARY_FILE
    _write_json(path, summary)
    return TestReport(summary=summary, path=path)


def test_command(project: str, test_config_path: str | None = None, output_path: str | None = None) -> int:
    """``asanb test``: run the cases, print one line per case, return the cicd exit code."""
    try:
        report = run_test_config(project, test_config_path, output_path)
    except AsanbError as error:
        print(f"asanb test: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_EXCEPTION
    for case in report.summary["Results"]:
        outcome = "PASS" if case["Status"] == 0 else f"FAIL: {_case_problems(case)}"
        print(f"{case['Name']}: {outcome}")
    summary = report.summary
    print(f"Total: {summary['Total']}, Passed: {summary['Passed']}, Failed: {summary['Failed']} -> {report.path}")
    return report.exit_code


test_command.__test__ = False  # type: ignore[attr-defined]


def _run_case(project: Project, script: str, case: TestCase, out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    result: dict[str, Any] = {"Name": case.name, "Status": 0, "Time": 0.0, "OutputMatched": [],
                              "OutputNotEqual": [], "OutputMissing": [], "OutputUnexpected": [],
                              "OutputUnrequired": []}
    errors: list[str] = [case.problem] if case.problem else []
    written: dict[str, tuple[str, Path]] = {}
    if not errors:
        try:
            written = _execute(project, script, case, out, errors)
        except AsanbError as error:
            errors.append(f"{type(error).__name__}: {error}")
    if not case.problem:
        _check_outputs(case, written, result, errors)
    if errors:
        result["Error"] = "; ".join(errors)
    if errors or result["OutputNotEqual"] or result["OutputMissing"]:
        result["Status"] = 1
    result["Time"] = round(time.perf_counter() - started, 3)
    return result


def _execute(project: Project, script: str, case: TestCase, out: Path,
             errors: list[str]) -> dict[str, tuple[str, Path]]:
    """Run the case's job; write each output as line-separated JSON; (alias, file) by folded alias."""
    from asanb.io.sinks import write_json_lines

    streams: dict[str, Any] = {}
    reference: dict[str, Any] = {}
    for item in case.inputs:
        target = reference if item.is_reference else streams
        target[item.alias] = local_source(item.path, item.format, item.alias)
    given = {alias.lower() for alias in [*streams, *reference]}
    for spec in project.inputs:  # inputs the case leaves out keep the project's local file
        if spec.alias.lower() not in given and spec.local is not None and spec.local.path.is_file():
            target = reference if spec.is_reference else streams
            target[spec.alias] = local_source(spec.local.path, spec.local.format, spec.alias, spec.local.file)
    results = run(script, streams, reference=reference or None,
                  functions=[spec.definition for spec in project.functions], config=project.config)
    if results.state == "Failed":
        errors.append(f"the job failed: {results.error}")
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for alias, frame in results.outputs.items():
        path = out / f"{alias}.json"
        write_json_lines(frame, path)
        written[alias.lower()] = (alias, path)
    return written


def _check_outputs(case: TestCase, written: dict[str, tuple[str, Path]], result: dict[str, Any],
                   errors: list[str]) -> None:
    expected_aliases = set()
    for expected in case.expected:
        expected_aliases.add(expected.alias.lower())
        alias, actual_path = written.get(expected.alias.lower(), (expected.alias, None))
        entry = {"OutputAlias": expected.alias, "ExpectedOutput": str(expected.path),
                 "Output": str(actual_path) if actual_path else ""}
        if not expected.required:
            result["OutputUnrequired"].append(entry)
            continue
        if actual_path is None:
            result["OutputMissing"].append(entry)
            if written:  # when the job ran, say which outputs it has
                known = ", ".join(name for name, _ in written.values())
                errors.append(f"{expected.field}.OutputAlias: the query never writes output "
                              f"'{expected.alias}' (it writes: {known})")
            continue
        try:
            reason = compare_rows(read_json_events(expected.path), read_json_events(actual_path),
                                  order_sensitive=expected.order_sensitive, ignore_fields=expected.ignore_fields)
        except ProjectError as error:
            reason = str(error)
        if reason is None:
            result["OutputMatched"].append(entry)
        else:
            result["OutputNotEqual"].append({**entry, "Reason": reason})
    for folded, (alias, path) in written.items():
        if folded not in expected_aliases:
            result["OutputUnexpected"].append({"OutputAlias": alias, "ExpectedOutput": "", "Output": str(path)})


def _case_problems(case: dict[str, Any]) -> str:
    parts = [case["Error"]] if case.get("Error") else []
    parts += [f"output {item['OutputAlias']}: {item.get('Reason', 'not equal')}" for item in case["OutputNotEqual"]]
    if not case.get("Error"):
        parts += [f"output {item['OutputAlias']}: missing" for item in case["OutputMissing"]]
    return "; ".join(parts) or "failed"


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("_") or "case"


def _write_json(path: Path, data: Any) -> None:
    import json

    try:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    except OSError as error:
        raise ProjectError(f"cannot write the test summary: {error.strerror or error}", file=str(path)) from None
