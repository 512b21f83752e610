"""Job: one ``asanb.run`` on its own worker thread (its own event loop: nothing nests in the kernel's loop),
with ``stop()``, ``state``, ``results`` and a wait that turns Ctrl-C or task cancellation into a clean stop
that keeps what was emitted."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import asanb
from asanb.config import JobConfig
from asanb.errors import AsanbError, InternalError

__all__ = ["Job"]

Listener = Callable[[Any], None]
_POLL_SECONDS = 0.2


class Job:
    """A running (or finished) query. States: Starting, Running, Stopping, then Stopped or Failed."""

    def __init__(self, query: str, inputs: Mapping[str, Any], *, functions: Iterable[Any] = (),
                 config: JobConfig | None = None, on_progress: Listener | None = None,
                 on_request: Listener | None = None, clock: Callable[[], float] = time.monotonic,
                 reference: Mapping[str, Any] | None = None) -> None:
        self.query = query
        self.inputs = dict(inputs)
        self.reference = dict(reference or {})
        self.functions = list(functions)
        self.config = config or JobConfig()
        self.id: int | None = None
        self.interrupted = False
        self.last_sample: dict[str, Any] = {}
        self._on_progress = on_progress
        self._on_request = on_request
        self._clock = clock
        self._stop = threading.Event()
        self._future: concurrent.futures.Future[asanb.Results] = concurrent.futures.Future()
        self._thread: threading.Thread | None = None
        self.started_at: float | None = None
        self.ended_at: float | None = None

    def start(self) -> Job:
        """Start the job on a daemon thread and return at once."""
        if self._thread is not None:
            raise AsanbError("this job was already started; create a new Job to run the query again")
        self.started_at = self._clock()
        self._thread = threading.Thread(target=self._run, name="asanb-job", daemon=True)
        self._thread.start()
        return self

    def _sample(self, sample: dict[str, Any]) -> None:
        self.last_sample = sample
        if self._on_progress is not None:
            self._on_progress(sample)

    def _run(self) -> None:
        try:
            results = asanb.run(self.query, self.inputs, reference=self.reference or None,
                                functions=self.functions, config=self.config,
                                on_progress=self._sample, on_request=self._on_request, stop=self._stop)
        except AsanbError as error:
            self._finish(error=error)
        except Exception as error:  # an asanb bug or a failing listener: report it, keep its traceback
            wrapped = InternalError(f"the job thread failed: {type(error).__name__}: {error}")
            wrapped.__cause__ = error
            self._finish(error=wrapped)
        else:
            self._finish(results=results)

    def _finish(self, results: asanb.Results | None = None, error: AsanbError | None = None) -> None:
        self.ended_at = self._clock()
        if error is not None:
            self._future.set_exception(error)
        else:
            self._future.set_result(results)  # type: ignore[arg-type]

    def add_done_callback(self, callback: Callable[[Job], Any]) -> None:
        """Call ``callback(job)`` once the job has ended (on the job thread, or now if it already has)."""
        self._future.add_done_callback(lambda _future: callback(self))

    @property
    def done(self) -> bool:
        return self._future.done()

    @property
    def state(self) -> str:
        if self._future.done():
            if self._future.exception() is not None:
                return "Failed"
            return self._future.result().state
        if self._stop.is_set():
            return "Stopping"
        return "Running" if self.last_sample else "Starting"

    @property
    def error(self) -> AsanbError | None:
        """Why the job failed: a start error (syntax, names, swagger) or a failure while running."""
        if not self._future.done():
            return None
        failure = self._future.exception()
        if failure is not None:
            return failure  # type: ignore[return-value]
        return self._future.result().error

    @property
    def results(self) -> asanb.Results | None:
        """The Results once the job has ended (None while it runs or when it could not start)."""
        if self._future.done() and self._future.exception() is None:
            return self._future.result()
        return None

    @property
    def wall_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.ended_at if self.ended_at is not None else self._clock()
        return end - self.started_at

    def stop(self, wait: bool = True, timeout: float | None = None) -> asanb.Results | None:
        """Ask the job to stop; with ``wait`` return its Results (what was emitted so far)."""
        self._stop.set()
        if not wait:
            return self.results
        try:
            self._future.result(timeout)
        except AsanbError:
            return None
        return self.results

    def wait(self, timeout: float | None = None) -> asanb.Results:
        """Block until the job ends. Ctrl-C (KeyboardInterrupt) stops it and returns what it emitted; a job that
        cannot start raises its AsanbError."""
        deadline = None if timeout is None else self._clock() + timeout
        try:
            while True:
                # Short waits: a signal delivered to another thread only reaches the main thread's handlers
                # between waits, so a single long wait could sit through Ctrl-C.
                step = _POLL_SECONDS if deadline is None else max(0.0, min(_POLL_SECONDS, deadline - self._clock()))
                try:
                    return self._future.result(step)
                except concurrent.futures.TimeoutError:
                    if deadline is not None and self._clock() >= deadline:
                        raise
        except KeyboardInterrupt:
            self.interrupted = True
            self._stop.set()
            return self._future.result()

    async def wait_async(self) -> asanb.Results:
        """Await the end of the job without blocking the kernel's loop; cancelling the awaiting task (Jupyter's
        interrupt of an ``await`` cell) stops the job."""
        try:
            return await asyncio.shield(asyncio.wrap_future(self._future))
        except asyncio.CancelledError:
            self._stop.set()
            raise

    def __await__(self) -> Any:
        return self.wait_async().__await__()

    def __repr__(self) -> str:
        events = sum((self.last_sample.get("events_in") or {}).values())
        return f"<asanb Job {self.id or ''} {self.state}; {events:,} events in>"
