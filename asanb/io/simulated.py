"""Simulated event streams, deterministic from a seed: the ML UDF docs' taxi trips and IoT sensors.

Each stream is generated batch by batch with numpy (no per-event Python) and is endless unless it has an
event count or a duration. Event times follow Poisson arrivals at ``rate`` events per second.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd

from asanb.errors import ConfigError

__all__ = ["IoTStream", "TaxiStream", "benchmark_events", "parse_sim_url"]

_BLOCK = 8192
WEEKDAYS = np.array(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], dtype=object)


@dataclass(frozen=True, slots=True)
class _Stream:
    rate: float = 1000.0
    events: int | None = None
    duration_seconds: float | None = None
    seed: int = 42
    start: str = "2026-01-01T00:00:00Z"

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ConfigError(f"simulated stream rate must be positive, got {self.rate}")
        if self.events is not None and self.events < 0:
            raise ConfigError(f"simulated stream events must be zero or more, got {self.events}")

    time_column = "ts"

    def _times(self, rng: np.random.Generator, start_ns: int, count: int) -> np.ndarray:
        gaps = rng.exponential(1e9 / self.rate, size=count).astype(np.int64) + 1
        return start_ns + np.cumsum(gaps)

    def batches(self, batch_size: int) -> Iterator[pd.DataFrame]:
        """Slices of ``batch_size`` rows; the events do not depend on the batch size."""
        pending: list[pd.DataFrame] = []
        held = 0
        for block in self._blocks():
            pending.append(block)
            held += len(block)
            while held >= batch_size:
                frame = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
                yield frame.iloc[:batch_size].reset_index(drop=True)
                rest = frame.iloc[batch_size:].reset_index(drop=True)
                pending, held = ([rest] if len(rest) else []), len(rest)
        if held:
            yield pd.concat(pending, ignore_index=True)

    def _blocks(self) -> Iterator[pd.DataFrame]:
        # Fixed-size generation blocks keep the random sequence independent of the caller's batch size.
        rng = np.random.default_rng(self.seed)
        start = pd.Timestamp(self.start)
        origin = (start.tz_convert("UTC") if start.tzinfo else start.tz_localize("UTC")).as_unit("ns").value
        end_ns = None if self.duration_seconds is None else origin + int(self.duration_seconds * 1e9)
        produced, cursor = 0, origin
        while self.events is None or produced < self.events:
            count = _BLOCK if self.events is None else min(_BLOCK, self.events - produced)
            times = self._times(rng, cursor, count)
            if end_ns is not None:
                times = times[times <= end_ns]
            if len(times) == 0:
                return
            cursor = int(times[-1])
            yield self._frame(rng, times)
            produced += len(times)
            if end_ns is not None and len(times) < count:
                return

    def _frame(self, rng: np.random.Generator, times: np.ndarray) -> pd.DataFrame:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class TaxiStream(_Stream):
    """Taxi trips: vendorid, weekday, pickuphour, passenger, distance, pickup_time (event time), fare."""

    @property
    def schema(self) -> tuple[str, ...]:
        return ("vendorid", "weekday", "pickuphour", "passenger", "distance", "pickup_time", "fare")

    @property
    def description(self) -> str:
        return f"sim:taxi rate={self.rate:g}/s seed={self.seed}"

    def _frame(self, rng: np.random.Generator, times: np.ndarray) -> pd.DataFrame:
        n = len(times)
        stamp = pd.DatetimeIndex(times.view("datetime64[ns]"), tz="UTC")
        distance = np.round(rng.lognormal(mean=0.7, sigma=0.8, size=n), 2)
        passenger = rng.integers(1, 7, size=n, dtype=np.int64)
        hour = stamp.hour.to_numpy().astype(np.int64)
        rush = ((hour >= 7) & (hour <= 9)) | ((hour >= 16) & (hour <= 19))
        fare = 2.5 + 2.5 * distance + 0.5 * (passenger - 1) + 1.5 * rush + rng.normal(0, 1.0, size=n).clip(-2, 5)
        return pd.DataFrame({
            "vendorid": rng.integers(1, 3, size=n, dtype=np.int64),
            "weekday": pd.array(WEEKDAYS[stamp.dayofweek.to_numpy()], dtype="str"),
            "pickuphour": hour,
            "passenger": passenger,
            "distance": distance,
            "pickup_time": stamp,
            "fare": np.round(fare, 2),
        })


@dataclass(frozen=True, slots=True)
class IoTStream(_Stream):
    """Sensor readings: deviceId, temperature, humidity, ts (event time)."""

    devices: int = 100

    @property
    def schema(self) -> tuple[str, ...]:
        return ("deviceId", "temperature", "humidity", "ts")

    @property
    def description(self) -> str:
        return f"sim:iot devices={self.devices} rate={self.rate:g}/s seed={self.seed}"

    def _frame(self, rng: np.random.Generator, times: np.ndarray) -> pd.DataFrame:
        n = len(times)
        device = rng.integers(0, self.devices, size=n)
        names = np.array([f"dev-{i:03d}" for i in range(self.devices)], dtype=object)
        # Each device has its own baseline so per-device aggregates differ visibly.
        base = 18.0 + (np.arange(self.devices) % 10)
        return pd.DataFrame({
            "deviceId": pd.array(names[device], dtype="str"),
            "temperature": np.round(base[device] + rng.normal(0, 1.5, size=n), 2),
            "humidity": np.round(rng.uniform(30, 70, size=n), 1),
            "ts": pd.DatetimeIndex(times.view("datetime64[ns]"), tz="UTC"),
        })


_KINDS: dict[str, type[_Stream]] = {"taxi": TaxiStream, "iot": IoTStream}
_ALIASES = {"duration": "duration_seconds", "count": "events", "n": "events"}


def parse_sim_url(url: str) -> _Stream:
    """``sim:taxi?rate=1000&events=100000&seed=7`` or ``sim:iot?devices=50&duration=60``."""
    parts = urlsplit(url)
    kind = parts.path
    if parts.scheme != "sim" or kind not in _KINDS:
        raise ConfigError(f"unknown simulated stream {url!r}; use sim:taxi?... or sim:iot?...")
    cls = _KINDS[kind]
    allowed = {f.name: f.type for f in fields(cls)}
    options: dict[str, object] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        name = _ALIASES.get(key, key)
        if name not in allowed:
            raise ConfigError(f"{url}: unknown parameter '{key}'; parameters: "
                              f"{', '.join(sorted(set(allowed) | set(_ALIASES)))}")
        try:
            options[name] = value if name == "start" else (float(value) if name in ("rate", "duration_seconds")
                                                           else int(float(value)))
        except ValueError:
            raise ConfigError(f"{url}: parameter '{key}' must be a number, got {value!r}") from None
    return cls(**options)  # type: ignore[arg-type]


def benchmark_events(n: int, seed: int = 42, rate: float = 1000.0, devices: int = 1000) -> pd.DataFrame:
    """The benchmark input of ../shared/perf/gen_events.py (same algorithm, same seed → same frame), so
    asanb and its peers are measured on identical events."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1e9 / rate, size=n).astype(np.int64)
    gaps[0] = max(int(gaps[0]), 1)
    ts = np.datetime64("2024-01-01T00:00:00", "ns").astype(np.int64) + np.cumsum(gaps)
    ts[ts % 1_000_000_000 == 0] += 1  # keep events off window edges, as the peers' data does
    np.maximum.accumulate(ts, out=ts)
    distance = np.round(rng.lognormal(mean=0.7, sigma=0.8, size=n), 2)
    fare = np.round(2.5 + 2.5 * distance + rng.normal(0, 1.0, size=n).clip(-2, 5), 2)
    names = np.array([f"dev-{i:04d}" for i in range(devices)], dtype=object)
    frame = pd.DataFrame({
        "ts": pd.to_datetime(ts, unit="ns").as_unit("ns"),
        "vendorid": rng.integers(1, 4, size=n, dtype=np.int64),
        "weekday": WEEKDAYS[rng.integers(0, 7, size=n)],
        "pickuphour": rng.integers(0, 24, size=n, dtype=np.int64),
        "passenger": rng.integers(1, 7, size=n, dtype=np.int64),
        "distance": distance,
        "fare": fare,
        "deviceId": names[rng.integers(0, devices, size=n)],
    })
    frame["weekday"] = frame["weekday"].astype(str)
    frame["deviceId"] = frame["deviceId"].astype(str)
    return frame
