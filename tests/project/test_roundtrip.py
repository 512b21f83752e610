"""Import -> export -> import gives the same job: the same script, settings, inputs (kind, source, serialization,
local events), outputs and functions, and running both gives the same results. Also notebook job -> export ->
import runs like the notebook job."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import asanb
from asanb.errors import ExportWarning
from asanb.project.model import Project
from asanb.udf.ml import FunctionColumn

FIXTURE = Path(__file__).parent / "fixtures" / "speeding"


def _job(project: Project) -> dict[str, Any]:
    """The job a project describes, without where its files are."""
    return {
        "script": project.script,
        "settings": (project.settings.config, project.settings.compatibility_level, project.settings.data_locale),
        "inputs": [(i.alias, i.kind, i.data_source_type, i.serialization,
                    None if i.local is None else (i.local.format, i.local.kind, i.local.path.read_bytes()))
                   for i in project.inputs],
        "outputs": [(o.alias, o.data_source_type, o.serialization) for o in project.outputs],
        "functions": [(f.alias, f.kind, f.definition) for f in project.functions],
    }


def _frames(results: asanb.Results) -> dict[str, pd.DataFrame]:
    return {alias: frame.reset_index(drop=True) for alias, frame in results.outputs.items()}


def test_a_project_survives_import_export_import(tmp_path: Path) -> None:
    original = Project.load(FIXTURE)
    summary = asanb.export(original, tmp_path / "again")
    assert summary.warnings == ()
    again = Project.load(summary.project_file)
    assert again.name == original.name
    assert _job(again) == _job(original)
    # Settings carried from the VS Code files, not only the model's defaults.
    assert again.input("Input").to_json()["EventHubProperties"]["EventHubName"] == "cars"
    first, second = _frames(original.run()), _frames(again.run())
    assert first.keys() == second.keys() and first
    for alias in first:
        pd.testing.assert_frame_equal(first[alias], second[alias])


def test_export_of_the_reimported_project_is_byte_identical(tmp_path: Path) -> None:
    once = asanb.export(Project.load(FIXTURE), tmp_path / "once")
    twice = asanb.export(Project.load(once.project_file), tmp_path / "twice")
    relative = sorted(p.relative_to(once.directory) for p in once.files)
    assert relative == sorted(p.relative_to(twice.directory) for p in twice.files)
    for path in relative:
        assert (once.directory / path).read_bytes() == (twice.directory / path).read_bytes(), path


UDA = """function main() {
    this.init = function () { this.state = 0; };
    this.accumulate = function (value, timestamp) { this.state += value; };
    this.computeResult = function () { return this.state; };
}"""


def test_a_notebook_job_exported_and_loaded_runs_the_same(tmp_path: Path) -> None:
    events = pd.DataFrame({"time": [f"2026-01-01T00:00:{s:02d}Z" for s in range(0, 40, 3)],
                           "make": ["Make1", "Make2"] * 7, "speed": [float(90 + 3 * s) for s in range(14)]})
    makes = pd.DataFrame({"make": ["Make1", "Make2"], "country": ["FR", "DE"]})
    kmh = asanb.JavaScriptFunction("kmh", "function kmh(mph) { return Math.round(mph * 1.609344); }",
                                   output="bigint")
    total = asanb.JavaScriptAggregate("total", UDA, output="float")
    query = """# per country, every 10 s
SELECT m.country, COUNT(*) AS cars, uda.total(c.speed) AS speeds, System.Timestamp() AS windowEnd
INTO counts FROM cars c TIMESTAMP BY time JOIN makes m ON c.make = m.make
GROUP BY m.country, TumblingWindow(second, 10)
SELECT make, udf.kmh(speed) AS kmh INTO fast FROM cars TIMESTAMP BY time WHERE speed > 100"""
    config = asanb.JobConfig(streaming_units=3, events_out_of_order_max_delay_seconds=1)
    expected = asanb.run(query, {"cars": events}, reference={"makes": makes}, functions=[kmh, total],
                         config=config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExportWarning)  # the DataFrames: asserted in test_export
        summary = asanb.export(query, tmp_path / "job", {"cars": events}, reference={"makes": makes},
                               functions=[kmh, total], config=config)
    project = Project.load(summary.project_file)
    assert project.config == config
    assert {f.alias: f.definition for f in project.functions} == {"kmh": kmh, "total": total}
    assert project.input("makes").is_reference and not project.input("cars").is_reference
    got = project.run()
    assert got.state == expected.state == "Stopped"
    for alias, frame in _frames(expected).items():
        assert len(frame), alias
        pd.testing.assert_frame_equal(_frames(got)[alias], frame, check_dtype=False)


def test_an_ml_function_round_trips_except_its_key(tmp_path: Path) -> None:
    score = asanb.MLFunction("score", "https://fares.example.net/score", api_key="secret", max_batch_count=300,
                             parallel_requests_per_partition=2, input_request_name="data", timeout=12.0,
                             inputs=(FunctionColumn("speed", "float", 0),))  # given: export reads no swagger
    query = "SELECT udf.score(speed) AS fare INTO scored FROM cars"
    plain = Project.load(asanb.export(query, tmp_path / "a", functions=[score]).project_file)
    assert plain.function("score").definition == score.__class__(**{
        **{name: getattr(score, name) for name in score.__dataclass_fields__}, "api_key": None})
    keyed = Project.load(asanb.export(query, tmp_path / "b", functions=[score], include_secrets=True).project_file)
    assert keyed.function("score").definition == score


@pytest.mark.parametrize("late", [0.0, 5.0, 3600.0])
def test_job_settings_round_trip(tmp_path: Path, late: float) -> None:
    config = asanb.JobConfig(streaming_units=18, events_late_arrival_max_delay_seconds=late,
                             events_out_of_order_policy="Drop", output_error_policy="Drop")
    summary = asanb.export("SELECT speed INTO fast FROM cars", tmp_path / "s", config=config)
    assert Project.load(summary.project_file).config == config
