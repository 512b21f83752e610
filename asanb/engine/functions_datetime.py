"""Date and time built-ins: DATEADD, DATEDIFF, DATEPART, DATENAME, DATETIMEFROMPARTS, YEAR, MONTH, DAY.

Date arguments may be datetimes or ISO 8601 strings (ASA converts implicitly); results are
datetime64[ns, UTC] or int64 (Int64 when NULLs occur). Units arrive as TimeUnit long names (see sql/ast.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from asanb.types import TypeProblem, asa_type_of_dtype, python_value, to_utc

_NS = {"hour": 3_600_000_000_000, "minute": 60_000_000_000, "second": 1_000_000_000,
       "millisecond": 1_000_000, "microsecond": 1_000, "nanosecond": 1}
_DAY_UNITS = ("day", "dayofyear", "weekday")
_SUNDAY_EPOCH = pd.Timestamp("1970-01-04", tz="UTC")  # a Sunday: T-SQL weeks start on Sunday (DATEFIRST 7)


def as_datetimes(series: pd.Series) -> pd.Series:
    """A datetime64[ns, UTC] column; strings are read as ISO 8601 and an unreadable one is a type error."""
    kind = asa_type_of_dtype(series.dtype)
    if kind == "datetime":
        return to_utc(series)
    if kind not in ("nvarchar(max)", "any"):
        if series.isna().all():
            return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
        raise TypeProblem(f"expected a datetime, got {kind}")
    converted = pd.to_datetime(series.astype(object), utc=True, errors="coerce", format="ISO8601")
    failed = converted.isna().to_numpy() & series.notna().to_numpy()
    if failed.any():
        bad = python_value(series.array[int(np.argmax(failed))])
        raise TypeProblem(f"cannot read a datetime from {bad!r}")
    return converted.astype("datetime64[ns, UTC]")


def _integers(values: pd.Series) -> pd.Series:
    """Integer results: int64 without NULLs, nullable Int64 with them."""
    if values.isna().any():
        return values.astype("Int64")
    return values.astype("int64")


def _week(dates: pd.Series) -> pd.Series:
    """T-SQL's week of the year: week 1 holds January 1 and weeks start on Sunday."""
    jan1 = (dates.dt.day_of_week - (dates.dt.day_of_year - 1)) % 7  # Monday=0 weekday of January 1
    jan1_sunday_based = (jan1 + 1) % 7
    return (dates.dt.day_of_year - 1 + jan1_sunday_based) // 7 + 1


_PARTS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "year": lambda d: d.dt.year,
    "quarter": lambda d: d.dt.quarter,
    "month": lambda d: d.dt.month,
    "dayofyear": lambda d: d.dt.day_of_year,
    "day": lambda d: d.dt.day,
    "week": _week,
    "weekday": lambda d: (d.dt.day_of_week + 1) % 7 + 1,  # Sunday = 1 ... Saturday = 7 (T-SQL default)
    "hour": lambda d: d.dt.hour,
    "minute": lambda d: d.dt.minute,
    "second": lambda d: d.dt.second,
    "millisecond": lambda d: d.dt.microsecond // 1000,
    "microsecond": lambda d: d.dt.microsecond,
    "nanosecond": lambda d: d.dt.microsecond * 1000 + d.dt.nanosecond,
}


def _unit(unit: str, allowed: dict[str, Any] | tuple[str, ...]) -> str:
    unit = unit.lower()
    if unit not in allowed:
        raise TypeProblem(f"unsupported date part '{unit}'")
    return unit


def datepart(unit: str, date: pd.Series) -> pd.Series:
    """DATEPART(unit, date) as bigint."""
    return _integers(_PARTS[_unit(unit, _PARTS)](as_datetimes(date)))


def datename(unit: str, date: pd.Series) -> pd.Series:
    """DATENAME(unit, date): month and weekday names in English, other parts as their number in text."""
    dates = as_datetimes(date)
    unit = _unit(unit, _PARTS)
    if unit == "month":
        names = dates.dt.month_name()
    elif unit == "weekday":
        names = dates.dt.day_name()
    else:
        names = _PARTS[unit](dates).astype("Int64").astype("str")
    return names.astype("str").where(dates.notna(), None)


def _part_function(unit: str) -> Callable[[pd.Series], pd.Series]:
    return lambda date: datepart(unit, date)


def dateadd(unit: str, number: pd.Series, date: pd.Series) -> pd.Series:
    """DATEADD(unit, number, date): months clamp to the month's last day (as T-SQL); number is truncated
    to an integer. Calendar units group rows by their number so each distinct offset is one vector op."""
    unit = _unit(unit, tuple(_NS) + _DAY_UNITS + ("year", "quarter", "month", "week"))
    dates = as_datetimes(date)
    kind = asa_type_of_dtype(number.dtype)
    if kind not in ("bigint", "float") and number.notna().any():
        raise TypeProblem(f"DATEADD needs a number to add, got {kind}")
    amounts = pd.to_numeric(number, errors="coerce").astype("float64")
    amounts = np.trunc(amounts)
    if unit in ("year", "quarter", "month"):
        months = amounts * {"year": 12, "quarter": 3, "month": 1}[unit]
        out = pd.Series(pd.NaT, index=dates.index, dtype="datetime64[ns, UTC]")
        for value in pd.unique(months.dropna()):
            rows = (months == value).to_numpy()
            out[rows] = dates[rows] + pd.DateOffset(months=int(value))
        return out
    step = _NS.get(unit) or (7 if unit == "week" else 1) * 86_400_000_000_000
    delta = pd.to_timedelta(amounts * step, unit="ns")
    return (dates + delta.to_numpy()).astype("datetime64[ns, UTC]")


def datediff(unit: str, start: pd.Series, end: pd.Series) -> pd.Series:
    """DATEDIFF(unit, start, end): how many ``unit`` boundaries lie between the two times (T-SQL),
    so DATEDIFF(year, '2025-12-31', '2026-01-01') is 1 and DATEDIFF(second, x.9s, (x+1).1s) is 1."""
    unit = _unit(unit, tuple(_NS) + _DAY_UNITS + ("year", "quarter", "month", "week"))
    first, last = as_datetimes(start), as_datetimes(end)
    if unit in ("year", "quarter", "month"):
        return _integers(_month_index(last, unit) - _month_index(first, unit))
    if unit == "week":
        return _integers(_floor_count(last, 7 * 86_400_000_000_000) - _floor_count(first, 7 * 86_400_000_000_000))
    step = _NS.get(unit, 86_400_000_000_000)
    return _integers(_floor_count(last, step) - _floor_count(first, step))


def _month_index(dates: pd.Series, unit: str) -> pd.Series:
    if unit == "year":
        return dates.dt.year
    if unit == "quarter":
        return dates.dt.year * 4 + dates.dt.quarter
    return dates.dt.year * 12 + dates.dt.month


def _floor_count(dates: pd.Series, step: int) -> pd.Series:
    """Whole ``step``s since a Sunday epoch (so week boundaries fall on Sundays), NULL kept."""
    delta = (dates - _SUNDAY_EPOCH).to_numpy().astype("timedelta64[ns]")
    nulls = np.isnat(delta)
    counts = delta.astype("int64") // step
    return pd.Series(pd.arrays.IntegerArray(counts, nulls), index=dates.index)


def datetimefromparts(*parts: pd.Series) -> pd.Series:
    """DATETIMEFROMPARTS(year, month, day, hour, minute, seconds, milliseconds); NULL if any part is NULL,
    an event error for an impossible date."""
    names = ("year", "month", "day", "hour", "minute", "second", "ms")
    columns = {name: pd.to_numeric(part, errors="coerce") for name, part in zip(names, parts, strict=True)}
    table = pd.DataFrame(columns)
    nulls = table.isna().any(axis=1).to_numpy()
    built = pd.to_datetime(table.fillna(1).astype("int64"), errors="coerce", utc=True)
    failed = built.isna().to_numpy() & ~nulls
    if failed.any():
        row = table.iloc[int(np.argmax(failed))].astype("int64").tolist()
        raise TypeProblem(f"DATETIMEFROMPARTS{tuple(row)} is not a valid datetime")
    return built.where(~nulls).astype("datetime64[ns, UTC]")


FUNCTIONS: dict[str, tuple[int, int | None, Callable[..., pd.Series]]] = {
    "dateadd": (3, 3, dateadd),
    "datediff": (3, 3, datediff),
    "datepart": (2, 2, datepart),
    "datename": (2, 2, datename),
    "datetimefromparts": (7, 7, datetimefromparts),
    "year": (1, 1, _part_function("year")),
    "month": (1, 1, _part_function("month")),
    "day": (1, 1, _part_function("day")),
}
