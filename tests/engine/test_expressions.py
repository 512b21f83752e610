"""Expression compiler: operators with NULLs, three-valued logic, CASE, CAST, columns, records, errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asanb.engine.expressions import compile_expression, truth_mask
from asanb.errors import EventError, PlanError, Span
from asanb.plan.scope import Scope
from asanb.sql import ast
from asanb.types import python_value


def span(column: int = 1) -> Span:
    return Span(1, column, column - 1, column)


S = span()


def col(*parts: str) -> ast.ColumnRef:
    return ast.ColumnRef(tuple(parts), S)


def lit(value: Any) -> ast.Literal:
    kinds = {int: "bigint", float: "float", str: "nvarchar(max)", bool: "bit", type(None): "null"}
    return ast.Literal(value, kinds[type(value)], S)


def bop(op: str, left: ast.Expr, right: ast.Expr, at: Span = S) -> ast.BinaryOp:
    return ast.BinaryOp(op, left, right, at)


def run(expr: ast.Expr, frame: pd.DataFrame, qualifiers: tuple[str, ...] = ("i",)) -> list[Any]:
    result = compile_expression(expr, Scope(tuple(frame.columns), qualifiers))(frame)
    assert len(result) == len(frame)
    return [python_value(v) for v in result.array]


FRAME = pd.DataFrame({
    "a": [1, 2, None],                      # float64 with NaN as NULL
    "b": pd.array([2, 0, 5], dtype="int64"),
    "s": ["x", None, "z"],
    "ok": pd.array([True, False, None], dtype="boolean"),
    "__ts": pd.to_datetime(["2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z", "2026-01-01T00:00:03Z"]),
})


# ---------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(("op", "expected"), [
    ("+", [3.0, 2.0, None]), ("-", [-1.0, 2.0, None]), ("*", [2.0, 0.0, None]),
])
def test_arithmetic_propagates_null(op: str, expected: list[Any]) -> None:
    assert run(bop(op, col("a"), col("b")), FRAME) == expected


def test_bigint_division_truncates_toward_zero_and_modulo_keeps_dividend_sign() -> None:
    frame = pd.DataFrame({"x": [7, -7, 7, -7], "y": [2, 2, -2, -2]})
    assert run(bop("/", col("x"), col("y")), frame) == [3, -3, -3, 3]
    assert run(bop("%", col("x"), col("y")), frame) == [1, -1, 1, -1]
    assert run(bop("/", col("x"), lit(2.0)), frame) == [3.5, -3.5, 3.5, -3.5]


def test_division_by_zero_is_an_event_error() -> None:
    with pytest.raises(EventError, match="division by zero"):
        run(bop("/", col("a"), col("b")), FRAME)


def test_string_plus_concatenates_and_null_propagates() -> None:
    assert run(bop("+", col("s"), lit("!")), FRAME) == ["x!", None, "z!"]


def test_unary_minus_and_null_literal() -> None:
    assert run(ast.UnaryOp("-", col("b"), S), FRAME) == [-2, 0, -5]
    assert run(bop("+", col("b"), lit(None)), FRAME) == [None, None, None]


def test_arithmetic_on_text_names_expression_and_place() -> None:
    at = Span(1, 40, 39, 48)
    with pytest.raises(EventError) as error:
        run(bop("*", col("s"), lit(2), at), FRAME)
    assert "cannot apply '*' to nvarchar(max) and bigint in 's * 2' (line 1, column 40)" in str(error.value)


# ---------------------------------------------------------------- comparison


@pytest.mark.parametrize(("op", "expected"), [
    ("=", [False, False, None]), ("<>", [True, True, None]), ("<", [True, False, None]),
    ("<=", [True, False, None]), (">", [False, True, None]), (">=", [False, True, None]),
])
def test_comparisons_give_nullable_bits(op: str, expected: list[Any]) -> None:
    assert run(bop(op, col("a"), col("b")), FRAME) == expected


def test_comparing_text_with_number_is_an_event_error_naming_the_place() -> None:
    at = Span(1, 40, 39, 50)
    with pytest.raises(EventError, match=r"cannot compare nvarchar\(max\) with bigint in 's > 100' "
                                         r"\(line 1, column 40\)"):
        run(bop(">", col("s"), lit(100), at), FRAME)


def test_datetime_compares_with_iso_string() -> None:
    expr = bop(">", ast.FunctionCall("timestamp", (), S, namespace="system"), lit("2026-01-01T00:00:01.5Z"))
    assert run(expr, FRAME) == [False, True, True]


def test_strings_compare_and_int_column_fast_path_is_plain_bool() -> None:
    assert run(bop("=", col("s"), lit("z")), FRAME) == [False, None, True]
    result = compile_expression(bop(">", col("b"), lit(1)), Scope(tuple(FRAME.columns)))(FRAME)
    assert result.dtype == bool and result.tolist() == [True, False, True]


# ---------------------------------------------------------------- logic

TRUTH = [True, False, None]


@pytest.mark.parametrize("op", ["and", "or"])
def test_three_valued_truth_tables(op: str) -> None:
    pairs = [(x, y) for x in TRUTH for y in TRUTH]
    frame = pd.DataFrame({"x": pd.array([p[0] for p in pairs], dtype="boolean"),
                          "y": pd.array([p[1] for p in pairs], dtype="boolean")})

    def reference(x: bool | None, y: bool | None) -> bool | None:
        if op == "and":
            return False if False in (x, y) else None if None in (x, y) else True
        return True if True in (x, y) else None if None in (x, y) else False

    assert run(bop(op, col("x"), col("y")), frame) == [reference(x, y) for x, y in pairs]
    # constants on one side and on both sides follow the same table
    for x in TRUTH:
        assert run(bop(op, col("x"), lit(x)), frame) == [reference(v, x) for v, _ in pairs]
        assert run(bop(op, lit(True), lit(x)), frame)[0] == reference(True, x)


def test_not_keeps_null_and_truth_mask_treats_null_as_false() -> None:
    assert run(ast.UnaryOp("not", col("ok"), S), FRAME) == [False, True, None]
    mask = truth_mask(pd.Series(pd.array([True, None, False], dtype="boolean")))
    assert mask.dtype == bool and mask.tolist() == [True, False, False]


def test_non_bit_condition_is_an_event_error() -> None:
    with pytest.raises(EventError, match="expected a bit"):
        run(bop("and", col("b"), lit(True)), FRAME)


# ---------------------------------------------------------------- predicates


def test_is_null_and_is_not_null() -> None:
    assert run(ast.IsNull(col("s"), False, S), FRAME) == [False, True, False]
    assert run(ast.IsNull(col("a"), True, S), FRAME) == [True, True, False]


def test_in_list_with_null_item_is_null_on_no_match() -> None:
    assert run(ast.InList(col("b"), (lit(2), lit(5)), False, S), FRAME) == [True, False, True]
    assert run(ast.InList(col("b"), (lit(2), lit(None)), False, S), FRAME) == [True, None, None]
    assert run(ast.InList(col("s"), (lit("x"),), True, S), FRAME) == [False, None, True]


def test_between_is_inclusive() -> None:
    assert run(ast.Between(col("b"), lit(0), lit(2), False, S), FRAME) == [True, True, False]
    assert run(ast.Between(col("a"), lit(1), lit(1), True, S), FRAME) == [False, True, None]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("x%", [True, False, False, None]), ("_b_", [False, True, False, None]),
    ("%[ab]%", [False, True, True, None]), ("[^x]%", [False, True, True, None]),
])
def test_like_patterns(pattern: str, expected: list[Any]) -> None:
    frame = pd.DataFrame({"s": ["xyz", "abc", "zza", None]})
    assert run(ast.Like(col("s"), lit(pattern), False, S), frame) == expected


# ---------------------------------------------------------------- CASE


def test_searched_case_first_true_arm_wins_and_null_condition_falls_through() -> None:
    expr = ast.Case(None, (ast.When(bop(">", col("a"), lit(1)), lit("big"), S),
                           ast.When(bop(">", col("a"), lit(0)), lit("small"), S)), lit("none"), S)
    assert run(expr, FRAME) == ["small", "big", "none"]


def test_simple_case_without_else_is_null() -> None:
    expr = ast.Case(col("b"), (ast.When(lit(2), col("s"), S), ast.When(lit(0), lit("zero"), S)), None, S)
    assert run(expr, FRAME) == ["x", "zero", None]


def test_case_keeps_numbers_numeric() -> None:
    expr = ast.Case(None, (ast.When(bop(">", col("b"), lit(1)), col("b"), S),), None, S)
    assert run(expr, FRAME) == [2, None, 5]


# ---------------------------------------------------------------- CAST / TRY_CAST


@pytest.mark.parametrize(("values", "type_name", "expected"), [
    (["12", " 7", None], "bigint", [12, 7, None]),
    ([1.9, -1.9, None], "bigint", [1, -1, None]),
    (["1.5", "2", None], "float", [1.5, 2.0, None]),
    ([1, 2, 3], "nvarchar(max)", ["1", "2", "3"]),
    (["true", "0", None], "bit", [True, False, None]),
    ([0, 3, 1], "bit", [False, True, True]),
    ([{"a": 1}, None, {"b": 2}], "record", [{"a": 1}, None, {"b": 2}]),
    ([[1], [2, 3], None], "array", [[1], [2, 3], None]),
])
def test_cast_converts(values: list[Any], type_name: str, expected: list[Any]) -> None:
    frame = pd.DataFrame({"v": pd.Series(values, dtype=object if type_name in ("record", "array") else None)})
    expr = ast.Cast(col("v"), ast.TypeName(type_name, S), False, S)
    assert run(expr, frame) == expected


def test_cast_to_datetime_reads_iso_strings() -> None:
    frame = pd.DataFrame({"v": ["2026-01-01T00:00:01Z", None]})
    result = run(ast.Cast(col("v"), ast.TypeName("datetime", S), False, S), frame)
    assert result == [pd.Timestamp("2026-01-01T00:00:01Z"), None]


@pytest.mark.parametrize(("value", "type_name"), [
    ("abc", "bigint"), ("x1", "float"), ("not a date", "datetime"), ("maybe", "bit"), (5, "record"),
    ("[1]", "array"), (3, "datetime"),
])
def test_cast_failure_raises_and_try_cast_gives_null(value: Any, type_name: str) -> None:
    frame = pd.DataFrame({"v": pd.Series([value, None], dtype=object)})
    at = Span(2, 8, 20, 40)
    with pytest.raises(EventError) as error:
        run(ast.Cast(col("v"), ast.TypeName(type_name, at), False, at), frame)
    assert f"cannot convert {value!r} to {type_name}" in str(error.value)
    assert "(line 2, column 8)" in str(error.value) and "CAST(" in str(error.value)
    assert run(ast.Cast(col("v"), ast.TypeName(type_name, S), True, S), frame) == [None, None]


# ---------------------------------------------------------------- columns, records, time


def test_whole_row_record_binding_uses_visible_columns() -> None:
    rows = run(col("i"), FRAME)
    assert rows[0] == {"a": 1.0, "b": 2, "s": "x", "ok": True}
    assert rows[2] == {"a": None, "b": 5, "s": "z", "ok": None}


def test_nested_path_is_case_insensitive_and_missing_is_null() -> None:
    frame = pd.DataFrame({"rec": pd.Series([{"Pos": {"X": 1}}, {"pos": {"x": 2}}, {"pos": 3}, None],
                                           dtype=object)})
    assert run(col("rec", "pos", "x"), frame) == [1, 2, None, None]
    assert run(bop("+", col("i", "rec", "pos", "x"), lit(1)), frame) == [2, 3, None, None]


def test_system_timestamp_reads_event_time() -> None:
    result = run(ast.FunctionCall("timestamp", (), S, namespace="system"), FRAME)
    assert result == list(FRAME["__ts"])


def test_unknown_column_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="unknown column 'nope'"):
        run(col("nope"), FRAME)


# ---------------------------------------------------------------- property: vectorized == scalar reference

_OPS = ["+", "-", "*", "=", "<>", "<", "<=", ">", ">="]
_numbers = st.one_of(st.none(), st.integers(-50, 50))


def _reference(op: str, x: int | None, y: int | None) -> Any:
    if x is None or y is None:
        return None
    return {"+": x + y, "-": x - y, "*": x * y, "=": x == y, "<>": x != y, "<": x < y, "<=": x <= y,
            ">": x > y, ">=": x >= y}[op]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_numbers, _numbers), min_size=1, max_size=8), st.sampled_from(_OPS),
       st.one_of(st.none(), st.integers(-5, 5)))
def test_vectorized_matches_scalar_reference(pairs: list[tuple[int | None, int | None]], op: str,
                                             constant: int | None) -> None:
    frame = pd.DataFrame({"x": pd.Series([p[0] for p in pairs], dtype=object).infer_objects(),
                          "y": pd.array([p[1] for p in pairs], dtype="Int64")})
    got = run(bop(op, col("x"), col("y")), frame)
    assert _same(got, [_reference(op, x, y) for x, y in pairs])
    got = run(bop(op, col("x"), lit(constant)), frame)
    assert _same(got, [_reference(op, x, constant) for x, _ in pairs])


def _same(got: list[Any], expected: list[Any]) -> bool:
    return all((g is None and e is None) or (g is not None and e is not None and math.isclose(g, e))
               for g, e in zip(got, expected, strict=True))


def test_hot_path_stays_vectorized() -> None:
    frame = pd.DataFrame({"distance": np.arange(200_000, dtype=float), "passenger": np.arange(200_000) % 5})
    scope = Scope(tuple(frame.columns))
    doubled = compile_expression(bop("*", col("distance"), lit(2)), scope)(frame)
    assert doubled.dtype == np.float64 and doubled.iloc[-1] == 2 * 199_999
    mask = truth_mask(compile_expression(bop(">", col("passenger"), lit(2)), scope)(frame))
    assert int(mask.sum()) == 80_000
