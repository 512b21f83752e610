"""Micro-batches in flight together still leave an operator in the order they entered it.

When a plan has no state (asanb.engine.executor decides), the next micro-batch may enter while the previous
one waits for its ML UDF answers, so the endpoint never idles between micro-batches. Each UDF operator hands
out turns in entry order: a batch whose answers come back first still waits for its predecessor to leave, so
outputs keep the input order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["BatchAbandoned", "InOrder"]

T = TypeVar("T")


class BatchAbandoned(Exception):
    """A later micro-batch gives up because an earlier one failed; the earlier one's error is the job's."""


class InOrder:
    """Turns in entry order for one operator."""

    def __init__(self) -> None:
        self._last: asyncio.Future[bool] | None = None

    async def run(self, work: Awaitable[T]) -> T:
        """``work``'s result, released only after every batch that entered earlier has left."""
        previous = self._last
        mine: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._last = mine
        try:
            result = await work
            # Awaiting a finished future does not yield: one batch at a time pays nothing for this.
            if previous is not None and not await previous:
                raise BatchAbandoned
        except BaseException:
            mine.set_result(False)
            raise
        mine.set_result(True)
        return result
