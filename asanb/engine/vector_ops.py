"""Vectorized SAQL operators over column values: arithmetic, comparison and three-valued logic with NULLs.

A value is a pd.Series (one entry per row) or a plain Python scalar (a constant, None for NULL), so that
``distance * 2`` or ``passenger > 2`` compare a whole numpy column with a scalar, without broadcasting.
Type mismatches raise TypeProblem; the expression compiler adds the expression and its place.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from asanb.types import TypeProblem, asa_type_of_dtype, asa_type_of_value, python_value, series_types

Value = Any
"""pd.Series aligned with the frame, or a Python scalar (constant; None is NULL)."""

NUMERIC = frozenset({"bigint", "float"})
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


# ---------------------------------------------------------------- typing of values


def normalize(series: pd.Series) -> pd.Series:
    """Give object columns whose values share one scalar type a typed dtype (record fields arrive as object)."""
    if not pd.api.types.is_object_dtype(series.dtype):
        return series
    types = series_types(series)
    if not types or len(types) > 2 or (len(types) == 2 and types != set(NUMERIC)):
        return series
    (kind, *_) = types
    if types <= NUMERIC:
        return series.infer_objects() if "float" not in types else series.astype("float64")
    if kind == "nvarchar(max)":
        return series.astype("str")
    if kind == "bit":
        return series.astype("boolean")
    if kind == "datetime":
        return pd.to_datetime(series, utc=True)
    return series


def typed(value: Value) -> tuple[Value, str | None]:
    """The value (object columns normalized) and its ASA type: None when all NULL, 'mixed' when values
    of several types share a column."""
    if not isinstance(value, pd.Series):
        return value, asa_type_of_value(value)
    series = normalize(value)
    kind: str | None = asa_type_of_dtype(series.dtype)
    if kind == "any":
        types = series_types(series)
        kind = None if not types else types.pop() if len(types) == 1 else "mixed"
    return series, kind


def is_null(value: Value) -> Any:
    """Where the value is NULL: a numpy bool array for a Series, a bool for a scalar."""
    if isinstance(value, pd.Series):
        return value.isna().to_numpy()
    return asa_type_of_value(value) is None


def _null_result(left: Value, right: Value, dtype: str) -> Value:
    for side in (left, right):
        if isinstance(side, pd.Series):
            return pd.Series(pd.array([None] * len(side), dtype=dtype), index=side.index)
    return None


def _on_scalars(function: Callable[[Value, Value], Value], left: Value, right: Value) -> Value:
    """Run a vectorized operation on two constants through one-row Series; give back a Python scalar."""
    if isinstance(left, pd.Series) or isinstance(right, pd.Series):
        return function(left, right)
    result = function(pd.Series([left]), right)
    return python_value(result.iloc[0]) if isinstance(result, pd.Series) else result


# ---------------------------------------------------------------- arithmetic


def arithmetic(op: str, left: Value, right: Value) -> Value:
    """``+ - * / %`` with NULL propagation; ``+`` on two strings concatenates (T-SQL).

    bigint / bigint is integer division truncating toward zero and bigint % bigint takes the dividend's
    sign, as in T-SQL, which SAQL follows (verify against ASA). Division or modulo by zero is an event
    error (T-SQL's "divide by zero"); asanb chose not to produce infinities.
    """
    left, lkind = typed(left)
    right, rkind = typed(right)
    if lkind is None or rkind is None:
        return _null_result(left, right, "Float64")
    if op == "+" and lkind == rkind == "nvarchar(max)":
        return _on_scalars(_concat, left, right)
    if lkind not in NUMERIC or rkind not in NUMERIC:
        raise TypeProblem(f"cannot apply '{op}' to {lkind} and {rkind}")
    if op in ("/", "%") and _has_zero(right):
        raise TypeProblem("division by zero")
    integers = lkind == rkind == "bigint"
    if op == "/" and integers:
        return _on_scalars(_int_divide, left, right)
    function: Callable[[Any, Any], Any] = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
                "%": _fmod}[op]
    return _on_scalars(function, left, right)


def _fmod(left: Value, right: Value) -> Value:
    return np.fmod(left, right)  # the remainder takes the dividend's sign (T-SQL), unlike Python's %


def _concat(left: Value, right: Value) -> Value:
    if isinstance(left, pd.Series) and left.dtype != "str":
        left = left.astype("str")
    if isinstance(right, pd.Series) and right.dtype != "str":
        right = right.astype("str")
    return left + right


def _has_zero(value: Value) -> bool:
    if isinstance(value, pd.Series):
        return bool((value == 0).fillna(False).to_numpy(dtype=bool).any())
    return bool(value == 0)


def _int_divide(left: Value, right: Value) -> Value:
    quotient = left // right
    remainder = left - quotient * right
    # Python floors; T-SQL truncates: step back toward zero when the signs differ and there is a remainder.
    adjust = (remainder != 0) & ((left < 0) != (right < 0))
    if isinstance(adjust, pd.Series):
        adjust = adjust.fillna(False).astype(bool).to_numpy().astype("int64")
    return quotient + adjust


def negate(value: Value) -> Value:
    """Unary minus (NULL stays NULL)."""
    value, kind = typed(value)
    if kind is None:
        return value
    if kind not in NUMERIC:
        raise TypeProblem(f"cannot negate {kind}")
    return -value


# ---------------------------------------------------------------- comparison


def compare(op: str, left: Value, right: Value) -> Value:
    """``= <> < <= > >=`` giving a nullable bit: NULL where either side is NULL.

    bigint and float compare with each other (data types reference); a string compared with a datetime
    is read as an ISO 8601 datetime (ASA converts implicitly); other mixes are event errors.
    """
    left, lkind = typed(left)
    right, rkind = typed(right)
    if lkind is None or rkind is None:
        return _null_result(left, right, "boolean")
    left, right = _comparable(left, lkind, right, rkind)
    return _on_scalars(lambda a, b: _compare_values(_COMPARE[op], a, b), left, right)


def _comparable(left: Value, lkind: str, right: Value, rkind: str) -> tuple[Value, Value]:
    if lkind == rkind and lkind not in ("record", "array", "mixed"):
        return left, right
    if lkind in NUMERIC and rkind in NUMERIC:
        return left, right
    if {lkind, rkind} == {"datetime", "nvarchar(max)"}:
        convert = _as_datetime
        return (convert(left), right) if lkind == "nvarchar(max)" else (left, convert(right))
    raise TypeProblem(f"cannot compare {lkind} with {rkind}")


def _as_datetime(value: Value) -> Value:
    try:
        if isinstance(value, pd.Series):
            return pd.to_datetime(value, utc=True, format="ISO8601")
        return pd.Timestamp(value).tz_localize("UTC") if pd.Timestamp(value).tzinfo is None \
            else pd.Timestamp(value).tz_convert("UTC")
    except (ValueError, TypeError) as error:
        raise TypeProblem(f"cannot read a datetime from the string ({error})") from None


def _plain(value: Value) -> Value:
    """numpy arrays for plain numeric columns (fastest comparison path); other values unchanged."""
    if isinstance(value, pd.Series) and value.dtype.kind in "iufb" and isinstance(value.dtype, np.dtype):
        return value.to_numpy()
    return value


def _compare_values(function: Callable[[Any, Any], Any], left: Value, right: Value) -> pd.Series:
    series = left if isinstance(left, pd.Series) else right
    raw = function(_plain(left), _plain(right))
    if isinstance(raw, pd.Series):
        raw = raw.to_numpy(dtype=bool, na_value=False)
    nulls = _null_mask(left) | _null_mask(right)
    if nulls is not False and nulls.any():
        return pd.Series(pd.arrays.BooleanArray(np.asarray(raw, dtype=bool), nulls), index=series.index)
    return pd.Series(np.asarray(raw, dtype=bool), index=series.index, copy=False)


def _null_mask(value: Value) -> Any:
    if not isinstance(value, pd.Series):
        return False
    dtype = value.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return False  # numpy ints and bools cannot hold NULL: skip the scan on the hot path
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return np.isnan(value.to_numpy())
    return value.isna().to_numpy()


# ---------------------------------------------------------------- three-valued logic


def as_bit(value: Value) -> Value:
    """A condition's value as numpy bool / pandas 'boolean' / Python bool or None; anything else is a type error."""
    value, kind = typed(value)
    if kind not in (None, "bit"):
        raise TypeProblem(f"expected a bit (true/false) condition, got {kind}")
    if isinstance(value, pd.Series) and kind is None:
        return pd.Series(pd.array([None] * len(value), dtype="boolean"), index=value.index)
    return value


def _kleene(value: Value) -> Any:
    if isinstance(value, pd.Series):
        return value.to_numpy() if value.dtype == bool else value.astype("boolean").array
    return pd.NA if value is None else bool(value)


def logical(op: str, left: Value, right: Value) -> Value:
    """AND / OR with SQL's three-valued truth tables (pandas' Kleene logic on 'boolean' arrays)."""
    left, right = as_bit(left), as_bit(right)
    series = left if isinstance(left, pd.Series) else right if isinstance(right, pd.Series) else None
    if series is None:
        result = (_kleene(left) & _kleene(right)) if op == "and" else (_kleene(left) | _kleene(right))
        return None if result is pd.NA else bool(result)
    a, b = _kleene(left), _kleene(right)
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        raw = np.logical_and(a, b) if op == "and" else np.logical_or(a, b)
        return pd.Series(raw, index=series.index, copy=False)
    if not isinstance(a, (np.ndarray, pd.api.extensions.ExtensionArray)):
        a, b = b, a  # keep an array on the left so pandas' Kleene operators run
    if isinstance(a, np.ndarray):
        a = pd.array(a, dtype="boolean")
    result = (a & b) if op == "and" else (a | b)
    return pd.Series(result, index=series.index)


def negation(value: Value) -> Value:
    """NOT: true ↔ false, NULL stays NULL."""
    value = as_bit(value)
    if isinstance(value, pd.Series):
        return ~value
    return None if value is None else not value
