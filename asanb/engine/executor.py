"""Drive a logical plan: build one operator per node, read inputs in event-time order, push micro-batches
through the operator DAG, advance the watermark, and collect what the outputs receive."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import pandas as pd

from asanb.config import JobConfig
from asanb.engine.aggregates import AggregateSpec, GroupAggregator
from asanb.engine.analytic_op import AnalyticOp
from asanb.engine.apply_op import ApplyOp
from asanb.engine.counters import Counters
from asanb.engine.join_op import StreamJoinOp
from asanb.engine.operator import Operator
from asanb.engine.operators import (
    BatchFunction,
    ErrorPolicy,
    FilterOp,
    OutputOp,
    ProjectOp,
    ScanOp,
    ScoreOp,
    UnionOp,
)
from asanb.engine.pacing import Pacer
from asanb.engine.reference_join_op import ReferenceJoinOp, ReferenceTable
from asanb.engine.window_op import WindowAggregateOp
from asanb.errors import AsanbError, InternalError, QueryError
from asanb.plan import logical
from asanb.plan.scope import EVENT_TIME

Progress = Callable[[dict[str, object]], None]


@dataclass
class RunOutcome:
    """What a run produced: output frames, counters, final state and the error that failed it, if any."""

    outputs: dict[str, pd.DataFrame]
    counters: Counters
    state: str
    error: AsanbError | None = None
    watermark: pd.Timestamp | None = None


@dataclass
class _Collector:
    frames: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    counters: Counters = field(default_factory=Counters)

    def __call__(self, alias: str, frame: pd.DataFrame) -> None:
        self.frames.setdefault(alias, []).append(frame)
        self.counters.emit(alias, len(frame))

    def result(self, aliases: list[str]) -> dict[str, pd.DataFrame]:
        out = {}
        for alias in aliases:
            frames = self.frames.get(alias, [])
            frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
            out[alias] = frame.drop(columns=[EVENT_TIME], errors="ignore")
        return out


def _user_aggregate(name: str, functions: Mapping[str, BatchFunction]) -> GroupAggregator | None:
    """The bound ``uda.<alias>``'s per-emission entry point (``aggregate``), None for built-in aggregates."""
    if not name.startswith("uda."):
        return None
    return functions[name.removeprefix("uda.")].aggregate  # type: ignore[attr-defined, no-any-return]


class Executor:
    """One run of one plan. ``functions`` maps lower-case UDF aliases to batch functions."""

    def __init__(self, plan: logical.Plan, inputs: Mapping[str, Iterator[pd.DataFrame]],
                 functions: Mapping[str, BatchFunction], config: JobConfig, *,
                 stop: threading.Event | None = None, on_progress: Progress | None = None,
                 now: Callable[[], pd.Timestamp] | None = None,
                 references: Mapping[str, ReferenceTable] | None = None,
                 arrival_columns: Mapping[str, str] | None = None) -> None:
        self.plan = plan
        self.inputs = dict(inputs)
        self.config = config
        self.stop = stop or threading.Event()
        self.on_progress = on_progress
        self.collector = _Collector()
        self.counters = self.collector.counters
        self.policy = ErrorPolicy(config.output_error_policy, self.counters)
        self.now = now or (lambda: pd.Timestamp.now(tz="UTC"))
        self.references = {alias.lower(): table for alias, table in (references or {}).items()}
        self.arrival_columns = dict(arrival_columns or {})  # input alias -> its recorded arrival times
        self.nodes = plan.nodes()
        try:
            self.operators: list[Operator] = [self._build(node, functions) for node in self.nodes]
        except QueryError as error:  # compiling expressions finds unknown functions and arities
            raise error.with_query(plan.query.text) from None
        index = {id(node): position for position, node in enumerate(self.nodes)}
        self.consumers: list[list[tuple[int, int]]] = [[] for _ in self.nodes]
        for position, node in enumerate(self.nodes):
            for port, child in enumerate(logical.children(node)):
                self.consumers[index[id(child)]].append((position, port))
        self.scans: dict[str, list[ScanOp]] = {}
        for operator in self.operators:
            if isinstance(operator, ScanOp):
                self.scans.setdefault(operator.node.alias, []).append(operator)
        self.watermark_ns: int | None = None
        self._pacer = Pacer(config.speed, config.batch_size)
        self.overlap = self._can_overlap()

    def _can_overlap(self) -> bool:
        """Whether the next micro-batch may enter while the previous one waits for ML UDF answers.

        Only for one input and stateless operators: then no operator's result depends on the watermark or on
        another batch, and ScoreOp releases batches in entry order. With state (windows, joins, LAG, ...) a
        batch must be complete downstream before the watermark moves past it, so batches go one at a time.
        """
        stateless = (ScanOp, FilterOp, ProjectOp, ScoreOp, UnionOp, OutputOp)
        scans = [operator for operator in self.operators if isinstance(operator, ScanOp)]
        remote = any(isinstance(operator, ScoreOp) and getattr(operator.function, "rows_per_round", 0) > 0
                     for operator in self.operators)
        return len(scans) == 1 and remote and all(type(operator) in stateless for operator in self.operators)

    def _build(self, node: logical.PlanNode, functions: Mapping[str, BatchFunction]) -> Operator:
        if isinstance(node, logical.InputScan):
            tolerance = int(self.config.events_out_of_order_max_delay_seconds * 1e9)
            late = int(self.config.events_late_arrival_max_delay_seconds * 1e9)
            return ScanOp(node, self.counters, tolerance, self.config.events_out_of_order_policy, self.now, late,
                          self.arrival_columns.get(node.alias))
        if isinstance(node, logical.Filter):
            return FilterOp(node, self.counters, self.policy)
        if isinstance(node, logical.Project):
            return ProjectOp(node, self.policy)
        if isinstance(node, logical.Score):
            return ScoreOp(node, functions[node.function.lower()], self.policy)
        if isinstance(node, logical.Analytic):
            return AnalyticOp(node, self.policy)
        if isinstance(node, logical.Aggregate):
            specs = tuple(AggregateSpec(a.function, a.argument, a.output, a.distinct, a.parameter, a.order_by,
                                        a.record_columns, _user_aggregate(a.function, functions))
                          for a in node.aggregates)
            windows = node.windows
            window: logical.WindowDefinition | tuple[logical.WindowDefinition, ...] = (
                windows[0] if len(windows) == 1 else windows)
            return WindowAggregateOp(window, node.keys, specs, step=node.step)
        if isinstance(node, logical.UnionAll):
            return UnionOp(node)
        if isinstance(node, logical.Join) and node.reference is None:
            return StreamJoinOp(node, self.policy)
        if isinstance(node, logical.Apply):
            return ApplyOp(node, self.policy)
        if isinstance(node, logical.Join):
            assert node.reference is not None
            return ReferenceJoinOp(node, self.references[node.reference.lower()], self.policy, self.now)
        return OutputOp(node, self.collector)

    async def run(self) -> RunOutcome:
        """Run until the inputs end, the stop event is set, or a limit in the config is reached."""
        state, error = "Stopped", None
        try:
            await self._drive()
        except AsanbError as failure:
            state, error = "Failed", failure
            if isinstance(failure, QueryError):
                failure.with_query(self.plan.query.text)
        except Exception as failure:  # an asanb bug: keep its traceback as the cause
            state = "Failed"
            error = InternalError(f"internal error while running the query: {type(failure).__name__}: {failure}")
            error.__cause__ = failure
        aliases = [output.alias for output in self.plan.outputs]
        watermark = None if self.watermark_ns is None else pd.Timestamp(self.watermark_ns, tz="UTC")
        return RunOutcome(self.collector.result(aliases), self.counters, state, error, watermark)

    async def _drive(self) -> None:
        in_flight: deque[tuple[asyncio.Task[None], int]] = deque()  # pushes under way, with their rows
        try:
            await self._read_all(in_flight)
            while in_flight:
                await in_flight.popleft()[0]
        except BaseException:
            # An earlier batch failed the job: the batch read ahead of it is given up, and its events counted.
            for task, rows in in_flight:
                task.cancel()
                self.counters.drop("read_ahead_when_the_job_failed", rows)
            await asyncio.gather(*(task for task, _ in in_flight), return_exceptions=True)
            raise
        for position, operator in enumerate(self.operators):
            for frame in operator.on_end():
                await self._emit(position, frame)
        self._report()

    async def _read_all(self, in_flight: deque[tuple[asyncio.Task[None], int]]) -> None:
        """Read the inputs in event-time order and push each micro-batch through the operators: one at a
        time, or (``self.overlap``) with the next one already under way."""
        active = [alias for alias in self.inputs if alias in self.scans]
        started = time.monotonic()
        paced = self.config.clock == "paced"
        while active and not self.stop.is_set():
            if self.config.duration_seconds is not None and time.monotonic() - started >= self.config.duration_seconds:
                break
            alias = min(active, key=self._position)
            frame = next(self.inputs[alias], None)
            if frame is None:
                active.remove(alias)
                await self._advance(active)
                continue
            for chunk in self._pacer.chunks(frame) if paced else (frame,):
                chunk = self._limit(alias, chunk)
                if chunk is None:
                    active.remove(alias)
                    break
                for scan in self.scans[alias]:
                    push = self._push(self.operators.index(scan), chunk, 0)
                    if not self.overlap:
                        await push
                        continue
                    in_flight.append((asyncio.create_task(push), len(chunk)))
                    # One turn of the loop runs the new task up to its first wait for answers: the scan has
                    # seen the batch, so the watermark (and the paced clock) advance exactly as without overlap.
                    await asyncio.sleep(0)
                    while len(in_flight) > 1:
                        await in_flight.popleft()[0]
                await self._advance(active)
                if paced:
                    await self._pacer.wait(self.watermark_ns, len(chunk), self.stop)
                else:
                    await asyncio.sleep(0)  # let UDF requests and background observers make progress
                self._report()
                if self.stop.is_set():
                    break

    def _position(self, alias: str) -> float:
        seen = [scan.max_seen_ns for scan in self.scans[alias]]
        return float("-inf") if any(s is None for s in seen) else float(min(s for s in seen if s is not None))

    def _limit(self, alias: str, frame: pd.DataFrame) -> pd.DataFrame | None:
        limit = self.config.limit_events
        already = self.counters.events_in[alias]
        if limit is not None:
            if already >= limit:
                return None
            frame = frame.iloc[: limit - already]
        self.counters.read(alias, len(frame))
        return frame

    async def _advance(self, active: list[str]) -> None:
        marks = [scan.watermark_ns for alias in active for scan in self.scans[alias]]
        if any(mark is None for mark in marks):
            return
        if not marks:
            return
        watermark = min(mark for mark in marks if mark is not None)
        if self.watermark_ns is not None and watermark <= self.watermark_ns:
            return
        self.watermark_ns = watermark
        # Events at exactly the watermark may still arrive (equal times are in order), so only times
        # strictly before it are final.
        for position, operator in enumerate(self.operators):
            for frame in operator.on_watermark(watermark - 1):
                await self._emit(position, frame)

    async def _push(self, position: int, frame: pd.DataFrame, port: int) -> None:
        produced = self.operators[position].on_batch(frame, port)
        if inspect.isawaitable(produced):
            produced = await produced
        for out in produced:
            await self._emit(position, out)

    async def _emit(self, position: int, frame: pd.DataFrame) -> None:
        for consumer, port in self.consumers[position]:
            await self._push(consumer, frame, port)

    def _report(self) -> None:
        if self.on_progress is None:
            return
        sample = self.counters.snapshot()
        sample["watermark"] = None if self.watermark_ns is None else pd.Timestamp(self.watermark_ns, tz="UTC")
        sample["state_rows"] = sum(operator.state_size() for operator in self.operators)
        # How far output lags the newest event read: event time, so replays of old data read sensibly.
        newest = [scan.max_seen_ns for scans in self.scans.values() for scan in scans if scan.max_seen_ns is not None]
        sample["watermark_delay_s"] = (
            None if self.watermark_ns is None or not newest else max(0.0, (max(newest) - self.watermark_ns) / 1e9))
        self.on_progress(sample)
