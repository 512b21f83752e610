"""Read ``Functions/<alias>.json`` of an ASA project into a FunctionSpec: Azure ML service functions
(asanb.MLFunction) and JavaScript UDFs/UDAs (asanb.JavaScriptFunction / JavaScriptAggregate).

Both the ARM shape (``properties.properties.binding``) and the VS Code shape (PascalCase ``Binding``,
``Inputs``, ``Output``, ``Type`` with the script in ``Binding.ScriptPath`` or ``<alias>.js`` beside the
JSON) are accepted (../shared/spec/asa_project.md, "Project layout"). C# UDFs are reported, not run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from asanb.errors import AsanbError, ProjectError
from asanb.project.model import FunctionSpec, get_field
from asanb.udf.javascript import BINDING_TYPE as JAVASCRIPT_BINDING
from asanb.udf.javascript import JavaScriptAggregate, JavaScriptFunction
from asanb.udf.ml import BINDING_TYPE as ML_BINDING
from asanb.udf.ml import MLFunction

__all__ = ["KNOWN_BINDINGS", "load_function"]

_CSHARP_BINDING = "Microsoft.StreamAnalytics/CLRUdf"
KNOWN_BINDINGS = (ML_BINDING, JAVASCRIPT_BINDING, _CSHARP_BINDING)


def load_function(content: Mapping[str, Any], file: Path) -> FunctionSpec:
    """The FunctionSpec of one function JSON; a ProjectError naming the file and field otherwise."""
    arm, binding_field = _arm_shape(content, file)
    binding = arm["properties"]["properties"]["binding"]
    binding_type = str(binding.get("type") or "")
    alias = str(get_field(content, "name", "Name", default="") or _alias_from(file))
    function_type = str(arm["properties"].get("type") or "Scalar")
    if binding_type.lower() == ML_BINDING.lower():
        binding["type"] = ML_BINDING
        definition = _build(lambda: MLFunction.from_function_json(arm, alias=alias), file)
        return FunctionSpec(alias=alias, kind="ml", definition=definition, file=file)
    if binding_type.lower() == JAVASCRIPT_BINDING.lower():
        binding["type"] = JAVASCRIPT_BINDING
        return _javascript(arm, binding, alias, function_type, file)
    if binding_type.lower() == _CSHARP_BINDING.lower():
        raise ProjectError(f"function '{alias}' is a C# UDF ({binding_type}); asanb runs JavaScript and Azure ML "
                           "functions only", file=str(file), field=binding_field)
    raise ProjectError(f"unknown function binding type {binding_type!r}; expected one of "
                       f"{', '.join(KNOWN_BINDINGS)}", file=str(file), field=binding_field)


def _arm_shape(content: Mapping[str, Any], file: Path) -> tuple[dict[str, Any], str]:
    """The function JSON in ARM shape (a fresh copy) and the name of its binding-type field."""
    outer = get_field(content, "properties")
    if isinstance(outer, Mapping):
        inner = get_field(outer, "properties")
        binding = get_field(inner, "binding") if isinstance(inner, Mapping) else None
        if not isinstance(binding, Mapping):
            raise ProjectError("missing", file=str(file), field="properties.properties.binding")
        props = dict(_camel(inner))
        props["binding"] = dict(_camel(binding))
        shaped = {"name": get_field(content, "name"), "properties": {"type": get_field(outer, "type"),
                                                                   "properties": props}}
        if "asanb" in content:
            shaped["asanb"] = content["asanb"]
        return shaped, "properties.properties.binding.type"
    binding = get_field(content, "Binding")
    if not isinstance(binding, Mapping):
        raise ProjectError("missing: a function JSON needs a Binding (or ARM properties.properties.binding)",
                           file=str(file), field="Binding")
    camel_binding = _camel(binding)
    binding_type = camel_binding.pop("type", None)
    # VS Code keeps the binding settings flat; ARM nests them under "properties".
    settings = camel_binding.pop("properties", None) or camel_binding
    props = {"inputs": _camel(get_field(content, "Inputs") or []), "output": _camel(get_field(content, "Output")
                                                                                 or {"dataType": "any"}),
             "binding": {"type": binding_type, "properties": settings}}
    shaped = {"name": get_field(content, "Name"),
              "properties": {"type": get_field(content, "Type", "FunctionType", default="Scalar"),
                             "properties": props}}
    return shaped, "Binding.Type"


def _camel(value: Any) -> Any:
    """Keys with a lower-case first letter, recursively (VS Code's PascalCase -> ARM's camelCase)."""
    if isinstance(value, Mapping):
        return {(str(k)[:1].lower() + str(k)[1:]): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(item) for item in value]
    return value


def _javascript(arm: dict[str, Any], binding: dict[str, Any], alias: str, function_type: str,
                file: Path) -> FunctionSpec:
    settings = binding.get("properties") or {}
    script_path: Path | None = None
    script: str | None = None
    reference = settings.get("scriptPath")
    if reference:
        script_path = (file.parent / str(reference).replace("\\", "/")).resolve()
        if not script_path.is_file():
            raise ProjectError(f"the script {reference!r} of JavaScript function '{alias}' does not exist",
                               file=str(file), field="Binding.ScriptPath")
    elif not settings.get("script"):
        beside = file.with_name(f"{_alias_from(file)}.js")
        if not beside.is_file():
            raise ProjectError(f"JavaScript function '{alias}' has no script: no Binding.Script, "
                               f"Binding.ScriptPath or {beside.name} beside it", file=str(file),
                               field="Binding.ScriptPath")
        script_path = beside
    if script_path is not None:
        script = script_path.read_text(encoding="utf-8-sig")
    if function_type.lower() == "aggregate":
        cls: type[Any] = JavaScriptAggregate
        kind = "javascript_uda"
    elif function_type.lower() == "scalar":
        cls, kind = JavaScriptFunction, "javascript_udf"
    else:
        raise ProjectError(f"function type {function_type!r} is neither Scalar nor Aggregate", file=str(file),
                           field="Type")
    arm["properties"]["type"] = cls.function_type
    definition = _build(lambda: cls.from_function_json(arm, alias=alias, script=script), file)
    return FunctionSpec(alias=alias, kind=kind, definition=definition, file=file, script_file=script_path)


def _build(make: Any, file: Path) -> Any:
    try:
        return make()
    except ProjectError:
        raise
    except AsanbError as error:  # ConfigError / JavaScriptCompileError from the function's own checks
        raise ProjectError(f"{type(error).__name__}: {error}", file=str(file)) from error


def _alias_from(file: Path) -> str:
    return file.name.removesuffix(".json").removesuffix(".js")
