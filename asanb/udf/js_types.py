"""ASA ↔ JavaScript values for JavaScript UDFs/UDAs, a whole column at a time (../shared/spec/ml_udf.md §8).

ASA → JavaScript (argument columns become JSON the engine's driver turns into JS values):
    bigint → Number (exact within ±2^53; beyond it Number rounds, as in ASA, and the rows are counted),
    float → Number, nvarchar(max) → String, bit → Boolean, record → Object, array → Array,
    datetime → Date (JavaScript keeps milliseconds: finer digits are truncated), NULL → null.
    Datetimes nested inside records/arrays arrive as ISO 8601 strings (JSON has no date type).
JavaScript → ASA (the declared output type, or by value when it is 'any'):
    Number → bigint when integral and within ±2^63, else float; String → nvarchar(max); Boolean → bit;
    Date → datetime; Object → record; Array → array; null/undefined → NULL; NaN/±Infinity → NULL (JSON).
    Functions, symbols and BigInt are not ASA values: a runtime error, as in ASA.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DATE_KEY", "SAFE_INTEGER", "convert_output", "encode_argument", "to_object_column"]

SAFE_INTEGER = 2**53 - 1
"""Number.MAX_SAFE_INTEGER: the largest bigint a JavaScript Number holds exactly."""
DATE_KEY = "d"


class EncodedArgument:
    """One call argument as JSON-ready data plus what the driver needs to rebuild JS values."""

    __slots__ = ("payload", "unsafe_integers")

    def __init__(self, payload: dict[str, Any], unsafe_integers: int = 0) -> None:
        self.payload = payload
        self.unsafe_integers = unsafe_integers


def encode_argument(argument: pd.Series | pd.DataFrame, declared: str = "any") -> EncodedArgument:
    """A Series → ``{"v": values, "d": is_date}``; a whole row (DataFrame) → ``{"n": names, "c": columns}``
    so the JS side builds one Object per row without Python touching each row."""
    if isinstance(argument, pd.DataFrame):
        parts = [encode_argument(argument[name]) for name in argument.columns]
        payload = {"n": [str(name) for name in argument.columns], "c": [part.payload for part in parts]}
        return EncodedArgument(payload, sum(part.unsafe_integers for part in parts))
    return _encode_series(argument, declared)


def _encode_series(series: pd.Series, declared: str) -> EncodedArgument:
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return EncodedArgument({"v": _milliseconds(series), DATE_KEY: True})
    if pd.api.types.is_bool_dtype(dtype) and dtype.kind == "b":
        return EncodedArgument({"v": series.to_numpy(), DATE_KEY: False})
    if dtype.kind in "iu":
        values = series.to_numpy()
        unsafe = int(np.count_nonzero(np.abs(values.astype(np.float64)) > SAFE_INTEGER))
        return EncodedArgument({"v": values.astype(np.int64, copy=False), DATE_KEY: False}, unsafe)
    if dtype.kind == "f":
        # NaN is NULL in a float column; orjson writes it as null.
        return EncodedArgument({"v": np.ascontiguousarray(series.to_numpy(dtype=np.float64)), DATE_KEY: False})
    values = series.to_numpy(dtype=object, na_value=None)
    if declared == "datetime" or pd.api.types.infer_dtype(values, skipna=True) in ("datetime", "datetime64",
                                                                                     "date"):
        parsed = pd.to_datetime(pd.Series(values), utc=True, format="ISO8601", errors="coerce")
        return EncodedArgument({"v": _milliseconds(parsed), DATE_KEY: True})
    unsafe = sum(1 for value in values if isinstance(value, int | np.integer) and abs(int(value)) > SAFE_INTEGER
                 ) if pd.api.types.infer_dtype(values, skipna=True) in ("integer", "mixed-integer") else 0
    return EncodedArgument({"v": values.tolist(), DATE_KEY: False}, unsafe)


def _milliseconds(series: pd.Series) -> np.ndarray:
    """Epoch milliseconds (floor), NaN for NULL: what ``new Date(ms)`` takes."""
    utc = series.dt.tz_convert("UTC") if getattr(series.dt, "tz", None) is not None else series.dt.tz_localize("UTC")
    nanos = utc.to_numpy(dtype="datetime64[ns]").view(np.int64)
    millis = (nanos // 1_000_000).astype(np.float64)
    millis[utc.isna().to_numpy()] = np.nan
    return np.asarray(millis, dtype=np.float64)


def json_default(value: Any) -> Any:
    """orjson's fallback for values nested in records/arrays (numpy scalars, Timestamps, pd.NA)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, datetime | date | pd.Timestamp):
        return pd.Timestamp(value).isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not an ASA value")


def to_object_column(values: Sequence[Any]) -> np.ndarray:
    """A 1-D object array holding ``values`` as they are (lists stay lists, not a 2-D matrix)."""
    return np.fromiter(values, dtype=object, count=len(values))


def revive_dates(values: list[Any], date_rows: Sequence[int]) -> None:
    """Rows whose JS value was a Date came back as epoch milliseconds: make them UTC Timestamps."""
    for row in date_rows:
        millis = values[row]
        values[row] = None if millis is None else pd.Timestamp(int(millis), unit="ms", tz="UTC")


def convert_output(values: list[Any], output_type: str) -> tuple[Any, list[int]]:
    """The column for the declared output type, and the rows whose value does not convert."""
    kind = output_type.lower()
    converter = _CONVERTERS.get(kind)
    if converter is None:
        return _by_value(values), []
    bad = [row for row, value in enumerate(values) if value is not None and not converter(value)]
    if bad:
        return to_object_column(values), bad
    if kind == "bigint":
        integers = [None if v is None else int(v) for v in values]
        # With NULLs the column stays object (None), so integers beyond 2^53 keep every digit.
        return (to_object_column(integers) if None in integers else np.asarray(integers, dtype=np.int64)), []
    if kind == "float":
        return np.asarray([math.nan if v is None else float(v) for v in values], dtype=np.float64), []
    if kind == "datetime":
        return pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601").to_numpy(), []
    return to_object_column(values), []


def _by_value(values: list[Any]) -> Any:
    """'any': a typed column when every value has one number/bit type, else the values as they are."""
    inferred = pd.api.types.infer_dtype(values, skipna=False)
    if inferred == "integer":
        return np.asarray(values, dtype=np.int64)
    if inferred in ("floating", "mixed-integer-float"):
        return np.asarray(values, dtype=np.float64)
    if inferred == "boolean":
        return np.asarray(values, dtype=bool)
    if inferred == "datetime":
        return pd.to_datetime(pd.Series(values, dtype=object), utc=True).dt.as_unit("ns").to_numpy()
    return to_object_column(values)


def _is_bigint(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, float) and value.is_integer() and abs(value) < 2**63


_CONVERTERS: dict[str, Callable[[Any], bool]] = {
    "bigint": _is_bigint,
    "float": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "nvarchar(max)": lambda value: isinstance(value, str),
    "bit": lambda value: isinstance(value, bool),
    "datetime": lambda value: isinstance(value, pd.Timestamp),
    "record": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
}
