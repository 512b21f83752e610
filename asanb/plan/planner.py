"""AST → logical plan: resolve inputs and WITH steps, hoist UDF calls, plan projections, filters and UNION.

Windowed aggregation is planned by ``plan.aggregation``; this module decides the shape of each step.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from asanb.errors import NotSupportedError, PlanError, QueryError, Span
from asanb.plan import logical
from asanb.plan.aggregation import check_user_aggregates, plan_aggregation, uses_aggregation
from asanb.plan.analytic import plan_analytics
from asanb.plan.catalog import ANALYTIC_FUNCTIONS, WINDOW_FUNCTIONS, Catalog
from asanb.plan.joins import check_join_select, plan_join
from asanb.plan.names import check_names, output_name
from asanb.plan.rewrite import column, transform, walk
from asanb.plan.scope import Scope
from asanb.sql import ast

DEFAULT_OUTPUT = "output"
"""The output alias of a statement without INTO, as ASA's local runs name it (../shared/spec/saql.md)."""


def plan_query(query: ast.Query, catalog: Catalog) -> logical.Plan:
    """Plan every statement of ``query``; errors carry the query text so they show the failing line."""
    try:
        return _Planner(catalog).plan(query)
    except QueryError as error:
        raise error.with_query(query.text) from None


@dataclass
class _Step:
    node: logical.PlanNode
    columns: tuple[str, ...]


@dataclass
class _Planner:
    catalog: Catalog
    steps: dict[str, _Step] = field(default_factory=dict)
    scans: dict[tuple[str, object, object], logical.InputScan] = field(default_factory=dict)
    counter: int = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"__{prefix}_{self.counter}"

    def plan(self, query: ast.Query) -> logical.Plan:
        for step in query.steps:
            if step.name.lower() in self.steps or self.catalog.input_columns(step.name):
                raise PlanError(f"step name '{step.name}' is already used by another step or an input", step.span)
            node, columns = self.plan_body(step.body, step.name)
            self.steps[step.name.lower()] = _Step(node, columns)
        outputs: list[logical.Output] = []
        seen: dict[str, Span] = {}
        for statement in query.statements:
            first = statement.selects[0] if isinstance(statement, ast.Union) else statement
            alias = first.into or DEFAULT_OUTPUT
            span = first.into_span or first.span
            if alias.lower() in seen:
                raise PlanError(
                    f"output '{alias}' is written by two statements (the first at {seen[alias.lower()]}); "
                    "merge them with UNION or write to another output",
                    span,
                )
            seen[alias.lower()] = span
            node, columns = self.plan_body(statement, alias)
            outputs.append(logical.Output(node, alias, columns, span, alias))
        if not outputs:
            raise PlanError("the query has no SELECT statement writing to an output", None)
        _check_substreams(tuple(self.scans.values()))
        return logical.Plan(tuple(outputs), query)

    def plan_body(self, body: ast.Select | ast.Union, step: str) -> tuple[logical.PlanNode, tuple[str, ...]]:
        if isinstance(body, ast.Select):
            return self.plan_select(body, step)
        branches = [self.plan_select(select, step) for select in body.selects]
        columns = branches[0][1]
        for select, (_, branch_columns) in zip(body.selects[1:], branches[1:], strict=True):
            if len(branch_columns) != len(columns):
                raise PlanError(
                    f"UNION branches must have the same number of columns: {len(columns)} vs {len(branch_columns)}",
                    select.span,
                )
        children = tuple(_rename(node, cols, columns, step) for node, cols in branches)
        return logical.UnionAll(children, columns, step), columns

    # ------------------------------------------------------------ one SELECT

    def plan_select(self, select: ast.Select, step: str) -> tuple[logical.PlanNode, tuple[str, ...]]:
        if select.top is not None:
            raise NotSupportedError("TOP is not supported by asanb yet; filter with WHERE instead", select.span)
        node, scope = self.plan_from(select.from_, step)
        select, node, scope = plan_analytics(select, node, scope, step, self.fresh)
        node = check_join_select(select, node, scope)
        _reject_misplaced(select)
        check_user_aggregates(select, self.catalog)
        node, scope = _prune(select, node, scope, step)
        if select.where is not None:
            node, (where,), scope = self.hoist(node, scope, (select.where,), step)
            check_names((where,), scope)
            node = logical.Filter(node, where, scope, step)
        if uses_aggregation(select):
            node, items, having, scope = plan_aggregation(select, node, scope, step, self.fresh)
            if having is not None:
                node, (having,), scope = self.hoist(node, scope, (having,), step)
                check_names((having,), scope)
                node = logical.Filter(node, having, scope, step)
        else:
            items = _expand_items(select, scope)
        names = tuple(name for name, _ in items)
        node, exprs, scope = self.hoist(node, scope, tuple(expr for _, expr in items), step)
        _check_duplicate_names(select, names)
        check_names(exprs, scope)
        node = logical.Project(node, tuple(zip(names, exprs, strict=True)), scope, step)
        if select.distinct:
            raise NotSupportedError("SELECT DISTINCT is not supported by asanb yet", select.span)
        return node, names

    def plan_from(self, item: ast.FromItem, step: str) -> tuple[logical.PlanNode, Scope]:
        if isinstance(item, ast.Join):
            return plan_join(self, item, step)
        qualifiers = (item.name,) + ((item.alias,) if item.alias else ())
        found = self.steps.get(item.name.lower())
        if found is not None:
            if item.timestamp_by is not None:
                raise PlanError(
                    "TIMESTAMP BY applies to inputs, not to WITH steps: the step's rows already carry their "
                    "event time; move TIMESTAMP BY to the step that reads the input",
                    item.timestamp_by.span,
                )
            return found.node, Scope(found.columns, qualifiers)
        registered = self.catalog.input_columns(item.name)
        if registered is None:
            known = sorted(list(self.catalog.inputs) + [s for s in self.steps])
            hint = difflib.get_close_matches(item.name, known, n=1)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
            raise PlanError(
                f"unknown input or step '{item.name}'{suggestion} Known inputs and steps: "
                f"{', '.join(known) or '(none)'}. Pass it in inputs={{'{item.name}': ...}}",
                item.span,
            )
        alias, columns = registered
        scope = Scope(columns, qualifiers)
        # PARTITION BY has no effect on one machine; the query text keeps it for export (README "Event ordering").
        key = (alias.lower(), None if item.timestamp_by is None else _key(item.timestamp_by),
               _key(item.timestamp_over))
        scan = self.scans.get(key)
        if scan is None:
            scan = logical.InputScan(alias, columns, item.timestamp_by, scope, item.span, step, item.timestamp_over)
            self.scans[key] = scan
        return scan, scope

    # ------------------------------------------------------------ UDF hoisting

    def hoist(self, node: logical.PlanNode, scope: Scope, exprs: tuple[ast.Expr, ...],
              step: str) -> tuple[logical.PlanNode, tuple[ast.Expr, ...], Scope]:
        """Move every udf.* call out of ``exprs`` into Score nodes below; innermost calls first."""
        scores: list[tuple[ast.FunctionCall, str]] = []

        def visit(expr: object) -> object | None:
            if isinstance(expr, ast.FunctionCall) and expr.namespace == "udf":
                inner = tuple(transform(arg, visit) for arg in expr.args)
                call = ast.FunctionCall(expr.name, inner, expr.span, "udf")
                output = self.fresh("udf")
                scores.append((call, output))
                return column(output, expr.span)
            return None

        rewritten = tuple(transform(expr, visit) for expr in exprs)
        columns = scope.columns
        for call, output in scores:
            self.check_udf(call, Scope(columns, scope.qualifiers))
            node = logical.Score(node, call.name, call.args, output, Scope(columns, scope.qualifiers),
                                 call.span, step)
            columns = columns + (output,)
        # Later nodes of this step see the UDF result columns.
        return node, rewritten, Scope(columns, scope.qualifiers)

    def check_udf(self, call: ast.FunctionCall, scope: Scope) -> None:
        info = self.catalog.function("udf", call.name)
        if info is None:
            known = ", ".join(f"udf.{f.alias}" for f in self.catalog.functions.values()) or "(none)"
            raise PlanError(
                f"unknown function 'udf.{call.name}'; registered: {known}. Pass it in functions=[...]", call.span
            )
        if info.check_arguments is not None:
            kinds = [self.argument_kind(arg, scope) for arg in call.args]
            info.check_arguments(kinds, call.span)

    def argument_kind(self, arg: ast.Expr, scope: Scope) -> str:
        if isinstance(arg, ast.ColumnRef):
            binding = scope.resolve(arg)
            if binding.column is None:
                return "record"
            if binding.column.startswith("__udf_"):
                return "array"
        return "any"



def _prune(select: ast.Select, node: logical.PlanNode, scope: Scope,
           step: str) -> tuple[logical.PlanNode, Scope]:
    """Keep only the columns the step reads, so filters and windows move less data. Not when the step
    reads whole rows (``*``, an alias as a record) or an unknown name (left for the name check to report).
    Only a WHERE makes it pay: windowed steps pre-project already, and a plain SELECT projects anyway."""
    if select.where is None or select.group_by is not None:
        return node, scope
    places = tuple(item.expr for item in select.items) + tuple(
        part for part in (select.where, select.having, select.group_by) if part is not None)
    needed: list[str] = []
    for part in walk(places):
        if isinstance(part, ast.Star):
            return node, scope
        if isinstance(part, ast.ColumnRef):
            try:
                binding = scope.resolve(part)
            except PlanError:
                return node, scope
            if binding.column is None:
                return node, scope
            if binding.column not in needed:
                needed.append(binding.column)
    if len(needed) >= len(scope.visible_columns()):
        return node, scope
    pruned = Scope(tuple(needed), scope.qualifiers)
    items = tuple((name, ast.ColumnRef((name,), select.span)) for name in needed)
    return logical.Project(node, items, scope, step), pruned


def _check_substreams(scans: tuple[logical.InputScan, ...]) -> None:
    """ASA rule (TIMESTAMP BY reference, "OVER"): substreams are used on every input of a query or on none."""
    over = next((scan for scan in scans if scan.timestamp_over), None)
    if over is None:
        return
    for scan in scans:
        if not scan.timestamp_over:
            raise PlanError(f"TIMESTAMP BY ... OVER must be used on every input of the query or on none (ASA rule): "
                            f"'{over.alias}' at {over.span} has it, this read of '{scan.alias}' does not",
                            scan.span)


def _key(expr: ast.Expr | tuple[ast.Expr, ...]) -> object:
    from asanb.plan.rewrite import fingerprint

    return fingerprint(expr)


def _expand_items(select: ast.Select, scope: Scope) -> list[tuple[str, ast.Expr]]:
    items: list[tuple[str, ast.Expr]] = []
    for position, item in enumerate(select.items, start=1):
        if isinstance(item.expr, ast.Star) and item.expr.qualifier is not None:
            items.extend((name, ast.ColumnRef((column,), item.span)) for name, column in _star_fields(item.expr, scope))
            continue
        if isinstance(item.expr, ast.Star):
            items.extend((scope.short_name(name), ast.ColumnRef((name,), item.span))
                         for name in scope.visible_columns())
            continue
        items.append((output_name(item, position), item.expr))
    return items



def _star_fields(star: ast.Star, scope: Scope) -> tuple[tuple[str, str], ...]:
    """``alias.*``: the columns of that input or JOIN / APPLY side."""
    assert star.qualifier is not None
    if not scope.is_qualifier(star.qualifier):
        raise PlanError(f"'{star.qualifier}.*' names no input or step of this SELECT; aliases here: "
                        f"{', '.join(scope.qualifiers) or '(none)'}", star.span)
    return scope.record_fields(star.qualifier)


def _check_duplicate_names(select: ast.Select, names: tuple[str, ...]) -> None:
    seen: set[str] = set()
    for name in names:
        if name.lower() in seen:
            raise PlanError(f"column '{name}' appears twice in the SELECT list; give one an alias", select.span)
        seen.add(name.lower())


def _reject_misplaced(select: ast.Select) -> None:
    """Window functions belong in GROUP BY; analytic functions arrive with issue #4."""
    places = [item.expr for item in select.items] + [e for e in (select.where, select.having) if e is not None]
    for node in walk(tuple(places)):
        if isinstance(node, ast.FunctionCall) and node.namespace is None:
            if node.name in WINDOW_FUNCTIONS:
                raise PlanError(
                    f"window function '{node.name}' belongs in GROUP BY, e.g. GROUP BY TumblingWindow(second, 10)",
                    node.span,
                )
            if node.name in ANALYTIC_FUNCTIONS:
                raise NotSupportedError(f"analytic function '{node.name.upper()}' arrives with issue #4", node.span)


def _rename(node: logical.PlanNode, columns: tuple[str, ...], target: tuple[str, ...],
            step: str) -> logical.PlanNode:
    """UNION takes the first branch's column names; later branches are renamed by position."""
    if columns == target:
        return node
    scope = Scope(columns)
    items = tuple((name, column(source, Span(0, 0, 0, 0))) for name, source in zip(target, columns, strict=True))
    return logical.Project(node, items, scope, step)
