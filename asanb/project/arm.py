"""An ASA project as an ARM deployment: ``Deploy/<name>.JobTemplate.json`` and its parameters file, in the
shape ``azure-streamanalytics-cicd build --v2`` writes (../shared/spec/asa_project.md, "Build / deploy"): one
``Microsoft.StreamAnalytics/streamingjobs`` resource holding its inputs, outputs, functions and transformation.

Connection settings and secrets (storage account key, Event Hub policy key, ML API key) become template
parameters; the parameters file leaves them null, as Microsoft's build does for credentials, so a deployment
cannot go out with a placeholder. Byte compatibility with Microsoft's parameter names is not promised; schema
validity is (``asanb.project.arm_schema``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asanb.project.arm_schema import API_VERSION, JOB_TYPE
from asanb.project.model import FunctionSpec, InputSpec, OutputSpec, Project, Serialization
from asanb.sql.printer import to_asa_text

__all__ = ["ArmTemplate", "TEMPLATE_SCHEMA", "build_template", "data_source_kind"]

TEMPLATE_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
PARAMETERS_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"
JOB_NAME = "StreamAnalyticsJobName"

# Each data source asanb writes: its ARM type and its settings, (name, secret?, default) per setting.
_SOURCES: dict[str, tuple[str, tuple[tuple[str, bool, Any], ...]]] = {
    "blob": ("Microsoft.Storage/Blob", (("accountName", False, None), ("accountKey", True, None),
                                        ("container", False, None), ("pathPattern", False, ""),
                                        ("dateFormat", False, "yyyy/MM/dd"), ("timeFormat", False, "HH"))),
    "eventhub": ("Microsoft.ServiceBus/EventHub", (("serviceBusNamespace", False, None),
                                                   ("eventHubName", False, None),
                                                   ("sharedAccessPolicyName", False, None),
                                                   ("sharedAccessPolicyKey", True, None))),
    "iothub": ("Microsoft.Devices/IotHubs", (("iotHubNamespace", False, None),
                                             ("sharedAccessPolicyName", False, None),
                                             ("sharedAccessPolicyKey", True, None),
                                             ("endpoint", False, "messages/events"))),
}
# The spellings VS Code projects and ARM use for them.
_SOURCE_NAMES = {
    "blob": "blob", "blob storage": "blob", "blob storage/adls gen2": "blob", "microsoft.storage/blob": "blob",
    "event hub": "eventhub", "eventhub": "eventhub", "microsoft.servicebus/eventhub": "eventhub",
    "microsoft.eventhub/eventhub": "eventhub",
    "iot hub": "iothub", "iothub": "iothub", "microsoft.devices/iothubs": "iothub",
}
_CONSUMER_GROUP = ("consumerGroupName", False, "$Default")


def data_source_kind(data_source_type: str | None, *, role: str) -> tuple[str, str | None]:
    """('blob' | 'eventhub' | 'iothub', a note when asanb had to substitute Blob storage) for a declared type.
    ``role`` is 'stream', 'reference' or 'output': reference data comes only from Blob (or SQL) in ASA, and
    an IoT Hub is never an output."""
    if data_source_type is None:
        return "blob", None
    kind = _SOURCE_NAMES.get(str(data_source_type).strip().lower())
    if kind is None:
        return "blob", f"data source type {data_source_type!r} is not one asanb templates; Blob storage stands in"
    if (role == "reference" and kind != "blob") or (role == "output" and kind == "iothub"):
        return "blob", f"{data_source_type!r} cannot serve as {role} in ASA; Blob storage stands in"
    return kind, None


@dataclass
class ArmTemplate:
    """The deployment template, its parameters file and the notes taken while building them."""

    name: str
    template: dict[str, Any]
    parameters: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def file_names(self) -> tuple[str, str]:
        return f"{self.name}.JobTemplate.json", f"{self.name}.JobTemplate.parameters.json"

    def write(self, directory: str | Path) -> tuple[Path, Path]:
        """Write both files into ``directory`` (created if needed); returns their paths."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        paths = tuple(folder / name for name in self.file_names)
        for path, data in zip(paths, (self.template, self.parameters), strict=True):
            path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return paths  # type: ignore[return-value]


class _Parameters:
    """Template parameters collected while the resource is built, in the order they are first used."""

    def __init__(self) -> None:
        self.declared: dict[str, dict[str, Any]] = {}

    def use(self, name: str, *, kind: str = "string", default: Any = None, description: str = "") -> str:
        declaration: dict[str, Any] = {"type": kind}
        if default is not None:
            declaration["defaultValue"] = default
        if description:
            declaration["metadata"] = {"description": description}
        self.declared[name] = declaration
        return f"[parameters('{name}')]"


def _without_nulls(value: Any) -> Any:
    """ARM's schema types optional fields as string/integer/boolean, never null: leave them out instead."""
    if isinstance(value, Mapping):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _serialization(serialization: Serialization | None, *, output: bool) -> dict[str, Any]:
    chosen = serialization or Serialization()
    properties: dict[str, Any] = {}
    if chosen.type in ("Json", "Csv"):
        properties["encoding"] = chosen.encoding
    if chosen.type == "Csv":
        properties["fieldDelimiter"] = chosen.field_delimiter or ","
    if chosen.type == "Json" and output:
        # ASA's local output files are line-separated JSON; keep whatever the project said.
        properties["format"] = chosen.json_format or "LineSeparated"
    return {"type": chosen.type, "properties": properties}


def _datasource(prefix: str, kind: str, parameters: _Parameters, *, consumer: bool) -> dict[str, Any]:
    arm_type, settings = _SOURCES[kind]
    values: dict[str, Any] = {}
    for name, secret, default in (*settings, _CONSUMER_GROUP) if consumer and kind != "blob" else settings:
        # Settings with a usual value are written as is; the ones naming the user's resources, and the
        # secrets, are parameters (build --v2's "fewer parameters").
        reference = default if default is not None else parameters.use(
            f"{prefix}_{name}", kind="securestring" if secret else "string")
        if name in ("accountName", "accountKey"):
            values.setdefault("storageAccounts", [{}])[0][name] = reference
        else:
            values[name] = reference
    return {"type": arm_type, "properties": values}


def _input(spec: InputSpec, parameters: _Parameters, notes: list[str]) -> dict[str, Any]:
    kind, note = data_source_kind(spec.data_source_type, role=spec.kind)
    if note:
        notes.append(f"input '{spec.alias}': {note}")
    return {"name": spec.alias, "properties": {
        "type": "Reference" if spec.is_reference else "Stream",
        "datasource": _datasource(f"Input_{spec.alias}", kind, parameters, consumer=not spec.is_reference),
        "serialization": _serialization(spec.serialization, output=False),
    }}


def _output(spec: OutputSpec, parameters: _Parameters, notes: list[str]) -> dict[str, Any]:
    kind, note = data_source_kind(spec.data_source_type, role="output")
    if note:
        notes.append(f"output '{spec.alias}': {note}")
    return {"name": spec.alias, "properties": {
        "datasource": _datasource(f"Output_{spec.alias}", kind, parameters, consumer=False),
        "serialization": _serialization(spec.serialization, output=True),
    }}


def _function(spec: FunctionSpec, parameters: _Parameters) -> dict[str, Any]:
    resource = spec.definition.to_function_json()
    properties = json.loads(json.dumps(resource["properties"]))  # a copy we may edit
    binding = properties["properties"]["binding"]
    if spec.kind == "ml":
        # The key is a secret: a securestring parameter, never text in the template.
        binding["properties"]["apiKey"] = parameters.use(
            f"Function_{spec.alias}_apiKey", kind="securestring",
            description=f"API key of the Azure ML endpoint behind udf.{spec.alias}")
    return {"name": spec.alias, "properties": _without_nulls(properties)}


def _job_properties(project: Project, parameters: _Parameters, notes: list[str]) -> dict[str, Any]:
    settings = project.settings.to_json()
    units = parameters.use("StreamingUnits", kind="int", default=settings["StreamingUnits"],
                           description="Streaming units of the job (ML UDF partitions = ceil(SU / 6))")
    return {
        "sku": {"name": "Standard"},
        "jobType": "Cloud",
        "outputStartMode": "JobStartTime",
        "compatibilityLevel": settings["CompatibilityLevel"],
        "dataLocale": settings["DataLocale"],
        "eventsLateArrivalMaxDelayInSeconds": settings["EventsLateArrivalMaxDelayInSeconds"],
        "eventsOutOfOrderMaxDelayInSeconds": settings["EventsOutOfOrderMaxDelayInSeconds"],
        "eventsOutOfOrderPolicy": settings["EventsOutOfOrderPolicy"],
        "outputErrorPolicy": settings["OutputErrorPolicy"],
        "inputs": [_input(spec, parameters, notes) for spec in project.inputs],
        "outputs": [_output(spec, parameters, notes) for spec in project.outputs],
        "functions": [_function(spec, parameters) for spec in project.functions],
        "transformation": {"name": "Transformation",
                           "properties": {"query": to_asa_text(project.script), "streamingUnits": units}},
    }


def build_template(project: Project, *, job_name: str | None = None) -> ArmTemplate:
    """The ARM template and parameters file deploying ``project`` as one streaming job named ``job_name``
    (default: the project's name; the files are named after the project, as ``build`` names them)."""
    name = job_name or project.name
    parameters = _Parameters()
    notes: list[str] = []
    job_parameter = parameters.use(JOB_NAME, description="Name of the Stream Analytics job (3-63 characters)")
    location = parameters.use("Location", default="[resourceGroup().location]",
                              description="Azure region of the job")
    properties = _job_properties(project, parameters, notes)
    job = {"type": JOB_TYPE, "apiVersion": API_VERSION, "name": job_parameter, "location": location,
           "properties": properties}
    template = {"$schema": TEMPLATE_SCHEMA, "contentVersion": "1.0.0.0", "parameters": parameters.declared,
                "resources": [job]}
    values: dict[str, Any] = {JOB_NAME: {"value": name}}
    for parameter, declaration in parameters.declared.items():
        default = declaration.get("defaultValue")
        if parameter == JOB_NAME or (isinstance(default, str) and default.startswith("[")):
            continue  # an expression default cannot be written in a parameters file
        values[parameter] = {"value": default}
    return ArmTemplate(project.name, template, {"$schema": PARAMETERS_SCHEMA, "contentVersion": "1.0.0.0",
                                        "parameters": values}, notes)
