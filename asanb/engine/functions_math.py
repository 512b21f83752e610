"""Math built-ins: ABS, CEILING, FLOOR, ROUND, POWER, SQRT, SQUARE, SIGN, EXP, LOG (vectorized numpy).

bigint stays bigint for ABS, CEILING, FLOOR, SIGN and SQUARE; the others give float. Domain errors
(SQRT of a negative, LOG of a non-positive) are event errors, as T-SQL's "invalid floating point operation".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from asanb.engine.vector_ops import typed
from asanb.types import TypeProblem, python_value


def numbers(series: pd.Series, function: str) -> pd.Series:
    """The argument as a numeric column; text, records and the like are type errors."""
    series, kind = typed(series)
    if kind is None:
        return pd.Series(np.nan, index=series.index, dtype="float64")
    if kind not in ("bigint", "float"):
        raise TypeProblem(f"{function.upper()} needs a number, got {kind}")
    return series


def _floats(series: pd.Series, function: str) -> pd.Series:
    return numbers(series, function).astype("float64")


def _keeping_ints(name: str, ufunc: Callable[..., Any]) -> Callable[[pd.Series], pd.Series]:
    def apply(value: pd.Series) -> pd.Series:
        series = numbers(value, name)
        result = ufunc(series)
        return result if series.dtype.kind in "iu" or str(series.dtype) == "Int64" else result.astype("float64")
    return apply


def _domain(name: str, ufunc: Callable[..., object], valid: Callable[[pd.Series], pd.Series]) \
        -> Callable[[pd.Series], pd.Series]:
    def apply(value: pd.Series) -> pd.Series:
        series = _floats(value, name)
        bad = (~valid(series)) & series.notna()
        if bad.any():
            raise TypeProblem(f"{name.upper()} of {python_value(series[bad].iloc[0])!r} is undefined (invalid floating point "
                              "operation)")
        return ufunc(series)
    return apply


def round_half_away(value: pd.Series, digits: pd.Series | None = None, truncate: pd.Series | None = None) \
        -> pd.Series:
    """ROUND(x, digits [, function]): halves round away from zero (T-SQL, not numpy's to-even); a non-zero
    third argument truncates instead. bigint input stays bigint."""
    series = numbers(value, "round")
    places = numbers(digits, "round").fillna(0).astype("int64") if digits is not None else 0
    scale = np.power(10.0, places)
    floats = series.astype("float64")
    chop = truncate is not None and bool(numbers(truncate, "round").fillna(0).ne(0).any())
    magnitude = np.floor(floats.abs() * scale) if chop else np.floor(floats.abs() * scale + 0.5)
    result = np.sign(floats) * magnitude / scale
    if series.dtype.kind in "iu" or str(series.dtype) == "Int64":
        return result.round().astype(series.dtype)
    return result


def power(base: pd.Series, exponent: pd.Series) -> pd.Series:
    """POWER(x, y) as float."""
    return np.power(_floats(base, "power"), _floats(exponent, "power"))


def log(value: pd.Series, base: pd.Series | None = None) -> pd.Series:
    """LOG(x [, base]): natural logarithm, or in the given base."""
    natural = _domain("log", np.log, lambda s: s > 0)(value)
    if base is None:
        return natural
    return natural / np.log(_floats(base, "log"))


FUNCTIONS: dict[str, tuple[int, int | None, Callable[..., pd.Series]]] = {
    "abs": (1, 1, _keeping_ints("abs", np.abs)),
    "ceiling": (1, 1, _keeping_ints("ceiling", np.ceil)),
    "floor": (1, 1, _keeping_ints("floor", np.floor)),
    "sign": (1, 1, _keeping_ints("sign", np.sign)),
    "square": (1, 1, _keeping_ints("square", np.square)),
    "round": (1, 3, round_half_away),
    "power": (2, 2, power),
    "sqrt": (1, 1, _domain("sqrt", np.sqrt, lambda s: s >= 0)),
    "exp": (1, 1, lambda value: np.exp(_floats(value, "exp"))),
    "log": (1, 2, log),
}
