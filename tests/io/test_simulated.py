"""Simulated streams: determinism, rate/count/duration bounds, batch sizes, endless streams, URL parsing,
and the benchmark input identical to the peers' generator in ../shared/perf/gen_events.py."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from asanb.errors import ConfigError
from asanb.io.simulated import IoTStream, TaxiStream, benchmark_events, parse_sim_url
from asanb.io.sources import Source

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for shared_location
from shared_location import SHARED  # noqa: E402

START = pd.Timestamp("2026-01-01", tz="UTC")


def read_all(source: Source, batch_size: int) -> pd.DataFrame:
    return pd.concat(list(source.batches(batch_size)), ignore_index=True)


def test_same_seed_same_events_whatever_the_batch_size() -> None:
    first = read_all(TaxiStream(rate=500, events=20_000, seed=1), 100)
    again = read_all(TaxiStream(rate=500, events=20_000, seed=1), 7_777)
    other = read_all(TaxiStream(rate=500, events=20_000, seed=2), 100)
    pd.testing.assert_frame_equal(first, again)
    assert len(other) == len(first) and not first["fare"].equals(other["fare"])
    assert not first["pickup_time"].equals(other["pickup_time"])


def test_taxi_columns_types_and_ranges() -> None:
    stream = TaxiStream(rate=0.5, events=5000, seed=3)  # ~2.8 h of event time: several hours
    frame = read_all(stream, 1000)
    assert tuple(frame.columns) == stream.schema and stream.time_column == "pickup_time"
    assert str(frame["pickup_time"].dtype) == "datetime64[ns, UTC]"
    assert frame["pickup_time"].is_monotonic_increasing and frame["pickup_time"].is_unique
    assert frame["pickup_time"].iloc[0] > START
    assert (frame["pickuphour"] == frame["pickup_time"].dt.hour).all()
    assert (frame["weekday"] == frame["pickup_time"].dt.strftime("%a")).all()
    assert frame["pickuphour"].nunique() > 1
    assert set(frame["vendorid"]) == {1, 2} and set(frame["passenger"]) == set(range(1, 7))
    assert frame["distance"].gt(0).all() and frame["vendorid"].dtype == "int64"


def test_taxi_fare_is_learnable_from_distance_passengers_and_hour() -> None:
    frame = read_all(TaxiStream(rate=0.05, events=4000, seed=4), 4000)
    hour = frame["pickuphour"]
    rush = (hour.between(7, 9) | hour.between(16, 19)).astype(float)
    design = np.column_stack([np.ones(len(frame)), frame["distance"], frame["passenger"], rush])
    coef, *_ = np.linalg.lstsq(design, frame["fare"].to_numpy(), rcond=None)
    residual = frame["fare"].to_numpy() - design @ coef
    assert coef[1] == pytest.approx(2.5, abs=0.1) and coef[2] == pytest.approx(0.5, abs=0.1)
    assert coef[3] == pytest.approx(1.5, abs=0.2) and residual.std() < 1.2


def test_rate_sets_the_event_time_span() -> None:
    frame = read_all(TaxiStream(rate=200, events=20_000, seed=9), 5000)
    seconds = (frame["pickup_time"].iloc[-1] - START).total_seconds()
    assert seconds == pytest.approx(100, rel=0.05)  # 20,000 events at 200/s


def test_duration_bounds_event_time() -> None:
    frame = read_all(parse_sim_url("sim:iot?rate=100&duration=10&devices=5"), 64)
    assert (frame["ts"] <= START + pd.Timedelta(seconds=10)).all()
    assert 850 < len(frame) < 1150
    assert frame["ts"].iloc[-1] > START + pd.Timedelta(seconds=9.5)  # it runs to the end of the duration
    assert set(frame["deviceId"]) == {f"dev-00{i}" for i in range(5)}


def test_count_and_duration_together_stop_at_the_first_bound() -> None:
    assert len(read_all(IoTStream(rate=100, events=50, duration_seconds=100), 1000)) == 50
    assert len(read_all(IoTStream(rate=100, events=10**6, duration_seconds=1), 1000)) < 150


@pytest.mark.parametrize("batch_size", [1, 37, 8192, 10_000])
def test_batches_have_the_requested_size_and_a_range_index(batch_size: int) -> None:
    batches = list(IoTStream(events=20_000, seed=2).batches(batch_size)) if batch_size > 1 else \
        list(itertools.islice(IoTStream(seed=2).batches(1), 50))
    sizes = [len(b) for b in batches]
    assert all(size == batch_size for size in sizes[:-1]) and 0 < sizes[-1] <= batch_size
    if batch_size > 1:
        assert sum(sizes) == 20_000
    assert all(isinstance(b.index, pd.RangeIndex) and b.index.start == 0 for b in batches)


def test_endless_stream_keeps_going_past_many_generation_blocks() -> None:
    stream = IoTStream(rate=10)
    assert "endless" in stream.description
    batches = stream.batches(5000)
    taken = [next(batches) for _ in range(5)]
    assert [len(b) for b in taken] == [5000] * 5
    joined = pd.concat(taken, ignore_index=True)
    assert joined["ts"].is_monotonic_increasing and joined["ts"].is_unique


def test_iot_devices_have_distinct_baselines() -> None:
    frame = read_all(IoTStream(events=20_000, devices=10, seed=1), 5000)
    means = frame.groupby("deviceId")["temperature"].mean()
    assert len(means) == 10 and means.max() - means.min() > 5
    assert frame["humidity"].between(30, 70).all()


def test_parse_sim_url_options_and_errors() -> None:
    stream = parse_sim_url("sim:taxi?rate=50&count=10&seed=7&start=2025-06-01T12:00:00Z")
    assert stream == TaxiStream(rate=50.0, events=10, seed=7, start="2025-06-01T12:00:00Z")
    assert stream.description == "sim:taxi rate=50/s seed=7 events=10"
    assert parse_sim_url("SIM:IoT?devices=3&duration=1.5") == IoTStream(devices=3, duration_seconds=1.5)
    frame = read_all(stream, 100)
    assert len(frame) == 10 and frame["pickup_time"].iloc[0] > pd.Timestamp("2025-06-01T12:00:00Z")
    for url, message in [("sim:taxi?rate=fast", "'rate' must be a number"),
                         ("sim:taxi?events=2.5", "'events' must be a whole number"),
                         ("sim:iot?rate=0", "rate must be positive"),
                         ("sim:iot?devices=0", "at least 1 device"),
                         ("sim:iot?start=yesterday-ish", "start must be an ISO 8601 time"),
                         ("sim:taxi?color=red", "unknown parameter 'color'; parameters: duration, events, rate, seed, start$")]:
        with pytest.raises(ConfigError, match=message):
            parse_sim_url(url)


def test_benchmark_events_equal_the_peers_input() -> None:
    assert SHARED is not None, "set ASANB_SHARED to the shared/ folder"
    sys.path.insert(0, str(SHARED / "perf"))
    import gen_events

    for n, seed in [(5000, 42), (3000, 7)]:
        pd.testing.assert_frame_equal(benchmark_events(n, seed=seed), gen_events.make_events(n, seed=seed))
    assert not benchmark_events(100, seed=1).equals(benchmark_events(100, seed=2))
