"""The SAQL syntax tree: frozen nodes named after SAQL's nouns, each carrying the Span it was parsed from.

Names keep the user's spelling (identifiers are case-insensitive in ASA; comparisons use ``.lower()``);
keywords and built-in function names are normalized to lower case by the parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asanb.errors import Span

# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant. ``type_name`` is the ASA type: bigint, float, nvarchar(max), bit, or null."""

    value: object
    type_name: str
    span: Span


@dataclass(frozen=True, slots=True)
class ColumnRef:
    """A dotted name: ``a``, ``t.a``, ``a.b.c``, ``[my col]``. Which part is an alias, a column or a record
    field is decided by the planner. A single part naming an input or step is the whole row as a record."""

    parts: tuple[str, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Star:
    """``*`` or ``alias.*`` in a select list (also ``COUNT(*)`` is a FunctionCall with ``star=True``)."""

    qualifier: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class TimeUnit:
    """A datepart / window unit argument (``second``, ``ss``, ``minute`` ...), normalized to its long name:
    year, quarter, month, dayofyear, day, week, weekday, hour, minute, second, millisecond, microsecond,
    nanosecond."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class UnaryOp:
    """``-x``, ``+x`` or ``NOT x`` (op is '-', '+' or 'not')."""

    op: str
    operand: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class BinaryOp:
    """Arithmetic ('+', '-', '*', '/', '%'), comparison ('=', '<>', '<', '<=', '>', '>='; '!=' is
    normalized to '<>'), or logic ('and', 'or'). String concatenation is '+' on strings, as in T-SQL."""

    op: str
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class IsNull:
    """``x IS [NOT] NULL``."""

    operand: Expr
    negated: bool
    span: Span


@dataclass(frozen=True, slots=True)
class InList:
    """``x [NOT] IN (a, b, ...)``."""

    operand: Expr
    items: tuple[Expr, ...]
    negated: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Between:
    """``x [NOT] BETWEEN low AND high`` (inclusive)."""

    operand: Expr
    low: Expr
    high: Expr
    negated: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Like:
    """``x [NOT] LIKE pattern``."""

    operand: Expr
    pattern: Expr
    negated: bool
    span: Span


@dataclass(frozen=True, slots=True)
class When:
    """One ``WHEN condition THEN result`` arm (condition is a value to compare in a simple CASE)."""

    condition: Expr
    result: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Case:
    """Searched (``operand`` is None) or simple CASE."""

    operand: Expr | None
    whens: tuple[When, ...]
    else_result: Expr | None
    span: Span


@dataclass(frozen=True, slots=True)
class TypeName:
    """An ASA type in CAST: bigint, float, nvarchar(max), datetime, bit, record, array (normalized)."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class Cast:
    """``CAST(x AS type)`` (fails the event) or ``TRY_CAST(x AS type)`` (NULL on failure)."""

    operand: Expr
    type: TypeName
    is_try: bool
    span: Span


@dataclass(frozen=True, slots=True)
class OrderItem:
    """``expr [ASC|DESC]`` inside OVER (ORDER BY ...)."""

    expr: Expr
    descending: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Duration:
    """``DURATION(unit, amount)`` in LIMIT DURATION, or a (unit, amount) pair of a window."""

    unit: TimeUnit
    amount: float
    span: Span


@dataclass(frozen=True, slots=True)
class Over:
    """``OVER (PARTITION BY ... LIMIT DURATION(u, n) WHEN cond ORDER BY ...)``: analytic functions and the
    ORDER BY of TopOne / CollectTop / PERCENTILE_*."""

    partition_by: tuple[Expr, ...]
    limit_duration: Duration | None
    when: Expr | None
    order_by: tuple[OrderItem, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """A call. ``namespace`` is 'udf' / 'uda' for user functions, 'system' for ``System.Timestamp()``,
    None for built-ins. ``name`` is lower case for built-ins and keeps the user's spelling for udf/uda.
    ``star`` marks ``COUNT(*)``; ``distinct`` marks ``COUNT(DISTINCT x)``. Date functions (DATEADD,
    DATEDIFF, DATEPART, DATENAME) get a TimeUnit as their first argument."""

    name: str
    args: tuple[Expr, ...]
    span: Span
    namespace: str | None = None
    distinct: bool = False
    star: bool = False
    over: Over | None = None


Expr = (
    Literal | ColumnRef | Star | TimeUnit | UnaryOp | BinaryOp | IsNull
    | InList | Between | Like | Case | Cast | FunctionCall
)

# ---------------------------------------------------------------- windows and grouping


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """One window function of GROUP BY. ``kind``: tumbling, hopping, sliding, session, snapshot.
    Sizes are amounts of ``unit`` (None for snapshot): tumbling(size[, offset]), hopping(size, hop[, offset]),
    sliding(size), session(timeout=size, max_duration[, partition_by])."""

    kind: str
    unit: TimeUnit | None
    size: float | None
    span: Span
    hop: float | None = None
    offset: float | None = None
    max_duration: float | None = None
    partition_by: tuple[Expr, ...] = ()
    name: str | None = None


@dataclass(frozen=True, slots=True)
class WindowSet:
    """``Windows(w1 AS 'a', w2 AS 'b')``: several windows in one step; WindowId() names them."""

    windows: tuple[WindowSpec, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class GroupBy:
    """Plain grouping expressions plus at most one window (or window set)."""

    items: tuple[Expr, ...]
    window: WindowSpec | WindowSet | None
    span: Span


# ---------------------------------------------------------------- FROM


@dataclass(frozen=True, slots=True)
class Source:
    """``name [AS alias] [TIMESTAMP BY expr [OVER key, ...]] [PARTITION BY col]``."""

    name: str
    span: Span
    alias: str | None = None
    timestamp_by: Expr | None = None
    timestamp_over: tuple[Expr, ...] = ()
    partition_by: tuple[Expr, ...] = ()

    @property
    def reference_name(self) -> str:
        """The name the rest of the query uses for this source."""
        return self.alias or self.name


@dataclass(frozen=True, slots=True)
class Apply:
    """``CROSS APPLY fn(args) AS alias`` / ``OUTER APPLY``: GetArrayElements / GetRecordProperties."""

    call: FunctionCall
    alias: str
    outer: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Join:
    """``left [INNER|LEFT OUTER] JOIN right ON condition`` or ``left CROSS/OUTER APPLY ...``.
    kind: 'inner', 'left', 'apply'."""

    kind: str
    left: FromItem
    right: Source | Apply
    condition: Expr | None
    span: Span


FromItem = Source | Join

# ---------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class SelectItem:
    """One entry of the select list: an expression with an optional alias, or a Star."""

    expr: Expr
    alias: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class Select:
    """One SELECT. ``into`` is the output alias (None: ``output`` for a top-level statement)."""

    items: tuple[SelectItem, ...]
    from_: FromItem
    span: Span
    distinct: bool = False
    top: int | None = None
    into: str | None = None
    into_span: Span | None = None
    where: Expr | None = None
    group_by: GroupBy | None = None
    having: Expr | None = None


@dataclass(frozen=True, slots=True)
class Union:
    """``SELECT ... UNION SELECT ...``; ASA keeps duplicates. The INTO of the first SELECT names the output."""

    selects: tuple[Select, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Step:
    """``name AS ( body )`` inside WITH."""

    name: str
    body: Select | Union
    span: Span


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment kept for writers: style is '--', '/*' or '#'."""

    text: str
    style: str
    span: Span


@dataclass(frozen=True, slots=True)
class Query:
    """A whole job query: WITH steps, then one or more statements (each writes one output)."""

    steps: tuple[Step, ...]
    statements: tuple[Select | Union, ...]
    text: str
    comments: tuple[Comment, ...] = field(default=())

