"""Logical plan nodes: what each query step computes, with expressions still as AST bound to a Scope.

The planner builds a DAG of these (WITH steps shared by every statement that reads them); the engine's
executor turns each node into a physical operator. Nodes know schemas and ASA rules, never DataFrames.
"""

from __future__ import annotations

from dataclasses import dataclass

from asanb.errors import Span
from asanb.plan.scope import Scope
from asanb.sql import ast


@dataclass(frozen=True, slots=True, eq=False)
class InputScan:
    """Read input ``alias``; compute each event's time from ``timestamp_by`` (None: arrival time)."""

    alias: str
    columns: tuple[str, ...]
    timestamp_by: ast.Expr | None
    scope: Scope
    span: Span
    step: str
    timestamp_over: tuple[ast.Expr, ...] = ()
    """``TIMESTAMP BY ... OVER key, ...``: out-of-order tolerance applies per key (substreams)."""


@dataclass(frozen=True, slots=True, eq=False)
class Filter:
    """Keep rows whose condition is true (NULL and false drop them: counted as filtered)."""

    child: PlanNode
    condition: ast.Expr
    scope: Scope
    step: str


@dataclass(frozen=True, slots=True, eq=False)
class Project:
    """Compute named columns; ``__ts`` (event time) is always carried along."""

    child: PlanNode
    items: tuple[tuple[str, ast.Expr], ...]
    scope: Scope
    step: str

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.items)


@dataclass(frozen=True, slots=True, eq=False)
class Score:
    """Call a user-defined function once per row and store its value in ``output``.

    UDF calls are hoisted out of expressions into this node (DataFusion's AsyncFuncExec) so batching,
    concurrency and ordering live in one operator; ASA evaluates an ML UDF for every row of its step,
    even inside CASE (../shared/spec/ml_udf.md §6), which hoisting reproduces exactly.
    """

    child: PlanNode
    function: str
    arguments: tuple[ast.Expr, ...]
    output: str
    scope: Scope
    span: Span
    step: str


@dataclass(frozen=True, slots=True)
class AnalyticCall:
    """One LAG / LAST / ISFIRST call hoisted out of a step's expressions (../shared/spec/saql.md, "Query shape").

    ``offset`` is LAG's (1 by default; 0 for LAST, which includes the current event); ``limit_ns`` is LIMIT
    DURATION (LAG, LAST); ``interval_ns`` is ISFIRST's tumbling interval. ``when`` picks the events the call
    may return or count; every event still gets a value.
    """

    function: str
    value: ast.Expr | None
    offset: int
    default: ast.Expr | None
    partition_by: tuple[ast.Expr, ...]
    when: ast.Expr | None
    limit_ns: int
    interval_ns: int
    output: str
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Analytic:
    """Compute analytic calls for every row before the step's WHERE, GROUP BY and SELECT, which read their
    ``output`` columns (ASA evaluates LAG, LAST and ISFIRST before those clauses)."""

    child: PlanNode
    calls: tuple[AnalyticCall, ...]
    scope: Scope
    step: str


@dataclass(frozen=True, slots=True)
class WindowDefinition:
    """A window of GROUP BY with durations resolved to nanoseconds."""

    kind: str
    size_ns: int = 0
    hop_ns: int = 0
    offset_ns: int = 0
    max_duration_ns: int = 0
    partition_columns: tuple[str, ...] = ()
    name: str | None = None


@dataclass(frozen=True, slots=True)
class AggregateCall:
    """One aggregate of a windowed GROUP BY, reading pre-computed argument columns."""

    function: str
    argument: str | None
    output: str
    distinct: bool = False
    parameter: float | None = None
    order_by: tuple[tuple[str, bool], ...] = ()
    record_columns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class Aggregate:
    """Group rows by ``keys`` per window; emit one row per non-empty window and group at the window end."""

    child: PlanNode
    windows: tuple[WindowDefinition, ...]
    keys: tuple[str, ...]
    aggregates: tuple[AggregateCall, ...]
    step: str


@dataclass(frozen=True, slots=True, eq=False)
class UnionAll:
    """ASA's UNION: rows of every branch, duplicates kept (../shared/spec/saql.md, "Query shape")."""

    children: tuple[PlanNode, ...]
    columns: tuple[str, ...]
    step: str


@dataclass(frozen=True, slots=True, eq=False)
class Output:
    """Deliver rows to output ``alias`` with the statement's column list."""

    child: PlanNode
    alias: str
    columns: tuple[str, ...]
    span: Span
    step: str


@dataclass(frozen=True, slots=True)
class TimeBound:
    """A stream JOIN's DATEDIFF bound, normalized: right time - left time lies in [low_ns, high_ns].
    ``left_time`` / ``right_time`` name the event-time columns of the two sides' frames."""

    low_ns: int
    high_ns: int
    left_time: str
    right_time: str


@dataclass(frozen=True, slots=True)
class JoinSide:
    """One side of a JOIN: its frame's columns renamed for the joined frame (``(side column, joined
    column)``), the equality key expressions over its own ``scope``, and its event-time columns per alias
    (``(alias, side column)``) carried on as ``__time_<alias>`` for chained joins."""

    columns: tuple[tuple[str, str], ...]
    keys: tuple[ast.Expr, ...]
    scope: Scope
    times: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, eq=False)
class Join:
    """INNER or LEFT OUTER JOIN of two streams within ``bound``, or of a stream with reference data
    ``reference`` (then ``right`` is None and ``bound`` too). ``residual`` is the rest of ON, evaluated on
    joined rows; ``scope`` describes the joined frame."""

    kind: str
    left: PlanNode
    right: PlanNode | None
    reference: str | None
    left_side: JoinSide
    right_side: JoinSide
    bound: TimeBound | None
    residual: ast.Expr | None
    scope: Scope
    span: Span
    step: str


@dataclass(frozen=True, slots=True, eq=False)
class Apply:
    """CROSS / OUTER APPLY of GetArrayElements or GetRecordProperties: one row per element or property,
    with ``columns`` (index/name, value) added under the APPLY alias."""

    child: PlanNode
    function: str
    argument: ast.Expr
    alias: str
    outer: bool
    columns: tuple[str, str]
    scope: Scope
    span: Span
    step: str


PlanNode = InputScan | Filter | Project | Score | Analytic | Aggregate | UnionAll | Join | Apply | Output


@dataclass(frozen=True, slots=True)
class Plan:
    """The whole job: one Output node per INTO target; shared nodes are the same objects."""

    outputs: tuple[Output, ...]
    query: ast.Query

    def nodes(self) -> list[PlanNode]:
        """Every node once, inputs before their consumers (topological order)."""
        ordered: list[PlanNode] = []
        seen: set[int] = set()

        def visit(node: PlanNode) -> None:
            if id(node) in seen:
                return
            seen.add(id(node))
            for child in children(node):
                visit(child)
            ordered.append(node)

        for output in self.outputs:
            visit(output)
        return ordered

    def explain(self) -> str:
        """A readable outline of the plan, one node per line, outputs first."""
        lines: list[str] = []

        def show(node: PlanNode, depth: int) -> None:
            lines.append("  " * depth + describe(node))
            for child in children(node):
                show(child, depth + 1)

        for output in self.outputs:
            show(output, 0)
        return "\n".join(lines)


def children(node: PlanNode) -> tuple[PlanNode, ...]:
    """The nodes feeding ``node``."""
    if isinstance(node, InputScan):
        return ()
    if isinstance(node, UnionAll):
        return node.children
    if isinstance(node, Join):
        return (node.left,) if node.right is None else (node.left, node.right)
    return (node.child,)


def describe(node: PlanNode) -> str:
    """One line naming the node and its main parameters."""
    name = type(node).__name__
    if isinstance(node, InputScan):
        over = " OVER" if node.timestamp_over else ""
        return f"{name} {node.alias} [{node.step}]" + (" TIMESTAMP BY" + over if node.timestamp_by else "")
    if isinstance(node, Output):
        return f"{name} {node.alias} ({', '.join(node.columns)})"
    if isinstance(node, Project):
        return f"{name} ({', '.join(node.columns)}) [{node.step}]"
    if isinstance(node, Score):
        return f"{name} udf.{node.function} -> {node.output} [{node.step}]"
    if isinstance(node, Analytic):
        calls = ", ".join(f"{call.function.upper()} -> {call.output}" for call in node.calls)
        return f"{name} {calls} [{node.step}]"
    if isinstance(node, Aggregate):
        kinds = "+".join(w.kind for w in node.windows)
        return f"{name} {kinds} keys=({', '.join(node.keys)}) [{node.step}]"
    if isinstance(node, Join):
        target = f" reference {node.reference}" if node.reference else ""
        return f"{name} {node.kind}{target} [{node.step}]"
    if isinstance(node, Apply):
        return f"{name} {node.function} AS {node.alias} [{node.step}]"
    return f"{name} [{node.step}]"
