"""ML UDFs through asanb.run against the real local server: record and array rows, partitions, failures."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import asanb
from asanb import JobConfig, MLFunction, PythonFunction
from asanb.io.simulated import TaxiStream
from asanb.udf.dispatch import OVERLAP_MIN_ROWS
from asanb.udf.model import TaxiFareModel

RECORD_QUERY = """
WITH Dataframe AS (SELECT vendorid, weekday, pickuphour, passenger, distance FROM taxi)
SELECT distance, udf.score(Dataframe) AS fare INTO scored FROM Dataframe
"""


def taxi(n: int) -> pd.DataFrame:
    return next(TaxiStream(rate=100, events=n, seed=3).batches(n))


def expected_fares(frame: pd.DataFrame) -> list[float]:
    columns = ["vendorid", "weekday", "pickuphour", "passenger", "distance"]
    return TaxiFareModel().predict_rows(frame[columns].to_dict("records"))


def test_record_input_from_a_with_step(scoring_server) -> None:
    frame = taxi(1_000)
    score = MLFunction("score", scoring_server.score_url, max_batch_count=300)
    results = asanb.run(RECORD_QUERY, {"taxi": frame}, functions=[score])
    assert results.state == "Stopped", results.error
    assert results["scored"]["fare"].tolist() == expected_fares(frame)
    assert scoring_server.stats()["batch_sizes"] == [300, 300, 300, 100]
    assert set(results.metrics.columns) >= {"function", "partition", "batch_size", "attempt", "status", "latency_ms"}
    assert results.counters["ml_requests"] == 4


def test_array_input_from_scalars_and_from_an_array_function(scoring_server) -> None:
    frame = taxi(200)
    score = MLFunction("score", scoring_server.score_url)

    def create_array(*columns: pd.Series) -> list:
        return [list(row) for row in zip(*columns, strict=True)]

    query = ("SELECT udf.score(vendorid, weekday, pickuphour, passenger, distance) AS a, "
             "udf.score(udf.createArray(vendorid, weekday, pickuphour, passenger, distance)) AS b "
             "INTO o FROM taxi")
    results = asanb.run(query, {"taxi": frame}, functions=[score, PythonFunction("createArray", create_array)])
    assert results.state == "Stopped", results.error
    assert results["o"]["a"].tolist() == results["o"]["b"].tolist() == expected_fares(frame)


def test_twelve_streaming_units_make_two_partitions(scoring_server_factory) -> None:
    server = scoring_server_factory(latency_ms=50)
    score = MLFunction("score", server.score_url, max_batch_count=50, parallel_requests_per_partition=2)
    results = asanb.run(RECORD_QUERY, {"taxi": taxi(1_000)}, functions=[score],
                        config=JobConfig(streaming_units=12))
    assert results.state == "Stopped"
    assert server.stats()["peak_concurrency"] == 4
    assert sorted(results.metrics["partition"].unique()) == [0, 1]


def test_fatal_status_fails_the_job_and_keeps_what_was_emitted(scoring_server_factory) -> None:
    server = scoring_server_factory(fail_pattern=(200, 200, 400))
    score = MLFunction("score", server.score_url, max_batch_count=100)
    results = asanb.run(RECORD_QUERY, {"taxi": taxi(500)}, functions=[score], config=JobConfig(batch_size=100))
    assert results.state == "Failed"
    assert isinstance(results.error, asanb.ScoringStatusError) and results.error.status == 400
    assert len(results["scored"]) == 200
    # Read: 200 emitted, 100 in the failing request, and the next micro-batch, read ahead while the failing
    # one was scored (a stateless plan), given up and counted.
    assert results.counters["events_in"]["taxi"] == 400
    assert results.counters["dropped"] == {"read_ahead_when_the_job_failed": 100}


def test_udf_inside_case_warns_and_still_scores_every_row(scoring_server) -> None:
    frame = taxi(100)
    score = MLFunction("score", scoring_server.score_url)
    query = ("WITH d AS (SELECT vendorid, weekday, pickuphour, passenger, distance FROM taxi) "
             "SELECT CASE WHEN distance > 5 THEN udf.score(d) ELSE 0 END AS fare INTO o FROM d")
    with pytest.warns(asanb.UdfInCaseWarning, match="UNION"):
        results = asanb.run(query, {"taxi": frame}, functions=[score])
    assert scoring_server.stats()["rows"] == 100  # ASA calls the function for every row of the step
    fares = results["o"]["fare"].tolist()
    assert [f for f, d in zip(fares, frame.distance, strict=True) if d <= 5] == [0] * int((frame.distance <= 5).sum())


def test_wrong_argument_count_is_a_plan_error_naming_the_call(scoring_server) -> None:
    score = MLFunction("score", scoring_server.score_url)
    with pytest.raises(asanb.PlanError, match=r"udf.score takes one record.*got 2 arguments") as caught:
        asanb.run("SELECT udf.score(vendorid, distance) AS f INTO o FROM taxi", {"taxi": taxi(10)},
                  functions=[score])
    assert caught.value.span.column == 8


def test_live_samples_and_request_metrics_arrive_while_the_job_runs(scoring_server) -> None:
    samples: list[dict] = []
    requests: list = []
    score = MLFunction("score", scoring_server.score_url, max_batch_count=100)
    results = asanb.run(RECORD_QUERY, {"taxi": taxi(400)}, functions=[score], config=JobConfig(batch_size=100),
                        on_progress=samples.append, on_request=requests.append)
    assert [m.batch_size for m in requests] == [100] * 4 and len(results.metrics) == 4
    assert [s["events_in"]["taxi"] for s in samples[:4]] == [100, 200, 300, 400]
    assert samples[-1]["ml_requests"] == 4 and samples[-1]["ml_in_flight"] == 0


@pytest.mark.parametrize("batch", [OVERLAP_MIN_ROWS - 1, OVERLAP_MIN_ROWS])
@pytest.mark.parametrize(("shape", "message"), [
    ("short", r"returned \d+ results for a batch of \d+ rows"),
    ("html", r"answered HTTP 200 with a body that is not JSON: '<html>"),
])
def test_a_broken_response_fails_the_job_naming_it(scoring_server_factory, batch, shape, message) -> None:
    server = scoring_server_factory(response_shape=shape)
    score = MLFunction("score", server.score_url, max_batch_count=batch, parallel_requests_per_partition=2)
    results = asanb.run(RECORD_QUERY, {"taxi": taxi(4 * batch)}, functions=[score])
    assert results.state == "Failed"
    assert re.search(message, str(results.error)) and server.score_url in str(results.error)


def test_micro_batches_hold_whole_scoring_rounds_so_no_request_goes_out_part_full(scoring_server) -> None:
    score = MLFunction("score", scoring_server.score_url, max_batch_count=300, parallel_requests_per_partition=2)
    results = asanb.run(RECORD_QUERY, {"taxi": taxi(2_400)}, functions=[score], config=JobConfig(batch_size=1_000))
    assert results.state == "Stopped" and len(results["scored"]) == 2_400
    # Micro-batches of 1,200 (two rounds of 2 x 300), not 1,000, which would send 300, 300, 300, 100, ...
    assert scoring_server.stats()["batch_sizes"] == [300] * 8


def test_micro_batch_size_rounds_up_to_whole_rounds_but_at_most_doubles() -> None:
    from asanb.job import micro_batch_size
    from asanb.udf.binding import BoundFunction

    def ml(rows_per_round: int) -> BoundFunction:
        function = BoundFunction()
        function.rows_per_round = rows_per_round
        return function

    assert micro_batch_size(250_000, [ml(5_000 * 8)]) == 280_000
    assert micro_batch_size(250_000, [ml(1_000), ml(3_000)]) == 252_000  # the largest round
    assert micro_batch_size(1_000, [ml(80_000)]) == 1_000  # would be 80 x the configured size
    assert micro_batch_size(250_000, [BoundFunction()]) == 250_000  # no remote function


def test_numeric_arguments_make_one_row_major_matrix_and_a_row_with_nans_counts_once(scoring_server) -> None:
    from asanb.udf.ml_binding import bind_ml_function

    binding = bind_ml_function(MLFunction("score", scoring_server.score_url), JobConfig())
    first, second = pd.Series([1.0, None, 3.0, None]), pd.Series([None, None, 2.0, 4.0])
    block = binding.row_block([first, second, pd.Series([1, 2, 3, 4])])
    assert block.arrays.flags.c_contiguous and block.arrays.shape == (4, 3)
    np.testing.assert_array_equal(block.arrays, [[1, np.nan, 1], [np.nan, np.nan, 2], [3, 2, 3], [np.nan, 4, 4]])
    assert binding.null_rows == 3  # rows 0, 1 and 3; row 1 has two NULLs and counts once


def test_null_arguments_are_sent_as_asa_does_and_counted(scoring_server) -> None:
    frame = taxi(10)
    frame.loc[3, "distance"] = None
    score = MLFunction("score", scoring_server.score_url)
    results = asanb.run(RECORD_QUERY, {"taxi": frame}, functions=[score])
    # ASA does not filter NULLs for the endpoint (the docs tell users to add WHERE ... IS NOT NULL): the model
    # rejects the batch, the job fails naming the status, and the NULL rows are counted.
    assert results.state == "Failed"
    assert results.error.status == 400 and "distance" in results.error.body_excerpt
    assert results.counters["ml_rows_with_null_arguments"] == 1
    filtered = asanb.run(RECORD_QUERY.replace("FROM taxi)", "FROM taxi WHERE distance IS NOT NULL)"),
                         {"taxi": frame}, functions=[score])
    assert filtered.state == "Stopped" and len(filtered["scored"]) == 9
    assert filtered.counters["filtered"] == 1
