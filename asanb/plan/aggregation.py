"""Plan a windowed GROUP BY: pre-compute keys and aggregate arguments, aggregate per window, then
rewrite the SELECT list and HAVING over the aggregated columns (``__key_N``, ``__agg_N``, ``__ts``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeGuard

from asanb.errors import PlanError
from asanb.plan import logical
from asanb.plan.catalog import AGGREGATE_FUNCTIONS, Catalog
from asanb.plan.names import check_names, output_name
from asanb.plan.rewrite import column, fingerprint, transform, walk
from asanb.plan.scope import EVENT_TIME, Scope
from asanb.sql import ast

WINDOW_ID = "__window_id"

_NANOSECONDS = {
    "nanosecond": 1, "microsecond": 1_000, "millisecond": 1_000_000, "second": 1_000_000_000,
    "minute": 60_000_000_000, "hour": 3_600_000_000_000, "day": 86_400_000_000_000, "week": 604_800_000_000_000,
}


def uses_aggregation(select: ast.Select) -> bool:
    """True when the SELECT groups or calls an aggregate."""
    if select.group_by is not None:
        return True
    places = tuple(item.expr for item in select.items) + ((select.having,) if select.having else ())
    return any(_is_aggregate(node) for node in walk(places))


def _is_aggregate(node: object) -> TypeGuard[ast.FunctionCall]:
    if not isinstance(node, ast.FunctionCall):
        return False
    return (node.namespace is None and node.name in AGGREGATE_FUNCTIONS) or node.namespace == "uda"


def check_user_aggregates(select: ast.Select, catalog: Catalog) -> None:
    """``uda.<alias>(...)`` must be a registered JavaScript aggregate, called in SELECT or HAVING."""
    if select.where is not None:
        for node in walk((select.where,)):
            if isinstance(node, ast.FunctionCall) and node.namespace == "uda":
                raise PlanError(f"aggregate uda.{node.name} cannot be used in WHERE; filter aggregates with "
                                "HAVING", node.span)
    places = tuple(item.expr for item in select.items) + ((select.having,) if select.having else ())
    for node in walk(places):
        if not (isinstance(node, ast.FunctionCall) and node.namespace == "uda"):
            continue
        info = catalog.function("uda", node.name)
        if info is None:
            known = ", ".join(f"uda.{f.alias}" for f in catalog.functions.values() if f.namespace == "uda")
            raise PlanError(f"unknown aggregate 'uda.{node.name}'; registered: {known or '(none)'}. "
                            "Pass an asanb.JavaScriptAggregate in functions=[...]", node.span)
        if info.check_arguments is not None:
            info.check_arguments(["any"] * len(node.args), node.span)


def duration_ns(unit: ast.TimeUnit | None, amount: float | None, what: str, span: object) -> int:
    """A window duration in nanoseconds; months and years have no fixed length, so ASA windows reject them."""
    if unit is None or amount is None:
        return 0
    factor = _NANOSECONDS.get(unit.name)
    if factor is None:
        raise PlanError(f"{what} cannot be measured in {unit.name}s; use day, hour, minute, second or smaller",
                        unit.span)
    return int(round(amount * factor))


def window_definitions(window: ast.WindowSpec | ast.WindowSet) -> tuple[logical.WindowDefinition, ...]:
    """Resolve GROUP BY's window(s) to nanosecond definitions (../shared/spec/saql.md, "Windows")."""
    specs = window.windows if isinstance(window, ast.WindowSet) else (window,)
    definitions = []
    for spec in specs:
        size = duration_ns(spec.unit, spec.size, f"{spec.kind} window size", spec.span)
        if spec.kind != "snapshot" and size <= 0:
            raise PlanError(f"{spec.kind} window size must be positive", spec.span)
        hop = duration_ns(spec.unit, spec.hop, "hop", spec.span)
        if spec.kind == "hopping" and hop <= 0:
            raise PlanError("hopping window hop must be positive", spec.span)
        definitions.append(logical.WindowDefinition(
            kind=spec.kind, size_ns=size, hop_ns=hop,
            offset_ns=duration_ns(spec.unit, spec.offset, "offset", spec.span),
            max_duration_ns=duration_ns(spec.unit, spec.max_duration, "maximum duration", spec.span),
            name=spec.name,
        ))
    return tuple(definitions)


def plan_aggregation(
    select: ast.Select, node: logical.PlanNode, scope: Scope, step: str, fresh: Callable[[str], str],
) -> tuple[logical.PlanNode, list[tuple[str, ast.Expr]], ast.Expr | None, Scope]:
    """Returns the Aggregate node, the rewritten SELECT items, the rewritten HAVING and the scope after it."""
    group_by = select.group_by
    if group_by is None or group_by.window is None:
        where = group_by.span if group_by else select.span
        raise PlanError(
            "aggregates over a stream need a window: add e.g. GROUP BY TumblingWindow(second, 10) "
            "(ASA computes aggregates per window)", where,
        )
    if any(isinstance(item.expr, ast.Star) for item in select.items):
        raise PlanError("SELECT * cannot be used with GROUP BY; list the grouped columns", select.span)
    windows = window_definitions(group_by.window)
    pre_items: list[tuple[str, ast.Expr]] = []
    key_for: dict[object, str] = {}
    for expr in group_by.items:
        name = fresh("key")
        pre_items.append((name, expr))
        key_for[_binding_key(expr, scope)] = name
    aggregates, agg_for = _plan_aggregate_calls(select, scope, pre_items, fresh)
    if any(w.kind == "session" for w in windows) and isinstance(group_by.window, ast.WindowSpec):
        partition_names = []
        for expr in group_by.window.partition_by:
            partition_names.append(fresh("part"))
            pre_items.append((partition_names[-1], expr))
        windows = tuple(_with_partitions(w, tuple(partition_names)) for w in windows)
    check_names(tuple(expr for _, expr in pre_items), scope)
    pre = logical.Project(node, tuple(pre_items), scope, step)
    keys = tuple(name for name, _ in pre_items if name.startswith("__key"))
    aggregate = logical.Aggregate(pre, windows, keys, tuple(aggregates), step)
    post_scope = Scope(keys + tuple(a.output for a in aggregates) + (EVENT_TIME, WINDOW_ID))

    def rewrite(expr: ast.Expr) -> ast.Expr:
        def visit(node: object) -> object | None:
            if _is_aggregate(node):
                return column(agg_for[fingerprint(node)], node.span)
            if isinstance(node, ast.FunctionCall) and node.namespace is None:
                if node.name == "windowid":
                    return column(WINDOW_ID, node.span)
            if isinstance(node, ast.Star | ast.TimeUnit | ast.Literal):
                return None
            if isinstance(node, ast.ColumnRef | ast.FunctionCall | ast.BinaryOp | ast.Case | ast.Cast):
                name = key_for.get(_binding_key(node, scope))
                if name is not None:
                    return column(name, node.span)
            if isinstance(node, ast.ColumnRef):
                raise PlanError(
                    f"column '{'.'.join(node.parts)}' is neither in GROUP BY nor inside an aggregate", node.span
                )
            return None

        return transform(expr, visit)  # type: ignore[no-any-return]

    items = [(output_name(item, i), rewrite(item.expr)) for i, item in enumerate(select.items, start=1)]
    having = rewrite(select.having) if select.having is not None else None
    return aggregate, items, having, post_scope


def _with_partitions(window: logical.WindowDefinition, columns: tuple[str, ...]) -> logical.WindowDefinition:
    if window.kind != "session":
        return window
    return logical.WindowDefinition(window.kind, window.size_ns, window.hop_ns, window.offset_ns,
                                    window.max_duration_ns, columns, window.name)


def _binding_key(expr: ast.Expr, scope: Scope) -> object:
    """Group keys match select expressions by meaning: ``make`` and ``i.make`` are the same column."""
    if isinstance(expr, ast.ColumnRef) and not expr.parts[0].startswith("__"):
        binding = scope.resolve(expr)
        return ("bound", (binding.column or "").lower(), tuple(p.lower() for p in binding.path))
    return fingerprint(expr)


def _plan_aggregate_calls(
    select: ast.Select, scope: Scope, pre_items: list[tuple[str, ast.Expr]], fresh: Callable[[str], str],
) -> tuple[list[logical.AggregateCall], dict[object, str]]:
    places = tuple(item.expr for item in select.items) + ((select.having,) if select.having else ())
    aggregates: list[logical.AggregateCall] = []
    agg_for: dict[object, str] = {}
    record_columns = tuple(c for c in scope.visible_columns())
    for node in walk(places):
        if not _is_aggregate(node):
            continue
        call: ast.FunctionCall = node
        key = fingerprint(call)
        if key in agg_for:
            continue
        for inner in walk(call.args):
            if _is_aggregate(inner):
                raise PlanError("aggregates cannot be nested", inner.span)
        output = fresh("agg")
        agg_for[key] = output
        aggregates.append(_aggregate_call(call, output, scope, pre_items, fresh, record_columns))
    for name in record_columns if any(a.record_columns for a in aggregates) else ():
        pre_items.append((name, ast.ColumnRef((name,), select.span)))
    return aggregates, agg_for


def _aggregate_call(call: ast.FunctionCall, output: str, scope: Scope, pre_items: list[tuple[str, ast.Expr]],
                    fresh: Callable[[str], str], record_columns: tuple[str, ...]) -> logical.AggregateCall:
    order_by: list[tuple[str, bool]] = []
    for item in call.over.order_by if call.over else ():
        name = fresh("ord")
        pre_items.append((name, item.expr))
        order_by.append((name, item.descending))
    if call.name in ("topone", "collecttop", "percentile_cont", "percentile_disc") and not order_by:
        raise PlanError(f"{call.name.upper()} needs OVER (ORDER BY ...)", call.span)
    if call.namespace == "uda":
        # A JavaScript aggregate: the engine calls the registered function named after the dot.
        if len(call.args) != 1:
            raise PlanError(f"uda.{call.name} takes one argument, got {len(call.args)}", call.span)
        argument = fresh("arg")
        pre_items.append((argument, call.args[0]))
        return logical.AggregateCall(f"uda.{call.name.lower()}", argument, output)
    if call.star:
        return logical.AggregateCall("count_star", None, output)
    parameter = None
    args = call.args
    if call.name in ("collecttop", "percentile_cont", "percentile_disc"):
        if not args or not isinstance(args[0], ast.Literal):
            raise PlanError(f"{call.name.upper()} takes a constant as its argument", call.span)
        parameter = float(args[0].value)  # type: ignore[arg-type]
        args = ()
    if call.name in ("topone", "collecttop") or (call.name == "collect" and not args):
        return logical.AggregateCall(call.name, None, output, parameter=parameter, order_by=tuple(order_by),
                                     record_columns=record_columns)
    if call.name in ("percentile_cont", "percentile_disc"):
        return logical.AggregateCall(call.name, order_by[0][0], output, parameter=parameter,
                                     order_by=tuple(order_by))
    if len(args) != 1:
        raise PlanError(f"{call.name.upper()} takes one argument, got {len(args)}", call.span)
    argument = fresh("arg")
    pre_items.append((argument, args[0]))
    return logical.AggregateCall(call.name, argument, output, distinct=call.distinct, parameter=parameter,
                                 order_by=tuple(order_by))
