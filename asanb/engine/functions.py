"""The registry of SAQL scalar built-ins (name -> arity and vectorized implementation), plus the NULL
functions (ISNULL, COALESCE, NULLIF) and GetType. The other families live in functions_*.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from asanb.engine import functions_datetime, functions_math, functions_records, functions_string
from asanb.engine.vector_ops import compare, typed
from asanb.types import asa_type_of_dtype, asa_type_of_value

__all__ = ["SCALAR_FUNCTIONS", "ScalarFunction"]


@dataclass(frozen=True, slots=True)
class ScalarFunction:
    """A built-in: arity bounds (max None = variadic) and an implementation taking one Series per argument
    (a TimeUnit argument arrives as its unit name) and returning a Series aligned with them."""

    name: str
    min_args: int
    max_args: int | None
    impl: Callable[..., pd.Series]


def coalesce(*values: pd.Series) -> pd.Series:
    """COALESCE(a, b, ...): the first non-NULL argument per row (ISNULL is its two-argument form)."""
    out = values[0]
    for value in values[1:]:
        nulls = out.isna()
        if not nulls.any():
            break
        out = out.where(~nulls, value)
    return typed(out)[0] if isinstance(out, pd.Series) else out


def nullif(left: pd.Series, right: pd.Series) -> pd.Series:
    """NULLIF(a, b): NULL where a = b, else a."""
    equal = compare("=", left, right)
    mask = equal.to_numpy(dtype=bool, na_value=False) if isinstance(equal, pd.Series) else bool(equal)
    return left.mask(mask) if mask is not False else left


def get_type(value: pd.Series) -> pd.Series:
    """GetType(x): the ASA type name of each value, NULL for NULL."""
    kind = asa_type_of_dtype(value.dtype)
    if kind != "any":
        return pd.Series(kind, index=value.index, dtype="str").where(value.notna(), None)
    return pd.Series([asa_type_of_value(v) for v in value.array], index=value.index, dtype="str")


_NULLS: dict[str, tuple[int, int | None, Callable[..., pd.Series]]] = {
    "isnull": (2, 2, coalesce),
    "coalesce": (1, None, coalesce),
    "nullif": (2, 2, nullif),
    "gettype": (1, 1, get_type),
}


def _registry() -> dict[str, ScalarFunction]:
    families = (_NULLS, functions_datetime.FUNCTIONS, functions_string.FUNCTIONS, functions_math.FUNCTIONS,
                functions_records.FUNCTIONS)
    return {name: ScalarFunction(name, low, high, impl)
            for family in families for name, (low, high, impl) in family.items()}


SCALAR_FUNCTIONS: dict[str, ScalarFunction] = _registry()
"""Lower-case built-in name -> definition."""
