"""Scalar built-ins through the expression compiler: two cases and a NULL each, arity and name errors."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from asanb.engine.expressions import compile_expression
from asanb.engine.functions import SCALAR_FUNCTIONS
from asanb.errors import EventError, PlanError, Span
from asanb.plan.scope import Scope
from asanb.sql import ast
from asanb.types import python_value

S = Span(1, 8, 7, 20)
TS = pd.Timestamp


def lit(value: Any) -> ast.Literal:
    kinds = {int: "bigint", float: "float", str: "nvarchar(max)", bool: "bit", type(None): "null"}
    return ast.Literal(value, kinds[type(value)], S)


def arg(value: Any) -> ast.Expr:
    if isinstance(value, ast.TimeUnit | ast.ColumnRef | ast.FunctionCall):
        return value
    return lit(value)


def unit(name: str) -> ast.TimeUnit:
    return ast.TimeUnit(name, S)


def v() -> ast.ColumnRef:
    return ast.ColumnRef(("v",), S)


def call(name: str, *args: Any, values: list[Any] | None = None) -> list[Any]:
    """Evaluate name(args) over a frame whose column ``v`` holds ``values`` (default: one row)."""
    frame = pd.DataFrame({"v": pd.Series(values if values is not None else [None], dtype=object)})
    frame["v"] = frame["v"].infer_objects() if values is None or not any(
        isinstance(x, dict | list) for x in values) else frame["v"]
    expr = ast.FunctionCall(name, tuple(arg(a) for a in args), S)
    result = compile_expression(expr, Scope(("v",)))(frame)
    return [python_value(x) for x in result.array]


def one(name: str, *args: Any) -> Any:
    return call(name, *args)[0]


# ---------------------------------------------------------------- date and time

T0 = "2026-01-31T10:20:30.123Z"


@pytest.mark.parametrize(("part", "expected"), [
    ("year", 2026), ("quarter", 1), ("month", 1), ("day", 31), ("dayofyear", 31), ("hour", 10),
    ("minute", 20), ("second", 30), ("millisecond", 123), ("weekday", 7), ("week", 5),
])
def test_datepart_reads_iso_strings(part: str, expected: int) -> None:
    assert one("datepart", unit(part), T0) == expected


def test_datepart_null_and_bad_string() -> None:
    assert call("datepart", unit("second"), v(), values=[None, "2026-01-01T00:00:01Z"]) == [None, 1]
    with pytest.raises(EventError, match="cannot read a datetime from 'soon'"):
        one("datepart", unit("second"), "soon")


def test_dateadd_clamps_months_and_adds_units() -> None:
    assert one("dateadd", unit("month"), 1, T0) == TS("2026-02-28T10:20:30.123Z")
    assert one("dateadd", unit("second"), -30, T0) == TS("2026-01-31T10:20:00.123Z")
    assert call("dateadd", unit("day"), v(), T0, values=[1, None]) == [TS("2026-02-01T10:20:30.123Z"), None]


def test_dateadd_out_of_range_is_an_event_error() -> None:
    with pytest.raises(EventError, match=r"cannot evaluate 'DATEADD\(year, 100000"):
        one("dateadd", unit("year"), 100000, T0)


def test_dateadd_varying_month_amounts() -> None:
    got = call("dateadd", unit("year"), v(), "2024-02-29T00:00:00Z", values=[1, 4])
    assert got == [TS("2025-02-28T00:00:00Z"), TS("2028-02-29T00:00:00Z")]


@pytest.mark.parametrize(("part", "start", "end", "expected"), [
    ("year", "2025-12-31T23:59:59Z", "2026-01-01T00:00:00Z", 1),
    ("month", "2026-01-31T00:00:00Z", "2026-03-01T00:00:00Z", 2),
    ("day", "2026-01-01T23:00:00Z", "2026-01-02T01:00:00Z", 1),
    ("second", "2026-01-01T00:00:00.900Z", "2026-01-01T00:00:01.100Z", 1),
    ("second", "2026-01-01T00:00:01.100Z", "2026-01-01T00:00:00.900Z", -1),
    ("minute", "2026-01-01T00:00:00Z", "2026-01-01T00:59:59Z", 59),
    ("week", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z", 1),  # Saturday -> Sunday crosses a week
    ("millisecond", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", 1000),
])
def test_datediff_counts_boundaries(part: str, start: str, end: str, expected: int) -> None:
    assert one("datediff", unit(part), start, end) == expected


def test_datediff_null() -> None:
    assert call("datediff", unit("hour"), v(), T0, values=[None, "2026-01-31T08:00:00Z"]) == [None, 2]


def test_datename_year_month_day() -> None:
    assert one("datename", unit("month"), T0) == "January"
    assert one("datename", unit("weekday"), T0) == "Saturday"
    assert one("datename", unit("day"), T0) == "31"
    assert one("year", T0) == 2026 and one("month", T0) == 1 and one("day", T0) == 31
    assert one("year", None) is None


def test_datetimefromparts() -> None:
    assert one("datetimefromparts", 2026, 2, 3, 4, 5, 6, 7) == TS("2026-02-03T04:05:06.007Z")
    assert one("datetimefromparts", 2026, 2, 3, 4, 5, 6, None) is None
    with pytest.raises(EventError, match="not a valid datetime"):
        one("datetimefromparts", 2026, 2, 30, 0, 0, 0, 0)


# ---------------------------------------------------------------- strings


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("concat", ("a", 1, None, "b"), "a1b"),
    ("len", ("abc  ",), 3), ("len", ("",), 0),
    ("substring", ("abcdef", 2, 3), "bcd"), ("substring", ("abcdef", 0, 3), "ab"),
    ("upper", ("aBc",), "ABC"), ("lower", ("aBc",), "abc"),
    ("ltrim", ("  a ",), "a "), ("rtrim", ("  a ",), "  a"), ("trim", ("  a ",), "a"),
    ("replace", ("a-b-c", "-", "+"), "a+b+c"), ("replace", ("aaa", "a", ""), ""),
    ("charindex", ("b", "abcb"), 2), ("charindex", ("b", "abcb", 3), 4), ("charindex", ("z", "abc"), 0),
    ("patindex", ("%c_e%", "abcdef"), 3), ("patindex", ("%z%", "abc"), 0),
    ("regexmatch", ("abc123", "[0-9]+"), 1), ("regexmatch", ("abc", "^[0-9]+$"), 0),
])
def test_string_functions(name: str, args: tuple[Any, ...], expected: Any) -> None:
    assert one(name, *args) == expected


@pytest.mark.parametrize(("name", "args"), [
    ("len", (None,)), ("substring", (None, 1, 2)), ("upper", (None,)), ("trim", (None,)),
    ("replace", (None, "a", "b")), ("charindex", ("a", None)), ("patindex", ("%a%", None)),
    ("regexmatch", (None, "a")),
])
def test_string_functions_return_null_for_null(name: str, args: tuple[Any, ...]) -> None:
    assert one(name, *args) is None


def test_string_function_on_column_and_type_error() -> None:
    assert call("upper", v(), values=["a", None, "c"]) == ["A", None, "C"]
    with pytest.raises(EventError, match=r"UPPER needs a string argument, got bigint in 'UPPER\(v\)'"):
        call("upper", v(), values=[1, 2])


# ---------------------------------------------------------------- math


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("abs", (-3,), 3), ("abs", (-2.5,), 2.5), ("ceiling", (1.2,), 2.0), ("ceiling", (-1.2,), -1.0),
    ("floor", (1.8,), 1.0), ("floor", (-1.2,), -2.0), ("round", (2.5,), 3.0), ("round", (-2.5,), -3.0),
    ("round", (1.2345, 2), 1.23), ("round", (1.239, 2, 1), 1.23), ("power", (2, 10), 1024.0),
    ("power", (4, 0.5), 2.0), ("sqrt", (16,), 4.0), ("sqrt", (2.25,), 1.5), ("square", (3,), 9),
    ("square", (1.5,), 2.25), ("sign", (-4,), -1), ("sign", (0.0,), 0.0), ("exp", (0,), 1.0),
    ("log", (1,), 0.0), ("log", (8, 2), 3.0),
])
def test_math_functions(name: str, args: tuple[Any, ...], expected: Any) -> None:
    got = one(name, *args)
    assert got == pytest.approx(expected) and type(got) is type(expected)


@pytest.mark.parametrize("name", ["abs", "ceiling", "floor", "round", "sqrt", "square", "sign", "exp", "log"])
def test_math_functions_return_null_for_null(name: str) -> None:
    assert one(name, None) is None


def test_math_domain_and_type_errors() -> None:
    with pytest.raises(EventError, match="SQRT of -1.0 is undefined"):
        one("sqrt", -1)
    with pytest.raises(EventError, match="ABS needs a number, got nvarchar"):
        one("abs", "x")


# ---------------------------------------------------------------- NULL functions and GetType


def test_isnull_coalesce_nullif() -> None:
    assert call("isnull", v(), 0, values=[None, 5]) == [0, 5]
    assert call("coalesce", v(), None, "z", values=[None, "a"]) == ["z", "a"]
    assert one("coalesce", None, None) is None
    assert call("nullif", v(), 3, values=[3, 4, None]) == [None, 4, None]


@pytest.mark.parametrize(("value", "expected"), [
    (1, "bigint"), (1.5, "float"), ("a", "nvarchar(max)"), (True, "bit"), ({"a": 1}, "record"),
    ([1], "array"), (None, None),
])
def test_gettype(value: Any, expected: str | None) -> None:
    assert call("gettype", v(), values=[value]) == [expected]


def test_gettype_of_datetime_column() -> None:
    assert one("gettype", ast.FunctionCall("datetimefromparts", tuple(lit(x) for x in (2026, 1, 1, 0, 0, 0, 0)),
                                           S)) == "datetime"


# ---------------------------------------------------------------- records and arrays


def test_array_functions() -> None:
    values = [[1, 2, 3], [], None]
    assert call("getarrayelement", v(), 1, values=values) == [2, None, None]
    assert call("getarrayelement", v(), 0, values=[["a"], ["b", "c"]]) == ["a", "b"]
    assert call("getarraylength", v(), values=values) == [3, 0, None]


def test_record_property_value() -> None:
    values = [{"Speed": 5, "pos": {"x": 1}}, {"speed": 7}, None]
    assert call("getrecordpropertyvalue", v(), "speed", values=values) == [5, 7, None]
    assert call("getrecordpropertyvalue", v(), "pos.x", values=values) == [1, None, None]
    with pytest.raises(EventError, match="GetRecordPropertyValue needs a record, got bigint"):
        call("getrecordpropertyvalue", v(), "x", values=[1])


# ---------------------------------------------------------------- compile-time errors


def test_wrong_argument_count_is_a_plan_error_with_span() -> None:
    with pytest.raises(PlanError) as error:
        call("len", "a", "b")
    assert error.value.message == "function 'len' takes 1 argument, got 2" and error.value.span == S


def test_unknown_function_suggests_close_names() -> None:
    with pytest.raises(PlanError, match="unknown function 'substr'; did you mean substring"):
        call("substr", "a", 1, 1)


@pytest.mark.parametrize("expr", [
    ast.FunctionCall("sum", (lit(1),), S),
    ast.FunctionCall("score", (lit(1),), S, namespace="udf"),
    ast.FunctionCall("lag", (lit(1),), S, over=ast.Over((), None, None, (), S)),
])
def test_aggregate_udf_and_analytic_calls_are_plan_errors(expr: ast.FunctionCall) -> None:
    with pytest.raises(PlanError, match="cannot be evaluated here"):
        compile_expression(expr, Scope(("v",)))


def test_registry_names_are_lower_case_and_complete() -> None:
    expected = {"dateadd", "datediff", "datepart", "datename", "datetimefromparts", "year", "month", "day",
                "concat", "len", "substring", "upper", "lower", "ltrim", "rtrim", "trim", "replace",
                "charindex", "patindex", "regexmatch", "abs", "ceiling", "floor", "round", "power", "sqrt",
                "square", "sign", "exp", "log", "isnull", "coalesce", "nullif", "gettype", "getarrayelement",
                "getarraylength", "getrecordpropertyvalue"}
    assert expected <= set(SCALAR_FUNCTIONS)
    assert all(name == name.lower() == f.name for name, f in SCALAR_FUNCTIONS.items())
