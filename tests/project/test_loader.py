"""Project.load and Project.run on ASA projects in the VS Code layout: every file kind, both JSON shapes
(VS Code PascalCase and ARM), and malformed projects failing with a ProjectError naming file and field."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from project_helpers import FIXTURES, edit_json

import asanb
from asanb import MLFunction, Project, ProjectError
from asanb.udf.javascript import JavaScriptAggregate, JavaScriptFunction


def test_every_file_kind_of_the_sample_project_is_read() -> None:
    project = Project.load(FIXTURES / "speeding" / "asaproj.json")
    assert project.name == "speeding"
    assert project.script.startswith("-- Cars over 100 mph")
    cars, makes = project.input("Input"), project.input("makes")
    assert (cars.kind, cars.data_source_type, cars.serialization.type) == ("stream", "Event Hub", "Json")
    assert cars.local is not None and cars.local.path.name == "cars.json"
    assert makes.is_reference and makes.serialization.field_delimiter == ","
    assert makes.local is not None and makes.local.format == "Csv"
    assert [o.alias for o in project.outputs] == ["Fast", "Counts"]
    assert project.output("fast").serialization.json_format == "LineSeparated"
    kmh = project.function("kmh")
    assert kmh.kind == "javascript_udf" and isinstance(kmh.definition, JavaScriptFunction)
    assert kmh.definition.inputs == ("bigint",) and kmh.script_file.name == "kmh.js"
    config = project.config
    assert (config.streaming_units, config.events_late_arrival_max_delay_seconds,
            config.events_out_of_order_max_delay_seconds) == (3, 5.0, 2.0)
    assert (config.events_out_of_order_policy, config.output_error_policy) == ("Adjust", "Drop")
    assert project.settings.compatibility_level == "1.2"


def test_the_folder_can_be_passed_instead_of_asaproj_json() -> None:
    assert Project.load(FIXTURES / "speeding").project_file.name == "asaproj.json"


def test_run_uses_local_inputs_reference_data_and_the_javascript_udf() -> None:
    results = Project.load(FIXTURES / "speeding").run()
    assert results.state == "Stopped", results.error
    fast = results["Fast"].sort_values("licensePlate")
    assert fast.to_dict("records") == [
        {"licensePlate": "AAA-456", "make": "Make2", "country": "JP", "kmh": 193},
        {"licensePlate": "GHI-345", "make": "Make3", "country": "US", "kmh": 209},
    ]
    assert sorted(results["Counts"]["cars"].tolist()) == [1, 1, 1, 2]


def test_run_inputs_override_local_files() -> None:
    events = pd.DataFrame({"time": ["2026-01-01T00:00:01Z"], "make": ["Make1"], "licensePlate": ["P"],
                           "speed": [150]})
    results = Project.load(FIXTURES / "speeding").run({"input": events})
    assert results["Fast"]["kmh"].tolist() == [241]


def test_project_without_configurations_list_scans_the_conventional_folders(speeding: Path) -> None:
    edit_json(speeding / "asaproj.json", lambda data: data.pop("configurations"))
    project = Project.load(speeding)
    assert {i.alias for i in project.inputs} == {"Input", "Makes"}
    assert project.input("Input").local is not None
    assert project.function("kmh").kind == "javascript_udf"
    assert project.run()["Fast"]["kmh"].tolist()


def test_late_arrival_minus_one_waits_indefinitely_and_round_trips(speeding: Path) -> None:
    edit_json(speeding / "JobConfig.json", lambda data: data.update(EventsLateArrivalMaxDelayInSeconds=-1))
    settings = Project.load(speeding).settings
    assert settings.config.events_late_arrival_max_delay_seconds > 86_400 * 365
    assert settings.to_json()["EventsLateArrivalMaxDelayInSeconds"] == -1


def test_arm_shaped_function_json_written_by_to_function_json_loads(speeding: Path) -> None:
    uda = JavaScriptAggregate("total", "function main() { this.init = function () { return 0; };"
                              " this.accumulate = function (s, v) { return s + v; };"
                              " this.computeResult = function (s) { return s; }; }")
    (speeding / "Functions" / "total.json").write_text(json.dumps(uda.to_function_json()))
    ml = MLFunction("score", "http://127.0.0.1:1/score", max_batch_count=50, parallel_requests_per_partition=2)
    (speeding / "Functions" / "score.json").write_text(json.dumps(ml.to_function_json()))
    edit_json(speeding / "asaproj.json", lambda data: data["configurations"].extend(
        [{"filePath": "Functions/total.json", "subType": "JavaScriptUda"},
         {"filePath": "Functions/score.json", "subType": "MachineLearningServices"}]))
    project = Project.load(speeding)
    assert project.function("total").kind == "javascript_uda"
    assert isinstance(project.function("total").definition, JavaScriptAggregate)
    score = project.function("score").definition
    assert (score.endpoint, score.max_batch_count, score.parallel_requests_per_partition) == (
        "http://127.0.0.1:1/score", 50, 2)


def test_vscode_shaped_ml_function_scores_against_the_real_local_server(speeding: Path) -> None:
    from asanb.udf.server import ScoringServer, ServerSettings

    with ScoringServer(ServerSettings()) as server:
        (speeding / "Functions" / "fare.json").write_text(json.dumps({
            "Binding": {"Type": "Microsoft.MachineLearningServices", "Endpoint": server.score_url,
                        "BatchSize": 2, "NumberOfParallelRequests": 1},
            "Inputs": [{"DataType": "record"}], "Output": {"DataType": "record"}, "Type": "Scalar",
            "ScriptType": "Function"}))
        edit_json(speeding / "asaproj.json", lambda data: data["configurations"].append(
            {"filePath": "Functions/fare.json", "subType": "MachineLearningServices"}))
        project = Project.load(speeding)
        assert project.function("fare").definition.max_batch_count == 2
        rows = pd.DataFrame({"vendorid": [1, 2, 1], "weekday": ["Mon", "Tue", "Wed"], "pickuphour": [8, 9, 10],
                             "passenger": [1, 1, 2], "distance": [1.0, 5.0, 10.0]})
        query = ("WITH d AS (SELECT vendorid, weekday, pickuphour, passenger, distance FROM trips) "
                 "SELECT distance, udf.fare(d) AS fare INTO scored FROM d")
        results = asanb.run(query, {"trips": rows}, functions=[project.function("fare").definition])
        assert results.state == "Stopped", results.error
        assert len(results["scored"]) == 3 and server.stats()["batch_sizes"] == [2, 1]


def test_json_local_input_with_another_suffix_and_line_separated_events(speeding: Path) -> None:
    (speeding / "Inputs" / "cars.txt").write_text(
        '{"time": "2026-01-01T00:00:01Z", "make": "Make3", "licensePlate": "T", "speed": 200}\n')
    edit_json(speeding / "Inputs" / "local_Input.json", lambda data: data.update(FilePath="cars.txt"))
    assert Project.load(speeding).run()["Fast"]["kmh"].tolist() == [322]


# --- malformed projects -------------------------------------------------------------------------------


def _error(path: Path) -> ProjectError:
    with pytest.raises(ProjectError) as caught:
        Project.load(path)
    return caught.value


def test_missing_script_names_asaproj_and_start_file(speeding: Path) -> None:
    (speeding / "speeding.asaql").unlink()
    error = _error(speeding)
    assert error.field == "startFile" and error.file.endswith("asaproj.json")
    assert "speeding.asaql" in str(error)


def test_missing_project_file() -> None:
    error = _error(Path("/nonexistent/project"))
    assert "not found" in str(error) and "asaproj.json" in str(error)


def test_bad_json_reports_the_file_and_line(speeding: Path) -> None:
    text = (speeding / "Outputs" / "Fast.json").read_text().replace('"ScriptType": "Output"', '"ScriptType": Output')
    (speeding / "Outputs" / "Fast.json").write_text(text)
    error = _error(speeding)
    assert error.file.endswith("Fast.json") and error.line == 6
    assert "Fast.json, line 6" in str(error)


def test_bad_json_in_asaproj(speeding: Path) -> None:
    (speeding / "asaproj.json").write_text('{\n  "name": "x",\n  "startFile": \n}')
    error = _error(speeding)
    assert error.file.endswith("asaproj.json") and error.line == 4


def test_unknown_function_binding_type_names_the_field(speeding: Path) -> None:
    edit_json(speeding / "Functions" / "kmh.js.json", lambda data: data["Binding"].update(Type="Contoso/Magic"))
    error = _error(speeding)
    assert error.field == "Binding.Type" and error.file.endswith("kmh.js.json")
    assert "Contoso/Magic" in str(error) and "Microsoft.MachineLearningServices" in str(error)


def test_unknown_function_type_names_the_field(speeding: Path) -> None:
    edit_json(speeding / "Functions" / "kmh.js.json", lambda data: data.update(Type="Table"))
    error = _error(speeding)
    assert error.field == "Type" and "Table" in str(error)


def test_csharp_udf_is_reported_as_not_supported(speeding: Path) -> None:
    edit_json(speeding / "Functions" / "kmh.js.json",
              lambda data: data["Binding"].update(Type="Microsoft.StreamAnalytics/CLRUdf"))
    assert "C# UDF" in str(_error(speeding))


def test_javascript_that_does_not_compile_names_the_function_file(speeding: Path) -> None:
    (speeding / "Functions" / "kmh.js").write_text("function main(x) { return x +; }")
    error = _error(speeding)
    assert error.file.endswith("kmh.js.json") and "JavaScriptCompileError" in str(error)


def test_missing_javascript_script_file(speeding: Path) -> None:
    (speeding / "Functions" / "kmh.js").unlink()
    error = _error(speeding)
    assert error.field == "Binding.ScriptPath" and "kmh.js" in str(error)


def test_missing_local_input_file_names_the_mock_file_and_field(speeding: Path) -> None:
    (speeding / "Inputs" / "cars.json").unlink()
    error = _error(speeding)
    assert error.file.endswith("local_Input.json") and error.field == "FilePath" and "cars.json" in str(error)


def test_missing_configuration_file_names_its_entry(speeding: Path) -> None:
    (speeding / "Outputs" / "Counts.json").unlink()
    error = _error(speeding)
    assert error.field == "configurations[5].filePath" and "Counts.json" in str(error)


def test_bad_jobconfig_value_names_the_field(speeding: Path) -> None:
    edit_json(speeding / "JobConfig.json", lambda data: data.update(StreamingUnits="many"))
    error = _error(speeding)
    assert error.field == "StreamingUnits" and error.file.endswith("JobConfig.json")


def test_unknown_input_type_and_serialization(speeding: Path) -> None:
    edit_json(speeding / "Inputs" / "Input.json", lambda data: data.update(Type="Lake"))
    assert _error(speeding).field == "Type"
    edit_json(speeding / "Inputs" / "Input.json",
              lambda data: data.update(Type="Data Stream", Serialization={"Type": "Xml"}))
    assert _error(speeding).field == "Serialization.Type"


def test_input_without_a_local_file_fails_the_run_with_a_hint(speeding: Path) -> None:
    edit_json(speeding / "asaproj.json", lambda data: data.update(configurations=[
        entry for entry in data["configurations"] if "local_Input" not in entry["filePath"]]))
    project = Project.load(speeding)
    with pytest.raises(ProjectError, match="input 'Input' has no local input file") as caught:
        project.run()
    assert caught.value.file.endswith("Input.json")


def test_unknown_alias_lookup_lists_the_known_ones() -> None:
    with pytest.raises(ProjectError, match="no output 'nope'; the project has: Fast, Counts"):
        Project.load(FIXTURES / "speeding").output("nope")
