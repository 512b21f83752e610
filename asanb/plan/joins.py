"""Plan FROM ... JOIN ... ON and CROSS / OUTER APPLY: sides, equality keys, the DATEDIFF time bound, APPLY.

ASA rules (../shared/spec/saql.md, "Query shape"; ASA's JOIN reference): a JOIN of two streams needs a time
bound ``DATEDIFF(unit, a, b) BETWEEN low AND high`` in ON, at most seven days wide; reference-data joins do
not take one; ``SELECT *`` is not allowed in a JOIN. Inside ON, DATEDIFF's second and third arguments are
the aliases of the joined sides and stand for their event times; asanb compares the exact time difference
with ``low * unit`` and ``high * unit`` (no boundary counting as in DATEDIFF elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from asanb.errors import PlanError
from asanb.plan import logical
from asanb.plan.catalog import Catalog
from asanb.plan.names import check_names
from asanb.plan.rewrite import walk
from asanb.plan.scope import EVENT_TIME, Scope, qualified
from asanb.sql import ast

MAX_BOUND_NS = 7 * 86_400_000_000_000
"""ASA's largest DATEDIFF of a JOIN: seven days."""

_UNIT_NS = {
    "nanosecond": 1, "microsecond": 1_000, "millisecond": 1_000_000, "second": 1_000_000_000,
    "minute": 60_000_000_000, "hour": 3_600_000_000_000, "day": 86_400_000_000_000, "week": 604_800_000_000_000,
}
_APPLY_COLUMNS = {
    "getarrayelements": ("ArrayIndex", "ArrayValue"),
    "getrecordproperties": ("PropertyName", "PropertyValue"),
}


class _Planner(Protocol):
    catalog: Catalog

    def plan_from(self, item: ast.FromItem, step: str) -> tuple[logical.PlanNode, Scope]: ...


def time_column(alias: str) -> str:
    """The joined frame's column holding side ``alias``'s own event time (for chained joins)."""
    return f"__time_{alias.lower()}"


@dataclass(frozen=True, slots=True)
class _Side:
    node: logical.PlanNode | None
    scope: Scope
    aliases: tuple[str, ...]
    side: logical.JoinSide
    reference: str | None = None


def plan_join(planner: _Planner, item: ast.Join, step: str) -> tuple[logical.PlanNode, Scope]:
    """The plan node and joined scope of a JOIN or APPLY."""
    if item.kind == "apply":
        return _plan_apply(planner, item, step)
    left = _plan_side(planner, item.left, step, right=False)
    assert isinstance(item.right, ast.Source)
    right = _plan_side(planner, item.right, step, right=True)
    for alias in right.aliases:
        if alias.lower() in (a.lower() for a in left.aliases):
            raise PlanError(f"both sides of the JOIN are called '{alias}'; give them different aliases, e.g. "
                            f"FROM {alias} a JOIN {alias} b ON ...", item.right.span)
    columns = tuple(joined for _, joined in left.side.columns + right.side.columns)
    times = tuple(time_column(alias) for alias in left.aliases + right.aliases)
    scope = Scope(columns + (EVENT_TIME,) + times, left.aliases + right.aliases)
    assert item.condition is not None
    keys: list[tuple[ast.Expr, ast.Expr]] = []
    bounds: list[logical.TimeBound] = []
    rest: list[ast.Expr] = []
    for term in _conjuncts(item.condition):
        bound = _time_bound(term, left, right)
        if bound is not None:
            bounds.append(bound)
            continue
        pair = _equality(term, left.side.scope, right.side.scope)
        if pair is not None:
            keys.append(pair)
        else:
            rest.append(term)
    _check_bound_placement(rest, scope)
    reference = right.reference
    bound = _one_bound(bounds, item, reference is not None, left.aliases[-1], right.aliases[0])
    residual = _and(rest)
    if residual is not None:
        check_names((residual,), scope)
    left_side = logical.JoinSide(left.side.columns, tuple(k for k, _ in keys), left.side.scope, left.side.times)
    right_side = logical.JoinSide(right.side.columns, tuple(k for _, k in keys), right.side.scope,
                                  right.side.times)
    assert left.node is not None
    node = logical.Join(item.kind, left.node, right.node, reference, left_side, right_side, bound, residual,
                        scope, item.span, step)
    return node, scope


def check_join_select(select: ast.Select, node: logical.PlanNode, scope: Scope) -> logical.PlanNode:
    """Reject ``SELECT *`` in a JOIN (ASA rule: the two sides' columns would collide), then let the JOIN
    carry only the columns the step reads: joined rows are many, so every dropped column pays."""
    if not isinstance(select.from_, ast.Join) or select.from_.kind == "apply":
        return node
    for item in select.items:
        if isinstance(item.expr, ast.Star) and item.expr.qualifier is None:
            raise PlanError("SELECT * cannot be used in a JOIN (ASA rule); list the columns, e.g. "
                            "SELECT a.deviceId, b.temp, or take one side whole with a.*", item.span)
    if not isinstance(node, logical.Join):
        return node
    places = tuple(item.expr for item in select.items) + tuple(
        part for part in (select.where, select.group_by, select.having, node.residual) if part is not None)
    needed: set[str] = set()
    for part in walk(places):
        if isinstance(part, ast.Star) and part.qualifier is not None:
            if not scope.is_qualifier(part.qualifier):
                return node  # reported with its position when the SELECT list is expanded
            needed.update(column for _, column in scope.record_fields(part.qualifier))
        if isinstance(part, ast.ColumnRef):
            try:
                binding = scope.resolve(part)
            except PlanError:
                return node  # reported with its position by the name check
            needed.update((binding.column,) if binding.column is not None else
                          (column for _, column in binding.fields))  # a side as a record reads its columns

    def keep(side: logical.JoinSide) -> logical.JoinSide:
        columns = tuple((source, joined) for source, joined in side.columns if joined in needed)
        return replace(side, columns=columns, times=())

    return replace(node, left_side=keep(node.left_side), right_side=keep(node.right_side))


# ---------------------------------------------------------------- sides


def _plan_side(planner: _Planner, item: ast.FromItem, step: str, *, right: bool) -> _Side:
    if isinstance(item, ast.Join):
        node, scope = planner.plan_from(item, step)
        columns = tuple((c, c) for c in scope.visible_columns())
        times = tuple((alias, time_column(alias)) for alias in scope.qualifiers)
        return _Side(node, scope, scope.qualifiers, logical.JoinSide(columns, (), scope, times))
    alias = item.reference_name
    reference = planner.catalog.reference_columns(item.name)
    if reference is not None and planner.catalog.input_columns(item.name) is None:
        if not right:
            raise PlanError(f"reference data '{item.name}' goes on the right side of a JOIN: "
                            f"FROM stream JOIN {item.name} ON ...", item.span)
        if item.timestamp_by is not None:
            raise PlanError("reference data has no event time: remove TIMESTAMP BY", item.timestamp_by.span)
        scope = Scope(reference[1], (alias,))
        columns = tuple((c, qualified(alias, c)) for c in scope.visible_columns())
        return _Side(None, scope, (alias,), logical.JoinSide(columns, (), scope, ()), reference[0])
    node, source_scope = planner.plan_from(item, step)
    scope = Scope(source_scope.columns, (alias,))
    columns = tuple((c, qualified(alias, c)) for c in scope.visible_columns())
    return _Side(node, scope, (alias,), logical.JoinSide(columns, (), scope, ((alias, EVENT_TIME),)))


# ---------------------------------------------------------------- ON


def _conjuncts(expr: ast.Expr) -> list[ast.Expr]:
    if isinstance(expr, ast.BinaryOp) and expr.op == "and":
        return _conjuncts(expr.left) + _conjuncts(expr.right)
    return [expr]


def _and(terms: list[ast.Expr]) -> ast.Expr | None:
    if not terms:
        return None
    result = terms[0]
    for term in terms[1:]:
        result = ast.BinaryOp("and", result, term, result.span.to(term.span))
    return result


def _is_datediff(node: object) -> bool:
    return isinstance(node, ast.FunctionCall) and node.namespace is None and node.name == "datediff"


def _time_bound(term: ast.Expr, left: _Side, right: _Side) -> logical.TimeBound | None:
    if not isinstance(term, ast.Between) or not _is_datediff(term.operand):
        return None
    call = term.operand
    assert isinstance(call, ast.FunctionCall)
    if term.negated:
        raise PlanError("a JOIN time bound is DATEDIFF(...) BETWEEN low AND high, not NOT BETWEEN", term.span)
    if len(call.args) != 3 or not isinstance(call.args[0], ast.TimeUnit):
        raise PlanError("DATEDIFF takes (unit, alias1, alias2) in a JOIN condition", call.span)
    unit = call.args[0]
    factor = _UNIT_NS.get(unit.name)
    if factor is None:
        raise PlanError(f"a JOIN time bound needs a fixed-length unit, not {unit.name}; use day, hour, minute, "
                        "second or smaller", unit.span)
    first, second = (_side_time(arg, left, right) for arg in call.args[1:])
    if first[0] == second[0]:
        raise PlanError("DATEDIFF in a JOIN condition compares the two sides: name one alias of each side",
                        call.span)
    low, high = _number(term.low) * factor, _number(term.high) * factor
    if low > high:
        raise PlanError(f"the JOIN time bound is empty: {_number(term.low):g} is above {_number(term.high):g}",
                        term.span)
    if max(abs(low), abs(high)) > MAX_BOUND_NS:
        raise PlanError("a JOIN time bound can be at most seven days (ASA limit)", term.span)
    if first[0] == "left":  # DATEDIFF(unit, left, right) = right - left
        return logical.TimeBound(int(low), int(high), first[1], second[1])
    return logical.TimeBound(int(-high), int(-low), second[1], first[1])


def _side_time(arg: ast.Expr, left: _Side, right: _Side) -> tuple[str, str]:
    """('left' | 'right', time column of that side's frame) for an alias argument of DATEDIFF."""
    if isinstance(arg, ast.ColumnRef) and len(arg.parts) == 1:
        name = arg.parts[0].lower()
        for label, side in (("left", left), ("right", right)):
            for alias, column in side.side.times:
                if alias.lower() == name:
                    return label, column
            if side.node is None and name in (a.lower() for a in side.aliases):
                raise PlanError("reference data has no event time: a reference-data JOIN takes no DATEDIFF "
                                "bound", arg.span)
    raise PlanError("in a JOIN condition DATEDIFF's second and third arguments are the aliases of the joined "
                    f"inputs ({', '.join(a for _, a in left.side.times + right.side.times) or 'none'}), "
                    "which stand for their event times", getattr(arg, "span", None))


def _number(expr: ast.Expr) -> float:
    sign = 1.0
    while isinstance(expr, ast.UnaryOp) and expr.op in ("-", "+"):
        sign = -sign if expr.op == "-" else sign
        expr = expr.operand
    if isinstance(expr, ast.Literal) and expr.type_name in ("bigint", "float"):
        return sign * float(expr.value)  # type: ignore[arg-type]
    raise PlanError("the bounds of a JOIN's DATEDIFF must be numbers", getattr(expr, "span", None))


def _one_bound(bounds: list[logical.TimeBound], item: ast.Join, reference: bool,
               left: str, right: str) -> logical.TimeBound | None:
    if reference:
        return None
    if not bounds:
        raise PlanError(
            "a JOIN of two streams needs a time bound in ON, e.g. "
            f"ON ... AND DATEDIFF(second, {left}, {right}) BETWEEN 0 AND 10: ASA joins are temporal (a JOIN "
            "with reference data is the only one without)", item.span)
    first = bounds[0]
    for other in bounds[1:]:
        if (other.left_time, other.right_time) != (first.left_time, first.right_time):
            raise PlanError("a JOIN takes one DATEDIFF time bound between its two sides", item.span)
        first = logical.TimeBound(max(first.low_ns, other.low_ns), min(first.high_ns, other.high_ns),
                                  first.left_time, first.right_time)
    return first


def _check_bound_placement(rest: list[ast.Expr], scope: Scope) -> None:
    for node in walk(tuple(rest)):
        if _is_datediff(node):
            assert isinstance(node, ast.FunctionCall)
            aliases = [a for a in node.args[1:] if isinstance(a, ast.ColumnRef) and len(a.parts) == 1
                       and scope.is_qualifier(a.parts[0])]
            if aliases:
                raise PlanError("the DATEDIFF time bound of a JOIN must be an AND term of ON written as "
                                "DATEDIFF(unit, a, b) BETWEEN low AND high", node.span)


def _equality(term: ast.Expr, left: Scope, right: Scope) -> tuple[ast.Expr, ast.Expr] | None:
    """(left key, right key) when ``term`` is ``x = y`` with x over one side only and y over the other."""
    if not isinstance(term, ast.BinaryOp) or term.op != "=":
        return None
    first, second = _sides(term.left, left, right), _sides(term.right, left, right)
    if first == {"left"} and second == {"right"}:
        return term.left, term.right
    if first == {"right"} and second == {"left"}:
        return term.right, term.left
    return None


def _sides(expr: ast.Expr, left: Scope, right: Scope) -> set[str]:
    found: set[str] = set()
    for node in walk(expr):
        if not isinstance(node, ast.ColumnRef):
            continue
        hits = [label for label, scope in (("left", left), ("right", right)) if _resolves(scope, node)]
        if len(hits) == 2:
            raise PlanError(f"column '{'.'.join(node.parts)}' is ambiguous: both sides of the JOIN have it; "
                            "qualify it with the input alias", node.span)
        found.update(hits)
    return found


def _resolves(scope: Scope, ref: ast.ColumnRef) -> bool:
    try:
        scope.resolve(ref)
    except PlanError:
        return False
    return True


# ---------------------------------------------------------------- APPLY


def _plan_apply(planner: _Planner, item: ast.Join, step: str) -> tuple[logical.PlanNode, Scope]:
    apply = item.right
    assert isinstance(apply, ast.Apply)
    node, scope = planner.plan_from(item.left, step)
    call = apply.call
    names = _APPLY_COLUMNS.get(call.name.lower()) if call.namespace is None else None
    if names is None:
        raise PlanError(f"APPLY takes GetArrayElements(array) or GetRecordProperties(record), not "
                        f"'{call.name}'", call.span)
    if len(call.args) != 1:
        raise PlanError(f"{call.name} takes one argument, got {len(call.args)}", call.span)
    check_names(call.args, scope)
    argument = call.args[0]
    if isinstance(argument, ast.Literal) and argument.type_name != "null":
        function, expected = (("GetArrayElements", "an array") if names[0] == "ArrayIndex"
                              else ("GetRecordProperties", "a record"))
        raise PlanError(f"{function} needs {expected}, not a {argument.type_name} constant: give it a column or "
                        "an expression holding one", argument.span)
    if scope.is_qualifier(apply.alias):
        raise PlanError(f"the APPLY alias '{apply.alias}' is already the name of an input or step", apply.span)
    columns = (qualified(apply.alias, names[0]), qualified(apply.alias, names[1]))
    out = Scope(scope.columns + columns, scope.qualifiers + (apply.alias,))
    return logical.Apply(node, call.name.lower(), call.args[0], apply.alias, apply.outer, columns, scope,
                         apply.span, step), out
