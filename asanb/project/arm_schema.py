"""Validate an ARM template's streaming job against the Microsoft.StreamAnalytics resource JSON schema
(2021-10-01-preview, the first version with Azure ML service functions; a copy ships in ``asanb/data``).

The published schema draws each discriminated union (a function binding, an input's data source, a
serialization ...) as ``allOf: [{type enum, additionalProperties: false}, {oneOf: [variants]}]``. Under
draft-04, ``additionalProperties`` cannot see the sibling branch, so taken literally the schema rejects every
real input (its ``datasource`` is declared only by the variants). asanb reads the base branch as its authors
meant: it also admits the properties its variants declare, each still checked by its variant, so a misspelt
property or a wrong enum value still fails.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

from asanb.errors import ProjectError

__all__ = ["API_VERSION", "SCHEMA_FILES", "TemplateProblem", "check_template", "template_problems"]

API_VERSION = "2021-10-01-preview"
SCHEMA_FILES = ("Microsoft.StreamAnalytics.2021-10-01-preview.json", "common-definitions.json")
JOB_TYPE = "Microsoft.StreamAnalytics/streamingjobs"
_DEPLOYMENT_KEYS = ("$schema", "contentVersion", "resources")

TemplateProblem = tuple[str, str]
"""(JSON path like ``resources[0].properties.inputs[0]``, message)."""


def _load(name: str) -> dict[str, Any]:
    text = resources.files("asanb").joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def _variant_properties(variant: Mapping[str, Any], definitions: Mapping[str, Any]) -> set[str]:
    """Property names a oneOf variant declares, following local ``#/definitions/X`` references."""
    names: set[str] = set(variant.get("properties", {}))
    for part in variant.get("allOf", ()):
        reference = part.get("$ref", "")
        if reference.startswith("#/definitions/"):
            names |= _variant_properties(definitions[reference.removeprefix("#/definitions/")], definitions)
        else:
            names |= _variant_properties(part, definitions)
    return names


def _admit_variant_properties(schema: dict[str, Any]) -> int:
    """Rewrite each discriminated union's base branch in place (see the module docstring); returns how many."""
    definitions = schema["definitions"]
    rewritten = 0
    for definition in definitions.values():
        branches = definition.get("allOf") if isinstance(definition, dict) else None
        if not branches or len(branches) != 2 or branches[0].get("additionalProperties") is not False:
            continue
        base, union = branches
        declared = set()
        for variant in union.get("oneOf", ()):
            declared |= _variant_properties(variant, definitions)
        for name in sorted(declared - set(base["properties"])):
            base["properties"][name] = {}
        rewritten += 1
    return rewritten


@cache
def _validator() -> Any:
    # jsonschema is imported here, not at module import, so `import asanb` stays light.
    from jsonschema import Draft4Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT4

    stream_analytics = copy.deepcopy(_load(SCHEMA_FILES[0]))
    common = _load(SCHEMA_FILES[1])
    _admit_variant_properties(stream_analytics)
    base_uri = stream_analytics["id"].rstrip("#")
    registry = Registry().with_resources([
        (base_uri, DRAFT4.create_resource(stream_analytics)),
        (common["id"].rstrip("#"), DRAFT4.create_resource(common)),
    ])
    job_schema = {"$ref": f"{base_uri}#/resourceDefinitions/streamingjobs"}
    return Draft4Validator(job_schema, registry=registry)


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _deepest(error: Any) -> Any:
    """The most specific cause of a oneOf/allOf failure: the error deepest in the instance."""
    if not error.context:
        return error
    return _deepest(max(error.context, key=lambda cause: len(cause.absolute_path)))


def template_problems(template: Mapping[str, Any]) -> list[TemplateProblem]:
    """Every way ``template`` breaks the deployment envelope or the streaming job resource schema; [] if valid."""
    problems: list[TemplateProblem] = [(key, "required by an ARM deployment template")
                                       for key in _DEPLOYMENT_KEYS if key not in template]
    job_resources = [(index, resource) for index, resource in enumerate(template.get("resources") or ())
                     if isinstance(resource, Mapping) and str(resource.get("type", "")).lower() == JOB_TYPE.lower()]
    if "resources" in template and not job_resources:
        problems.append(("resources", f"no {JOB_TYPE} resource"))
    for index, resource in job_resources:
        problems.extend(_resource_problems(index, resource))
    return problems


def _resource_problems(index: int, resource: Mapping[str, Any]) -> Iterator[TemplateProblem]:
    for error in sorted(_validator().iter_errors(resource), key=lambda e: list(map(str, e.absolute_path))):
        cause = _deepest(error)
        yield _path(["resources", index, *cause.absolute_path]), cause.message


def check_template(template: Mapping[str, Any], *, file: str | None = None) -> None:
    """Raise ProjectError naming the first problem's JSON path (and ``file``) when ``template`` is not valid."""
    problems = template_problems(template)
    if problems:
        where, message = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ProjectError(f"the ARM template does not match the {JOB_TYPE} schema {API_VERSION}: "
                           f"{message}{more}", file=file, field=where)
