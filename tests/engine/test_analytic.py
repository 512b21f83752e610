"""LAG, LAST and ISFIRST against a brute-force reference, batch-split invariance, and state release."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import asanb
from asanb import JobConfig
from asanb.engine.analytic_op import AnalyticOp
from asanb.engine.counters import Counters
from asanb.engine.operators import ErrorPolicy
from asanb.plan import logical
from asanb.plan.catalog import Catalog
from asanb.plan.planner import plan_query
from asanb.sql.parser import parse

BASE = pd.Timestamp("2026-01-01T00:00:00Z")
SECOND = 10**9
QUERY = """
SELECT i, k, v,
  LAG(v, 2) OVER (PARTITION BY k LIMIT DURATION(second, 10) WHEN v > 3) AS lag2,
  LAG(v, 1, -1) OVER (LIMIT DURATION(second, 3)) AS prev,
  LAST(v) OVER (PARTITION BY k LIMIT DURATION(second, 5) WHEN v % 2 = 0) AS last_even,
  ISFIRST(second, 10) OVER (PARTITION BY k WHEN v > 2) AS first
INTO o FROM input TIMESTAMP BY t
"""


def frame_of(seconds: list[int], keys: list[str], values: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"t": [BASE + pd.Timedelta(seconds=s) for s in seconds], "k": keys, "v": values,
                         "i": range(len(seconds))})


def reference(seconds: list[int], keys: list[str], values: list[int]) -> dict[int, dict[str, object]]:
    """Row by row, straight from the reference pages: events in time order, ties in arrival order."""
    order = sorted(range(len(seconds)), key=lambda i: (seconds[i], i))
    out: dict[int, dict[str, object]] = {}
    for position, i in enumerate(order):
        before = order[:position]

        def look(candidates: list[int], back: int, limit: int, i: int = i) -> object:
            if len(candidates) < back:
                return None
            j = candidates[-back]
            return values[j] if seconds[i] - seconds[j] <= limit else None

        big = [j for j in before if keys[j] == keys[i] and values[j] > 3]
        everyone = list(before)
        even = [j for j in before if keys[j] == keys[i] and values[j] % 2 == 0]
        if values[i] % 2 == 0:
            even.append(i)
        window_end = math.ceil(seconds[i] / 10)
        earlier_first = [j for j in before if keys[j] == keys[i] and values[j] > 2
                         and math.ceil(seconds[j] / 10) == window_end]
        prev = look(everyone, 1, 3)
        out[i] = {"lag2": look(big, 2, 10), "prev": -1 if prev is None else prev,
                  "last_even": look(even, 1, 5), "first": int(values[i] > 2 and not earlier_first)}
    return out


def check(result: pd.DataFrame, expected: dict[int, dict[str, object]]) -> None:
    assert sorted(result.i.tolist()) == sorted(expected)
    for row in result.itertuples():
        want = expected[row.i]
        for name, value in want.items():
            got = getattr(row, name)
            if value is None:
                assert pd.isna(got), (row.i, name, got)
            else:
                assert got == value, (row.i, name, got, value)


def test_each_function_matches_the_reference_on_a_small_stream() -> None:
    seconds = [1, 2, 3, 4, 9, 10, 11, 14, 20, 20, 31]
    keys = list("aabababaabb")
    values = [4, 5, 6, 2, 8, 4, 9, 1, 6, 7, 4]
    results = asanb.run(QUERY, {"input": frame_of(seconds, keys, values)})
    assert results.state == "Stopped", results.error
    check(results["o"], reference(seconds, keys, values))
    # hand-checked corners: LIMIT DURATION is inclusive, ISFIRST intervals are end-inclusive
    by_row = results["o"].set_index("i")
    assert by_row.prev[7] == 9 and by_row.prev[8] == -1  # 14 s - 11 s = LIMIT DURATION: still in reach
    assert by_row.first[5] == 0  # a at 10 s is in (0, 10] with a at 1 s


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.sampled_from("abc"), st.integers(0, 9)), min_size=1, max_size=40),
       st.integers(1, 7))
def test_random_streams_match_the_reference_for_any_batch_size(events: list[tuple[int, str, int]],
                                                               batch_size: int) -> None:
    seconds, keys, values = (list(column) for column in zip(*events, strict=True))
    # out of order within the tolerance: the operator sorts them back, nothing is adjusted
    config = JobConfig(batch_size=batch_size, events_out_of_order_max_delay_seconds=100,
                       events_late_arrival_max_delay_seconds=100)
    results = asanb.run(QUERY, {"input": frame_of(seconds, keys, values)}, config=config)
    assert results.state == "Stopped", results.error
    check(results["o"], reference(seconds, keys, values))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=40), st.integers(1, 9))
def test_in_order_streams_give_the_same_rows_whatever_the_batch_size(gaps: list[int], batch_size: int) -> None:
    seconds = list(np.cumsum(gaps))
    keys = ["ab"[n % 2] if n % 3 else "c" for n in range(len(seconds))]
    values = [(n * 7) % 10 for n in range(len(seconds))]
    frame = frame_of([int(s) for s in seconds], keys, values)
    whole = asanb.run(QUERY, {"input": frame})["o"]
    split = asanb.run(QUERY, {"input": frame}, config=JobConfig(batch_size=batch_size))["o"]
    pd.testing.assert_frame_equal(whole, split)
    check(whole, reference([int(s) for s in seconds], keys, values))


def test_null_values_are_returned_as_null_not_as_the_default() -> None:
    frame = pd.DataFrame({"t": [BASE, BASE + pd.Timedelta(seconds=1), BASE + pd.Timedelta(seconds=2)],
                          "v": [None, 2.0, 3.0]})
    out = asanb.run("SELECT v, LAG(v, 1, 99) OVER (LIMIT DURATION(second, 5)) AS p FROM input TIMESTAMP BY t",
                    {"input": frame})["output"]
    assert out.p.iloc[0] == 99 and pd.isna(out.p.iloc[1]) and out.p.iloc[2] == 2


def test_analytic_functions_see_rows_the_where_drops() -> None:
    frame = frame_of([1, 2, 3], ["a", "a", "a"], [1, 2, 3])
    out = asanb.run("SELECT v, LAG(v) OVER (LIMIT DURATION(second, 5)) AS p FROM input TIMESTAMP BY t "
                    "WHERE v <> 2", {"input": frame})["output"]
    assert out.p.tolist()[1] == 2  # the dropped row is still the previous event of v = 3


def analytic_operator(query: str) -> AnalyticOp:
    plan = plan_query(parse(query), Catalog(inputs={"input": ("t", "k", "v")}))
    node = next(node for node in plan.nodes() if isinstance(node, logical.Analytic))
    return AnalyticOp(node, ErrorPolicy("Stop", Counters()))


def batch(seconds: list[int], keys: list[str], values: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame({"t": [0] * len(seconds), "k": keys, "v": values})
    frame["__ts"] = [BASE + pd.Timedelta(seconds=s) for s in seconds]
    return frame


def test_state_returns_to_zero_once_the_watermark_passes_limit_duration() -> None:
    operator = analytic_operator(
        "SELECT LAG(v, 2) OVER (PARTITION BY k LIMIT DURATION(second, 10)) AS a, "
        "ISFIRST(minute, 1) OVER (PARTITION BY k) AS b FROM input")
    operator.on_batch(batch([1, 2, 3, 4, 5], list("ababc"), [1, 2, 3, 4, 5]))
    assert operator.on_batch(batch([6], ["a"], [6])) == []  # held until the watermark passes
    [out] = operator.on_watermark(BASE.value + 6 * SECOND)
    lag = out[operator.calls[0].call.output]
    assert lag.isna().tolist() == [True] * 5 + [False]
    assert lag.iloc[5] == 1  # a at 6 s: two a's back is a at 1 s
    held = operator.state_size()
    assert 0 < held <= 2 * 3 + 3  # at most `offset` rows per partition for LAG, one for ISFIRST
    operator.on_watermark(BASE.value + 15 * SECOND)  # LAG state of times <= 5 s is now out of reach
    assert 0 < operator.state_size() < held
    operator.on_watermark(BASE.value + 60 * SECOND)  # the ISFIRST interval (0, 60] is over
    assert operator.state_size() == 0
    assert operator.on_end() == []


def test_many_partitions_keep_only_what_limit_duration_reaches() -> None:
    operator = analytic_operator("SELECT LAG(v) OVER (PARTITION BY k LIMIT DURATION(second, 5)) AS a FROM input")
    for second in range(100):
        operator.on_batch(batch([second], [f"device{second}"], [second]))
        operator.on_watermark(BASE.value + second * SECOND)
        assert operator.state_size() <= 6  # one row per device seen in the last 5 s


def test_a_failing_argument_meets_the_output_error_policy_before_the_state() -> None:
    frame = pd.DataFrame({"t": [BASE + pd.Timedelta(seconds=s) for s in range(3)], "s": ["1", "x", "3"]})
    query = "SELECT s, LAG(CAST(s AS bigint)) OVER (LIMIT DURATION(second, 5)) AS p FROM input TIMESTAMP BY t"
    results = asanb.run(query, {"input": frame}, config=JobConfig(output_error_policy="Drop"))
    assert results["output"].p.tolist()[1] == 1  # the malformed row is dropped, not a previous event
    assert results.counters["dropped"] == {"output_error_policy": 1}
    assert asanb.run(query, {"input": frame}).state == "Failed"
