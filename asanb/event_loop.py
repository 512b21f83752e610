"""The event loop a job runs on: uvloop's where it is installed (Linux and macOS), asyncio's otherwise.

uvloop's loop costs less per turn than asyncio's, and an ML UDF job turns the loop several times per request:
with one small request in flight that is ~5 % of the job's throughput (benchmarks/bench_ml_udf.py).
``ASANB_EVENT_LOOP=asyncio`` keeps asyncio's loop (to rule uvloop out when debugging). A loop is never nested:
called from a thread whose loop is already running (a notebook cell), the job runs on a fresh loop in a
worker thread and the caller waits for it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["loop_factory", "run_to_completion"]

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop constructor, or None for asyncio's default."""
    if os.environ.get("ASANB_EVENT_LOOP", "").lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:  # Windows, or not installed
        return None
    return uvloop.new_event_loop


def _run_here(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(make())


def run_to_completion(make: Callable[[], Coroutine[Any, Any, T]], *, thread_name: str = "asanb-job") -> T:
    """Run the coroutine ``make()`` returns on a loop of its own and return its result."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run_here(make)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=thread_name) as pool:
        return pool.submit(_run_here, make).result()
