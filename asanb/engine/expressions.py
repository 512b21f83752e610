"""Compile SAQL expression trees into vectorized evaluators: frame in, one value per row out.

Each node compiles once per step into a closure; evaluating works on whole columns (numpy / pandas).
Constants stay Python scalars until the end, so ``passenger > 2`` compares a numpy column to ``2``.
NULL representation: see asanb.types. Type errors at run time are EventError naming the expression.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from asanb.engine import vector_ops as ops
from asanb.engine.functions import SCALAR_FUNCTIONS
from asanb.engine.functions_records import field
from asanb.engine.functions_string import like_regex
from asanb.errors import EventError, PlanError
from asanb.plan.scope import EVENT_TIME, Scope
from asanb.sql import ast
from asanb.sql.printer import to_saql
from asanb.types import TypeProblem, cast_series, python_value

__all__ = ["Evaluator", "compile_expression", "truth_mask"]

Evaluator = Callable[[pd.DataFrame], pd.Series]
"""Frame in, a Series aligned with ``frame.index`` out."""

_Node = Callable[[pd.DataFrame], Any]  # internal: a Series or a Python scalar (constant)

NOT_SCALAR = frozenset({
    "count", "sum", "avg", "min", "max", "stdev", "stdevp", "var", "varp", "topone", "collect", "collecttop",
    "percentile_cont", "percentile_disc", "lag", "last", "isfirst", "getarrayelements", "getrecordproperties",
    "windowid",
})
"""Aggregates, analytic and table-valued functions: the planner takes them out of expressions."""


def compile_expression(expr: ast.Expr, scope: Scope) -> Evaluator:
    """The evaluator of ``expr`` for frames whose columns ``scope`` describes. Raises PlanError for calls
    that cannot be evaluated row-wise (unknown functions, wrong arity, aggregates, udf calls)."""
    node = _compile(expr, scope)

    def evaluate(frame: pd.DataFrame) -> pd.Series:
        return _broadcast(node(frame), frame)

    return evaluate


def truth_mask(values: pd.Series) -> np.ndarray:
    """A numpy bool mask, True only where the value is true (NULL and false are False)."""
    if values.dtype == bool:
        return np.asarray(values.to_numpy(), dtype=bool)
    try:
        bits = ops.as_bit(values)
    except TypeProblem as problem:
        raise EventError(f"{problem}: a WHERE / HAVING / WHEN condition must be true or false") from None
    if isinstance(bits, pd.Series):
        return np.asarray(bits.to_numpy(dtype=bool, na_value=False), dtype=bool)
    return np.full(len(values), bool(bits))


# ---------------------------------------------------------------- helpers


def _broadcast(value: Any, frame: pd.DataFrame) -> pd.Series:
    if isinstance(value, pd.Series):
        return value
    if value is None:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    if isinstance(value, (dict, list)):
        return pd.Series([value] * len(frame), index=frame.index, dtype=object)
    return pd.Series(value, index=frame.index)


def _where(expr: Any) -> str:
    """The expression as text with its place, for messages."""
    return f"'{to_saql(expr)}' ({expr.span})"


def _located(expr: Any, node: _Node) -> _Node:
    """Turn TypeProblem raised while evaluating ``node`` into EventError naming ``expr`` and its place."""
    def run(frame: pd.DataFrame) -> Any:
        try:
            return node(frame)
        except TypeProblem as problem:
            raise EventError(f"{problem} in {_where(expr)}", field=to_saql(expr)) from None
        except (ArithmeticError, ValueError, TypeError) as error:
            # pandas / numpy refusing a value (out-of-range date, overflow): the event cannot be processed.
            raise EventError(f"cannot evaluate {_where(expr)}: {type(error).__name__}: {error}",
                             field=to_saql(expr)) from error
    return run


def _constant(value: Any) -> _Node:
    return lambda frame: value


def _compile(expr: ast.Expr, scope: Scope) -> _Node:
    compiler = _COMPILERS.get(type(expr))
    if compiler is None:
        raise PlanError(f"{type(expr).__name__} is not a value here", getattr(expr, "span", None))
    return compiler(expr, scope)


# ---------------------------------------------------------------- leaves


def _literal(expr: ast.Literal, scope: Scope) -> _Node:
    return _constant(None if expr.type_name == "null" else expr.value)


def _column(expr: ast.ColumnRef, scope: Scope) -> _Node:
    binding = scope.resolve(expr)
    if binding.column is None:
        fields = binding.fields
        return lambda frame: _records(frame, fields)
    column, path = binding.column, binding.path

    def read(frame: pd.DataFrame) -> Any:
        if column not in frame.columns:
            return None  # a field absent from every event of this batch is NULL (schema drift)
        series = frame[column]
        return _walk(series, path) if path else series

    return read


def _records(frame: pd.DataFrame, fields: tuple[tuple[str, str], ...]) -> pd.Series:
    """A whole row as a record: one dict of ``fields`` (name, column) per row (per-row Python: records only)."""
    present = [(name, c) for name, c in fields if c in frame.columns]
    names = [name for name, _ in present]
    rows = [{k: python_value(v) for k, v in zip(names, values, strict=True)}
            for values in zip(*(frame[c].array for _, c in present), strict=True)] if present else \
        [{} for _ in range(len(frame))]
    return pd.Series(rows, index=frame.index, dtype=object)


def _walk(series: pd.Series, path: tuple[str, ...]) -> pd.Series:
    """Record fields along ``path`` (case-insensitive; a missing field or a non-record is NULL)."""
    values = []
    for value in series.array:
        for name in path:
            value = field(value, name) if isinstance(value, dict) else None
        values.append(value)
    if all(isinstance(v, (dict, list)) or v is None for v in values):
        return pd.Series(values, index=series.index, dtype=object)
    return ops.normalize(pd.Series(values, index=series.index, dtype=object))


# ---------------------------------------------------------------- operators


def _unary(expr: ast.UnaryOp, scope: Scope) -> _Node:
    operand = _compile(expr.operand, scope)
    if expr.op == "not":
        return _located(expr, lambda frame: ops.negation(operand(frame)))
    if expr.op == "-":
        return _located(expr, lambda frame: ops.negate(operand(frame)))
    return operand


def _binary(expr: ast.BinaryOp, scope: Scope) -> _Node:
    left, right = _compile(expr.left, scope), _compile(expr.right, scope)
    op = expr.op
    if op in ("and", "or"):
        return _located(expr, lambda frame: ops.logical(op, left(frame), right(frame)))
    if op in ("=", "<>", "<", "<=", ">", ">="):
        return _located(expr, lambda frame: ops.compare(op, left(frame), right(frame)))
    if op in ("+", "-", "*", "/", "%"):
        return _located(expr, lambda frame: ops.arithmetic(op, left(frame), right(frame)))
    raise PlanError(f"unknown operator '{op}'", expr.span)


def _is_null(expr: ast.IsNull, scope: Scope) -> _Node:
    operand = _compile(expr.operand, scope)
    negated = expr.negated

    def run(frame: pd.DataFrame) -> Any:
        nulls = ops.is_null(operand(frame))
        if isinstance(nulls, np.ndarray):
            return pd.Series(~nulls if negated else nulls, index=frame.index, copy=False)
        return nulls != negated

    return run


def _in_list(expr: ast.InList, scope: Scope) -> _Node:
    """``x IN (a, b)`` is ``x = a OR x = b`` (so a NULL item makes a non-match NULL, as in SQL)."""
    operand = _compile(expr.operand, scope)
    items = [_compile(item, scope) for item in expr.items]

    def run(frame: pd.DataFrame) -> Any:
        value = operand(frame)
        result: Any = False
        for item in items:
            result = ops.logical("or", result, ops.compare("=", value, item(frame)))
        return ops.negation(result) if expr.negated else result

    return _located(expr, run)


def _between(expr: ast.Between, scope: Scope) -> _Node:
    operand, low, high = (_compile(e, scope) for e in (expr.operand, expr.low, expr.high))

    def run(frame: pd.DataFrame) -> Any:
        value = operand(frame)
        inside = ops.logical("and", ops.compare(">=", value, low(frame)), ops.compare("<=", value, high(frame)))
        return ops.negation(inside) if expr.negated else inside

    return _located(expr, run)


def _like(expr: ast.Like, scope: Scope) -> _Node:
    operand, pattern = _compile(expr.operand, scope), _compile(expr.pattern, scope)

    def run(frame: pd.DataFrame) -> Any:
        value, kind = ops.typed(operand(frame))
        text, pkind = ops.typed(pattern(frame))
        if kind not in (None, "nvarchar(max)") or pkind not in (None, "nvarchar(max)"):
            raise TypeProblem(f"LIKE needs strings, got {kind} LIKE {pkind}")
        result = _like_values(value, text, frame)
        return ops.negation(result) if expr.negated else result

    return _located(expr, run)


def _like_values(value: Any, pattern: Any, frame: pd.DataFrame) -> Any:
    if isinstance(pattern, pd.Series):
        values = _broadcast(value, frame)
        matched = [None if v is None or p is None or v != v or p != p else bool(like_regex(p).fullmatch(v))
                   for v, p in zip(values.array, pattern.array, strict=True)]
        return pd.Series(pd.array(matched, dtype="boolean"), index=frame.index)
    if pattern is None or value is None:
        return None if not isinstance(value, pd.Series) else ops.compare("=", value, None)
    regex = like_regex(pattern)
    if not isinstance(value, pd.Series):
        return bool(regex.fullmatch(value))
    matched = value.str.fullmatch(regex.pattern, flags=regex.flags)
    return matched.astype("boolean").where(value.notna(), pd.NA)


# ---------------------------------------------------------------- CASE and CAST


def _case(expr: ast.Case, scope: Scope) -> _Node:
    """Searched or simple CASE: the first arm whose condition is true wins; no match gives ELSE or NULL.
    All arms are evaluated over the whole batch (vectorized), then picked per row."""
    subject = _compile(expr.operand, scope) if expr.operand is not None else None
    arms = [(_compile(w.condition, scope), _compile(w.result, scope)) for w in expr.whens]
    fallback = _compile(expr.else_result, scope) if expr.else_result is not None else _constant(None)

    def run(frame: pd.DataFrame) -> Any:
        value = subject(frame) if subject is not None else None
        conditions = [ops.compare("=", value, cond(frame)) if subject is not None else ops.as_bit(cond(frame))
                      for cond, _ in arms]
        masks = [truth_mask(_broadcast(c, frame)) for c in conditions]
        results = [result(frame) for _, result in arms]
        out = fallback(frame)
        out = _broadcast(out, frame) if out is not None or not results else _null_like(results, frame)
        for mask, result in zip(reversed(masks), reversed(results), strict=True):
            if mask.any():
                out = out.mask(mask, result)
        return out

    return _located(expr, run)


def _null_like(results: list[Any], frame: pd.DataFrame) -> pd.Series:
    """An all-NULL column shaped like the first series result (keeps numeric dtypes numeric)."""
    for result in results:
        if isinstance(result, pd.Series):
            return result.where(np.zeros(len(frame), dtype=bool))
    return _broadcast(None, frame)


def _cast(expr: ast.Cast, scope: Scope) -> _Node:
    operand = _compile(expr.operand, scope)
    type_name = expr.type.name.lower()
    where = _where(expr)

    def run(frame: pd.DataFrame) -> pd.Series:
        return cast_series(_broadcast(operand(frame), frame), type_name, strict=not expr.is_try, what=where)

    return run


# ---------------------------------------------------------------- calls


def _call(expr: ast.FunctionCall, scope: Scope) -> _Node:
    if expr.namespace == "system" and expr.name.lower() == "timestamp":
        return lambda frame: frame[EVENT_TIME]
    if expr.namespace in ("udf", "uda") or expr.over is not None or expr.name.lower() in NOT_SCALAR:
        kind = {"udf": "user-defined function", "uda": "user-defined aggregate"}.get(
            expr.namespace or "", "aggregate or analytic function")
        raise PlanError(f"{kind} '{expr.name}' cannot be evaluated here: use it in a SELECT of a step "
                        "(aggregates need GROUP BY, analytic functions OVER)", expr.span)
    function = SCALAR_FUNCTIONS.get(expr.name.lower())
    if function is None:
        close = difflib.get_close_matches(expr.name.lower(), list(SCALAR_FUNCTIONS) + list(NOT_SCALAR), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise PlanError(f"unknown function '{expr.name}'{hint}", expr.span)
    count = len(expr.args)
    if count < function.min_args or (function.max_args is not None and count > function.max_args):
        raise PlanError(f"function '{expr.name}' takes {_arity(function.min_args, function.max_args)}, "
                        f"got {count}", expr.span)
    args = [_constant(a.name) if isinstance(a, ast.TimeUnit) else _compile(a, scope) for a in expr.args]
    units = [isinstance(a, ast.TimeUnit) for a in expr.args]
    impl = function.impl

    def run(frame: pd.DataFrame) -> pd.Series:
        values = [arg(frame) if unit else _broadcast(arg(frame), frame)
                  for arg, unit in zip(args, units, strict=True)]
        return impl(*values)

    return _located(expr, run)


def _arity(low: int, high: int | None) -> str:
    plural = "s" if (high if high is not None else 2) != 1 else ""
    if high is None:
        return f"at least {low} argument{'s' if low != 1 else ''}"
    return f"{low} argument{plural}" if low == high else f"{low} to {high} arguments"


_COMPILERS: dict[type, Callable[[Any, Scope], _Node]] = {
    ast.Literal: _literal,
    ast.ColumnRef: _column,
    ast.UnaryOp: _unary,
    ast.BinaryOp: _binary,
    ast.IsNull: _is_null,
    ast.InList: _in_list,
    ast.Between: _between,
    ast.Like: _like,
    ast.Case: _case,
    ast.Cast: _cast,
    ast.FunctionCall: _call,
}
