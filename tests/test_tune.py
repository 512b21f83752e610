"""asanb.tune against the real loopback scoring server: the batch-size sweep sends exactly the sizes asked for
and its latencies include the server's per-row cost; the knee and Little's law arithmetic on fixed numbers;
the parallel-requests advice reaches the concurrency it recommends. No wall-time asserts: timing enters only
as lower bounds the server guarantees (it sleeps latency_ms + rows × per_row_us per request)."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import plotly.graph_objects as go
import pytest

import asanb
from asanb import tune
from asanb.udf.server import ScoringServer, ServerSettings


def test_knee_is_where_more_rows_stop_paying() -> None:
    sizes = [50, 200, 500, 1000, 2000, 5000]
    # 5 ms per request + 20 us per row: throughput keeps rising slowly; 1000 is the first within 80% of 5000.
    linear = [5 + 0.02 * size for size in sizes]
    assert tune.knee(sizes, linear) == 1000
    # Flat until 500 rows, then the model saturates: the knee is the flat end.
    saturating = [10, 10, 10, 60, 160, 460]
    assert tune.knee(sizes, saturating) == 500
    assert tune.knee(sizes, linear, efficiency=0.5) == 500
    with pytest.raises(asanb.ConfigError):
        tune.knee(sizes, linear[:-1])


def test_littles_law_arithmetic() -> None:
    # 10,000 events/s in batches of 500 = 20 requests/s; each takes 100 ms -> 2 in flight; 2 partitions -> 1.
    assert tune.littles_law(10_000, 500, 100.0, 2) == (2, 1)
    assert tune.littles_law(20_000, 100, 50.0, 2) == (10, 5)
    assert tune.littles_law(20_000, 100, 51.0, 2) == (11, 6)
    assert tune.littles_law(10, 1000, 5.0, 4) == (1, 1)
    with pytest.raises(asanb.ConfigError):
        tune.littles_law(0, 100, 5.0, 1)


def test_batch_size_sweep_against_the_server() -> None:
    settings = ServerSettings(latency_ms=2, per_row_us=100)
    with ScoringServer(settings) as server:
        score = asanb.MLFunction("score", server.score_url, max_batch_count=1000)
        report = tune.batch_size(score, sizes=(50, 200, 1000), repeats=3)
        seen = Counter(server.stats()["batch_sizes"])
    # One warm-up request of the smallest size, then `repeats` of each size, nothing else.
    assert seen == {50: 4, 200: 3, 1000: 3}
    table = report.table.set_index("batch size")
    assert table.index.tolist() == [50, 200, 1000] and (table["not OK"] == 0).all()
    for size, row in table.iterrows():
        assert row["latency p50 ms"] >= 2 + size * 0.1  # the server's own cost is a floor
        assert row["rows per second"] == pytest.approx(size / row["latency p50 ms"] * 1000, rel=0.01)
    assert report.recommended in (50, 200, 1000)
    assert report.recommended == tune.knee(table.index.tolist(), table["latency p50 ms"].tolist())
    assert f"{report.recommended} rows per request" in report.reason
    assert report.apply().max_batch_count == report.recommended
    figure = report.figure()
    assert isinstance(figure, go.Figure) and list(figure.data[0].x) == [50, 200, 1000]
    assert "Recommended max batch count" in report._repr_html_()


def test_batch_size_uses_a_given_sample_in_signature_order() -> None:
    with ScoringServer(ServerSettings()) as server:
        score = asanb.MLFunction("score", server.score_url)
        sample = pd.DataFrame({"distance": [1.5, 9.0], "passenger": [1, 2], "extra": ["x", "y"],
                               "vendorid": [1, 2], "weekday": ["Mon", "Tue"], "pickuphour": [8, 9]})
        rows = tune.sample_rows(score, asanb.udf.swagger.load_signature(score), sample)
        assert rows.columns.tolist() == ["vendorid", "weekday", "pickuphour", "passenger", "distance"]
        report = tune.batch_size(score, sizes=(3,), repeats=1, sample=sample)
    assert report.table["not OK"].tolist() == [0] and report.recommended == 3


def test_parallel_requests_reaches_the_concurrency_it_recommends() -> None:
    # Every request takes at least 50 ms, so 20,000 events/s in batches of 100 (200 requests/s) need at least
    # 10 in flight: at least 5 per partition with 12 SU (2 partitions).
    with ScoringServer(ServerSettings(latency_ms=50)) as server:
        score = asanb.MLFunction("score", server.score_url, max_batch_count=100)
        report = tune.parallel_requests(score, 20_000, streaming_units=12, repeats=2)
        stats = server.stats()
    assert report.partitions == 2 and report.batch == 100 and report.latency_ms >= 50
    assert report.recommended >= 5
    first_total, first_each = tune.littles_law(20_000, 100, report.latency_ms, 2)
    assert f"= {first_each} parallel requests per partition" in report.arithmetic[2]
    tested = report.table["concurrent requests"].tolist()
    assert tested == [1, first_each * 2]
    assert stats["peak_concurrency"] <= first_each * 2 and set(stats["batch_sizes"]) == {100}
    assert stats["requests"] == 1 + 2 + 2 * first_each * 2  # warm-up, alone, under load
    assert report.arithmetic[-1].startswith(f"Recommended parallel requests per partition: {report.recommended}")
    assert report.apply().parallel_requests_per_partition == report.recommended


def test_a_busy_endpoint_under_the_recommended_load_is_reported() -> None:
    # The server takes one request at a time and answers 503 to the others (retried by the dispatcher).
    with ScoringServer(ServerSettings(latency_ms=50, max_concurrency=1)) as server:
        score = asanb.MLFunction("score", server.score_url, max_batch_count=10)
        report = tune.parallel_requests(score, 500, repeats=1)
        statuses = server.stats()["status_counts"]
    assert report.table["concurrent requests"].tolist() == [1, report.recommended] and report.recommended >= 2
    assert statuses.get("503", 0) == int(report.table["not OK"].iloc[1]) > 0
    assert any("cannot take this concurrency" in line for line in report.arithmetic)
    if report.loaded_latency_ms > report.latency_ms * tune.LOADED_SLOWDOWN:
        assert report.recommended == tune.littles_law(500, 10, report.loaded_latency_ms, 1)[1]


def test_an_unreachable_endpoint_is_a_clear_error() -> None:
    with ScoringServer(ServerSettings()) as server:
        url = server.score_url
    with pytest.raises(asanb.FunctionError, match="cannot fetch the swagger"):
        tune.batch_size(asanb.MLFunction("score", url), sizes=(10,))
    with pytest.raises(asanb.ConfigError, match="sizes must be"):
        tune.batch_size(asanb.MLFunction("score", url), sizes=(0, 20_000))
