"""The paced clock releases a stream in slices that follow its event time, not in whole input batches."""

from __future__ import annotations

import asyncio
import threading

import pandas as pd

import asanb
from asanb import JobConfig
from asanb.engine.pacing import TICK_SECONDS, Pacer


def test_a_small_paced_stream_is_released_in_many_steps_in_order() -> None:
    times = pd.date_range("2026-01-01", periods=200, freq="10ms", tz="UTC")
    frame = pd.DataFrame({"time": times.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "v": range(200)})
    seen: list[int] = []
    results = asanb.run("SELECT v INTO o FROM input TIMESTAMP BY time", {"input": frame},
                        config=JobConfig(clock="paced", speed=2.0),
                        on_progress=lambda sample: seen.append(sample["events_in"].get("input", 0)))
    assert results["o"].v.tolist() == list(range(200))
    steps = sorted(set(seen))
    # One input batch of 200 events over 2 s (the default batch is 250,000): at speed 2 a 0.1 s tick holds
    # about 20 of them, so pacing cuts the batch into many slices.
    assert len(steps) > 5 and steps[-1] == 200 and seen == sorted(seen)


def test_chunk_size_follows_the_streams_rate() -> None:
    pacer = Pacer(speed=2.0, max_rows=10_000)
    stop = threading.Event()
    second = 1_000_000_000
    asyncio.run(pacer.wait(0, 16, stop))
    stop.set()  # waits return at once; only the sizing is under test
    asyncio.run(pacer.wait(second, 1_000, stop))
    # 1,000 rows per event second, at speed 2, fill one tick with 1,000 * TICK_SECONDS * 2 rows.
    assert pacer.rows == int(1_000 * TICK_SECONDS * 2)
    frame = pd.DataFrame({"v": range(450)})
    assert [len(chunk) for chunk in pacer.chunks(frame)] == [200, 200, 50]
