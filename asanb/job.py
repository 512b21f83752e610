"""Run a query as a job: parse, plan, bind inputs and functions, execute, and hand back Results.

``run`` is the one synchronous facade over the async executor; when the calling thread already runs an
event loop (a Jupyter cell) the job runs on its own loop in a worker thread, so no loop is ever nested.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from asanb.config import JobConfig
from asanb.engine.executor import Executor, Progress
from asanb.errors import AsanbError, ConfigError, UdfInCaseWarning
from asanb.event_loop import run_to_completion
from asanb.io.reference import as_reference
from asanb.io.sources import as_source
from asanb.plan.catalog import Catalog, FunctionInfo
from asanb.plan.planner import plan_query
from asanb.sql import lint
from asanb.sql.parser import parse
from asanb.udf.binding import BoundFunction, bind_function

__all__ = ["Results", "run"]


@dataclass
class Results:
    """What a job produced.

    ``outputs`` maps each output alias to a DataFrame (``results["alias"]`` also works, ignoring case);
    ``state`` is "Stopped" or "Failed" with ``error`` telling why; ``counters`` counts events read per
    input, emitted per output, filtered, and dropped by reason; ``metrics`` has one row per UDF request.
    """

    outputs: dict[str, pd.DataFrame]
    state: str
    error: AsanbError | None = None
    counters: dict[str, Any] = field(default_factory=dict)
    metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: list[str] = field(default_factory=list)
    watermark: pd.Timestamp | None = None

    def __getitem__(self, alias: str) -> pd.DataFrame:
        for name, frame in self.outputs.items():
            if name.lower() == alias.lower():
                return frame
        raise KeyError(f"no output '{alias}'; outputs: {', '.join(self.outputs) or '(none)'}")

    def summary(self) -> str:
        """One line per fact: state, events in/out/dropped, requests, error."""
        lines = [f"state: {self.state}"]
        lines.append(f"events in: {_fmt(self.counters.get('events_in', {}))}")
        lines.append(f"events out: {_fmt(self.counters.get('events_out', {}))}")
        dropped = self.counters.get("dropped", {})
        if dropped:
            lines.append(f"dropped: {_fmt(dropped)}")
        if len(self.metrics):
            lines.append(f"requests: {len(self.metrics)}")
        if self.error is not None:
            lines.append(f"error: {self.error}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{alias}: {len(frame)} rows" for alias, frame in self.outputs.items())
        return f"<Results {self.state}; {shapes}>"


def _fmt(values: Mapping[str, int]) -> str:
    return ", ".join(f"{key}={value:,}" for key, value in values.items()) or "0"


def run(query: str, inputs: Mapping[str, Any] | None = None, *, reference: Mapping[str, Any] | None = None,
        functions: Iterable[Any] | None = None, config: JobConfig | None = None,
        on_progress: Progress | None = None, on_request: Callable[[Any], None] | None = None,
        stop: threading.Event | None = None) -> Results:
    """Run ``query`` over ``inputs`` until they end (or a limit in ``config``) and return the Results.

    Args:
        query: SAQL text: WITH steps and one or more ``SELECT ... INTO output FROM input`` statements.
        inputs: input alias -> DataFrame, list of dicts, file path (.json/.jsonl/.csv/.parquet),
            ``"sim:taxi?rate=..."`` or a source object.
        reference: reference data by alias, for ``JOIN alias ON ...`` without a time bound: a DataFrame, a
            list of row dicts, a file path, a callable returning one of those, or ``asanb.Reference(source,
            refresh_seconds=...)`` to re-read a file or callable on a wall-clock interval.
        functions: ``MLFunction`` and other UDF definitions, called as ``udf.<alias>(...)``.
        config: job settings (streaming units, ordering and error policies, clock, limits).
        on_progress: called after every micro-batch with a sample: events in/out, dropped, watermark,
            rows held in state, ML requests so far and in flight (the live dashboard draws these).
        on_request: called with each ML request attempt's ``RequestMetric`` as it completes.
        stop: set this event to stop the job; what was emitted so far is kept.

    Raises:
        AsaSyntaxError, PlanError, ConfigError, FunctionError: the job cannot start; the message names the
        place. Failures while running do not raise: they give ``state == "Failed"`` and ``error``.
    """
    config = config or JobConfig()
    prepared = prepare(query, inputs or {}, functions or (), config, reference=reference)
    if on_request is not None:
        for function in prepared.bound.values():
            if hasattr(function, "listeners"):
                function.listeners.append(on_request)
    return run_to_completion(lambda: prepared.execute(on_progress=on_progress, stop=stop))


@dataclass
class PreparedJob:
    """A parsed, planned job with its sources and functions bound, ready to execute once."""

    executor_factory: Callable[..., Executor]
    bound: dict[str, BoundFunction]
    warnings: list[str]

    async def execute(self, *, on_progress: Progress | None = None,
                      stop: threading.Event | None = None) -> Results:
        def sample(values: dict[str, object]) -> None:
            values = values | _function_counters(self.bound)
            values["ml_in_flight"] = sum(function.in_flight() for function in self.bound.values())
            on_progress(values)  # type: ignore[misc]

        executor = self.executor_factory(on_progress=sample if on_progress else None, stop=stop)
        try:
            outcome = await executor.run()
        finally:
            for function in self.bound.values():
                await function.aclose()
        metrics = [function.metrics_frame() for function in self.bound.values()]
        metrics = [frame for frame in metrics if len(frame)]
        return Results(
            outputs=outcome.outputs, state=outcome.state, error=outcome.error,
            counters=outcome.counters.snapshot() | _function_counters(self.bound),
            metrics=pd.concat(metrics, ignore_index=True) if metrics else pd.DataFrame(),
            warnings=self.warnings, watermark=outcome.watermark,
        )


def _function_counters(bound: Mapping[str, BoundFunction]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for function in bound.values():
        for key, value in function.counters().items():
            merged[key] = merged.get(key, 0) + value
    return merged


def prepare(query: str, inputs: Mapping[str, Any], functions: Iterable[Any], config: JobConfig, *,
            reference: Mapping[str, Any] | None = None) -> PreparedJob:
    """Parse, bind and plan; raises before any event is read when something is wrong."""
    tree = parse(query)
    sources = {alias: as_source(value, alias=alias) for alias, value in inputs.items()}
    tables = {alias: as_reference(value, alias=alias) for alias, value in (reference or {}).items()}
    # One load up front gives the planner the columns (and fails early on a bad file or callable).
    reference_columns = {alias: tuple(table.load().columns) for alias, table in tables.items()}
    bound: dict[str, BoundFunction] = {}
    for definition in functions:
        function = bind_function(definition, config)
        if function.alias.lower() in bound:
            raise ConfigError(f"two functions are registered as udf.{function.alias}")
        bound[function.alias.lower()] = function
    catalog = Catalog(
        inputs={alias: tuple(source.schema) for alias, source in sources.items()},
        functions={key: FunctionInfo(f.alias, f.namespace, f.output_type, f.check_arguments)
                   for key, f in bound.items()},
        references=reference_columns,
    )
    plan = plan_query(tree, catalog)
    notes = []
    for diagnostic in lint.lint(tree):
        notes.append(diagnostic.message)
        warnings.warn(diagnostic.message, UdfInCaseWarning, stacklevel=3)

    def factory(**options: Any) -> Executor:
        size = micro_batch_size(config.batch_size, bound.values())
        readers = {alias: iter(source.batches(size)) for alias, source in sources.items()}
        arrivals = {alias: column for alias, source in sources.items()
                    if (column := getattr(source, "arrival_time_column", None)) is not None}
        return Executor(plan, readers, bound, config, references=tables, arrival_columns=arrivals, **options)

    return PreparedJob(factory, bound, notes)


def micro_batch_size(configured: int, functions: Iterable[BoundFunction]) -> int:
    """``configured`` rounded up to a whole number of ML scoring rounds (max batch count x parallel x
    partitions), at most doubled. A micro-batch that ends mid-round sends its last round part-full, and when the
    endpoint's latency dominates, a part-full round takes as long as a full one: up to one round's worth of
    throughput lost per micro-batch, and request sizes ASA would not send for a steady stream."""
    unit = max((function.rows_per_round for function in functions), default=0)
    if unit <= 0:
        return configured
    aligned = -(-configured // unit) * unit
    return aligned if aligned <= 2 * configured else configured
