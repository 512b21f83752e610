"""The ARM template and parameters file for a project (``build --v2`` shape), and their validation against the
Microsoft.StreamAnalytics resource JSON schema: valid templates pass, each kind of broken template fails with
the JSON path of the fault."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from shared_location import SHARED

import asanb
from asanb.errors import ProjectError
from asanb.project import arm_schema
from asanb.project.arm import build_template, data_source_kind
from asanb.project.arm_schema import check_template, template_problems
from asanb.project.model import (
    WAIT_INDEFINITELY_SECONDS,
    FunctionSpec,
    InputSpec,
    JobSettings,
    OutputSpec,
    Project,
    Serialization,
)

UDA = """function main() {
    this.init = function () { this.state = 0; };
    this.accumulate = function (value, timestamp) { this.state += value; };
    this.computeResult = function () { return this.state; };
}"""


def _project(**changes: Any) -> Project:
    score = asanb.MLFunction("score", "https://example.invalid/score", api_key="not-in-template",
                             max_batch_count=250, parallel_requests_per_partition=3)
    array = asanb.JavaScriptFunction("createArray", "function createArray(a, b) { return [a, b]; }",
                                     inputs=("bigint", "float"), output="array")
    total = asanb.JavaScriptAggregate("total", UDA, output="float")
    values: dict[str, Any] = dict(
        name="cars", script="# fast cars\nSELECT * INTO fast FROM cars",
        settings=JobSettings(asanb.JobConfig(streaming_units=12, events_out_of_order_policy="Drop",
                                             output_error_policy="Drop", events_out_of_order_max_delay_seconds=3)),
        inputs=(InputSpec("cars", data_source_type="Event Hub"),
                InputSpec("makes", kind="reference", serialization=Serialization("Csv", field_delimiter=";")),
                InputSpec("devices", data_source_type="IoT Hub")),
        outputs=(OutputSpec("fast"), OutputSpec("alerts", data_source_type="Event Hub")),
        functions=(FunctionSpec("score", "ml", score), FunctionSpec("createArray", "javascript_udf", array),
                   FunctionSpec("total", "javascript_uda", total)),
    )
    values.update(changes)
    return Project(**values)


def _job(template: dict[str, Any]) -> dict[str, Any]:
    return template["resources"][0]["properties"]  # type: ignore[no-any-return]


def test_template_of_a_full_project_matches_the_schema() -> None:
    arm = build_template(_project())
    assert template_problems(arm.template) == []
    check_template(arm.template)
    job = _job(arm.template)
    assert arm.template["resources"][0]["apiVersion"] == "2021-10-01-preview"
    assert [i["properties"]["type"] for i in job["inputs"]] == ["Stream", "Reference", "Stream"]
    assert [i["properties"]["datasource"]["type"] for i in job["inputs"]] == [
        "Microsoft.ServiceBus/EventHub", "Microsoft.Storage/Blob", "Microsoft.Devices/IotHubs"]
    assert job["inputs"][1]["properties"]["serialization"] == {
        "type": "Csv", "properties": {"encoding": "UTF8", "fieldDelimiter": ";"}}
    assert [o["properties"]["datasource"]["type"] for o in job["outputs"]] == [
        "Microsoft.Storage/Blob", "Microsoft.ServiceBus/EventHub"]
    assert job["outputs"][0]["properties"]["serialization"]["properties"]["format"] == "LineSeparated"


def test_job_settings_and_query_come_from_the_project() -> None:
    arm = build_template(_project())
    job = _job(arm.template)
    assert (job["eventsOutOfOrderPolicy"], job["outputErrorPolicy"]) == ("Drop", "Drop")
    assert (job["eventsLateArrivalMaxDelayInSeconds"], job["eventsOutOfOrderMaxDelayInSeconds"]) == (5, 3)
    assert job["compatibilityLevel"] == "1.2"
    assert job["transformation"]["properties"] == {
        "query": "-- fast cars\nSELECT * INTO fast FROM cars", "streamingUnits": "[parameters('StreamingUnits')]"}
    assert arm.template["parameters"]["StreamingUnits"]["defaultValue"] == 12
    forever = _project(settings=JobSettings(asanb.JobConfig(
        events_late_arrival_max_delay_seconds=WAIT_INDEFINITELY_SECONDS)))
    assert _job(build_template(forever).template)["eventsLateArrivalMaxDelayInSeconds"] == -1


def test_functions_carry_endpoint_batch_size_parallel_requests_and_scripts() -> None:
    functions = {f["name"]: f["properties"] for f in _job(build_template(_project()).template)["functions"]}
    ml = functions["score"]["properties"]["binding"]
    assert ml["type"] == "Microsoft.MachineLearningServices"
    assert ml["properties"]["endpoint"] == "https://example.invalid/score"
    assert (ml["properties"]["batchSize"], ml["properties"]["numberOfParallelRequests"]) == (250, 3)
    assert ml["properties"]["apiKey"] == "[parameters('Function_score_apiKey')]"
    udf = functions["createArray"]
    assert udf["type"] == "Scalar"
    assert udf["properties"]["inputs"] == [{"dataType": "bigint"}, {"dataType": "float"}]
    assert "return [a, b]" in udf["properties"]["binding"]["properties"]["script"]
    assert functions["total"]["type"] == "Aggregate"


def test_parameters_file_covers_the_template_and_keeps_secrets_null() -> None:
    arm = build_template(_project(), job_name="cars-prod")
    declared = arm.template["parameters"]
    values = arm.parameters["parameters"]
    assert arm.parameters["$schema"].endswith("deploymentParameters.json#")
    assert set(values) <= set(declared)
    assert {name for name, spec in declared.items() if "defaultValue" not in spec} <= set(values)
    assert values["StreamAnalyticsJobName"] == {"value": "cars-prod"}
    assert values["StreamingUnits"] == {"value": 12}
    secrets = {name for name, spec in declared.items() if spec["type"] == "securestring"}
    assert secrets == {"Input_cars_sharedAccessPolicyKey", "Input_makes_accountKey",
                       "Input_devices_sharedAccessPolicyKey", "Output_fast_accountKey",
                       "Output_alerts_sharedAccessPolicyKey", "Function_score_apiKey"}
    assert all(values[name] == {"value": None} for name in secrets)
    assert "not-in-template" not in json.dumps(arm.template) + json.dumps(arm.parameters)
    assert arm.file_names == ("cars.JobTemplate.json", "cars.JobTemplate.parameters.json")


def test_write_puts_both_files_in_the_folder(tmp_path: Path) -> None:
    arm = build_template(_project())
    template, parameters = arm.write(tmp_path / "Deploy")
    assert json.loads(template.read_text()) == arm.template
    assert json.loads(parameters.read_text()) == arm.parameters


def test_a_source_asa_cannot_use_in_that_role_falls_back_to_blob_with_a_note() -> None:
    assert data_source_kind("Event Hub", role="reference")[0] == "blob"
    assert data_source_kind("IoT Hub", role="output")[0] == "blob"
    assert data_source_kind("Cosmos DB", role="output")[1] is not None
    assert data_source_kind(None, role="stream") == ("blob", None)
    arm = build_template(_project(inputs=(InputSpec("makes", kind="reference", data_source_type="Event Hub"),)))
    assert arm.notes == ["input 'makes': 'Event Hub' cannot serve as reference in ASA; Blob storage stands in"]
    assert template_problems(arm.template) == []


def _break(path: list[Any], value: Any) -> Any:
    def apply(template: dict[str, Any]) -> None:
        target: Any = template
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return apply


_DELETE = object()
_JOB = ["resources", 0, "properties"]
BROKEN = {
    "unknown out-of-order policy": (_break([*_JOB, "eventsOutOfOrderPolicy"], "Fix"),
                                    "resources[0].properties.eventsOutOfOrderPolicy"),
    "misspelt input property": (_break([*_JOB, "inputs", 0, "properties", "datasorce"], {}),
                                "resources[0].properties.inputs[0].properties"),
    "input neither Stream nor Reference": (_break([*_JOB, "inputs", 0, "properties", "type"], "Streem"),
                                           "resources[0].properties.inputs[0].properties.type"),
    "batch size as text": (_break([*_JOB, "functions", 0, "properties", "properties", "binding", "properties",
                                   "batchSize"], "many"), "batchSize"),
    "unknown function binding": (_break([*_JOB, "functions", 1, "properties", "properties", "binding", "type"],
                                        "Microsoft.StreamAnalytics/PythonUdf"), "binding"),
    "API key as null": (_break([*_JOB, "functions", 0, "properties", "properties", "binding", "properties",
                                "apiKey"], None), "apiKey"),
    "streaming units as text": (_break([*_JOB, "transformation", "properties", "streamingUnits"], "twelve"),
                                "streamingUnits"),
    "no contentVersion": (_break(["contentVersion"], _DELETE), "contentVersion"),
    "no streaming job": (_break(["resources", 0, "type"], "Microsoft.Storage/storageAccounts"), "resources"),
}


@pytest.mark.parametrize("name", BROKEN)
def test_a_broken_template_fails_validation_naming_the_place(name: str) -> None:
    mutate, where = BROKEN[name]
    template = copy.deepcopy(build_template(_project()).template)
    mutate(template)
    problems = template_problems(template)
    assert problems, f"{name}: the schema accepted a broken template"
    assert any(where in path for path, _ in problems), problems
    with pytest.raises(ProjectError) as raised:
        check_template(template, file="Deploy/cars.JobTemplate.json")
    assert raised.value.file == "Deploy/cars.JobTemplate.json" and raised.value.field


def test_the_literal_schema_rejects_every_real_input_which_is_why_asanb_reads_unions_as_meant() -> None:
    from jsonschema import Draft4Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT4

    literal = arm_schema._load(arm_schema.SCHEMA_FILES[0])
    common = arm_schema._load(arm_schema.SCHEMA_FILES[1])
    base = literal["id"].rstrip("#")
    registry = Registry().with_resources([(base, DRAFT4.create_resource(literal)),
                                          (common["id"].rstrip("#"), DRAFT4.create_resource(common))])
    validator = Draft4Validator({"$ref": f"{base}#/resourceDefinitions/streamingjobs"}, registry=registry)
    job = build_template(_project()).template["resources"][0]
    assert list(validator.iter_errors(job)), "the published schema now accepts inputs: drop the rewrite"
    rewritten = copy.deepcopy(literal)
    assert arm_schema._admit_variant_properties(rewritten) == 7
    assert rewritten["definitions"]["InputProperties"]["allOf"][0]["additionalProperties"] is False


@pytest.mark.skipif(SHARED is None, reason="shared/ folder not found")
@pytest.mark.parametrize("name", arm_schema.SCHEMA_FILES)
def test_packaged_schemas_are_the_shared_ones(name: str) -> None:
    assert SHARED is not None
    packaged = Path(asanb.__file__).parent / "data" / name
    assert packaged.read_bytes() == (SHARED / "schemas" / name).read_bytes()
