"""ASA ↔ JavaScript type mapping through real V8 calls: each ASA type in, each JS type out, NULLs, the
±2^53 number range, millisecond datetimes, declared output types and the output error policy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import asanb
from asanb import JavaScriptFunction, JobConfig

TYPEOF = "function main(x) { return x === null ? 'null' : (x instanceof Date ? 'Date' : " \
         "(Array.isArray(x) ? 'Array' : typeof x)); }"
IDENTITY = "function main(x) { return x; }"


def run_one(column: list | pd.Series, script: str = TYPEOF, output: str = "any", **config) -> asanb.Results:
    frame = pd.DataFrame({"x": column})
    function = JavaScriptFunction("f", script, output=output)
    results = asanb.run("SELECT udf.f(x) AS y INTO o FROM i", {"i": frame}, functions=[function],
                        config=JobConfig(**config))
    return results


def values(column: list | pd.Series, script: str = TYPEOF, output: str = "any") -> list:
    results = run_one(column, script, output)
    assert results.state == "Stopped", results.error
    return results["o"]["y"].tolist()


@pytest.mark.parametrize(("column", "expected"), [
    (pd.Series([1, 2], dtype="int64"), ["number", "number"]),
    (pd.Series([1.5, np.nan]), ["number", "null"]),
    (pd.Series(["a", None], dtype=object), ["string", "null"]),
    (pd.Series([True, False]), ["boolean", "boolean"]),
    (pd.Series([pd.Timestamp("2026-01-01", tz="UTC"), pd.NaT]), ["Date", "null"]),
    (pd.Series([{"a": 1}, None], dtype=object), ["object", "null"]),
    (pd.Series([[1, 2], None], dtype=object), ["Array", "null"]),
], ids=["bigint", "float", "nvarchar", "bit", "datetime", "record", "array"])
def test_each_asa_type_arrives_as_its_javascript_type(column: pd.Series, expected: list[str]) -> None:
    assert values(column) == expected


def test_values_survive_the_round_trip() -> None:
    row = {"s": "é✓", "n": 3, "f": 2.5, "b": True, "list": [1, "two", None], "nested": {"k": [1.5]}}
    assert values(pd.Series([row], dtype=object), IDENTITY) == [row]
    assert values(pd.Series(["x", "y"]), IDENTITY) == ["x", "y"]


def test_integral_numbers_come_back_as_bigint_and_others_as_float() -> None:
    results = run_one(pd.Series([1, 2, 3]), "function main(x) { return x * 2; }")
    assert results["o"]["y"].dtype == np.int64 and results["o"]["y"].tolist() == [2, 4, 6]
    halves = values(pd.Series([1, 2]), "function main(x) { return x / 2; }")
    assert halves == [0.5, 1.0]


def test_bigints_beyond_two_to_the_53_are_rounded_as_javascript_does_and_counted() -> None:
    big = 2**53 + 1
    results = run_one(pd.Series([big, 5]), IDENTITY)
    assert results["o"]["y"].tolist() == [2**53, 5]  # Number cannot hold 2^53 + 1
    assert results.counters["js_bigint_beyond_2_53"] == 1


def test_datetimes_cross_as_dates_with_millisecond_precision() -> None:
    stamp = pd.Timestamp("2026-03-04T05:06:07.1234567Z")
    got = values(pd.Series([stamp]), "function main(d) { return new Date(d.getTime() + 1000); }")
    assert got == [pd.Timestamp("2026-03-04T05:06:08.123Z")]
    iso = values(pd.Series([stamp]), "function main(d) { return d.toISOString(); }")
    assert iso == ["2026-03-04T05:06:07.123Z"]


def test_null_and_undefined_become_null() -> None:
    got = values(pd.Series([1, 2]), "function main(x) { return x == 1 ? undefined : null; }")
    assert [pd.isna(v) for v in got] == [True, True]


def test_record_argument_is_a_whole_row_object() -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    function = JavaScriptFunction("f", "function main(r) { return r.b + r.a; }")
    results = asanb.run("WITH s AS (SELECT a, b FROM i) SELECT udf.f(s) AS y INTO o FROM s", {"i": frame},
                        functions=[function])
    assert results["o"]["y"].tolist() == ["x1", "y2"]


@pytest.mark.parametrize(("output", "script", "expected"), [
    ("bigint", "function main(x) { return x + 1; }", [2, 3]),
    ("float", "function main(x) { return x + 1; }", [2.0, 3.0]),
    ("nvarchar(max)", "function main(x) { return 'v' + x; }", ["v1", "v2"]),
    ("bit", "function main(x) { return x > 1; }", [False, True]),
    ("datetime", "function main(x) { return new Date(x * 1000); }",
     [pd.Timestamp(1, unit="s", tz="UTC"), pd.Timestamp(2, unit="s", tz="UTC")]),
    ("record", "function main(x) { return {v: x}; }", [{"v": 1}, {"v": 2}]),
    ("array", "function main(x) { return [x, x]; }", [[1, 1], [2, 2]]),
])
def test_declared_output_types(output: str, script: str, expected: list) -> None:
    assert values(pd.Series([1, 2]), script, output) == expected


def test_a_value_that_does_not_convert_to_the_output_type_fails_under_stop() -> None:
    results = run_one(pd.Series([1, 2, 3]), "function main(x) { return x == 2 ? 'two' : x; }", output="bigint")
    assert results.state == "Failed"
    assert isinstance(results.error, asanb.UdfResultError)
    assert "udf.f returned 'two'" in str(results.error) and results.error.row == [2]


def test_a_value_that_does_not_convert_is_dropped_and_counted_under_drop() -> None:
    results = run_one(pd.Series([1, 2, 3]), "function main(x) { return x == 2 ? 'two' : x; }", output="bigint",
                      output_error_policy="Drop")
    assert results.state == "Stopped", results.error
    assert results["o"]["y"].tolist() == [1, 3]
    assert results.counters["dropped"] == {"output_error_policy": 1}
