"""Record and array built-ins: GetArrayElement, GetArrayLength, GetRecordPropertyValue (per-row Python:
records and arrays are Python dicts and lists in object columns)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from asanb.engine.vector_ops import normalize
from asanb.types import TypeProblem, asa_type_of_value


def _container(value: Any, expected: str, function: str) -> Any:
    kind = asa_type_of_value(value)
    if kind is None:
        return None
    if kind != expected:
        raise TypeProblem(f"{function} needs {'an' if expected == 'array' else 'a'} {expected}, got {kind}")
    return value


def field(record: Any, name: str) -> Any:
    """A record field: exact name first, then case-insensitive (ASA names are case-insensitive)."""
    if name in record:
        return record[name]
    folded = name.lower()
    return next((v for k, v in record.items() if str(k).lower() == folded), None)


def _result(values: list[Any], index: pd.Index) -> pd.Series:
    return normalize(pd.Series(values, index=index, dtype=object))


def get_array_element(array: pd.Series, position: pd.Series) -> pd.Series:
    """GetArrayElement(array, index): 0-based; an index outside the array gives NULL."""
    values: list[Any] = []
    for items, at in zip(array.array, position.array, strict=True):
        items = _container(items, "array", "GetArrayElement")
        if items is None or at is None or at != at:
            values.append(None)
            continue
        if asa_type_of_value(at) != "bigint":
            raise TypeProblem(f"GetArrayElement needs a bigint index, got {asa_type_of_value(at)}")
        values.append(items[int(at)] if 0 <= int(at) < len(items) else None)
    return _result(values, array.index)


def get_array_length(array: pd.Series) -> pd.Series:
    """GetArrayLength(array): the number of elements."""
    lengths = [None if (items := _container(v, "array", "GetArrayLength")) is None else len(items)
               for v in array.array]
    return pd.Series(pd.array(lengths, dtype="Int64"), index=array.index)


def get_record_property_value(record: pd.Series, name: pd.Series) -> pd.Series:
    """GetRecordPropertyValue(record, 'name'): the field's value, NULL when absent. A dotted name walks
    nested records."""
    values: list[Any] = []
    for value, path in zip(record.array, name.array, strict=True):
        value = _container(value, "record", "GetRecordPropertyValue")
        if value is None or not isinstance(path, str):
            values.append(None)
            continue
        if path in value:
            value = value[path]
        else:
            for part in path.split("."):
                value = field(value, part) if isinstance(value, dict) else None
        values.append(value)
    return _result(values, record.index)


FUNCTIONS: dict[str, tuple[int, int | None, Callable[..., pd.Series]]] = {
    "getarrayelement": (2, 2, get_array_element),
    "getarraylength": (1, 1, get_array_length),
    "getrecordpropertyvalue": (2, 2, get_record_property_value),
}
