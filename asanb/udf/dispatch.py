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
from typing import Any

import httpx
import numpy as np
import stamina

from asanb.errors import ScoringError, ScoringStatusError, ScoringTransportError
from asanb.udf.codec import RowBlock, decode_response, encode_body
from asanb.udf.metrics import RequestMetric
from asanb.udf.ml import MLFunction
from asanb.udf.swagger import Signature

__all__ = ["FATAL_STATUSES", "BatchScorer"]

# stamina logs each scheduled retry; without a handler Python's last-resort handler would print them into
# notebook cells. Retries are reported as metrics instead; users who configure logging still get them.
logging.getLogger("stamina").addHandler(logging.NullHandler())

FATAL_STATUSES = frozenset({400, 401, 404, 409})
"""Statuses that put an ASA job in the Failed state at once (../shared/spec/ml_udf.md §5)."""


class _Retriable(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _make_transport(connections: int) -> httpx.AsyncBaseTransport:
    """httpx's transport interface over aiohttp's connection pool when ``httpx-aiohttp`` is installed.

    The dispatcher hands ``httpx.Request`` objects to the transport itself: httpx's client layers (auth,
    redirects, cookie jar, request merging) cost ~40 % of a small request's client time and a scoring endpoint
    needs none of them (benchmarks/bench_ml_udf.py). aiohttp's transport costs a fraction of httpx's own
    (../shared/perf/BASELINES.md Part 2); httpx's transport is the fallback.
    """
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    try:
        from httpx_aiohttp import AiohttpTransport

        return AiohttpTransport()
    except ImportError:  # pragma: no cover - optional speed-up
        return httpx.AsyncHTTPTransport(limits=limits)


class BatchScorer:
    """Scores RowBlocks against one endpoint for one job run."""

    def __init__(self, function: MLFunction, signature: Signature, *, partitions: int = 1,
                 retriable_statuses: Sequence[int] = (408, 429, 500, 502, 503, 504),
                 max_retry_seconds: float = 60.0, on_metric: Callable[[RequestMetric], None] | None = None,
                 backoff_initial: float = 0.05, backoff_max: float = 2.0) -> None:
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
        if function.api_key:
            self.headers["Authorization"] = f"Bearer {function.api_key}"
        self.timeouts = httpx.Timeout(function.timeout).as_dict()
        self._client: httpx.AsyncBaseTransport | None = None
        self._gates: list[asyncio.Semaphore] = []
        self.next_partition = 0
        self.in_flight = 0

    def _ensure_client(self) -> httpx.AsyncBaseTransport:
        # Created on first use so it belongs to the loop that runs the job.
        if self._client is None:
            self._client = _make_transport(self.partitions * self.function.parallel_requests_per_partition)
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

        # `parallel` workers per partition pull that partition's batches in order: a task per batch would
        # cost more than a small request itself, and bodies are encoded just before they are sent.
        async def worker(partition: int) -> None:
            queue = queues[partition]
            while queue:
                start, stop = queue.popleft()
                await self._batch(client, block, start, stop, partition, results)

        try:
            async with asyncio.TaskGroup() as group:
                for partition, queue in enumerate(queues):
                    for _ in range(min(self.function.parallel_requests_per_partition, len(queue))):
                        group.create_task(worker(partition))
        except* ScoringError as failures:
            raise failures.exceptions[0] from None
        return _in_order(results, len(block))

    async def _batch(self, client: httpx.AsyncBaseTransport, block: RowBlock, start: int, stop: int, partition: int,
                     results: dict[int, np.ndarray]) -> None:
        body = encode_body(self.signature.input_name, block, start, stop)
        async with self._gates[partition]:
            self.in_flight += 1
            try:
                content, status = await self._send(client, body, stop - start, partition, block, start)
            finally:
                self.in_flight -= 1
        values = decode_response(content, stop - start, self.signature.output_name, self.function.endpoint, status)
        results[start] = _column(values)

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
            request = httpx.Request("POST", self.url, headers=self.headers, content=body,
                                    extensions={"timeout": self.timeouts})
            response = await client.handle_async_request(request)
            try:
                content = await response.aread()
            finally:
                await response.aclose()
            status = response.status_code
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
        if self._client is not None:
            await self._client.aclose()
            self._client = None


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
