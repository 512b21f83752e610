"""String built-ins: CONCAT, LEN, SUBSTRING, UPPER, LOWER, LTRIM, RTRIM, TRIM, REPLACE, CHARINDEX, PATINDEX,
REGEXMATCH, and the LIKE pattern translation they share with the LIKE operator.

Vectorized through pandas' ``.str`` accessor when the pattern / position arguments are constant per batch;
per-row Python only when they vary by row. Matching is case-sensitive (asanb's choice; verify for ASA).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from asanb.engine.vector_ops import typed
from asanb.types import TypeProblem, cast_series


def like_regex(pattern: str) -> re.Pattern[str]:
    """T-SQL LIKE as a regular expression: % any run, _ one character, [abc] / [a-z] / [^a] classes."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        elif char == "[" and "]" in pattern[i + 1:]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1:end]
            negate = body.startswith("^")
            body = re.sub(r"[\\\]]", lambda m: "\\" + m.group(0), body[1:] if negate else body)
            out.append(f"[{'^' if negate else ''}{body}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def strings(series: pd.Series, function: str) -> pd.Series:
    """The argument as a str column (NaN is NULL); anything but text is a type error."""
    series, kind = typed(series)
    if kind is None:
        return pd.Series(np.nan, index=series.index, dtype="str")
    if kind != "nvarchar(max)":
        raise TypeProblem(f"{function.upper()} needs a string argument, got {kind}")
    return series if series.dtype == "str" else series.astype("str")


def _constant(series: pd.Series) -> tuple[bool, Any]:
    """Whether every row holds the same value (a literal broadcast), and that value."""
    if len(series) == 0:
        return True, None
    first = series.iloc[0]
    same = bool((series == first).all()) if first == first and first is not None else bool(series.isna().all())
    return same, (None if first is None or first != first else first)


def _ints(series: pd.Series, function: str) -> pd.Series:
    series, kind = typed(series)
    if kind not in (None, "bigint", "float"):
        raise TypeProblem(f"{function.upper()} needs a number, got {kind}")
    return series


def _per_row(function: Callable[..., Any], *columns: pd.Series, dtype: str) -> pd.Series:
    values = [None if any(v is None or v != v for v in row) else function(*row)
              for row in zip(*(c.array for c in columns), strict=True)]
    return pd.Series(pd.array(values, dtype=dtype), index=columns[0].index)


def concat(*values: pd.Series) -> pd.Series:
    """CONCAT(a, b, ...): NULL arguments count as empty strings; other types are converted to text."""
    parts = [cast_series(v, "nvarchar(max)", strict=False, what="CONCAT").fillna("") for v in values]
    out = parts[0].astype("str")
    for part in parts[1:]:
        out = out + part.astype("str")
    return out


def length(value: pd.Series) -> pd.Series:
    """LEN(s): characters, trailing blanks excluded (T-SQL)."""
    return strings(value, "len").str.rstrip(" ").str.len().astype("Int64")


def substring(value: pd.Series, start: pd.Series, count: pd.Series) -> pd.Series:
    """SUBSTRING(s, start, length), 1-based; a start before 1 eats into the length (T-SQL)."""
    text, begin, size = strings(value, "substring"), _ints(start, "substring"), _ints(count, "substring")
    (fixed_begin, b), (fixed_size, n) = _constant(begin), _constant(size)
    if fixed_begin and fixed_size and b is not None and n is not None:
        if n < 0:
            raise TypeProblem("SUBSTRING length must not be negative")
        lo, hi = max(int(b) - 1, 0), max(int(b) - 1 + int(n), 0)
        return text.str.slice(lo, hi)
    return _per_row(lambda s, i, k: s[max(int(i) - 1, 0):max(int(i) - 1 + int(k), 0)], text, begin, size,
                    dtype="str")


def _mapped(name: str, method: Callable[[Any], pd.Series]) -> Callable[[pd.Series], pd.Series]:
    return lambda value: method(strings(value, name).str)


def replace(value: pd.Series, find: pd.Series, by: pd.Series) -> pd.Series:
    """REPLACE(s, find, replacement): every occurrence, literally."""
    text, pattern, replacement = strings(value, "replace"), strings(find, "replace"), strings(by, "replace")
    (fixed_p, p), (fixed_r, r) = _constant(pattern), _constant(replacement)
    if fixed_p and fixed_r and p is not None and r is not None:
        return text.str.replace(p, r, regex=False) if p else text
    return _per_row(lambda s, f, b: s.replace(f, b) if f else s, text, pattern, replacement, dtype="str")


def charindex(find: pd.Series, value: pd.Series, start: pd.Series | None = None) -> pd.Series:
    """CHARINDEX(find, s [, start]): 1-based position of the first occurrence at or after start, 0 if none."""
    pattern, text = strings(find, "charindex"), strings(value, "charindex")
    begin = _ints(start, "charindex") if start is not None else pd.Series(1, index=text.index)
    (fixed_p, p), (fixed_b, b) = _constant(pattern), _constant(begin)
    if fixed_p and fixed_b and p is not None and b is not None:
        found = text.str.find(p, max(int(b) - 1, 0)) + 1
        return found.astype("Int64")
    return _per_row(lambda f, s, i: s.find(f, max(int(i) - 1, 0)) + 1, pattern, text, begin, dtype="Int64")


def patindex(pattern: pd.Series, value: pd.Series) -> pd.Series:
    """PATINDEX(pattern, s): 1-based start of the first match of a LIKE pattern ('%abc%'), 0 if none."""
    patterns, text = strings(pattern, "patindex"), strings(value, "patindex")

    def position(p: str, s: str) -> int:
        core = like_regex(p[1:] if p.startswith("%") else p).pattern
        core = core[:-2] if p.endswith("%") and core.endswith(".*") else core + r"\Z"
        match = re.compile(core if p.startswith("%") else r"\A" + core, re.DOTALL).search(s)
        return match.start() + 1 if match else 0

    return _per_row(position, patterns, text, dtype="Int64")


def regexmatch(value: pd.Series, pattern: pd.Series) -> pd.Series:
    """REGEXMATCH(s, regex): 1 when the regular expression matches somewhere in s, else 0; NULL for NULL."""
    text, patterns = strings(value, "regexmatch"), strings(pattern, "regexmatch")
    fixed, p = _constant(patterns)
    try:
        if fixed and p is not None:
            found = text.str.contains(p, regex=True)
            return found.astype("boolean").astype("Int64").where(text.notna(), pd.NA)
        return _per_row(lambda s, q: int(re.search(q, s) is not None), text, patterns, dtype="Int64")
    except re.error as error:
        raise TypeProblem(f"invalid regular expression ({error})") from None


FUNCTIONS: dict[str, tuple[int, int | None, Callable[..., pd.Series]]] = {
    "concat": (1, None, concat),
    "len": (1, 1, length),
    "substring": (3, 3, substring),
    "upper": (1, 1, _mapped("upper", lambda s: s.upper())),
    "lower": (1, 1, _mapped("lower", lambda s: s.lower())),
    "ltrim": (1, 1, _mapped("ltrim", lambda s: s.lstrip(" "))),
    "rtrim": (1, 1, _mapped("rtrim", lambda s: s.rstrip(" "))),
    "trim": (1, 1, _mapped("trim", lambda s: s.strip(" "))),
    "replace": (3, 3, replace),
    "charindex": (2, 3, charindex),
    "patindex": (2, 2, patindex),
    "regexmatch": (2, 2, regexmatch),
}
