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


class _NoCookies(httpx.Cookies):
    """Scoring endpoints do not use cookies, and httpx's cookie extraction (stdlib jar behind urllib
    wrappers) costs ~0.1 ms per response: a third of the client's own per-request time (benchmarks/)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


def _make_client(connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    try:
        # aiohttp's transport costs a fraction of httpx's own per request (../shared/perf/BASELINES.md Part 2)
        # while keeping httpx's API; fall back to httpx's transport when it is not installed.
        from httpx_aiohttp import AiohttpTransport

        client = httpx.AsyncClient(transport=AiohttpTransport(), limits=limits)
    except ImportError:  # pragma: no cover - optional speed-up
        client = httpx.AsyncClient(limits=limits)
    # httpx's public `cookies` setter copies into a stdlib jar, so the store is swapped where it lives.
    if isinstance(getattr(client, "_cookies", None), httpx.Cookies):
        client._cookies = _NoCookies()
    return client


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
        self._client: httpx.AsyncClient | None = None
        self._gates: list[asyncio.Semaphore] = []
        self.next_partition = 0
        self.in_flight = 0

    def _ensure_client(self) -> httpx.AsyncClient:
        # Created on first use so it belongs to the loop that runs the job.
        if self._client is None:
            self._client = _make_client(self.partitions * self.function.parallel_requests_per_partition)
            self._gates = [asyncio.Semaphore(self.function.parallel_requests_per_partition)
                           for _ in range(self.partitions)]
        return self._client

    async def score(self, block: RowBlock) -> np.ndarray:
        """One result per row of ``block``, in row order. Batches are dealt round-robin to partitions."""
        client = self._ensure_client()
        size = self.function.max_batch_count
        results = np.empty(len(block), dtype=object)
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
        return results

    async def _batch(self, client: httpx.AsyncClient, block: RowBlock, start: int, stop: int, partition: int,
                     results: np.ndarray) -> None:
        body = encode_body(self.signature.input_name, block, start, stop)
        async with self._gates[partition]:
            self.in_flight += 1
            try:
                content, status = await self._send(client, body, stop - start, partition, block, start)
            finally:
                self.in_flight -= 1
        values = decode_response(content, stop - start, self.signature.output_name, self.function.endpoint, status)
        results[start:stop] = _column(values)

    async def _send(self, client: httpx.AsyncClient, body: bytes, rows: int, partition: int, block: RowBlock,
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

    async def _attempt(self, client: httpx.AsyncClient, body: bytes, rows: int, partition: int, attempt: int,
                       block: RowBlock, start: int) -> tuple[bytes, int]:
        started = time.monotonic()
        status, content, error = 0, b"", None
        try:
            response = await client.post(self.url, content=body, headers=self.headers,
                                         timeout=self.function.timeout)
            status, content = response.status_code, response.content
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


def _column(values: list[Any]) -> np.ndarray:
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column
