"""Micro-batches overlapping at a remote UDF: only in stateless plans, always released in input order, and a
failure abandons (and counts) the batch read ahead of it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np
import pandas as pd

import asanb
from asanb import JobConfig
from asanb.errors import ScoringError
from asanb.job import prepare
from asanb.udf.binding import BoundFunction

BATCHES = 5
ROWS_PER_BATCH = 10


class RemoteLike(BoundFunction):
    """An async UDF standing in for an ML endpoint (rows_per_round > 0) that records when each micro-batch's
    call starts and ends. With ``hold``, batch k answers only once batch k + 1's call has started (the last
    at once), so without overlap the job would wait forever: a 5 s guard fails it instead."""

    rows_per_round = 1

    def __init__(self, *, hold: bool, fail_batch: int | None = None) -> None:
        self.alias = "remote"
        self.output_type = "float"
        self.hold = hold
        self.fail_batch = fail_batch
        self.events: list[tuple[str, int]] = []
        self.started: list[asyncio.Event] = []

    async def __call__(self, arguments: Sequence[pd.Series | pd.DataFrame], rows: int) -> np.ndarray:
        batch = sum(1 for kind, _ in self.events if kind == "start")
        self.events.append(("start", batch))
        while len(self.started) <= batch + 1:
            self.started.append(asyncio.Event())
        self.started[batch].set()
        if self.hold and batch < BATCHES - 1:
            await asyncio.wait_for(self.started[batch + 1].wait(), 5)
        else:
            await asyncio.sleep(0)  # an answer that arrives before the previous batch's
        self.events.append(("end", batch))
        if batch == self.fail_batch:
            raise ScoringError(f"endpoint refused batch {batch}", endpoint="http://127.0.0.1:1/score")
        return np.asarray(arguments[0], dtype=np.float64) * 2


def run(query: str, function: RemoteLike) -> asanb.Results:
    frame = pd.DataFrame({"x": np.arange(BATCHES * ROWS_PER_BATCH, dtype=np.float64)})
    stand_in = asanb.PythonFunction("remote", lambda x: x, output_type="float")
    prepared = prepare(query, {"input": frame}, [stand_in], JobConfig(batch_size=ROWS_PER_BATCH))
    prepared.bound["remote"] = function
    return asyncio.run(prepared.execute())


STATELESS = "SELECT x, udf.remote(x) AS y INTO out FROM input WHERE x >= 0"


def test_a_stateless_plan_lets_the_next_batch_in_and_still_emits_in_input_order() -> None:
    function = RemoteLike(hold=True)
    results = run(STATELESS, function)
    assert results.state == "Stopped", results.error
    assert function.events.index(("start", 1)) < function.events.index(("end", 0))  # batch 1 entered first
    out = results["out"]
    assert list(out["x"]) == list(np.arange(BATCHES * ROWS_PER_BATCH, dtype=np.float64))
    assert list(out["y"]) == [2 * x for x in out["x"]]


def test_a_plan_with_state_takes_one_batch_at_a_time() -> None:
    function = RemoteLike(hold=False)
    query = ("WITH s AS (SELECT x, udf.remote(x) AS y FROM input) "
             "SELECT COUNT(*) AS n, SUM(y) AS total INTO out FROM s GROUP BY TumblingWindow(hour, 1)")
    results = run(query, function)
    assert results.state == "Stopped", results.error
    assert function.events == [(kind, batch) for batch in range(BATCHES) for kind in ("start", "end")]
    assert list(results["out"]["n"]) == [BATCHES * ROWS_PER_BATCH]


def test_a_failure_keeps_earlier_output_and_counts_the_batch_read_ahead() -> None:
    function = RemoteLike(hold=True, fail_batch=2)
    results = run(STATELESS, function)
    assert results.state == "Failed" and "refused batch 2" in str(results.error)
    assert list(results["out"]["x"]) == list(np.arange(2 * ROWS_PER_BATCH, dtype=np.float64))
    assert results.counters["events_in"]["input"] == 4 * ROWS_PER_BATCH
    assert results.counters["dropped"] == {"read_ahead_when_the_job_failed": ROWS_PER_BATCH}
