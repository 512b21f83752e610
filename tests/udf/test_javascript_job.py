"""JavaScript UDFs and UDAs in jobs: the docs' createArray feeding an ML UDF array request against the real
scoring server, one engine call per micro-batch, UDAs over every window kind, and the function JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import asanb
from asanb import JavaScriptAggregate, JavaScriptFunction, JobConfig, MLFunction, PythonFunction
from asanb.io.simulated import TaxiStream
from asanb.udf.model import TaxiFareModel

CREATE_ARRAY = """function createArray(vendorid, weekday, pickuphour, passenger, distance) {
    'use strict';
    var array = [vendorid, weekday, pickuphour, passenger, distance]
    return array;
}"""

SUM_UDA = """// AccumulateDeaccumulate, as ASA's template
function main() {
    this.init = function () { this.state = 0; };
    this.accumulate = function (value, timestamp) { this.state += value; };
    this.deaccumulate = function (value, timestamp) { this.state -= value; };
    this.deaccumulateState = function (otherState) { this.state -= otherState.state; };
    this.computeResult = function () { return this.state; };
}"""

LAST_TIME_UDA = """function main() {
    this.init = function () { this.last = null; this.values = []; };
    this.accumulate = function (value, timestamp) { this.last = timestamp; this.values.push(value); };
    this.computeResult = function () { return {last: this.last.toISOString(), values: this.values}; };
}"""


def taxi(n: int) -> pd.DataFrame:
    return next(TaxiStream(rate=100, events=n, seed=3).batches(n))


def test_create_array_feeds_an_ml_udf_array_request(scoring_server) -> None:
    frame = taxi(500)
    score = MLFunction("score", scoring_server.score_url, max_batch_count=200)
    query = ("SELECT udf.score(udf.createArray(vendorid, weekday, pickuphour, passenger, distance)) AS fare "
             "INTO o FROM taxi")
    results = asanb.run(query, {"taxi": frame}, functions=[score, JavaScriptFunction("createArray", CREATE_ARRAY)])
    assert results.state == "Stopped", results.error
    columns = ["vendorid", "weekday", "pickuphour", "passenger", "distance"]
    assert results["o"]["fare"].tolist() == TaxiFareModel().predict_rows(frame[columns].to_dict("records"))
    assert scoring_server.stats()["batch_sizes"] == [200, 200, 100]
    assert results.counters["js_calls"] == 1 and results.counters["js_rows"] == 500


def test_one_engine_call_per_micro_batch() -> None:
    function = JavaScriptFunction("createArray", CREATE_ARRAY)
    results = asanb.run("SELECT udf.createArray(vendorid, weekday, pickuphour, passenger, distance) AS a "
                        "INTO o FROM taxi", {"taxi": taxi(1_000)}, functions=[function],
                        config=JobConfig(batch_size=250))
    assert results.counters["js_calls"] == 4
    first = results["o"]["a"].iloc[0]
    assert isinstance(first, list) and len(first) == 5 and isinstance(first[1], str)


WINDOWS = ["TumblingWindow(second, 10)", "HoppingWindow(second, 10, 5)", "SlidingWindow(second, 10)",
           "SessionWindow(second, 5, 20)", "SnapshotWindow()",
           "Windows(TumblingWindow(second, 10) AS ten, HoppingWindow(second, 20, 10) AS twenty)"]


@pytest.mark.parametrize("window", WINDOWS)
def test_uda_matches_sum_over_every_window_kind(window: str) -> None:
    times = pd.date_range("2026-01-01", periods=90, freq="700ms", tz="UTC")
    events = pd.DataFrame({"t": times, "k": ["a", "b", "c"] * 30, "v": np.arange(90, dtype=float) * 1.5})
    query = (f"SELECT k, uda.total(v) AS js, SUM(v) AS native INTO o FROM i TIMESTAMP BY t "
             f"GROUP BY k, {window}")
    results = asanb.run(query, {"i": events}, functions=[JavaScriptAggregate("total", SUM_UDA, output="float")])
    assert results.state == "Stopped", results.error
    out = results["o"]
    assert len(out) > 0
    assert out["js"].tolist() == out["native"].tolist()


def test_uda_accumulates_in_event_time_order_with_the_event_timestamp() -> None:
    events = pd.DataFrame({"t": ["2026-01-01T00:00:03Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"],
                           "v": [3, 1, 2]})
    aggregate = JavaScriptAggregate("trace", LAST_TIME_UDA, output="record")
    results = asanb.run("SELECT uda.trace(v) AS r INTO o FROM i TIMESTAMP BY t GROUP BY TumblingWindow(second, 10)",
                        {"i": events}, functions=[aggregate],
                        config=JobConfig(events_out_of_order_max_delay_seconds=5))
    assert results.state == "Stopped", results.error
    assert results["o"]["r"].tolist() == [{"last": "2026-01-01T00:00:03.000Z", "values": [1, 2, 3]}]


def test_function_json_round_trips_for_udf_and_uda(tmp_path) -> None:
    udf = JavaScriptFunction("createArray", CREATE_ARRAY, inputs=["bigint", "nvarchar(max)", "bigint", "bigint",
                                                                  "float"], output="array")
    data = udf.to_function_json()
    assert data["properties"]["type"] == "Scalar"
    assert data["properties"]["properties"]["binding"] == {"type": "Microsoft.StreamAnalytics/JavascriptUdf",
                                                           "properties": {"script": CREATE_ARRAY}}
    assert JavaScriptFunction.from_function_json(data) == udf
    uda = JavaScriptAggregate("total", SUM_UDA, output="float")
    assert uda.to_function_json()["properties"]["type"] == "Aggregate"
    assert JavaScriptAggregate.from_function_json(uda.to_function_json()) == uda
    with pytest.raises(asanb.ConfigError, match="is a Aggregate function"):
        JavaScriptFunction.from_function_json(uda.to_function_json())
    # A VS Code project keeps the script next to the JSON: Functions/total.js.json + Functions/total.js.
    stored = uda.to_function_json()
    stored["properties"]["properties"]["binding"]["properties"] = {}
    (tmp_path / "total.js.json").write_text(json.dumps(stored))
    (tmp_path / "total.js").write_text(SUM_UDA)
    assert JavaScriptAggregate.from_files(tmp_path / "total.js.json") == uda


def test_python_functions_are_marked_as_an_extension_asa_cannot_run() -> None:
    assert PythonFunction.asa_compatible is False
    assert JavaScriptFunction.asa_compatible is True and JavaScriptAggregate.asa_compatible is True
