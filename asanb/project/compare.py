"""Compare expected and actual output rows the way the shared conformance runner does
(../shared/conformance/run_conformance.py ``compare_rows``), with testConfig's ``IgnoreFields``.

Rules: column names compare without regard to case; numbers with a relative tolerance of 1e-6; datetimes
as UTC instants whatever their text form; NaN, NaT and None are all NULL; a numeric string meets a number
by value; rows compare as a multiset unless order matters.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["compare_rows", "normalize_value"]

FLOAT_REL_TOL = 1e-6
FLOAT_ABS_TOL = 1e-9

Normalized = tuple[str, Any] | None


def _to_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if hasattr(value, "to_pydatetime"):
        return _to_datetime(value.to_pydatetime())
    if not (isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-"):
        return None
    text = value.strip().replace("Z", "+00:00")
    if " " in text and "T" not in text:
        text = text.replace(" ", "T", 1)
    if "." in text:  # Python parses at most microseconds; ASA writes 7 fractional digits
        head, _, fraction = text.partition(".")
        digits = "".join(ch for ch in fraction if ch.isdigit())
        text = f"{head}.{digits[:6].ljust(6, '0')}{fraction[len(digits):]}"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _is_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        import pandas as pd

        return value is pd.NaT or (not isinstance(value, list | dict | str | tuple) and bool(pd.isna(value)))
    except (TypeError, ValueError):
        return False


def normalize_value(value: Any) -> Normalized:
    """A cell as (kind, comparable value), or None for NULL."""
    if hasattr(value, "item") and not isinstance(value, list | dict | str | bytes):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if _is_null(value):
        return None
    as_datetime = _to_datetime(value)
    if as_datetime is not None:
        return ("datetime", as_datetime.astimezone(dt.UTC).replace(tzinfo=None).isoformat())
    if isinstance(value, bool | int | float):
        return ("number", float(value))
    if isinstance(value, Mapping):
        return ("record", tuple(sorted((str(k).lower(), normalize_value(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("array", tuple(normalize_value(v) for v in value))
    if hasattr(value, "tolist"):
        return ("array", tuple(normalize_value(v) for v in value.tolist()))
    return ("string", str(value))


def _values_equal(a: Normalized, b: Normalized) -> bool:
    if a is None or b is None:
        return a is b
    if a[0] != b[0]:
        if {a[0], b[0]} == {"number", "string"}:  # "1" in an expected file meets 1
            try:
                return math.isclose(float(a[1]), float(b[1]), rel_tol=FLOAT_REL_TOL, abs_tol=FLOAT_ABS_TOL)
            except ValueError:
                return False
        return False
    if a[0] == "number":
        return math.isclose(a[1], b[1], rel_tol=FLOAT_REL_TOL, abs_tol=FLOAT_ABS_TOL)
    if a[0] == "array":
        return len(a[1]) == len(b[1]) and all(_values_equal(x, y) for x, y in zip(a[1], b[1], strict=True))
    if a[0] == "record":
        left, right = dict(a[1]), dict(b[1])
        return left.keys() == right.keys() and all(_values_equal(left[k], right[k]) for k in left)
    return bool(a[1] == b[1])


def _normalize_row(row: Mapping[str, Any], ignored: frozenset[str]) -> dict[str, Normalized]:
    return {str(k).lower(): normalize_value(v) for k, v in row.items() if str(k).lower() not in ignored}


def _rows_equal(expected: dict[str, Normalized], actual: dict[str, Normalized]) -> bool:
    return expected.keys() == actual.keys() and all(_values_equal(expected[k], actual[k]) for k in expected)


def compare_rows(expected: Sequence[Mapping[str, Any]], actual: Sequence[Mapping[str, Any]], *,
                 order_sensitive: bool = False, ignore_fields: Iterable[str] = ()) -> str | None:
    """None when the rows match, else a short reason naming the first difference."""
    ignored = frozenset(str(name).lower() for name in ignore_fields)
    exp = [_normalize_row(row, ignored) for row in expected]
    act = [_normalize_row(row, ignored) for row in actual]
    if len(exp) != len(act):
        return f"expected {len(exp)} rows, got {len(act)}"
    if order_sensitive:
        for index, (left, right) in enumerate(zip(exp, act, strict=True)):
            if not _rows_equal(left, right):
                return f"row {index}: expected {dict(expected[index])!r}, got {dict(actual[index])!r}"
        return None
    unmatched = list(range(len(act)))
    for index, left in enumerate(exp):
        hit = next((j for j in unmatched if _rows_equal(left, act[j])), None)
        if hit is None:
            return f"no output row matches expected {dict(expected[index])!r}"
        unmatched.remove(hit)
    return None
