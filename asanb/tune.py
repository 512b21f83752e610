"""asanb.tune: measure an ML endpoint the way ASA's docs advise and recommend the function's two settings
(../shared/spec/ml_udf.md §7): ``batch_size`` sends sample requests of growing size and picks the max batch
count at the knee of throughput; ``parallel_requests`` turns a measured latency into parallel requests per
partition with Little's law, then checks that latency under that concurrency."""

from __future__ import annotations

import dataclasses
import html
import json
import math
import time
import urllib.request
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from asanb.config import partitions_for
from asanb.errors import ConfigError
from asanb.event_loop import run_to_completion
from asanb.udf.codec import RowBlock
from asanb.udf.dispatch import BatchScorer
from asanb.udf.metrics import RequestMetric
from asanb.udf.ml import MAX_BATCH_COUNT, MLFunction
from asanb.udf.swagger import Signature, load_signature

__all__ = ["BatchSizeReport", "ParallelRequestsReport", "batch_size", "knee", "littles_law", "parallel_requests",
           "sample_rows", "swagger_example"]

DEFAULT_SIZES = (50, 200, 500, 1000, 2000, 5000)
"""The docs' progression: 50, then hundreds, then thousands."""

EFFICIENCY = 0.8
"""The knee: the smallest batch reaching this share of the best measured rows per second."""

LOADED_SLOWDOWN = 1.2
"""Latency under load this much above the unloaded latency means the endpoint queues requests."""


def knee(sizes: Sequence[int], latencies_ms: Sequence[float], efficiency: float = EFFICIENCY) -> int:
    """The smallest batch size whose throughput (rows per second) is at least ``efficiency`` of the best one:
    past it a bigger batch gains little throughput and makes every event wait longer for its result."""
    if not sizes or len(sizes) != len(latencies_ms):
        raise ConfigError("knee: give one latency per batch size")
    throughput = np.asarray(sizes, dtype=float) / np.maximum(np.asarray(latencies_ms, dtype=float), 1e-9)
    reaching = np.flatnonzero(throughput >= efficiency * throughput.max())
    return int(np.asarray(sizes)[reaching].min())


def littles_law(target_events_per_s: float, batch: int, latency_ms: float, partitions: int) -> tuple[int, int]:
    """(concurrent requests needed in total, parallel requests per partition): in-flight requests =
    arrival rate of requests × time each one takes (Little's law)."""
    if target_events_per_s <= 0 or batch < 1 or latency_ms <= 0 or partitions < 1:
        raise ConfigError("parallel_requests: target events/s, batch size, latency and partitions must be positive")
    in_flight = target_events_per_s / batch * latency_ms / 1000
    total = max(1, math.ceil(in_flight - 1e-9))
    return total, max(1, math.ceil(total / partitions))


_SAMPLE_VALUES = {"bigint": 1, "float": 1.0, "bit": True, "datetime": "2026-01-01T00:00:00Z"}


def swagger_example(function: MLFunction, input_name: str) -> list[dict[str, Any]]:
    """The example rows of the swagger's ServiceInput (Azure ML endpoints generate them); [] when absent."""
    document: Any = function.swagger
    try:
        if document is None or isinstance(document, str) and document.startswith(("http://", "https://")):
            url = document or function.swagger_url
            headers = {"Authorization": f"Bearer {function.api_key}"} if function.api_key else {}
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
                document = json.loads(response.read())
        elif isinstance(document, str):
            with open(document, encoding="utf-8") as file:
                document = json.load(file)
        rows = document["definitions"]["ServiceInput"]["example"]["Inputs"][input_name]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []


def sample_rows(function: MLFunction, signature: Signature, sample: Any = None) -> pd.DataFrame:
    """Request rows for tuning: ``sample`` (a DataFrame or a list of dicts), else the swagger's example rows,
    else one value of each input column's type. Columns follow the signature when the sample has them all."""
    if sample is None:
        rows: Any = swagger_example(function, signature.input_name) or [
            {column.name: _SAMPLE_VALUES.get(column.data_type, "a") for column in signature.columns}]
        sample = pd.DataFrame(rows)
    elif not isinstance(sample, pd.DataFrame):
        sample = pd.DataFrame(list(sample))
    if sample.empty:
        raise ConfigError("tune: the sample has no rows; pass a DataFrame of events shaped like the model's input")
    names = [column.name for column in signature.columns]
    if names and set(names) <= set(sample.columns):
        sample = sample[names]
    return sample.reset_index(drop=True)


class _Probe:
    """Sends batches of sample rows through asanb's own dispatcher (same body, headers, retries as a job)."""

    def __init__(self, function: MLFunction, sample: Any, max_retry_seconds: float) -> None:
        self.function = function
        self.signature: Signature = load_signature(function)
        self.rows = sample_rows(function, self.signature, sample)
        self.max_retry_seconds = max_retry_seconds
        self.seconds = 0.0

    def block(self, rows: int) -> RowBlock:
        # The sample repeated to the size asked for: the endpoint's cost depends on the row count.
        return RowBlock(records=self.rows.iloc[np.arange(rows) % len(self.rows)].reset_index(drop=True))

    def measure(self, batch: int, concurrency: int, rounds: int) -> list[RequestMetric]:
        """``rounds`` times, ``concurrency`` requests of ``batch`` rows at once; one metric per attempt.
        ``self.seconds`` is how long the rounds took, retries included."""
        function = dataclasses.replace(self.function, max_batch_count=batch,
                                       parallel_requests_per_partition=concurrency)
        block = self.block(batch * concurrency)
        metrics: list[RequestMetric] = []

        async def go() -> None:
            scorer = BatchScorer(function, self.signature, partitions=1, on_metric=metrics.append,
                                 max_retry_seconds=self.max_retry_seconds)
            try:
                for _ in range(rounds):
                    await scorer.score(block)
            finally:
                await scorer.aclose()

        started = time.monotonic()
        run_to_completion(go, thread_name="asanb-tune")
        self.seconds = time.monotonic() - started
        return metrics


def _stats(metrics: list[RequestMetric]) -> dict[str, float]:
    ok = np.array([m.latency_ms for m in metrics if m.status == 200], dtype=float)
    return {"requests": len(metrics), "not OK": sum(m.status != 200 for m in metrics),
            "latency p50 ms": float(np.median(ok)) if len(ok) else math.nan,
            "latency p95 ms": float(np.quantile(ok, 0.95)) if len(ok) else math.nan}


@dataclasses.dataclass(frozen=True)
class BatchSizeReport:
    """One row per batch size measured, the recommended max batch count and why."""

    function: MLFunction
    table: pd.DataFrame
    recommended: int
    reason: str

    def figure(self) -> Any:
        """Latency and throughput against batch size (a plain plotly figure: it saves with the notebook)."""
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        figure = make_subplots(specs=[[{"secondary_y": True}]])
        table = self.table
        figure.add_trace(go.Scatter(x=table["batch size"], y=table["latency p50 ms"], name="latency p50 (ms)",
                                    mode="lines+markers"))
        figure.add_trace(go.Scatter(x=table["batch size"], y=table["rows per second"], name="rows per second",
                                    mode="lines+markers", line={"dash": "dot"}), secondary_y=True)
        figure.add_vline(x=self.recommended, line_dash="dash", line_color="#2e7d32",
                         annotation_text=f"max batch count {self.recommended}")
        figure.update_xaxes(type="log", title_text="rows per request")
        figure.update_yaxes(title_text="latency p50 (ms)", secondary_y=False)
        figure.update_yaxes(title_text="rows per second", secondary_y=True)
        figure.update_layout(title=f"udf.{self.function.alias}: latency vs batch size", height=380)
        return figure

    def apply(self) -> MLFunction:
        """The function with ``max_batch_count`` set to the recommendation."""
        return dataclasses.replace(self.function, max_batch_count=self.recommended)

    def __repr__(self) -> str:
        return f"{self.table.to_string(index=False)}\nRecommended max batch count: {self.recommended}. {self.reason}"

    def _repr_html_(self) -> str:
        return (f"{self.table.to_html(index=False)}<p><b>Recommended max batch count: {self.recommended}</b>. "
                f"{html.escape(self.reason)}</p>")

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display

        display(self.figure(), HTML(self._repr_html_()))  # type: ignore[no-untyped-call]


def batch_size(function: MLFunction, sizes: Iterable[int] = DEFAULT_SIZES, *, repeats: int = 5,
               sample: Any = None, efficiency: float = EFFICIENCY, max_retry_seconds: float = 10.0) -> BatchSizeReport:
    """Send ``repeats`` sample requests of each size (after one warm-up request) and recommend the max batch
    count at the knee (``knee``). ``sample``: rows to send (DataFrame or list of dicts/lists); default the
    swagger's example row, repeated."""
    chosen = sorted({int(size) for size in sizes})
    if not chosen or chosen[0] < 1 or chosen[-1] > MAX_BATCH_COUNT or repeats < 1:
        raise ConfigError(f"tune.batch_size: sizes must be 1..{MAX_BATCH_COUNT} and repeats at least 1, "
                          f"got sizes={chosen} repeats={repeats}")
    probe = _Probe(function, sample, max_retry_seconds)
    probe.measure(chosen[0], 1, 1)  # warm-up: opens the connection, so the first size is not penalized
    rows = []
    for size in chosen:
        stats = _stats(probe.measure(size, 1, repeats))
        rows.append({"batch size": size, **stats,
                     "rows per second": size / stats["latency p50 ms"] * 1000 if stats["latency p50 ms"] else math.nan})
    table = pd.DataFrame(rows)
    usable = table[(table["not OK"] == 0) & table["latency p50 ms"].notna()]
    if usable.empty:
        raise ConfigError(f"tune.batch_size: no batch size answered without errors at {function.endpoint}; "
                          "check the endpoint with the form's Test endpoint first")
    best = usable.loc[usable["rows per second"].idxmax()]
    recommended = knee(usable["batch size"].tolist(), usable["latency p50 ms"].tolist(), efficiency)
    chosen_row = usable.set_index("batch size").loc[recommended]
    reason = (f"{recommended} rows per request reach {chosen_row['rows per second']:,.0f} rows/s, "
              f"{chosen_row['rows per second'] / best['rows per second']:.0%} of the best measured "
              f"({best['rows per second']:,.0f} rows/s at {int(best['batch size'])}), with a p50 latency of "
              f"{chosen_row['latency p50 ms']:.1f} ms; bigger batches add latency for less than "
              f"{1 - efficiency:.0%} more throughput.")
    skipped = table.loc[table["not OK"] > 0, "batch size"].tolist()
    if skipped:
        reason += f" Sizes {skipped} had failed requests and were not considered."
    return BatchSizeReport(function, table.round(2), recommended, reason)


@dataclasses.dataclass(frozen=True)
class ParallelRequestsReport:
    """The recommended parallel requests per partition and the arithmetic behind it."""

    function: MLFunction
    recommended: int
    partitions: int
    batch: int
    target_events_per_s: float
    latency_ms: float
    loaded_latency_ms: float | None
    arithmetic: tuple[str, ...]
    table: pd.DataFrame

    def apply(self) -> MLFunction:
        """The function with ``parallel_requests_per_partition`` (and the batch size measured) set."""
        return dataclasses.replace(self.function, parallel_requests_per_partition=self.recommended,
                                   max_batch_count=self.batch)

    def __repr__(self) -> str:
        return "\n".join(self.arithmetic)

    def _repr_html_(self) -> str:
        lines = "".join(f"<li>{html.escape(line)}</li>" for line in self.arithmetic)
        return f"<ul class='asanb-tune-arithmetic'>{lines}</ul>{self.table.to_html(index=False)}"


def parallel_requests(function: MLFunction, target_events_per_s: float, *, streaming_units: int = 1,
                      batch: int | None = None, repeats: int = 5, sample: Any = None, verify: bool = True,
                      max_retry_seconds: float = 10.0) -> ParallelRequestsReport:
    """Parallel requests per partition for ``target_events_per_s`` events per second: measure the latency of
    one request of ``batch`` rows (default the function's max batch count), apply Little's law, then (with
    ``verify``) send that many requests at once and redo the arithmetic with the latency under load."""
    batch = batch or function.max_batch_count
    partitions = partitions_for(streaming_units)
    if repeats < 1 or not 1 <= batch <= MAX_BATCH_COUNT:
        raise ConfigError(f"tune.parallel_requests: batch must be 1..{MAX_BATCH_COUNT} and repeats at least 1")
    probe = _Probe(function, sample, max_retry_seconds)
    probe.measure(batch, 1, 1)  # warm-up
    alone = _stats(probe.measure(batch, 1, repeats))
    latency = alone["latency p50 ms"]
    if math.isnan(latency):
        raise ConfigError(f"tune.parallel_requests: no request of {batch} rows succeeded at {function.endpoint}")
    total, per_partition = littles_law(target_events_per_s, batch, latency, partitions)
    arithmetic = [
        f"{target_events_per_s:,.0f} events/s ÷ {batch:,} rows per request = "
        f"{target_events_per_s / batch:,.1f} requests/s",
        f"× {latency:.1f} ms per request (p50, one at a time) = "
        f"{target_events_per_s / batch * latency / 1000:,.2f} requests in flight (Little's law) → {total}",
        f"{total} ÷ {partitions} partition{'s' if partitions > 1 else ''} ({streaming_units} SU) = "
        f"{per_partition} parallel requests per partition",
    ]
    rows = [{"concurrent requests": 1, **alone}]
    loaded_latency = None
    if verify:
        concurrency = per_partition * partitions
        loaded = _stats(probe.measure(batch, concurrency, repeats))
        rows.append({"concurrent requests": concurrency, **loaded})
        loaded_latency = loaded["latency p50 ms"]
        achieved = concurrency * batch * repeats / probe.seconds
        arithmetic.append(f"measured with {concurrency} requests at once: p50 {loaded_latency:.1f} ms, "
                          f"{achieved:,.0f} events/s")
        if loaded["not OK"]:
            arithmetic.append(f"{loaded['not OK']} of {loaded['requests']} attempts under load failed (busy or "
                              "throttled) and were retried: the endpoint cannot take this concurrency; add replicas "
                              "or accept a lower rate")
        if loaded_latency > latency * LOADED_SLOWDOWN:
            total, per_partition = littles_law(target_events_per_s, batch, loaded_latency, partitions)
            arithmetic.append(f"latency rose under load (the endpoint queues requests): with {loaded_latency:.1f} ms "
                              f"→ {total} in flight → {per_partition} per partition; if latency keeps rising as "
                              "you add requests, add endpoint replicas instead")
    arithmetic.append(f"Recommended parallel requests per partition: {per_partition} "
                      f"({per_partition * partitions} concurrent requests to the endpoint)")
    return ParallelRequestsReport(function, per_partition, partitions, batch, float(target_events_per_s),
                                  latency, loaded_latency, tuple(arithmetic), pd.DataFrame(rows).round(2))
