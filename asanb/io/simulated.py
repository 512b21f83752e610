"""Simulated event streams, deterministic from a seed: the ML UDF docs' taxi trips and IoT sensors.

Each stream is generated batch by batch with numpy (no per-event Python) and is endless unless it has an
event count or a duration. Event times follow Poisson arrivals at ``rate`` events per second.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd

from asanb.errors import ConfigError

if TYPE_CHECKING:
    from asanb.io.sources import Source

__all__ = ["IoTStream", "TaxiStream", "benchmark_events", "parse_sim_url"]

_BLOCK = 8192  # generation block: the events do not depend on the caller's batch size
WEEKDAYS = np.array(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], dtype=object)


@dataclass(frozen=True, slots=True)
class _Stream:
    rate: float = 1000.0
    events: int | None = None
    duration_seconds: float | None = None
    seed: int = 42
    start: str = "2026-01-01T00:00:00Z"

    time_column: ClassVar[str] = "ts"
    arrival_time_column: ClassVar[str | None] = None  # event time is in time_column; see asanb.io.sources

    def __post_init__(self) -> None:
        if not self.rate > 0:
            raise ConfigError(f"simulated stream rate must be positive events/s, got {self.rate}")
        if self.events is not None and self.events < 0:
            raise ConfigError(f"simulated stream events must be zero or more, got {self.events}")
        if self.duration_seconds is not None and not self.duration_seconds >= 0:
            raise ConfigError(f"simulated stream duration must be zero or more seconds, got {self.duration_seconds}")
        self._origin_ns()

    def _origin_ns(self) -> int:
        try:
            start = pd.Timestamp(self.start)
        except ValueError:
            raise ConfigError(f"simulated stream start must be an ISO 8601 time, got {self.start!r}") from None
        start = start.tz_convert("UTC") if start.tzinfo else start.tz_localize("UTC")  # ASA times are UTC
        return int(start.as_unit("ns").value)

    @property
    def schema(self) -> tuple[str, ...]:
        raise NotImplementedError

    @property
    def description(self) -> str:
        raise NotImplementedError

    @property
    def bounded(self) -> bool:
        return self.events is not None or self.duration_seconds is not None

    def batches(self, batch_size: int) -> Iterator[pd.DataFrame]:
        """Frames of ``batch_size`` rows (the last may be shorter); endless without events or duration."""
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        pending: list[pd.DataFrame] = []
        held = 0
        for block in self._blocks():
            offset = 0
            while held + len(block) - offset >= batch_size:
                take = batch_size - held
                pending.append(block.iloc[offset:offset + take])
                yield _joined(pending)
                pending, held, offset = [], 0, offset + take
            if offset < len(block):
                pending.append(block.iloc[offset:])
                held += len(block) - offset
        if pending:
            yield _joined(pending)

    def _blocks(self) -> Iterator[pd.DataFrame]:
        rng = np.random.default_rng(self.seed)
        origin = self._origin_ns()
        end_ns = None if self.duration_seconds is None else origin + int(self.duration_seconds * 1e9)
        produced, cursor = 0, origin
        while self.events is None or produced < self.events:
            count = _BLOCK if self.events is None else min(_BLOCK, self.events - produced)
            # Poisson arrivals: exponential gaps, at least 1 ns so event times strictly increase.
            times = cursor + np.cumsum(rng.exponential(1e9 / self.rate, size=count).astype(np.int64) + 1)
            if end_ns is not None:
                times = times[times <= end_ns]
            if len(times) == 0:
                return
            cursor = int(times[-1])
            yield self._frame(rng, times)
            produced += len(times)
            if len(times) < count:
                return

    def _frame(self, rng: np.random.Generator, times: np.ndarray) -> pd.DataFrame:
        raise NotImplementedError


def _joined(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    if len(pieces) == 1:
        return pieces[0].reset_index(drop=True)
    return pd.concat(pieces, ignore_index=True)


def _utc(times: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(times.view("datetime64[ns]"), tz="UTC")


@functools.lru_cache(maxsize=16)
def _device_names(devices: int) -> np.ndarray:
    width = max(3, len(str(devices - 1)))
    return np.array([f"dev-{i:0{width}d}" for i in range(devices)], dtype=object)


@dataclass(frozen=True, slots=True)
class TaxiStream(_Stream):
    """Taxi trips of the ML UDF docs' scenario: vendorid (1-2), weekday and pickuphour (from the event time),
    passenger (1-6), distance (lognormal miles), pickup_time (event time, UTC) and fare, a noisy function of
    distance, passengers and rush hour that a regression model can learn."""

    time_column: ClassVar[str] = "pickup_time"

    @property
    def schema(self) -> tuple[str, ...]:
        return ("vendorid", "weekday", "pickuphour", "passenger", "distance", "pickup_time", "fare")

    @property
    def description(self) -> str:
        return f"sim:taxi rate={self.rate:g}/s seed={self.seed}{_bounds(self)}"

    def _frame(self, rng: np.random.Generator, times: np.ndarray) -> pd.DataFrame:
        n = len(times)
        stamp = _utc(times)
        distance = np.round(rng.lognormal(mean=0.7, sigma=0.8, size=n), 2)
        passenger = rng.integers(1, 7, size=n, dtype=np.int64)
        hour = stamp.hour.to_numpy().astype(np.int64)
        rush = ((hour >= 7) & (hour <= 9)) | ((hour >= 16) & (hour <= 19))
        fare = 2.5 + 2.5 * distance + 0.5 * (passenger - 1) + 1.5 * rush + rng.normal(0, 1.0, size=n).clip(-2, 5)
        return pd.DataFrame({
            "vendorid": rng.integers(1, 3, size=n, dtype=np.int64),
            "weekday": pd.array(WEEKDAYS[stamp.day_of_week.to_numpy()], dtype="str"),
            "pickuphour": hour,
            "passenger": passenger,
            "distance": distance,
            "pickup_time": stamp,
            "fare": np.round(fare, 2),
        })


@dataclass(frozen=True, slots=True)
class IoTStream(_Stream):
    """Sensor readings: deviceId ('dev-000'...), temperature (°C around a per-device baseline), humidity (%),
    ts (event time, UTC)."""

    devices: int = 100

    def __post_init__(self) -> None:
        _Stream.__post_init__(self)
        if self.devices < 1:
            raise ConfigError(f"simulated IoT stream needs at least 1 device, got {self.devices}")

    @property
    def schema(self) -> tuple[str, ...]:
        return ("deviceId", "temperature", "humidity", "ts")

    @property
    def description(self) -> str:
        return f"sim:iot devices={self.devices} rate={self.rate:g}/s seed={self.seed}{_bounds(self)}"

    def _frame(self, rng: np.random.Generator, times: np.ndarray) -> pd.DataFrame:
        n = len(times)
        device = rng.integers(0, self.devices, size=n)
        # Each device has its own baseline so per-device aggregates differ visibly.
        base = 18.0 + (np.arange(self.devices) % 10)
        return pd.DataFrame({
            "deviceId": pd.array(_device_names(self.devices)[device], dtype="str"),
            "temperature": np.round(base[device] + rng.normal(0, 1.5, size=n), 2),
            "humidity": np.round(rng.uniform(30, 70, size=n), 1),
            "ts": _utc(times),
        })


def _bounds(stream: _Stream) -> str:
    parts = [f" events={stream.events:,}" if stream.events is not None else "",
             f" duration={stream.duration_seconds:g}s" if stream.duration_seconds is not None else ""]
    return "".join(parts) or " (endless)"


_KINDS: dict[str, type[_Stream]] = {"taxi": TaxiStream, "iot": IoTStream}
_ALIASES = {"duration": "duration_seconds", "count": "events", "n": "events"}
_FLOATS = ("rate", "duration_seconds")


def parse_sim_url(url: str) -> Source:
    """``sim:taxi?rate=1000&events=100000&seed=7`` or ``sim:iot?devices=50&duration=60``
    (``duration`` is seconds of event time; ``count``/``n`` are ``events``)."""
    parts = urlsplit(url.strip())
    kind = parts.path.lower()
    if parts.scheme.lower() != "sim" or kind not in _KINDS:
        raise ConfigError(f"unknown simulated stream {url!r}; use {' or '.join(f'sim:{k}?...' for k in _KINDS)}")
    cls = _KINDS[kind]
    allowed = {f.name for f in fields(cls)}
    options: dict[str, object] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        name = _ALIASES.get(key.lower(), key.lower())
        if name not in allowed:
            raise ConfigError(f"{url}: unknown parameter '{key}'; parameters: "
                              f"{', '.join(sorted((allowed - {'duration_seconds'}) | {'duration'}))}")
        options[name] = value if name == "start" else _number(url, key, value, float if name in _FLOATS else int)
    return cls(**options)  # type: ignore[arg-type]


def _number(url: str, key: str, value: str, kind: type[float] | type[int]) -> float | int:
    try:
        number = float(value)
        if kind is int and not number.is_integer():
            raise ValueError
        return kind(number)
    except (ValueError, OverflowError):
        raise ConfigError(f"{url}: parameter '{key}' must be {'a whole' if kind is int else 'a'} number, "
                          f"got {value!r}") from None


def benchmark_events(n: int, seed: int = 42, rate: float = 1000.0, devices: int = 1000) -> pd.DataFrame:
    """The benchmark input of ../shared/perf/gen_events.py (same algorithm, same seed → same frame), so
    asanb and its peers are measured on identical events. Checked: n=1e6 written with ``to_parquet(index=False)``
    under pyarrow 26.0.1 has the md5 that ../shared/perf/BASELINES.md gives (827e61f9…)."""
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
