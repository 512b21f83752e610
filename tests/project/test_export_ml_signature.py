"""asanb.export fills an Azure ML function's signature from its endpoint's swagger (the real local scoring
server): input columns in order with ASA types, outputs and inputRequestName, in Functions/<alias>.json and
the ARM template; an unreachable endpoint still exports, with a warning; given inputs cost no network call."""

from __future__ import annotations

import json
import socket
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import asanb
from asanb.errors import ExportWarning
from asanb.udf.ml import FunctionColumn
from asanb.udf.server import ScoringServer, ServerSettings

QUERY = "SELECT udf.{alias}(Trips) AS fare INTO scored FROM Trips"
TRIPS = pd.DataFrame({"vendorid": [1], "weekday": ["Mon"], "pickuphour": [12], "passenger": [1], "distance": [5.8]})
SWAGGER_COLUMNS = [("vendorid", "bigint"), ("weekday", "nvarchar(max)"), ("pickuphour", "bigint"),
                   ("passenger", "bigint"), ("distance", "float")]


@pytest.fixture
def server() -> Iterator[ScoringServer]:
    # A request label other than the default "data", so the test shows it comes from the swagger.
    with ScoringServer(ServerSettings(input_name="WebServiceInput0")) as running:
        yield running


def _closed_port() -> int:
    """A 127.0.0.1 port nothing listens on: the kernel picks a free one, then it is released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _export(function: asanb.MLFunction, directory: Path) -> asanb.project.export.ExportSummary:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExportWarning)
        summary = asanb.export(QUERY.format(alias=function.alias), directory, {"Trips": TRIPS}, functions=[function])
    assert [str(warning.message) for warning in caught] == list(summary.warnings)
    return summary


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _arm_function(summary: asanb.project.export.ExportSummary, alias: str) -> dict[str, Any]:
    functions = _json(summary.template)["resources"][0]["properties"]["functions"]
    return next(function for function in functions if function["name"] == alias)


def _signature_warnings(summary: asanb.project.export.ExportSummary) -> list[str]:
    return [text for text in summary.warnings if "signature" in text]


def test_a_function_without_inputs_is_exported_with_its_swagger_signature(server: ScoringServer,
                                                                          tmp_path: Path) -> None:
    summary = _export(asanb.MLFunction("score", server.score_url), tmp_path / "signed")
    assert _signature_warnings(summary) == []
    expected = [{"name": name, "dataType": kind, "mapTo": index}
                for index, (name, kind) in enumerate(SWAGGER_COLUMNS)]
    written = _json(summary.directory / "Functions/score.json")["properties"]["properties"]
    binding = written["binding"]["properties"]
    assert binding["inputs"] == expected
    assert binding["outputs"] == [{"name": "Results", "dataType": "float", "mapTo": 0}]
    assert binding["inputRequestName"] == "WebServiceInput0"
    assert written["inputs"] == [{"dataType": kind, "isConfigurationParameter": None} for _, kind in SWAGGER_COLUMNS]
    assert written["output"] == {"dataType": "any"}

    deployed = _arm_function(summary, "score")["properties"]["properties"]
    assert deployed["binding"]["properties"]["inputs"] == expected
    assert deployed["binding"]["properties"]["outputs"] == binding["outputs"]
    assert deployed["binding"]["properties"]["inputRequestName"] == "WebServiceInput0"
    assert deployed["inputs"] == [{"dataType": kind} for _, kind in SWAGGER_COLUMNS]  # nulls left out for ARM

    loaded = asanb.Project.load(summary.project_file).function("score").definition
    assert [(column.name, column.data_type, column.map_to) for column in loaded.inputs] == [
        (name, kind, index) for index, (name, kind) in enumerate(SWAGGER_COLUMNS)]
    assert loaded.input_request_name == "WebServiceInput0"
    assert loaded.outputs == (FunctionColumn("Results", "float", 0),)
    assert summary.project.function("score").definition == loaded  # the summary shows what was written


def test_the_exported_signature_scores_like_the_swagger_one(server: ScoringServer, tmp_path: Path) -> None:
    """The filled-in signature is what asanb uses when the exported project runs: same fares as the job."""
    function = asanb.MLFunction("score", server.score_url)
    expected = asanb.run(QUERY.format(alias="score"), {"Trips": TRIPS}, functions=[function])
    project = asanb.Project.load(_export(function, tmp_path / "run").project_file)
    got = project.run()
    pd.testing.assert_frame_equal(got.outputs["scored"], expected.outputs["scored"], check_dtype=False)


def test_an_unreachable_endpoint_exports_with_a_warning(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}/score"
    summary = _export(asanb.MLFunction("fares", endpoint), tmp_path / "unsigned")
    (warning,) = _signature_warnings(summary)
    assert warning.startswith("udf.fares: the function signature could not be read (cannot fetch the swagger at "
                              f"{endpoint.removesuffix('/score')}/swagger.json")
    assert '"Load function signature"' in warning and "before the job starts" in warning
    binding = _json(summary.directory / "Functions/fares.json")["properties"]["properties"]["binding"]
    assert binding["properties"]["inputs"] == [] and binding["properties"]["outputs"] == []
    assert asanb.Project.load(summary.project_file).function("fares").definition.inputs == ()


def test_a_swagger_without_columns_is_warned_about(tmp_path: Path) -> None:
    swagger = {"definitions": {"ServiceInput": {"properties": {"Inputs": {"properties": {
        "data": {"type": "array", "items": {"type": "object", "properties": {}}}}}}}}}
    endpoint = f"http://127.0.0.1:{_closed_port()}/score"
    summary = _export(asanb.MLFunction("fares", endpoint, swagger=swagger), tmp_path / "empty")
    (warning,) = _signature_warnings(summary)
    assert warning.startswith("udf.fares: the function signature could not be read (its swagger lists no input")


def test_given_inputs_are_exported_as_given_without_a_network_call(tmp_path: Path) -> None:
    # Nothing listens on the endpoint: reading its swagger would fail and warn.
    inputs = (FunctionColumn("distance", "float", 0), FunctionColumn("weekday", "nvarchar(max)", 1))
    given = asanb.MLFunction("fares", f"http://127.0.0.1:{_closed_port()}/score", inputs=inputs,
                             outputs=(FunctionColumn("fare", "float", 0),))
    summary = _export(given, tmp_path / "given")
    assert _signature_warnings(summary) == []
    assert [text for text in summary.warnings if "udf.fares" in text] == [
        f"udf.fares calls {given.endpoint}, an endpoint on this machine that ASA cannot reach: set the Azure ML "
        "endpoint in Functions/fares.json before deploying"]
    binding = _json(summary.directory / "Functions/fares.json")["properties"]["properties"]["binding"]["properties"]
    assert binding["inputs"] == [{"name": "distance", "dataType": "float", "mapTo": 0},
                                 {"name": "weekday", "dataType": "nvarchar(max)", "mapTo": 1}]
    assert binding["outputs"] == [{"name": "fare", "dataType": "float", "mapTo": 0}]
    assert binding["inputRequestName"] is None
    assert asanb.Project.load(summary.project_file).function("fares").definition == given


def test_a_results_shaped_swagger_names_the_outputs_and_the_response(tmp_path: Path) -> None:
    """Swagger with ``ServiceOutput → Results → <name>`` (Azure ML designer endpoints): one output column per
    name, typed by its items, and the first name as outputResponseName."""
    row = {"type": "object", "properties": {"distance": {"type": "number"}, "airport": {"type": "boolean"}}}
    swagger = {"definitions": {
        "ServiceInput": {"properties": {"Inputs": {"properties": {"WebServiceInput0": {"type": "array",
                                                                                        "items": row}}}}},
        "ServiceOutput": {"properties": {"Results": {"properties": {
            "WebServiceOutput0": {"type": "array", "items": {"type": "number"}},
            "Label": {"type": "array", "items": {"type": "string"}}}}}}}}
    function = asanb.MLFunction("score", f"http://127.0.0.1:{_closed_port()}/score", swagger=swagger)
    summary = _export(function, tmp_path / "results")
    assert _signature_warnings(summary) == []
    binding = _json(summary.directory / "Functions/score.json")["properties"]["properties"]["binding"]["properties"]
    assert binding["inputs"] == [{"name": "distance", "dataType": "float", "mapTo": 0},
                                 {"name": "airport", "dataType": "bit", "mapTo": 1}]
    assert binding["outputs"] == [{"name": "WebServiceOutput0", "dataType": "float", "mapTo": 0},
                                  {"name": "Label", "dataType": "nvarchar(max)", "mapTo": 1}]
    assert (binding["inputRequestName"], binding["outputResponseName"]) == ("WebServiceInput0", "WebServiceOutput0")
