"""BatchScorer: send rows to an ML endpoint as ASA does — batches of at most max batch count, at most
parallel-requests-per-partition requests in flight per partition, results in input order, retriable failures
retried with exponential backoff and jitter, fatal statuses failing the job (../shared/spec/ml_udf.md §2, §5).

One coroutine owns each request: its attempts and its total deadline (a retry never outlives the budget).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import httpx
import numpy as np
import stamina

from asanb.errors import ScoringError, ScoringStatusError, ScoringTransportError
from asanb.udf.codec import RowBlock, decode_response, encode_body
from asanb.udf.metrics import RequestMetric
from asanb.udf.ml import MLFunction
from asanb.udf.swagger import Signature
from asanb.udf.transport import AiohttpTransport, post_through

__all__ = ["FATAL_STATUSES", "OVERLAP_MIN_ROWS", "BatchScorer"]

# stamina logs each scheduled retry; without a handler Python's last-resort handler would print them into
# notebook cells. Retries are reported as metrics instead; users who configure logging still get them.
logging.getLogger("stamina").addHandler(logging.NullHandler())

OVERLAP_MIN_ROWS = 200
"""Batches this large or larger are encoded and decoded while other requests are on the wire (200 rows of five
floats take ~20 µs to encode and ~5 µs to decode; benchmarks/bench_ml_udf.py chose the bound)."""

FATAL_STATUSES = frozenset({400, 401, 404, 409})
"""Statuses that put an ASA job in the Failed state at once (../shared/spec/ml_udf.md §5)."""


class _Retriable(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


class _Answer(NamedTuple):
    """A successful response waiting to be decoded."""

    start: int
    rows: int
    content: bytes
    status: int


class _Turn(NamedTuple):
    """One call's place in a partition: wait for ``earlier``, set ``handed_out`` once every batch is taken."""

    earlier: asyncio.Event
    handed_out: asyncio.Event


class BatchScorer:
    """Scores RowBlocks against one endpoint for one job run."""

    def __init__(self, function: MLFunction, signature: Signature, *, partitions: int = 1,
                 retriable_statuses: Sequence[int] = (408, 429, 500, 502, 503, 504),
                 max_retry_seconds: float = 60.0, on_metric: Callable[[RequestMetric], None] | None = None,
                 backoff_initial: float = 0.05, backoff_max: float = 2.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.function = function
        self.signature = signature
        self.partitions = partitions
        self.retriable = frozenset(retriable_statuses)
        self.max_retry_seconds = max_retry_seconds
        self.on_metric = on_metric or (lambda metric: None)
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.headers = {"Content-Type": "application/json"}
        self.url = httpx.URL(function.endpoint)  # parsed once, not on every request
        self.endpoint = str(self.url)
        if function.api_key:
            self.headers["Authorization"] = f"Bearer {function.api_key}"
        self.timeouts = httpx.Timeout(function.timeout).as_dict()
        # A given httpx transport is driven through httpx's request/response objects and left open for its
        # owner; asanb's own goes bytes in, bytes out (asanb/udf/transport.py says why).
        self._given_transport = transport
        self._client: httpx.AsyncBaseTransport | None = transport
        self._gates: list[asyncio.Semaphore] = []
        self._handed_out: list[asyncio.Event] = []  # per partition: the latest call's batches are all taken
        self.next_partition = 0
        self.in_flight = 0

    def _ensure_client(self) -> httpx.AsyncBaseTransport:
        # Created on first use so it belongs to the loop that runs the job.
        if self._client is None:
            self._client = AiohttpTransport(self.partitions * self.function.parallel_requests_per_partition,
                                            self.function.timeout)
        if not self._gates:
            finished = asyncio.Event()
            finished.set()
            self._handed_out = [finished] * self.partitions
            self._gates = [asyncio.Semaphore(self.function.parallel_requests_per_partition)
                           for _ in range(self.partitions)]
        return self._client

    async def score(self, block: RowBlock) -> np.ndarray:
        """One result per row of ``block``, in row order. Batches are dealt round-robin to partitions."""
        client = self._ensure_client()
        size = self.function.max_batch_count
        results: dict[int, np.ndarray] = {}  # batch start -> that batch's values
        queues: list[deque[tuple[int, int]]] = [deque() for _ in range(self.partitions)]
        for start in range(0, len(block), size):
            queues[self.next_partition].append((start, min(start + size, len(block))))
            self.next_partition = (self.next_partition + 1) % self.partitions
        answers: deque[_Answer] = deque()
        # Calls overlap when the engine lets the next micro-batch in early (asanb/engine/in_order.py). A later
        # call's senders start once every batch of the earlier call is in a sender's hands: the earlier call
        # then finishes first, instead of both finishing together and leaving the endpoint idle after them.
        earlier = self._handed_out
        mine = {partition: asyncio.Event() for partition, batches in enumerate(queues) if batches}
        self._handed_out = [mine.get(partition, event) for partition, event in enumerate(earlier)]
        try:
            async with asyncio.TaskGroup() as group:
                for partition, event in mine.items():
                    self._start_partition(group, client, block, queues[partition], partition, answers, results,
                                          _Turn(earlier[partition], event))
        except* ScoringError as failures:
            raise failures.exceptions[0] from None
        finally:
            for event in mine.values():
                event.set()
        self._decode(answers, results)
        return _in_order(results, len(block))

    def _start_partition(self, group: asyncio.TaskGroup, client: httpx.AsyncBaseTransport, block: RowBlock,
                         batches: deque[tuple[int, int]], partition: int, answers: deque[_Answer],
                         results: dict[int, np.ndarray], turn: _Turn) -> None:
        """`parallel` senders for one partition's batches, in order; never more than `parallel` in flight.

        Batches of OVERLAP_MIN_ROWS rows or more are encoded and decoded by one preparer while the requests
        are on the wire, so the client's CPU work overlaps the round trips instead of adding to them. Smaller
        ones cost microseconds to encode, less than the hand-offs would: each sender does its own.
        """
        senders = min(self.function.parallel_requests_per_partition, len(batches))
        if self.function.max_batch_count < OVERLAP_MIN_ROWS:
            async def send_own() -> None:
                await turn.earlier.wait()
                while batches:
                    start, stop = batches.popleft()
                    if not batches:
                        turn.handed_out.set()
                    body = encode_body(self.signature.input_name, block, start, stop)
                    content, status = await self._gated(client, body, stop - start, partition, block, start)
                    answers.append(_Answer(start, stop - start, content, status))
                    self._decode(answers, results)

            for _ in range(senders):
                group.create_task(send_own())
            return

        bodies: asyncio.Queue[tuple[int, int, bytes] | None] = asyncio.Queue(maxsize=1)

        async def prepare() -> None:
            for start, stop in batches:
                await bodies.put((start, stop, encode_body(self.signature.input_name, block, start, stop)))
                # One turn of the loop first: on Python < 3.12 aiohttp writes a request body in a task of its
                # own, which must reach the wire before this CPU work, not after it.
                await asyncio.sleep(0)
                self._decode(answers, results)
            await bodies.join()  # every body is in a sender's hands
            turn.handed_out.set()
            for _ in range(senders):
                await bodies.put(None)

        async def send_prepared() -> None:
            await turn.earlier.wait()
            while (item := await bodies.get()) is not None:
                start, stop, body = item
                bodies.task_done()
                content, status = await self._gated(client, body, stop - start, partition, block, start)
                answers.append(_Answer(start, stop - start, content, status))

        group.create_task(prepare())
        for _ in range(senders):
            group.create_task(send_prepared())

    async def _gated(self, client: httpx.AsyncBaseTransport, body: bytes, rows: int, partition: int,
                     block: RowBlock, start: int) -> tuple[bytes, int]:
        async with self._gates[partition]:
            self.in_flight += 1
            try:
                return await self._send(client, body, rows, partition, block, start)
            finally:
                self.in_flight -= 1

    def _decode(self, answers: deque[_Answer], results: dict[int, np.ndarray]) -> None:
        while answers:
            answer = answers.popleft()
            values = decode_response(answer.content, answer.rows, self.signature.output_name,
                                     self.function.endpoint, answer.status)
            results[answer.start] = _column(values)

    async def _send(self, client: httpx.AsyncBaseTransport, body: bytes, rows: int, partition: int, block: RowBlock,
                    start: int) -> tuple[bytes, int]:
        # The first attempt goes out directly: stamina's retry context costs more per request than the
        # aiohttp transport itself, and almost every request succeeds the first time.
        try:
            return await self._attempt(client, body, rows, partition, 1, block, start)
        except (_Retriable, httpx.TransportError):
            pass
        attempt = 1
        try:
            async for retry in stamina.retry_context(
                on=(_Retriable, httpx.TransportError), attempts=None, timeout=self.max_retry_seconds,
                wait_initial=self.backoff_initial, wait_max=self.backoff_max, wait_jitter=self.backoff_initial,
            ):
                with retry:
                    attempt += 1
                    return await self._attempt(client, body, rows, partition, attempt, block, start)
        except _Retriable as failure:
            raise self._status_error(failure.status, failure.body, block, start,
                                     f"still failing after {attempt} attempts in {self.max_retry_seconds:g} s") from None
        except httpx.TransportError as failure:
            raise ScoringTransportError(
                f"udf.{self.function.alias}: {type(failure).__name__} talking to {self.function.endpoint} "
                f"after {attempt} attempts in {self.max_retry_seconds:g} s", endpoint=self.function.endpoint,
            ) from None
        raise AssertionError("unreachable: the retry loop returns or raises")

    async def _attempt(self, client: httpx.AsyncBaseTransport, body: bytes, rows: int, partition: int, attempt: int,
                       block: RowBlock, start: int) -> tuple[bytes, int]:
        started = time.monotonic()
        status, content, error = 0, b"", None
        try:
            if type(client) is AiohttpTransport:
                status, content = await client.post(self.endpoint, body, self.headers)
            else:
                status, content = await post_through(client, self.url, body, self.headers, self.timeouts)
        except httpx.TransportError as failure:
            error = f"{type(failure).__name__}: {failure}"
            raise
        finally:
            self.on_metric(RequestMetric(self.function.alias, partition, rows, attempt, status,
                                         (time.monotonic() - started) * 1000, len(body), len(content), started, error))
        if status == 200:
            return content, status
        if status in self.retriable:
            raise _Retriable(status, content)
        raise self._status_error(status, content, block, start, "")

    def _status_error(self, status: int, content: bytes, block: RowBlock, start: int,
                      note: str) -> ScoringStatusError:
        excerpt = content[:300].decode("utf-8", errors="replace")
        hint = {401: " Check the function's api_key.", 404: " Check the endpoint URL.",
                400: " The rows do not match the model's input schema."}.get(status, "")
        first = block.first_row(start)
        message = (f"udf.{self.function.alias}: the endpoint {self.function.endpoint} answered HTTP {status}"
                   f"{' (' + note + ')' if note else ''}: {excerpt!r}. First row of the batch: {first!r}.{hint}")
        return ScoringStatusError(message, endpoint=self.function.endpoint, status=status, body_excerpt=excerpt,
                                  first_row=first)

    async def aclose(self) -> None:
        if self._client is not None and self._client is not self._given_transport:
            await self._client.aclose()
        self._client = self._given_transport
        self._gates = []  # asyncio primitives belong to one loop: the next run makes its own


def _column(values: Sequence[Any]) -> np.ndarray:
    """Numbers stay a numeric array (most models return floats); anything else is kept as Python objects."""
    if values and all(type(value) is float for value in values[:64]):
        try:
            return np.array(values, dtype=np.float64)
        except (TypeError, ValueError):
            pass
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def _in_order(results: dict[int, np.ndarray], rows: int) -> np.ndarray:
    """The batches' values in row order, as one numeric array when every batch was numeric."""
    parts = [results[start] for start in sorted(results)]
    if not parts:
        return np.empty(rows, dtype=object)
    if all(part.dtype == np.float64 for part in parts):
        return np.concatenate(parts)
    column = np.empty(rows, dtype=object)
    position = 0
    for part in parts:
        column[position:position + len(part)] = part
        position += len(part)
    return column
