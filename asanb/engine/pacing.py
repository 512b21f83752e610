"""The paced clock: release events no faster than their event time, scaled by ``speed``.

Input micro-batches can hold a long stretch of event time (250,000 events by default), so pacing only between
them would let a small stream through at once. The pacer cuts each batch into chunks sized to cover about
``TICK_SECONDS`` of wall time at the rate the stream has shown so far, and waits after each chunk until the
wall clock has caught up with the watermark.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pandas as pd

TICK_SECONDS = 0.1
FIRST_CHUNK_ROWS = 16


class Pacer:
    """Chunks batches and waits so that event time advances at ``speed`` × wall-clock time."""

    def __init__(self, speed: float, max_rows: int) -> None:
        self.speed = speed
        self.max_rows = max(1, max_rows)
        self.rows = min(FIRST_CHUNK_ROWS, self.max_rows)
        self.started: float | None = None
        self.first_ns: int | None = None
        self.last_ns: int | None = None

    def chunks(self, frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
        """Slices of ``frame``; the size is re-read after every slice, as ``wait`` adapts it."""
        start = 0
        while start < len(frame):
            stop = start + self.rows
            yield frame.iloc[start:stop].reset_index(drop=True)
            start = stop

    async def wait(self, watermark_ns: int | None, rows: int, stop: threading.Event) -> None:
        """Sleep until the wall clock reaches the watermark's place on the paced time line."""
        if watermark_ns is None:
            return
        now = time.monotonic()
        if self.started is None or self.first_ns is None or self.last_ns is None:
            self.started, self.first_ns, self.last_ns = now, watermark_ns, watermark_ns
            return
        advanced = (watermark_ns - self.last_ns) / 1e9
        self.last_ns = watermark_ns
        if advanced > 0 and rows > 0:
            # Rows per second of event time, turned into the rows that fill one tick of wall time.
            wanted = rows / advanced * TICK_SECONDS * self.speed
            self.rows = int(min(self.max_rows, max(1, wanted)))
        due = self.started + (watermark_ns - self.first_ns) / 1e9 / self.speed
        delay = due - now
        if delay > 0:
            # The stop event wakes the wait at once, so a stopped job never sleeps out its delay.
            await asyncio.to_thread(stop.wait, delay)
