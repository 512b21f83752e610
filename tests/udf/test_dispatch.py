"""The dispatcher against the real local server: batching, concurrency, retries, fatal statuses, timeouts."""

from __future__ import annotations

import asyncio

import numpy as np
import pandas as pd
import pytest

from asanb.errors import ScoringStatusError, ScoringTransportError
from asanb.udf.codec import RowBlock
from asanb.udf.dispatch import OVERLAP_MIN_ROWS, BatchScorer
from asanb.udf.metrics import metrics_frame
from asanb.udf.ml import MLFunction
from asanb.udf.model import TaxiFareModel
from asanb.udf.swagger import load_signature


def trips(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"vendorid": rng.integers(1, 3, n), "weekday": rng.choice(["Mon", "Sat"], n),
                         "pickuphour": rng.integers(0, 24, n), "passenger": rng.integers(1, 7, n),
                         "distance": np.round(rng.uniform(0.5, 20, n), 2)})


def score(server, rows: pd.DataFrame, *, partitions: int = 1, metrics: list | None = None, **function_options):
    function = MLFunction("score", server.score_url, **function_options)
    scorer = BatchScorer(function, load_signature(function), partitions=partitions, max_retry_seconds=5,
                         on_metric=(metrics if metrics is not None else []).append, backoff_initial=0.01,
                         backoff_max=0.05)

    return scored(scorer, RowBlock(records=rows))


def scored(scorer: BatchScorer, block: RowBlock):
    """Score one block on a fresh loop and always close the scorer's connection pool."""

    async def go():
        try:
            return await scorer.score(block)
        finally:
            await scorer.aclose()

    return asyncio.run(go())


def test_10000_rows_at_batch_500_make_20_requests_of_500(scoring_server) -> None:
    rows = trips(10_000)
    result = score(scoring_server, rows, max_batch_count=500)
    stats = scoring_server.stats()
    assert stats["batch_sizes"] == [500] * 20
    assert list(result) == TaxiFareModel().predict_rows(rows.to_dict("records"))


# Both ways a partition's senders get their bodies: each its own (small batches) and from the preparer that
# encodes while requests are on the wire (OVERLAP_MIN_ROWS rows or more).
BOTH_PATHS = pytest.mark.parametrize("batch", [OVERLAP_MIN_ROWS - 1, OVERLAP_MIN_ROWS])


@BOTH_PATHS
@pytest.mark.parametrize(("partitions", "parallel"), [(1, 3), (2, 2)])
def test_in_flight_requests_reach_but_never_exceed_partitions_times_parallel(scoring_server_factory, partitions,
                                                                              parallel, batch) -> None:
    server = scoring_server_factory(latency_ms=60)
    rows = trips(10 * batch)
    result = score(server, rows, partitions=partitions, max_batch_count=batch, parallel_requests_per_partition=parallel)
    assert server.stats()["peak_concurrency"] == partitions * parallel
    assert list(result) == TaxiFareModel().predict_rows(rows.to_dict("records"))  # in input order


@BOTH_PATHS
def test_503_storm_is_retried_and_every_row_scored_exactly_once(scoring_server_factory, batch) -> None:
    server = scoring_server_factory(fail_rate=0.4, seed=5)
    rows = trips(15 * batch)
    metrics: list = []
    result = score(server, rows, max_batch_count=batch, parallel_requests_per_partition=4, metrics=metrics)
    frame = metrics_frame(metrics)
    assert (frame.status == 503).sum() > 0 and (frame.attempt > 1).sum() == (frame.status == 503).sum()
    assert sum(server.stats()["batch_sizes"]) == len(rows)  # each row accepted exactly once
    assert list(result) == TaxiFareModel(seed=5).predict_rows(rows.to_dict("records"))


@pytest.mark.parametrize(("settings", "function_options", "status", "fragment"), [
    ({}, {"endpoint_suffix": "/nope"}, 404, "Check the endpoint URL"),
    ({"key": "right"}, {"api_key": "zz-secret-zz"}, 401, "api_key"),
    ({"fail_status": 409, "fail_rate": 1.0}, {}, 409, "injected failure 409"),
])
def test_fatal_statuses_fail_at_once_with_status_body_and_first_row(scoring_server_factory, settings,
                                                                    function_options, status, fragment) -> None:
    server = scoring_server_factory(**settings)
    suffix = function_options.pop("endpoint_suffix", "")
    function = MLFunction("score", server.score_url + suffix, swagger=server.swagger_url, **function_options)
    attempts: list = []
    scorer = BatchScorer(function, load_signature(MLFunction("score", server.score_url)), max_retry_seconds=5,
                         on_metric=attempts.append)
    with pytest.raises(ScoringStatusError) as caught:
        scored(scorer, RowBlock(records=trips(3)))
    error = caught.value
    assert error.status == status and fragment in str(error)
    assert error.first_row["weekday"] in ("Mon", "Sat") and "zz-secret-zz" not in str(error)
    assert len(attempts) == 1  # not retried


def test_schema_mismatch_is_a_400_failure(scoring_server) -> None:
    with pytest.raises(ScoringStatusError, match=r"HTTP 400.*missing field"):
        score(scoring_server, trips(5).drop(columns=["distance"]))


def test_hanging_endpoint_times_out_is_retried_then_fails(scoring_server_factory) -> None:
    server = scoring_server_factory(hang_ms=400)
    function = MLFunction("score", server.score_url, timeout=0.1)
    metrics: list = []
    scorer = BatchScorer(function, load_signature(function), max_retry_seconds=0.6, on_metric=metrics.append,
                         backoff_initial=0.01, backoff_max=0.02)
    with pytest.raises(ScoringTransportError, match=r"after \d+ attempts"):
        scored(scorer, RowBlock(records=trips(2)))
    assert len(metrics) >= 2 and all(m.status == 0 and m.error for m in metrics)


@BOTH_PATHS
def test_a_later_call_sends_only_after_every_batch_of_the_earlier_one(scoring_server_factory, batch) -> None:
    # The engine lets the next micro-batch in while one is still scored: the earlier call must finish first.
    server = scoring_server_factory(latency_ms=20)
    function = MLFunction("score", server.score_url, max_batch_count=batch, parallel_requests_per_partition=2)
    metrics: list = []
    scorer = BatchScorer(function, load_signature(function), on_metric=metrics.append)
    earlier, later = trips(6 * batch).assign(distance=1.5), trips(6 * batch).assign(distance=12.345678)

    async def go():
        try:
            first = asyncio.create_task(scorer.score(RowBlock(records=earlier)))
            second = asyncio.create_task(scorer.score(RowBlock(records=later)))
            return await first, await second
        finally:
            await scorer.aclose()

    first, second = asyncio.run(go())
    sizes = [metric.request_bytes for metric in metrics]
    middle = (min(sizes) + max(sizes)) / 2  # the earlier call's rows encode 7 bytes shorter each
    order = ["earlier" if metric.request_bytes < middle else "later"
             for metric in sorted(metrics, key=lambda metric: metric.started_at)]
    assert order == ["earlier"] * 6 + ["later"] * 6
    assert list(first) == TaxiFareModel().predict_rows(earlier.to_dict("records"))
    assert list(second) == TaxiFareModel().predict_rows(later.to_dict("records"))


def test_a_closed_scorer_scores_again_on_another_loop(scoring_server) -> None:
    function = MLFunction("score", scoring_server.score_url, max_batch_count=2, parallel_requests_per_partition=2)
    scorer = BatchScorer(function, load_signature(function))
    rows = trips(12)

    async def two_calls_at_once():  # later senders wait on the gates and turns of this loop
        try:
            return await asyncio.gather(scorer.score(RowBlock(records=rows)), scorer.score(RowBlock(records=rows)))
        finally:
            await scorer.aclose()

    first, second = asyncio.run(two_calls_at_once())
    third, fourth = asyncio.run(two_calls_at_once())  # a fresh loop: primitives bound to the first would fail
    expected = TaxiFareModel().predict_rows(rows.to_dict("records"))
    assert list(first) == list(second) == list(third) == list(fourth) == expected
