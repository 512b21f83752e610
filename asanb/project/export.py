"""``asanb.export``: a notebook job (query, inputs, functions, JobConfig), a notebook cell's Job or a loaded
Project, written out as an ASA project plus an ARM template (issue #8). What ASA cannot run (a Python UDF, a
simulated source, a DataFrame standing in for a real stream, an ML endpoint on this machine) is reported as
ExportWarning and listed in the returned ExportSummary, never dropped silently.
"""

from __future__ import annotations

import ipaddress
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from asanb.config import JobConfig
from asanb.errors import AsanbError, ConfigError, ExportWarning
from asanb.project.arm import build_template
from asanb.project.arm_schema import check_template
from asanb.project.model import FunctionSpec, InputSpec, JobSettings, OutputSpec, Project, Serialization
from asanb.project.writer import write_project
from asanb.sql import ast
from asanb.sql.parser import parse
from asanb.sql.tree import walk
from asanb.udf.javascript import JavaScriptAggregate, JavaScriptFunction
from asanb.udf.ml import MLFunction
from asanb.udf.swagger import load_signature

__all__ = ["ExportSummary", "export", "job_outline"]

_STUB_NOTE = ("asanb stub: point this {role} at the real data source (Blob storage by default) before "
              "deploying; the ARM template takes its settings as parameters")


@dataclass(frozen=True)
class ExportSummary:
    """What ``asanb.export`` wrote and what needs attention before the project runs on Azure."""

    directory: Path
    project_file: Path
    script: Path
    template: Path
    parameters: Path
    files: tuple[Path, ...]
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    project: Project

    def __str__(self) -> str:
        lines = [f"ASA project written to {self.directory} ({len(self.files)} files): {self.project_file.name}, "
                 f"{self.script.name}, ARM template Deploy/{self.template.name} + {self.parameters.name}"]
        lines += [f"warning: {text}" for text in self.warnings]
        lines += [f"note: {text}" for text in self.notes]
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def job_outline(tree: ast.Query) -> tuple[list[str], list[str], list[str]]:
    """(input aliases, output aliases, called ``udf.``/``uda.`` aliases) of a parsed query, in query order,
    each once (ASA aliases are case-insensitive; the first spelling wins)."""
    steps = {step.name.lower() for step in tree.steps}
    inputs = [node.name for node in walk(tree) if isinstance(node, ast.Source) and node.name.lower() not in steps]
    outputs = []
    for statement in tree.statements:
        first = statement.selects[0] if isinstance(statement, ast.Union) else statement
        outputs.append(first.into or "output")  # a statement without INTO writes to `output`
    calls = [node.name for node in walk(tree)
             if isinstance(node, ast.FunctionCall) and node.namespace in ("udf", "uda")]
    return _unique(inputs), _unique(outputs), _unique(calls)


def _unique(names: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.lower(), name)
    return list(seen.values())


def _input_warning(alias: str, value: Any) -> str | None:
    """Why an input value cannot go to ASA as it is (None when it is a plain events file)."""
    if isinstance(value, str) and value.strip().lower().startswith("sim:"):
        return (f"input '{alias}' is the simulated source {value.strip()!r}, which ASA cannot read: "
                f"Inputs/{alias}.json is a stub for the real stream and no local input file was written")
    if isinstance(value, pd.DataFrame):
        return (f"input '{alias}' is a DataFrame ({len(value):,} events): Inputs/{alias}.json is a stub for the "
                f"real source; the events are written as its local input file")
    if isinstance(value, list):
        return (f"input '{alias}' is a list of events: Inputs/{alias}.json is a stub for the real source; "
                f"the events are written as its local input file")
    if value is not None and not isinstance(value, str | Path):
        return (f"input '{alias}' is a {type(value).__name__}, which asanb cannot write out: "
                f"Inputs/{alias}.json is a stub and no local input file was written")
    return None


def _function_spec(alias: str, definition: Any) -> FunctionSpec | str:
    """The FunctionSpec for a definition, or the warning saying why it cannot be exported."""
    kinds = {MLFunction: "ml", JavaScriptFunction: "javascript_udf", JavaScriptAggregate: "javascript_uda"}
    kind = kinds.get(type(definition))
    if kind is not None:
        return FunctionSpec(alias=definition.alias, kind=kind, definition=definition)
    if getattr(definition, "asa_compatible", True) is False:
        return (f"udf.{alias} is a {type(definition).__name__}, an asanb extension ASA cannot run: no "
                f"Functions/{alias}.json was written; port it to a JavaScript UDF or an Azure ML endpoint")
    return f"udf.{alias} is a {type(definition).__name__}, which asanb cannot export: no Functions/{alias}.json"


def _endpoint_warnings(project: Project) -> list[str]:
    """An Azure ML function whose endpoint is on this machine (the local scoring server): the template would
    deploy a job calling an address ASA cannot reach."""
    found = []
    for spec in project.functions:
        endpoint = getattr(spec.definition, "endpoint", None) if spec.kind == "ml" else None
        host = (urlsplit(endpoint).hostname or "") if endpoint else ""
        try:
            address = ipaddress.ip_address(host)
            local = address.is_loopback or address.is_unspecified
        except ValueError:  # a host name
            local = host == "localhost" or host.endswith(".localhost")
        if local:
            found.append(f"udf.{spec.alias} calls {endpoint}, an endpoint on this machine that ASA cannot "
                         f"reach: set the Azure ML endpoint in Functions/{spec.alias}.json before deploying")
    return found


def _with_signature(function: MLFunction) -> MLFunction | str:
    """``function`` with the signature its swagger declares (input columns in order, outputs, request and
    response names), as ASA keeps it in the function resource; or the warning saying why it could not be read.
    Only called for functions declared without inputs, so a given signature never costs a network call."""
    try:
        signature = load_signature(function)
    except AsanbError as error:
        reason = str(error).removeprefix(f"udf.{function.alias}: ")
    else:
        if signature.columns:
            return replace(function, inputs=signature.columns, outputs=signature.outputs or function.outputs,
                           output_type=signature.output_type or function.output_type,
                           input_request_name=signature.input_name,
                           output_response_name=signature.output_name or function.output_response_name)
        reason = "its swagger lists no input columns"
    return (f"udf.{function.alias}: the function signature could not be read ({reason}); Functions/"
            f"{function.alias}.json has no inputs or outputs, and ASA needs the signature loaded (\"Load function "
            f"signature\" from the endpoint's swagger, or inputs=... on the MLFunction) before the job starts")


def _signatures(project: Project) -> tuple[Project, list[str]]:
    """The project with each Azure ML function declared without inputs carrying its swagger's signature."""
    found: list[str] = []
    specs = []
    for spec in project.functions:
        definition = spec.definition
        if spec.kind == "ml" and isinstance(definition, MLFunction) and not definition.inputs:
            filled = _with_signature(definition)
            if isinstance(filled, str):
                found.append(filled)
            else:
                spec = replace(spec, definition=filled)
        specs.append(spec)
    return replace(project, functions=tuple(specs)), found


def _from_query(query: str, inputs: Mapping[str, Any], reference: Mapping[str, Any],
                functions: Iterable[Any], config: JobConfig, name: str) -> tuple[Project, dict[str, Any], list[str]]:
    """The Project a notebook job makes, its local events by alias, and the warnings."""
    used_inputs, used_outputs, calls = job_outline(parse(query))
    given = {alias.lower(): value for alias, value in inputs.items()}
    tables = {alias.lower(): value for alias, value in reference.items()}
    found: list[str] = []
    specs, local = [], {}
    for alias in used_inputs:
        is_reference = alias.lower() in tables
        value = tables.get(alias.lower()) if is_reference else given.get(alias.lower())
        # asanb.Reference wraps the real table; its source is what can be written out.
        value = getattr(value, "source", value)
        role = "reference input" if is_reference else "input"
        stub = {"BlobStorageProperties": {"StorageAccounts": [{"AccountName": None, "AccountKey": None}],
                                          "Container": None, "PathPattern": ""},
                "asanbNote": _STUB_NOTE.format(role=role)}
        specs.append(InputSpec(alias=alias, kind="reference" if is_reference else "stream",
                               data_source_type="Blob storage", serialization=Serialization(), raw=stub))
        warning = _input_warning(alias, value)
        if warning:
            found.append(warning)
        if value is not None:
            local[alias] = value
    outputs = tuple(OutputSpec(alias=alias, data_source_type="Blob storage",
                               serialization=Serialization(json_format="LineSeparated"),
                               raw={"BlobStorageProperties": {"StorageAccounts": [{"AccountName": None}],
                                                              "Container": None, "PathPattern": ""},
                                    "asanbNote": _STUB_NOTE.format(role="output")})
                    for alias in used_outputs)
    definitions = {str(getattr(f, "alias", "")).lower(): f for f in functions}
    function_specs = []
    for alias in calls:
        definition = definitions.get(alias.lower())
        if definition is None:
            found.append(f"udf.{alias} is called but no definition was given: no Functions/{alias}.json was "
                         "written, and ASA will reject the query until one is added")
            continue
        spec = _function_spec(alias, definition)
        if isinstance(spec, str):
            found.append(spec)
        else:
            function_specs.append(spec)
    project = Project(name=name, script=query, settings=JobSettings(config=config), inputs=tuple(specs),
                      outputs=outputs, functions=tuple(function_specs))
    return project, local, found


def _resolve(job_or_query: Any, inputs: Mapping[str, Any] | None, reference: Mapping[str, Any] | None,
             functions: Iterable[Any] | None, config: JobConfig | None,
             name: str) -> tuple[Project, dict[str, Any], list[str]]:
    if isinstance(job_or_query, Project):
        local = {spec.alias: spec.local.path for spec in job_or_query.inputs if spec.local is not None}
        return replace(job_or_query, name=name), local, []
    if isinstance(job_or_query, str):
        return _from_query(job_or_query, inputs or {}, reference or {}, functions or (), config or JobConfig(),
                           name)
    query = getattr(job_or_query, "query", None)
    if not isinstance(query, str):
        raise ConfigError(f"asanb.export takes a query text, a notebook Job (with .query) or an asanb.Project, "
                          f"not a {type(job_or_query).__name__}")
    return _from_query(query, inputs if inputs is not None else getattr(job_or_query, "inputs", {}),
                       reference if reference is not None else getattr(job_or_query, "reference", None) or {},
                       functions if functions is not None else getattr(job_or_query, "functions", ()),
                       config or getattr(job_or_query, "config", None) or JobConfig(), name)


def _project_name(directory: Path, name: str | None, job_or_query: Any) -> str:
    if name:
        chosen = name
    elif isinstance(job_or_query, Project):
        chosen = job_or_query.name
    else:
        chosen = directory.resolve().name or "asanb_job"
    if not chosen or any(char in chosen for char in '<>:"/\\|?*'):
        raise ConfigError(f"project name {chosen!r} cannot be a file name; pass name=...")
    return chosen


def export(job_or_query: Any, directory: str | Path, inputs: Mapping[str, Any] | None = None, *,
           reference: Mapping[str, Any] | None = None, functions: Iterable[Any] | None = None,
           config: JobConfig | None = None, name: str | None = None, include_secrets: bool = False,
           validate: bool = True) -> ExportSummary:
    """Write the job as an ASA project (Visual Studio Code / azure-streamanalytics-cicd layout) and an ARM
    template, and return what was written with the warnings.

    An ``MLFunction`` declared without ``inputs`` is exported with the signature its endpoint's swagger
    declares (input columns in order with their ASA types, outputs, ``inputRequestName``), as ASA keeps it in
    the function resource; when the swagger cannot be read the function is exported without one and an
    ExportWarning says so. Functions with ``inputs`` are written as given, without contacting the endpoint.

    Args:
        job_or_query: the SAQL text (then ``inputs``, ``reference``, ``functions``, ``config`` as for
            ``asanb.run``), a notebook Job (``%%asaquery --background`` or ``%asanb jobs``), or an
            ``asanb.Project`` (import → export).
        directory: the project folder, created if needed; files of the same name are replaced.
        name: the project and script name (default: the project's, else the folder's name).
        include_secrets: write ML API keys into Functions/*.json (default: left out; the ARM parameters file
            asks for them).
        validate: check the ARM template against the Microsoft.StreamAnalytics schema before returning.

    Raises:
        AsaSyntaxError: the query does not parse (its inputs and outputs cannot be known).
        ProjectError: the ARM template does not match the schema (names the JSON path).
    """
    root = Path(directory)
    project_name = _project_name(root, name, job_or_query)
    project, local, found = _resolve(job_or_query, inputs, reference, functions, config, project_name)
    project, unsigned = _signatures(project)
    found += unsigned
    files = write_project(project, root, local, include_secrets=include_secrets)
    arm = build_template(project)
    found += _endpoint_warnings(project) + arm.notes
    deploy = root / "Deploy"
    if validate:
        check_template(arm.template, file=str(deploy / arm.file_names[0]))
    template, parameters = arm.write(deploy)
    for text in found:
        warnings.warn(text, ExportWarning, stacklevel=2)
    return ExportSummary(directory=root, project_file=files.project_file, script=files.script, template=template,
                         parameters=parameters, files=(*files.written, template, parameters),
                         warnings=tuple(found), notes=tuple(files.notes), project=project)
