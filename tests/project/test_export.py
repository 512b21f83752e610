"""asanb.export: every file of the exported ASA project, the '#' -> '--' rewrite, the warnings for what ASA
cannot run (Python UDFs, simulated sources, DataFrames, missing definitions), secrets left out, and the
notebook Job and bad-argument paths."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import asanb
from asanb.errors import AsaSyntaxError, ConfigError, ExportWarning
from asanb.project.arm_schema import template_problems
from asanb.udf.ml import FunctionColumn
from asanb.udf.server import ServerSettings, swagger_document

EVENTS = pd.DataFrame({"time": ["2026-01-01T00:00:01Z", "2026-01-01T00:00:04Z", "2026-01-01T00:00:12Z"],
                       "make": ["Make1", "Make2", "Make1"], "speed": [120, 80, 130]})
QUERY = """# cars over the limit, scored
WITH Fast AS (SELECT make, speed FROM cars TIMESTAMP BY time WHERE speed > 100)
SELECT make, udf.score(udf.pair(make, speed)) AS fare INTO scored FROM Fast
SELECT m.country, COUNT(*) AS n, uda.total(c.speed) AS km
INTO counts FROM cars c TIMESTAMP BY time JOIN makes m ON c.make = m.make
GROUP BY m.country, TumblingWindow(second, 10)
  # an indented '#' comment, and a '#' kept inside a string:
SELECT '#not a comment' AS tag INTO tags FROM cars TIMESTAMP BY time
"""
UDA = """function main() {
    this.init = function () { this.state = 0; };
    this.accumulate = function (value, timestamp) { this.state += value; };
    this.computeResult = function () { return this.state; };
}"""
# Declared inputs: export writes them as given and reads no swagger (test_export_ml_signature.py covers that).
SPEED = (FunctionColumn("speed", "float", 0),)
SCORE = asanb.MLFunction("score", "http://127.0.0.1:9/score", api_key="k-123", max_batch_count=200,
                         parallel_requests_per_partition=4, timeout=7.5, inputs=SPEED)
PAIR = asanb.JavaScriptFunction("pair", "function pair(a, b) { return [a, b]; }", output="array")
TOTAL = asanb.JavaScriptAggregate("total", UDA, output="float", time_limit_seconds=3)
CONFIG = asanb.JobConfig(streaming_units=12, events_out_of_order_max_delay_seconds=2,
                         events_out_of_order_policy="Drop", output_error_policy="Drop")


def _export(tmp_path: Path, **changes: Any) -> asanb.project.export.ExportSummary:
    makes = tmp_path / "makes.csv"
    makes.write_text("make,country\nMake1,FR\nMake2,DE\n")
    arguments: dict[str, Any] = dict(inputs={"cars": EVENTS}, reference={"makes": str(makes)},
                                     functions=[SCORE, PAIR, TOTAL], config=CONFIG)
    arguments.update(changes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExportWarning)
        return asanb.export(QUERY, tmp_path / "speeding", **arguments)


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_asaproj_names_the_script_and_every_configuration_file(tmp_path: Path) -> None:
    summary = _export(tmp_path)
    root = summary.directory
    manifest = _json(root / "asaproj.json")
    assert manifest["name"] == "speeding" and manifest["startFile"] == "speeding.asaql"
    listed = {entry["filePath"]: entry["subType"] for entry in manifest["configurations"]}
    assert listed == {
        "JobConfig.json": "JobConfig",
        "Inputs/cars.json": "Input", "Inputs/local_cars.json": "InputMock",
        "Inputs/makes.json": "Input", "Inputs/local_makes.json": "InputMock",
        "Outputs/scored.json": "Output", "Outputs/counts.json": "Output", "Outputs/tags.json": "Output",
        "Functions/score.json": "Function",
        "Functions/pair.js": "JavaScriptUdf", "Functions/pair.js.json": "JavaScriptUdf",
        "Functions/total.js": "JavaScriptUda", "Functions/total.js.json": "JavaScriptUda",
    }
    assert all((root / path).is_file() for path in listed)
    assert set(summary.files) == {p for p in root.rglob("*") if p.is_file()}


def test_script_turns_hash_comment_lines_into_double_dash_only(tmp_path: Path) -> None:
    script = _export(tmp_path).script.read_text()
    assert script.startswith("-- cars over the limit, scored\n")
    assert "  -- an indented '#' comment" in script
    assert "'#not a comment'" in script
    assert script.count("#") == 3  # the two inside the indented comment's text and the string literal
    assert script.replace("-- cars", "# cars").replace("-- an", "# an") == QUERY
    assert asanb.Project.load(tmp_path / "speeding").script == script


def test_job_config_has_streaming_units_and_policies(tmp_path: Path) -> None:
    config = _json(_export(tmp_path).directory / "JobConfig.json")
    assert config["StreamingUnits"] == 12
    assert (config["EventsOutOfOrderPolicy"], config["OutputErrorPolicy"]) == ("Drop", "Drop")
    assert (config["EventsLateArrivalMaxDelayInSeconds"], config["EventsOutOfOrderMaxDelayInSeconds"]) == (5, 2)
    assert config["CompatibilityLevel"] == "1.2" and config["ScriptType"] == "JobConfig"


def test_inputs_are_stream_or_reference_stubs_with_local_inputs(tmp_path: Path) -> None:
    root = _export(tmp_path).directory
    cars, makes = _json(root / "Inputs/cars.json"), _json(root / "Inputs/makes.json")
    assert (cars["InputAlias"], cars["Type"], cars["ScriptType"]) == ("cars", "Data Stream", "Input")
    assert (makes["InputAlias"], makes["Type"]) == ("makes", "Reference Data")
    assert cars["DataSourceType"] == "Blob storage" and "stub" in cars["asanbNote"]
    assert _json(root / "Inputs/local_makes.json") == {
        "InputAlias": "makes", "Type": "Reference Data", "Format": "Csv", "FilePath": "../LocalData/makes.csv",
        "ScriptType": "InputMock"}
    local_cars = _json(root / "Inputs/local_cars.json")
    assert (local_cars["Format"], local_cars["FilePath"]) == ("Json", "../LocalData/cars.json")
    rows = [json.loads(line) for line in (root / "LocalData/cars.json").read_text().splitlines()]
    assert rows == EVENTS.to_dict(orient="records")
    assert (root / "LocalData/makes.csv").read_text() == (tmp_path / "makes.csv").read_text()


def test_outputs_one_per_into_alias_and_the_default_output(tmp_path: Path) -> None:
    root = _export(tmp_path).directory
    assert _json(root / "Outputs/scored.json")["Alias"] == "scored"
    assert _json(root / "Outputs/counts.json")["Serialization"] == {"Type": "Json", "Encoding": "UTF8",
                                                                   "Format": "LineSeparated"}
    with pytest.warns(ExportWarning, match="DataFrame"):
        summary = asanb.export("SELECT speed FROM cars", tmp_path / "plain", {"cars": EVENTS})
    assert [p.name for p in (summary.directory / "Outputs").iterdir()] == ["output.json"]


def test_ml_function_json_has_endpoint_batch_size_parallel_requests_and_no_key(tmp_path: Path) -> None:
    summary = _export(tmp_path)
    data = _json(summary.directory / "Functions/score.json")
    binding = data["properties"]["properties"]["binding"]
    assert binding["type"] == "Microsoft.MachineLearningServices"
    assert binding["properties"]["endpoint"] == "http://127.0.0.1:9/score"
    assert (binding["properties"]["batchSize"], binding["properties"]["numberOfParallelRequests"]) == (200, 4)
    assert binding["properties"]["apiKey"] is None and data["asanb"] == {"timeout": 7.5}
    assert not any("k-123" in path.read_text() for path in summary.files if path.suffix in (".json", ".js"))
    assert any("API key" in note for note in summary.notes)
    with_key = _export(tmp_path, include_secrets=True)
    assert _json(with_key.directory / "Functions/score.json")["properties"]["properties"]["binding"][
        "properties"]["apiKey"] == "k-123"


def test_javascript_functions_are_a_js_file_and_its_json(tmp_path: Path) -> None:
    root = _export(tmp_path).directory
    assert (root / "Functions/pair.js").read_text() == PAIR.script
    udf = _json(root / "Functions/pair.js.json")
    assert udf["properties"]["type"] == "Scalar"
    assert udf["properties"]["properties"]["binding"] == {
        "type": "Microsoft.StreamAnalytics/JavascriptUdf", "properties": {"scriptPath": "pair.js"}}
    uda = _json(root / "Functions/total.js.json")
    assert uda["properties"]["type"] == "Aggregate" and uda["asanb"]["timeLimitSeconds"] == 3
    assert (root / "Functions/total.js").read_text() == UDA


def test_arm_template_and_parameters_are_written_and_valid(tmp_path: Path) -> None:
    summary = _export(tmp_path)
    assert summary.template == summary.directory / "Deploy/speeding.JobTemplate.json"
    template, parameters = _json(summary.template), _json(summary.parameters)
    assert template_problems(template) == []
    job = template["resources"][0]["properties"]
    assert [f["name"] for f in job["functions"]] == ["score", "pair", "total"]
    assert job["transformation"]["properties"]["query"] == summary.script.read_text()
    assert parameters["parameters"]["StreamingUnits"] == {"value": 12}
    assert parameters["parameters"]["Function_score_apiKey"] == {"value": None}


def test_a_clean_job_exports_without_warnings(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExportWarning)
        events = tmp_path / "cars.json"
        events.write_text(EVENTS.to_json(orient="records"))
        summary = asanb.export("SELECT make INTO fast FROM cars WHERE speed > 100", tmp_path / "clean",
                               {"cars": str(events)}, functions=[PAIR])
    assert summary.warnings == ()
    assert "warning" not in str(summary)


def test_what_asa_cannot_run_is_warned_about_and_listed(tmp_path: Path) -> None:
    double = asanb.PythonFunction("double", lambda speed: speed * 2)
    query = ("SELECT udf.double(speed) AS d, udf.missing(speed) AS m INTO out FROM cars\n"
             "SELECT vendorid INTO taxis FROM taxi")
    with pytest.warns(ExportWarning) as caught:
        summary = asanb.export(query, tmp_path / "ext", {"cars": EVENTS, "taxi": "sim:taxi?events=100"},
                               functions=[double])
    texts = [str(warning.message) for warning in caught]
    assert texts == list(summary.warnings)
    assert any("input 'cars' is a DataFrame (3 events)" in text for text in texts)
    assert any("simulated source 'sim:taxi?events=100'" in text for text in texts)
    assert any("udf.double is a PythonFunction" in text and "ASA cannot run" in text for text in texts)
    assert any("udf.missing is called but no definition was given" in text for text in texts)
    assert not (summary.directory / "Functions").exists()
    assert not (summary.directory / "Inputs/local_taxi.json").exists()
    assert (summary.directory / "Inputs/taxi.json").is_file()
    assert "warning: udf.double is a PythonFunction" in str(summary)


def test_a_notebook_job_exports_its_query_inputs_functions_and_config(tmp_path: Path) -> None:
    from asanb.notebook.jobs import Job

    job = Job("SELECT udf.pair(make, speed) AS p INTO pairs FROM cars", {"cars": EVENTS}, functions=[PAIR],
              config=asanb.JobConfig(streaming_units=6))
    with pytest.warns(ExportWarning, match="DataFrame"):
        summary = asanb.export(job, tmp_path / "cell", name="cell_job")
    assert summary.script.name == "cell_job.asaql"
    project = asanb.Project.load(summary.project_file)
    assert project.config.streaming_units == 6
    assert [f.alias for f in project.functions] == ["pair"]


def test_a_query_that_does_not_parse_or_a_wrong_object_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AsaSyntaxError):
        asanb.export("SELECT FROM WHERE", tmp_path / "bad")
    with pytest.raises(ConfigError, match="takes a query text"):
        asanb.export(42, tmp_path / "bad")
    with pytest.raises(ConfigError, match="cannot be a file name"):
        asanb.export("SELECT 1 AS one INTO o FROM i", tmp_path / "bad", name="a/b")


def test_cli_export_writes_a_project_from_a_query_file_or_a_project(tmp_path: Path, capsys) -> None:
    from asanb.cli import main

    query = tmp_path / "fast.asaql"
    query.write_text("# over the limit\nSELECT make INTO fast FROM cars WHERE speed > 100\n")
    events = tmp_path / "cars.csv"
    EVENTS.to_csv(events, index=False)
    assert main(["export", str(query), "--input", f"cars={events}", "--out", str(tmp_path / "p"),
                 "--streaming-units", "6"]) == 0
    out = capsys.readouterr().out
    assert "ASA project written to" in out and "p.JobTemplate.json" in out
    project = asanb.Project.load(tmp_path / "p")
    assert project.config.streaming_units == 6 and project.script.startswith("-- over the limit")
    assert project.run()["fast"]["make"].tolist() == ["Make1", "Make1"]
    assert main(["export", "--project", str(tmp_path / "p"), "--out", str(tmp_path / "again")]) == 0
    assert (tmp_path / "again" / "Deploy" / "p.JobTemplate.parameters.json").is_file()


def test_cli_export_usage_and_query_errors_exit_non_zero(tmp_path: Path, capsys) -> None:
    from asanb.cli import main

    assert main(["export", "--out", str(tmp_path / "x")]) == 2
    assert main(["export", str(tmp_path / "missing.asaql"), "--out", str(tmp_path / "x")]) == 2
    bad = tmp_path / "bad.asaql"
    bad.write_text("SELECT FROM")
    assert main(["export", str(bad), "--out", str(tmp_path / "x")]) == 1
    assert "AsaSyntaxError" in capsys.readouterr().err


def test_reference_wrappers_export_their_table_and_callables_are_warned_about(tmp_path: Path) -> None:
    makes = pd.DataFrame({"make": ["Make1"], "country": ["FR"]})
    query = "SELECT c.make, m.country INTO o FROM cars c JOIN makes m ON c.make = m.make"
    with pytest.warns(ExportWarning):
        wrapped = asanb.export(query, tmp_path / "w", {"cars": EVENTS},
                               reference={"makes": asanb.Reference(makes, refresh_seconds=60)})
    assert asanb.Project.load(wrapped.project_file).input("makes").is_reference
    assert (wrapped.directory / "LocalData/makes.json").read_text() == '{"make":"Make1","country":"FR"}\n'
    with pytest.warns(ExportWarning) as caught:
        called = asanb.export(query, tmp_path / "c", reference={"makes": lambda: makes})
    assert any("input 'makes' is a function, which asanb cannot write out" in str(w.message) for w in caught)
    assert not (called.directory / "Inputs/local_makes.json").exists()


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:8765/score", "http://localhost:5001/score",
                                      "http://[::1]:8765/score", "http://0.0.0.0:8765/score"])
def test_an_ml_endpoint_on_this_machine_is_warned_about(tmp_path: Path, endpoint: str) -> None:
    local = asanb.MLFunction("score", endpoint, inputs=SPEED)
    query = "SELECT udf.score(speed) AS fare INTO scored FROM cars"
    with pytest.warns(ExportWarning) as caught:
        summary = asanb.export(query, tmp_path / "local", {"cars": EVENTS}, functions=[local])
    expected = f"udf.score calls {endpoint}, an endpoint on this machine that ASA cannot reach"
    assert any(str(warning.message).startswith(expected) for warning in caught)
    assert any(text.startswith(expected) for text in summary.warnings)
    # Import -> export keeps the warning: the endpoint comes from Functions/score.json.
    with pytest.warns(ExportWarning, match="an endpoint on this machine"):
        asanb.export(asanb.Project.load(summary.project_file), tmp_path / "again")


def test_a_remote_ml_endpoint_is_not_warned_about(tmp_path: Path) -> None:
    # The swagger is given, so reading the signature needs no network.
    remote = asanb.MLFunction("score", "https://fares.westeurope.inference.ml.azure.com/score",
                              swagger=swagger_document(ServerSettings()))
    events = tmp_path / "cars.json"
    events.write_text(EVENTS.to_json(orient="records"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExportWarning)
        summary = asanb.export("SELECT udf.score(speed) AS fare INTO scored FROM cars", tmp_path / "remote",
                               {"cars": str(events)}, functions=[remote])
    assert summary.warnings == ()
