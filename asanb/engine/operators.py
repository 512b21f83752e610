"""Stateless physical operators: event time at the input, filters, projections, UDF scoring, union, output."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from asanb.engine.counters import Counters
from asanb.engine.expressions import Evaluator, compile_expression, truth_mask
from asanb.engine.in_order import InOrder
from asanb.engine.operator import Operator
from asanb.engine.ordering import EventOrdering, OrderingPolicy, recorded_arrivals
from asanb.errors import EventError, PlanError, UdfResultError
from asanb.plan import logical
from asanb.plan.scope import EVENT_TIME, INTERNAL_PREFIX, Scope
from asanb.sql import ast


class BatchFunction(Protocol):
    """A user-defined function the engine calls once per micro-batch (implemented in ``udf/`` and ``job``).

    Arguments arrive per call argument: a Series of values, or a DataFrame when the argument is a whole
    row (``udf.score(Dataframe)``). Returns one value per row, in row order.
    """

    def __call__(self, arguments: Sequence[pd.Series | pd.DataFrame], rows: int) -> Awaitable[Any]: ...


class ErrorPolicy:
    """ASA's output error policy for malformed events: 'Stop' fails the job, 'Drop' drops and counts them."""

    def __init__(self, policy: str, counters: Counters) -> None:
        self.policy = policy
        self.counters = counters

    def apply(self, frame: pd.DataFrame, compute: Callable[[pd.DataFrame], pd.DataFrame], step: str) -> pd.DataFrame:
        """Run ``compute`` on the batch; under Drop, retry row by row and drop only the failing rows."""
        try:
            return compute(frame)
        except EventError as error:
            if self.policy != "Drop":
                error.step = error.step or step
                raise
        kept = []
        for position in range(len(frame)):
            row = frame.iloc[position:position + 1].reset_index(drop=True)
            try:
                kept.append(compute(row))
            except EventError:
                self.counters.drop("output_error_policy", 1)
        if not kept:
            return frame.iloc[0:0]
        return pd.concat(kept, ignore_index=True)


def _compile(expr: ast.Expr, scope: Scope) -> Evaluator:
    return compile_expression(expr, scope)


class ScanOp(Operator):
    """Stamp each event's time (TIMESTAMP BY or arrival time) and apply the event ordering policies.

    Late-arrival and out-of-order tolerances, Adjust or Drop, per ``TIMESTAMP BY ... OVER`` key or for the
    whole input: ``asanb.engine.ordering`` (../shared/spec/saql.md, "Time"). They apply with TIMESTAMP BY
    only, as in ASA: arrival times are in order by construction. ``arrival_column`` names the source's
    recorded arrival times: the event time without TIMESTAMP BY, the late-arrival reference with it.
    """

    def __init__(self, node: logical.InputScan, counters: Counters, tolerance_ns: int, policy: str,
                 now: Callable[[], pd.Timestamp], late_arrival_ns: int = 5 * 10**9,
                 arrival_column: str | None = None) -> None:
        self.step = node.step
        self.node = node
        self.now = now
        self.arrival_column = arrival_column
        self.timestamp = _compile(node.timestamp_by, node.scope) if node.timestamp_by is not None else None
        self.substream_keys = [_compile(expr, node.scope) for expr in node.timestamp_over]
        self.ordering = EventOrdering(OrderingPolicy(late_arrival_ns, tolerance_ns, policy), counters,
                                      substreams=bool(self.substream_keys))

    @property
    def max_seen_ns(self) -> int | None:
        """The input's replay clock: the latest event time read from it."""
        return self.ordering.clock_ns

    @property
    def watermark_ns(self) -> int | None:
        if self.timestamp is None and self.arrival_column is None:
            return self.ordering.clock_ns
        return self.ordering.watermark_ns

    def on_batch(self, frame: pd.DataFrame, port: int = 0) -> list[pd.DataFrame]:
        if frame.empty:
            return []
        nanos = self.event_nanos(frame)
        frame = frame.copy(deep=False)
        if self.timestamp is None and self.arrival_column is None:
            self.ordering.clock_ns = max(self.ordering.clock_ns or nanos[0], int(nanos[-1]))
        else:
            keys = [key(frame) for key in self.substream_keys]
            arrivals = None if self.arrival_column is None else recorded_arrivals(frame, self.arrival_column,
                                                                                   self.node.alias)
            nanos, keep = self.ordering.apply(nanos, keys, arrivals)
            if keep is not None:
                frame, nanos = frame[keep].reset_index(drop=True), nanos[keep]
        frame[EVENT_TIME] = pd.arrays.DatetimeArray._from_sequence(
            nanos.view("datetime64[ns]"), dtype=pd.DatetimeTZDtype("ns", "UTC"))
        return [frame]

    def state_size(self) -> int:
        return self.ordering.state_size()

    def event_nanos(self, frame: pd.DataFrame) -> np.ndarray:
        """Each event's time as int64 nanoseconds since the epoch, UTC."""
        if self.timestamp is None and self.arrival_column is not None:
            return recorded_arrivals(frame, self.arrival_column, self.node.alias)
        if self.timestamp is None:
            # Without TIMESTAMP BY the event time is the arrival time: the wall clock when the batch is read.
            return np.full(len(frame), self.now().as_unit("ns").value, dtype=np.int64)
        times = self.event_times(frame)
        nanos: np.ndarray = times.dt.tz_convert("UTC").to_numpy(dtype="datetime64[ns]").view("i8")
        return nanos

    def event_times(self, frame: pd.DataFrame) -> pd.Series:
        values = self.timestamp(frame)  # type: ignore[misc]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            return values.dt.tz_convert("UTC")
        if values.dtype.kind == "M":
            return values.dt.tz_localize("UTC")  # ASA times are UTC; a naive column is read as UTC
        span = self.node.timestamp_by.span  # type: ignore[union-attr]
        if values.dtype.kind in "biufc" or values.dtype == bool:
            raise PlanError(
                f"TIMESTAMP BY needs a datetime or an ISO 8601 string, but this expression is numeric "
                f"(dtype {values.dtype}); use a datetime column or DATEADD(millisecond, x, '1970-01-01')",
                span,
            )
        try:
            parsed = pd.to_datetime(values, utc=True, format="ISO8601")
        except (ValueError, TypeError) as error:
            raise PlanError(f"TIMESTAMP BY value is not a datetime: {error}", span) from None
        if parsed.isna().any():
            raise EventError(f"TIMESTAMP BY is NULL for {int(parsed.isna().sum())} event(s) at {span}",
                             step=self.step)
        return parsed


class FilterOp(Operator):
    """WHERE / HAVING: keep rows whose condition is true; the others are counted as filtered."""

    def __init__(self, node: logical.Filter, counters: Counters, policy: ErrorPolicy) -> None:
        self.step = node.step
        self.condition = _compile(node.condition, node.scope)
        self.counters = counters
        self.policy = policy

    def on_batch(self, frame: pd.DataFrame, port: int = 0) -> list[pd.DataFrame]:
        kept = self.policy.apply(frame, self._filter, self.step)
        self.counters.count("filtered", len(frame) - len(kept))
        return [kept] if len(kept) else []

    def _filter(self, frame: pd.DataFrame) -> pd.DataFrame:
        mask = truth_mask(self.condition(frame))
        if mask.all():
            return frame
        # take() on positions is cheaper than boolean indexing, which re-derives them per column.
        return frame.take(np.flatnonzero(mask)).reset_index(drop=True)


class ProjectOp(Operator):
    """SELECT list: compute the named columns; event time travels along."""

    def __init__(self, node: logical.Project, policy: ErrorPolicy) -> None:
        self.step = node.step
        self.items = [(name, _compile(expr, node.scope)) for name, expr in node.items]
        self.policy = policy

    def on_batch(self, frame: pd.DataFrame, port: int = 0) -> list[pd.DataFrame]:
        return [self.policy.apply(frame, self._project, self.step)]

    def _project(self, frame: pd.DataFrame) -> pd.DataFrame:
        columns: dict[str, Any] = {}
        for name, evaluate in self.items:
            value = evaluate(frame)
            if isinstance(value, pd.Series):
                # Values are computed from this frame's rows in order: the bare arrays skip index alignment.
                value = value.to_numpy() if value.dtype == object else value.array
            columns[name] = value
        columns[EVENT_TIME] = frame[EVENT_TIME].array
        return pd.DataFrame(columns, index=frame.index, copy=False)


class ScoreOp(Operator):
    """Call a UDF for every row of the batch and add its value as a column (hoisted ``udf.*`` calls)."""

    def __init__(self, node: logical.Score, function: BatchFunction, policy: ErrorPolicy | None = None) -> None:
        self.step = node.step
        self.node = node
        self.function = function
        self.policy = policy
        self.arguments = [self._argument(expr, node.scope) for expr in node.arguments]
        self.in_order = InOrder()

    @staticmethod
    def _argument(expr: ast.Expr, scope: Scope) -> Callable[[pd.DataFrame], pd.Series | pd.DataFrame]:
        if isinstance(expr, ast.ColumnRef):
            binding = scope.resolve(expr)
            if binding.column is None:
                # A whole row as a record: hand the columns over as a frame, not one dict per row.
                columns = [column for _, column in binding.fields]
                names = [name for name, _ in binding.fields]
                return lambda frame: frame[columns].set_axis(names, axis=1)
        return _compile(expr, scope)

    async def on_batch(self, frame: pd.DataFrame, port: int = 0) -> list[pd.DataFrame]:  # type: ignore[override]
        if frame.empty:
            return []
        return await self.in_order.run(self._score(frame))

    async def _score(self, frame: pd.DataFrame) -> list[pd.DataFrame]:
        arguments = [argument(frame) for argument in self.arguments]
        try:
            values = await self.function(arguments, len(frame))
        except UdfResultError as error:
            # Values that do not convert to the declared output type follow the output error policy.
            if self.policy is None or self.policy.policy != "Drop":
                error.step = error.step or self.step
                raise
            keep = np.ones(len(frame), dtype=bool)
            keep[np.asarray(error.positions, dtype=np.int64)] = False
            self.policy.counters.drop("output_error_policy", int((~keep).sum()))
            frame, values = frame[keep].reset_index(drop=True), np.asarray(error.values, dtype=object)[keep]
            if frame.empty:
                return []
        frame = frame.copy(deep=False)
        frame[self.node.output] = _as_column(values, len(frame))
        return [frame]


def _as_column(values: Any, rows: int) -> Any:
    if isinstance(values, pd.Series):
        return values.to_numpy()
    if isinstance(values, np.ndarray) and values.ndim == 1:
        return values
    column = np.empty(rows, dtype=object)
    column[:] = list(values)
    return column


class UnionOp(Operator):
    """ASA's UNION keeps every row of every branch (duplicates too)."""

    def __init__(self, node: logical.UnionAll) -> None:
        self.step = node.step
        self.columns = list(node.columns) + [EVENT_TIME]

    def on_batch(self, frame: pd.DataFrame, port: int = 0) -> list[pd.DataFrame]:
        return [frame[self.columns]]


class OutputOp(Operator):
    """Deliver the statement's columns to its output alias; bookkeeping columns stay inside the engine."""

    def __init__(self, node: logical.Output, sink: Callable[[str, pd.DataFrame], None]) -> None:
        self.step = node.step
        self.alias = node.alias
        self.columns = [c for c in node.columns if not c.startswith(INTERNAL_PREFIX)]
        self.sink = sink

    def on_batch(self, frame: pd.DataFrame, port: int = 0) -> list[pd.DataFrame]:
        if len(frame):
            shaped = list(frame.columns) == self.columns + [EVENT_TIME]
            # The usual frame is the statement's projection: pass it whole (the collector drops event time once,
            # at the end) instead of copying the selection per batch.
            self.sink(self.alias, frame if shaped else frame[self.columns])
        return []
