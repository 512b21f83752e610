"""LiveMetrics: the job's progress samples and ML request metrics folded into the series the dashboard draws
(rates, latency percentiles, in-flight vs limit, statuses, batch sizes) and the job state badge. No widgets
here: it is fed from the job thread and read by whoever draws."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["LiveMetrics", "LiveView"]

DEGRADED_SECONDS = 5.0
"""A retry or failed attempt keeps the badge at Degraded this long (then back to Running)."""


@dataclass(frozen=True)
class LiveView:
    """One consistent picture of the run so far; times are seconds since the job's first sample or request."""

    state: str
    reason: str
    bin_seconds: float
    rate_time: np.ndarray
    events_in_per_s: np.ndarray
    events_out_per_s: np.ndarray
    sample_time: np.ndarray
    in_flight: np.ndarray
    concurrency_limit: int | None
    watermark_delay_s: np.ndarray
    state_rows: np.ndarray
    latency_time: np.ndarray
    latency_ms: dict[str, np.ndarray]
    batch_sizes: np.ndarray
    status_time: np.ndarray
    status_counts: dict[str, np.ndarray]
    totals: dict[str, int] = field(default_factory=dict)


def _total(values: Any) -> int:
    return int(sum(values.values())) if isinstance(values, Mapping) else int(values or 0)


class LiveMetrics:
    """Thread-safe accumulation of samples (``on_progress``) and request attempts (``on_request``)."""

    def __init__(self, concurrency_limit: int | None = None, clock: Callable[[], float] = time.monotonic,
                 max_bins: int = 60) -> None:
        self.concurrency_limit = concurrency_limit
        self.clock = clock
        self.max_bins = max_bins
        self.lock = threading.Lock()
        self.samples: list[tuple[float, int, int, int, float, int]] = []
        self.requests: list[tuple[float, int, float, int, int]] = []
        self.state = "Starting"
        self.reason = ""
        self.history = ["Starting"]
        self.last_problem: float | None = None
        self.origin: float | None = None

    def _set_state(self, state: str, reason: str = "") -> None:
        self.reason = reason
        if state != self.state:
            self.state = state
            self.history.append(state)

    def _time(self, moment: float) -> float:
        if self.origin is None:
            self.origin = moment
        return moment - self.origin

    def on_progress(self, sample: Mapping[str, Any]) -> None:
        """A job sample (``asanb.run(on_progress=...)``)."""
        now = self.clock()
        reported = sample.get("watermark_delay_s")
        delay = float(reported) if reported is not None else float("nan")
        with self.lock:
            moment = self._time(now)
            self.samples.append((moment, _total(sample.get("events_in")), _total(sample.get("events_out")),
                                 int(sample.get("ml_in_flight", 0) or 0), delay, int(sample.get("state_rows", 0) or 0)))
            if self.state in ("Starting", "Degraded"):
                recent = self.last_problem is not None and moment - self.last_problem < DEGRADED_SECONDS
                self._set_state("Degraded" if recent else "Running")

    def on_request(self, metric: Any) -> None:
        """One ML request attempt (``asanb.run(on_request=...)``): a ``RequestMetric``."""
        with self.lock:
            moment = self._time(self.clock())
            self.requests.append((moment, int(metric.batch_size), float(metric.latency_ms), int(metric.status),
                                  int(metric.attempt)))
            if metric.status != 200 or metric.attempt > 1:
                self.last_problem = moment
                why = f"HTTP {metric.status}" if metric.status else (metric.error or "transport error")
                self._set_state("Degraded", f"retrying: {why}")

    def finish(self, state: str, reason: str = "") -> None:
        """The job ended: Stopped, or Failed with the reason."""
        with self.lock:
            self._set_state(state, reason)

    def view(self) -> LiveView:
        """Binned series of everything so far."""
        with self.lock:
            samples = np.array(self.samples, dtype=float).reshape(-1, 6)
            requests = np.array(self.requests, dtype=float).reshape(-1, 5)
            state, reason = self.state, self.reason
        end = max(samples[:, 0].max(initial=0.0), requests[:, 0].max(initial=0.0))
        width = max(end / self.max_bins, 0.05)
        rate_time, rate_in, rate_out = _rates(samples, width)
        latency_time, latency = _latency(requests, width)
        status_time, statuses = _statuses(requests, width)
        totals = {"events_in": int(samples[-1, 1]) if len(samples) else 0,
                  "events_out": int(samples[-1, 2]) if len(samples) else 0,
                  "requests": len(requests), "retries": int((requests[:, 4] > 1).sum()),
                  "not_ok": int((requests[:, 3] != 200).sum())}
        return LiveView(state, reason, width, rate_time, rate_in, rate_out, samples[:, 0], samples[:, 3],
                        self.concurrency_limit, samples[:, 4], samples[:, 5], latency_time, latency,
                        requests[:, 1].astype(int), status_time, statuses, totals)


def _bins(times: np.ndarray, width: float) -> np.ndarray:
    return np.floor(times / width).astype(int)


def _rates(samples: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events per second per bin, from the cumulative counts at the last sample of each bin."""
    if not len(samples):
        empty = np.empty(0)
        return empty, empty, empty
    frame = pd.DataFrame({"bin": _bins(samples[:, 0], width), "in": samples[:, 1], "out": samples[:, 2]})
    last = frame.groupby("bin")[["in", "out"]].last()
    last = last.reindex(range(int(last.index.max()) + 1)).ffill().fillna(0)
    growth = last.diff().fillna(last.iloc[:1])
    return (last.index.to_numpy() + 1) * width, (growth["in"] / width).to_numpy(), (growth["out"] / width).to_numpy()


def _latency(requests: np.ndarray, width: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    names = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
    if not len(requests):
        return np.empty(0), {name: np.empty(0) for name in names}
    frame = pd.DataFrame({"bin": _bins(requests[:, 0], width), "latency": requests[:, 2]})
    grouped = frame.groupby("bin")["latency"]
    series = {name: grouped.quantile(q) for name, q in names.items()}
    index = series["p50"].index.to_numpy()
    return (index + 1) * width, {name: values.to_numpy() for name, values in series.items()}


def _statuses(requests: np.ndarray, width: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per bin, the count of each status other than 200 (retries and errors); 0 is a transport error."""
    problems = requests[requests[:, 3] != 200] if len(requests) else requests
    if not len(problems):
        return np.empty(0), {}
    frame = pd.DataFrame({"bin": _bins(problems[:, 0], width), "status": problems[:, 3].astype(int)})
    table = frame.groupby(["bin", "status"]).size().unstack(fill_value=0)
    names = {status: ("transport error" if status == 0 else f"HTTP {status}") for status in table.columns}
    return (table.index.to_numpy() + 1) * width, {names[s]: table[s].to_numpy() for s in table.columns}
