"""ASA's data types over pandas: naming a column's ASA type, CAST / TRY_CAST conversions, plain Python values.

NULL representation (asanb's choice): numbers are int64/float64 (a bigint column with NULLs becomes float64
with NaN, or stays nullable Int64 when it arrives so); strings use pandas' str dtype (NaN is NULL) or object
with None; bits are numpy bool or pandas 'boolean' (pd.NA is NULL); datetimes are datetime64[ns, UTC] (NaT is
NULL); records (dict) and arrays (list) live in object columns with None for NULL.
Types: ../shared/spec/saql.md, "Types".
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from asanb.errors import EventError

__all__ = [
    "ASA_TYPES",
    "TypeProblem",
    "asa_type_of_dtype",
    "asa_type_of_value",
    "cast_series",
    "python_value",
    "series_types",
]

ASA_TYPES = ("bigint", "float", "nvarchar(max)", "datetime", "bit", "record", "array")


class TypeProblem(Exception):  # noqa: N818 - an internal signal, mapped to EventError with the query place
    """A value of the wrong type met an operator or function; the expression compiler adds where it happened."""


def asa_type_of_dtype(dtype: Any) -> str:
    """The ASA type every value of a column of this dtype has; 'any' for object columns, whose values each
    carry their own type (ASA types values, not columns: data types reference)."""
    if pd.api.types.is_bool_dtype(dtype):
        return "bit"
    if pd.api.types.is_integer_dtype(dtype):
        return "bigint"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return "nvarchar(max)"
    return "any"


def asa_type_of_value(value: Any) -> str | None:
    """The ASA type of one Python / numpy value; None for NULL."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "bit"
    if isinstance(value, (int, np.integer)):
        return "bigint"
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else "float"
    if isinstance(value, str):
        return "nvarchar(max)"
    if isinstance(value, (datetime, np.datetime64)):
        return "datetime"
    if isinstance(value, dict):
        return "record"
    if isinstance(value, (list, tuple, np.ndarray)):
        return "array"
    return type(value).__name__


def series_types(series: pd.Series) -> set[str]:
    """The ASA types present among the non-NULL values (one lookup for typed columns, a scan for object)."""
    kind = asa_type_of_dtype(series.dtype)
    if kind != "any":
        return {kind} if series.notna().any() else set()
    return {t for t in map(asa_type_of_value, series.array) if t is not None}


def python_value(value: Any) -> object:
    """A numpy / pandas scalar as plain JSON-able Python; None for NULL. Datetimes stay pd.Timestamp (UTC)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value, tz="UTC")
    if isinstance(value, np.ndarray):
        return [python_value(v) for v in value.tolist()]
    if isinstance(value, dict):
        return {k: python_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [python_value(v) for v in value]
    return value


def format_datetime(series: pd.Series) -> pd.Series:
    """ASA's text form of datetimes: ISO 8601 with 7 fractional digits and a Z (how ASA writes them)."""
    text = series.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").astype(object)
    return (text + "0Z").where(series.notna(), None)


# ---------------------------------------------------------------- CAST / TRY_CAST


def _to_bigint(series: pd.Series) -> pd.Series:
    kind = asa_type_of_dtype(series.dtype)
    if kind == "bigint":
        return series
    if kind == "bit":
        return series.astype("Int64")
    if kind == "float":
        # T-SQL truncates toward zero when a float becomes an integer (verify for ASA).
        finite = series.where(np.isfinite(series.to_numpy(dtype=float, na_value=np.nan)))
        return np.trunc(finite).astype("Int64")
    values = [_value_to_bigint(v) for v in series.array]
    return pd.Series(pd.array(values, dtype="Int64"), index=series.index)


def _value_to_bigint(value: Any) -> int | None:
    kind = asa_type_of_value(value)
    if kind is None:
        return None
    if kind in ("bigint", "bit"):
        return int(value)
    if kind == "float":
        return int(value) if math.isfinite(value) else None
    if kind == "nvarchar(max)":
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _to_float(series: pd.Series) -> pd.Series:
    kind = asa_type_of_dtype(series.dtype)
    if kind in ("float", "bigint", "bit"):
        return series.astype("float64")
    if kind == "nvarchar(max)":
        return pd.to_numeric(series.str.strip(), errors="coerce").astype("float64")
    values = [_value_to_float(v) for v in series.array]
    return pd.Series(np.array(values, dtype="float64"), index=series.index)


def _value_to_float(value: Any) -> float:
    kind = asa_type_of_value(value)
    if kind in ("bigint", "float", "bit"):
        return float(value)
    if kind == "nvarchar(max)":
        try:
            return float(value)
        except ValueError:
            return math.nan
    return math.nan


def _to_string(series: pd.Series) -> pd.Series:
    kind = asa_type_of_dtype(series.dtype)
    if kind == "nvarchar(max)":
        return series
    if kind == "datetime":
        return format_datetime(series).astype("str")
    if kind == "bit":
        # bit as text is 1/0 as in T-SQL (verify for ASA).
        return series.map(lambda v: None if v is pd.NA else str(int(v))).astype("str")
    return pd.Series([_value_to_string(v) for v in series.array], index=series.index, dtype="str")


def _value_to_string(value: Any) -> str | None:
    kind = asa_type_of_value(value)
    if kind is None:
        return None
    if kind == "bit":
        return str(int(value))
    if kind == "float":
        # .NET's shortest round-trip form, as ASA writes floats: 1.0 is "1", 2.5 is "2.5".
        text = repr(float(value))
        return text[:-2] if text.endswith(".0") else text
    if kind in ("record", "array"):
        return json.dumps(python_value(value), default=str, separators=(",", ":"))
    if kind == "datetime":
        return str(format_datetime(pd.Series([pd.Timestamp(value)]).dt.tz_localize(None)
                                   .dt.tz_localize("UTC"))[0])
    return str(value)


def _to_datetime(series: pd.Series) -> pd.Series:
    kind = asa_type_of_dtype(series.dtype)
    if kind == "datetime":
        return to_utc(series)
    if kind == "nvarchar(max)":
        return pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601").astype("datetime64[ns, UTC]")
    if kind in ("bigint", "float", "bit"):
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
    values = [v if isinstance(v, (str, datetime, np.datetime64)) else None for v in series.array]
    return _to_datetime(pd.Series(values, index=series.index, dtype=object).astype("str"))


def to_utc(series: pd.Series) -> pd.Series:
    """A datetime column as datetime64[ns, UTC] (naive times are taken as UTC, as ASA's are)."""
    if getattr(series.dt, "tz", None) is None:
        series = series.dt.tz_localize("UTC")
    return series.astype("datetime64[ns, UTC]")


def _to_bit(series: pd.Series) -> pd.Series:
    kind = asa_type_of_dtype(series.dtype)
    if kind == "bit":
        return series.astype("boolean")
    if kind in ("bigint", "float"):
        return (series != 0).astype("boolean").where(series.notna(), pd.NA)
    return pd.Series(pd.array([_value_to_bit(v) for v in series.array], dtype="boolean"), index=series.index)


_BIT_WORDS = {"true": True, "false": False, "1": True, "0": False}


def _value_to_bit(value: Any) -> bool | None:
    kind = asa_type_of_value(value)
    if kind == "bit":
        return bool(value)
    if kind in ("bigint", "float"):
        return bool(value != 0)
    if kind == "nvarchar(max)":
        return _BIT_WORDS.get(value.strip().lower())
    return None


def _to_container(expected: str) -> Callable[[pd.Series], pd.Series]:
    def convert(series: pd.Series) -> pd.Series:
        values = [v if asa_type_of_value(v) == expected else None for v in series.array]
        return pd.Series(values, index=series.index, dtype=object)
    return convert


_CONVERTERS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "bigint": _to_bigint,
    "float": _to_float,
    "nvarchar(max)": _to_string,
    "datetime": _to_datetime,
    "bit": _to_bit,
    "record": _to_container("record"),
    "array": _to_container("array"),
}


def cast_series(series: pd.Series, type_name: str, *, strict: bool, what: str) -> pd.Series:
    """Convert to ``type_name``. A non-NULL value that cannot be converted becomes NULL (TRY_CAST) or, when
    ``strict`` (CAST), raises EventError naming ``what`` (the expression and its place) and the bad value
    (../shared/spec/saql.md, "Types": CAST fails the event, TRY_CAST returns NULL).

    Conversions (T-SQL-like, verify against ASA): float to bigint truncates toward zero; strings parse as
    integers / floats / ISO 8601 datetimes / true-false-1-0; numbers become bit by ``<> 0``; bit becomes
    text as 1/0, datetimes as 2026-01-01T00:00:00.0000000Z, records/arrays as JSON; numbers never become
    datetimes; only records become record and only arrays array.
    """
    type_name = type_name.lower()
    if type_name not in _CONVERTERS:
        raise EventError(f"unknown type '{type_name}' in {what}; types are {', '.join(ASA_TYPES)}")
    converted = _CONVERTERS[type_name](series)
    if strict:
        failed = converted.isna().to_numpy() & series.notna().to_numpy()
        if failed.any():
            bad = python_value(series.array[int(np.argmax(failed))])
            raise EventError(f"cannot convert {bad!r} to {type_name} in {what}", field=what, row=bad)
    return converted
