"""The function signature ASA infers from an endpoint's swagger: input name, input columns with types in
order, output name (../shared/spec/ml_udf.md §3), and the check of each ``udf.<alias>(...)`` call against it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from asanb.errors import FunctionError, PlanError, Span
from asanb.udf.ml import FunctionColumn, MLFunction

__all__ = ["Signature", "check_arguments", "load_signature", "signature_from_swagger"]

ADVICE = ("ASA reads the function signature from the endpoint's swagger; make sure the scoring script declares "
          "sample input and output schemas (inference-schema's @input_schema / @output_schema) so the "
          "endpoint can generate it")


@dataclass(frozen=True, slots=True)
class Signature:
    """What requests look like: ``{"Inputs": {input_name: [rows of columns]}}``."""

    input_name: str
    columns: tuple[FunctionColumn, ...]
    output_name: str | None = None
    output_type: str = "any"
    outputs: tuple[FunctionColumn, ...] = ()


def _fetch(function: MLFunction) -> dict[str, Any]:
    source = function.swagger if function.swagger is not None else function.swagger_url
    if isinstance(source, dict):
        return source
    where = str(source)
    try:
        if where.startswith(("http://", "https://")):
            headers = {"Authorization": f"Bearer {function.api_key}"} if function.api_key else {}
            response = httpx.get(where, headers=headers, timeout=min(function.timeout, 30.0))
            if response.status_code != 200:
                raise FunctionError(f"udf.{function.alias}: the swagger at {where} answered HTTP "
                                    f"{response.status_code} ({response.text[:200]!r}). {ADVICE}")
            text = response.text
        else:
            text = Path(where).read_text(encoding="utf-8")
        document = json.loads(text)
    except httpx.HTTPError as error:
        raise FunctionError(f"udf.{function.alias}: cannot fetch the swagger at {where}: {error}. {ADVICE}") from None
    except OSError as error:
        raise FunctionError(f"udf.{function.alias}: cannot read the swagger file {where}: {error}") from None
    except json.JSONDecodeError as error:
        raise FunctionError(f"udf.{function.alias}: the swagger at {where} is not JSON ({error}). {ADVICE}") from None
    if not isinstance(document, dict):
        raise FunctionError(f"udf.{function.alias}: the swagger at {where} is not a JSON object. {ADVICE}")
    return document


def signature_from_swagger(document: dict[str, Any], function: MLFunction) -> Signature:
    """Read ServiceInput → Inputs → <name> → items of a swagger 2.0 / OpenAPI document."""
    definitions = document.get("definitions") or (document.get("components") or {}).get("schemas") or {}
    service_input = definitions.get("ServiceInput")
    if not isinstance(service_input, dict):
        raise FunctionError(f"udf.{function.alias}: the swagger has no ServiceInput definition. {ADVICE}")
    inputs = (service_input.get("properties") or {}).get("Inputs", {}).get("properties") or {}
    if not inputs:
        raise FunctionError(f"udf.{function.alias}: the swagger's ServiceInput has no Inputs. {ADVICE}")
    name = function.input_request_name or next(iter(inputs))
    if name not in inputs:
        raise FunctionError(f"udf.{function.alias}: input_request_name {name!r} is not in the swagger "
                            f"(it has {', '.join(inputs)})")
    items = inputs[name].get("items") or {}
    columns = tuple(FunctionColumn(column, _asa_type(spec), index)
                    for index, (column, spec) in enumerate((items.get("properties") or {}).items()))
    output = definitions.get("ServiceOutput") or {}
    results = ((output.get("properties") or {}).get("Results") or {}).get("properties") or {}
    output_name = function.output_response_name or (next(iter(results)) if results else None)
    return Signature(name, columns, output_name, "any", _output_columns(output, results))


def _output_columns(output: dict[str, Any], results: dict[str, Any]) -> tuple[FunctionColumn, ...]:
    """The binding's output columns: one per ``Results`` entry, typed by its items; a bare array output (what
    inference-schema generates for a list of predictions) is one column named ``Results``, the key an Azure ML
    response holds its predictions under (the column name ASA gives it is not documented)."""
    if results:
        return tuple(FunctionColumn(name, _asa_type(spec.get("items") or spec), index)
                     for index, (name, spec) in enumerate(results.items()) if isinstance(spec, dict))
    if output.get("type") == "array" and isinstance(output.get("items"), dict):
        return (FunctionColumn("Results", _asa_type(output["items"]), 0),)
    return ()


def _asa_type(spec: dict[str, Any]) -> str:
    kind, fmt = spec.get("type"), spec.get("format")
    if kind == "integer":
        return "bigint"
    if kind == "number":
        return "float"
    if kind == "string":
        return "datetime" if fmt == "date-time" else "nvarchar(max)"
    if kind == "boolean":
        return "bit"
    return {"array": "array", "object": "record"}.get(str(kind), "any")


def load_signature(function: MLFunction) -> Signature:
    """The signature of ``function``: from its declared inputs when given, else from its swagger."""
    if function.inputs and function.input_request_name:
        return Signature(function.input_request_name, function.inputs, function.output_response_name,
                         function.output_type, function.outputs)
    return signature_from_swagger(_fetch(function), function)


def check_arguments(signature: Signature, alias: str, kinds: Sequence[str], span: Span) -> None:
    """ASA passes one value per request row: a record (a step passed whole) or an array (e.g. from a
    JavaScript ``createArray``); asanb also accepts one scalar per signature column, sent as an array."""
    if len(kinds) == 1:
        return
    if signature.columns and len(kinds) == len(signature.columns):
        return
    expected = ", ".join(c.name for c in signature.columns) or "(the swagger lists no columns)"
    raise PlanError(
        f"udf.{alias} takes one record or array argument (e.g. udf.{alias}(StepName)), or "
        f"{len(signature.columns)} values ({expected}); got {len(kinds)} arguments", span,
    )
