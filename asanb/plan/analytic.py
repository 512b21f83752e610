"""Plan LAG, LAST and ISFIRST: check each call against ASA's rules, hoist it out of the step's expressions
into one Analytic node right above FROM, and rewrite the SELECT to read the node's ``__analytic_N`` columns.

ASA evaluates analytic functions before WHERE, JOIN and GROUP BY (LAG / LAST / ISFIRST reference pages),
so the node sits below the step's filter and aggregation. Rules (../shared/spec/saql.md, "Query shape"):
LAG(expr [, offset [, default]]) and LAST(expr [, default]) need OVER (... LIMIT DURATION(unit, n) ...);
ISFIRST(unit, n) takes OVER ([PARTITION BY ...] [WHEN ...]) with no LIMIT DURATION.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from asanb.errors import NotSupportedError, PlanError
from asanb.plan import logical
from asanb.plan.aggregation import duration_ns
from asanb.plan.catalog import ANALYTIC_FUNCTIONS
from asanb.plan.names import check_names, output_name
from asanb.plan.rewrite import column, fingerprint, transform, walk
from asanb.plan.scope import Scope
from asanb.sql import ast

__all__ = ["plan_analytics"]

_ARITY = {"lag": (1, 3), "last": (1, 2), "isfirst": (2, 2)}


def plan_analytics(select: ast.Select, node: logical.PlanNode, scope: Scope, step: str,
                   fresh: Callable[[str], str]) -> tuple[ast.Select, logical.PlanNode, Scope]:
    """Returns the SELECT with analytic calls replaced by column references, the node computing them (or
    ``node`` unchanged when the step has none) and the scope including their columns."""
    calls: dict[object, logical.AnalyticCall] = {}

    def visit(expr: object) -> object | None:
        if not _is_analytic(expr):
            return None
        assert isinstance(expr, ast.FunctionCall)
        key = fingerprint(expr)
        if key not in calls:
            calls[key] = _resolve(expr, scope, fresh("analytic"))
        return column(calls[key].output, expr.span)

    items = []
    for position, item in enumerate(select.items, start=1):
        rewritten = transform(item.expr, visit)
        alias = item.alias
        if rewritten is not item.expr and alias is None:
            alias = output_name(item, position)  # keep the name the call gave the column (``lag``)
        items.append(dataclasses.replace(item, expr=rewritten, alias=alias))
    changes: dict[str, object] = {"items": tuple(items)}
    for name in ("where", "having"):
        value = getattr(select, name)
        if value is not None:
            changes[name] = transform(value, visit)
    if select.group_by is not None:
        changes["group_by"] = dataclasses.replace(select.group_by, items=transform(select.group_by.items, visit))
    if not calls:
        return select, node, scope
    analytic = logical.Analytic(node, tuple(calls.values()), scope, step)
    extended = Scope(scope.columns + tuple(call.output for call in calls.values()), scope.qualifiers)
    return dataclasses.replace(select, **changes), analytic, extended  # type: ignore[arg-type]


def _is_analytic(expr: object) -> bool:
    return isinstance(expr, ast.FunctionCall) and expr.namespace is None and expr.name in ANALYTIC_FUNCTIONS


def _resolve(call: ast.FunctionCall, scope: Scope, output: str) -> logical.AnalyticCall:
    name = call.name.upper()
    if call.star:
        raise NotSupportedError(f"{name}(*) (the whole event as a record) is not supported yet", call.span)
    low, high = _ARITY[call.name]
    if not low <= len(call.args) <= high:
        usage = {"lag": "LAG(expr [, offset [, default]])", "last": "LAST(expr [, default])",
                 "isfirst": "ISFIRST(unit, length)"}[call.name]
        raise PlanError(f"{name} takes {usage}, got {len(call.args)} argument(s)", call.span)
    over = call.over or ast.Over((), None, None, (), call.span)
    if over.order_by:
        raise PlanError(f"{name} takes no ORDER BY in OVER: events are taken in event-time order", over.span)
    for part in walk((call.args, over.partition_by, over.when)):
        if _is_analytic(part) and part is not call:
            raise PlanError(f"{name} cannot contain another analytic function", part.span)  # type: ignore[attr-defined]
        if isinstance(part, ast.FunctionCall) and part.namespace in ("udf", "uda"):
            raise PlanError(f"{name} cannot contain user-defined functions; compute udf.{part.name} in an "
                            "earlier WITH step", part.span)
    if call.name == "isfirst":
        return _isfirst(call, over, scope, output)
    if over.limit_duration is None:
        raise PlanError(
            f"{name} needs LIMIT DURATION in its OVER clause, e.g. {name}(x) OVER (PARTITION BY deviceId "
            "LIMIT DURATION(hour, 1)): ASA looks back at most that long", over.span if call.over else call.span)
    limit = over.limit_duration
    limit_ns = duration_ns(limit.unit, limit.amount, "LIMIT DURATION", limit.span)
    if limit_ns <= 0:
        raise PlanError("LIMIT DURATION must be positive", limit.span)
    value = call.args[0]
    offset, default = 0, None
    if call.name == "lag":
        offset = _positive_integer(call.args[1], "LAG's offset") if len(call.args) > 1 else 1
        default = call.args[2] if len(call.args) > 2 else None
    elif len(call.args) > 1:
        default = call.args[1]
    check_names(tuple(call.args) + over.partition_by + ((over.when,) if over.when else ()), scope)
    return logical.AnalyticCall(call.name, value, offset, default, over.partition_by, over.when, limit_ns, 0,
                                output, call.span)


def _isfirst(call: ast.FunctionCall, over: ast.Over, scope: Scope, output: str) -> logical.AnalyticCall:
    if over.limit_duration is not None:
        raise PlanError("ISFIRST takes no LIMIT DURATION: its interval is its (unit, length) arguments",
                        over.limit_duration.span)
    unit = call.args[0]
    if not isinstance(unit, ast.TimeUnit):
        raise PlanError("ISFIRST's first argument is a time unit, e.g. ISFIRST(minute, 10)", call.span)
    length = _positive_integer(call.args[1], "ISFIRST's length")
    interval_ns = duration_ns(unit, length, "ISFIRST's interval", call.span)
    check_names(over.partition_by + ((over.when,) if over.when else ()), scope)
    return logical.AnalyticCall("isfirst", None, 0, None, over.partition_by, over.when, 0, interval_ns,
                                output, call.span)


def _positive_integer(expr: ast.Expr, what: str) -> int:
    value = expr.value if isinstance(expr, ast.Literal) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PlanError(f"{what} must be a whole number of at least 1", expr.span)
    return value
