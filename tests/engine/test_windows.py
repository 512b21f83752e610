"""Windowed GROUP BY: boundaries and alignment of every window kind, aggregates, Windows(...), state release.

Expected values come from a brute-force reference written from the window definitions
(../shared/spec/saql.md, "Windows"), never from the engine itself.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import asanb
from asanb import JobConfig
from asanb.engine.aggregates import AggregateSpec
from asanb.engine.window_op import WindowAggregateOp
from asanb.plan.logical import WindowDefinition
from asanb.plan.scope import EVENT_TIME

BASE = pd.Timestamp("2026-01-01T00:00:00Z")
SECOND = 1_000_000_000


def stream(seconds: list[float], **columns: list) -> pd.DataFrame:
    return pd.DataFrame({"time": [(BASE + pd.Timedelta(seconds=s)).isoformat() for s in seconds], **columns})


def ends_of(frame: pd.DataFrame, column: str = "e") -> list[float]:
    return [(pd.Timestamp(t) - BASE).total_seconds() for t in frame[column]]


def test_an_event_on_a_window_end_belongs_to_that_window() -> None:
    results = asanb.run("SELECT COUNT(*) AS n, System.Timestamp() AS e INTO o FROM input TIMESTAMP BY time "
                        "GROUP BY TumblingWindow(second, 10)", {"input": stream([0, 10, 10.5, 20])})
    assert results.state == "Stopped", results.error
    # (-10, 0] holds 0; (0, 10] holds 10; (10, 20] holds 10.5 and 20.
    assert list(zip(ends_of(results["o"]), results["o"].n, strict=True)) == [(0, 1), (10, 1), (20, 2)]


def test_tumbling_offset_shifts_the_grid() -> None:
    results = asanb.run("SELECT COUNT(*) AS n, System.Timestamp() AS e INTO o FROM input TIMESTAMP BY time "
                        "GROUP BY TumblingWindow(second, 10, 2)", {"input": stream([1, 2, 3, 12.5])})
    assert list(zip(ends_of(results["o"]), results["o"].n, strict=True)) == [(2, 2), (12, 1), (22, 1)]


def reference_hopping(seconds: list[int], keys: list[str], values: list[int], size: int,
                      hop: int) -> set[tuple[int, str, int, int]]:
    """(end, key, count, sum) for every non-empty window (end - size, end], ends on multiples of hop."""
    windows: dict[tuple[int, str], list[int]] = {}
    for second, key, value in zip(seconds, keys, values, strict=True):
        end = -(-second // hop) * hop
        while end - size < second:
            windows.setdefault((end, key), []).append(value)
            end += hop
    return {(end, key, len(vals), sum(vals)) for (end, key), vals in windows.items()}


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(0, 120), st.sampled_from(["a", "b", "c"]), st.integers(-5, 5)),
                  min_size=1, max_size=60),
    shape=st.sampled_from([(10, 10), (10, 5), (10, 3), (6, 4)]),
    batch_size=st.integers(1, 25),
)
def test_hopping_windows_match_the_definition_for_any_batching(data, shape, batch_size) -> None:
    data = sorted(data)
    seconds, keys, values = (list(column) for column in zip(*data, strict=True))
    size, hop = shape
    query = (f"SELECT k, COUNT(*) AS n, SUM(v) AS total, System.Timestamp() AS e INTO o FROM input "
             f"TIMESTAMP BY time GROUP BY k, HoppingWindow(second, {size}, {hop})")
    results = asanb.run(query, {"input": stream(seconds, k=keys, v=values)}, config=JobConfig(batch_size=batch_size))
    assert results.state == "Stopped", results.error
    out = results["o"]
    got = {(int(e), k, int(n), int(t)) for e, k, n, t in zip(ends_of(out), out.k, out.n, out.total, strict=True)}
    assert got == reference_hopping(seconds, keys, values, size, hop)
    assert ends_of(out) == sorted(ends_of(out)), "windows leave in event-time order"


def test_sliding_window_ends_where_events_enter_and_leave() -> None:
    results = asanb.run("SELECT COUNT(*) AS n, System.Timestamp() AS e INTO o FROM input TIMESTAMP BY time "
                        "GROUP BY SlidingWindow(second, 10)", {"input": stream([1, 5, 30])})
    # Entries at 1, 5, 30; exits at 11 (1 leaves, 5 stays) and 15, 40 (empty windows: no output).
    assert list(zip(ends_of(results["o"]), results["o"].n, strict=True)) == [(1, 1), (5, 2), (11, 1), (30, 1)]


def test_session_windows_close_after_the_timeout_and_are_cut_at_max_duration() -> None:
    query = ("SELECT COUNT(*) AS n, System.Timestamp() AS e INTO o FROM input TIMESTAMP BY time "
             "GROUP BY SessionWindow(second, 5, 20)")
    results = asanb.run(query, {"input": stream([1, 4, 9, 30, 34, 38, 42, 46, 50, 54, 58, 62, 66])})
    # 1, 4, 9 (gaps <= 5) end at 9 + 5. The session from 30 is checked at multiples of 20: at 40 it has
    # lasted 10 s, at 60 it has lasted 30 >= 20, so it is cut at 60 and 62, 66 start a new one.
    assert list(zip(ends_of(results["o"]), results["o"].n, strict=True)) == [(14, 3), (60, 8), (71, 2)]


def test_session_windows_are_per_partition() -> None:
    query = ("SELECT k, COUNT(*) AS n, System.Timestamp() AS e INTO o FROM input TIMESTAMP BY time "
             "GROUP BY k, SessionWindow(second, 5, 60) OVER (PARTITION BY k)")
    results = asanb.run(query, {"input": stream([1, 3, 4, 8], k=["a", "b", "a", "b"])})
    rows = set(zip(results["o"].k, results["o"].n, ends_of(results["o"]), strict=True))
    assert rows == {("a", 2, 9.0), ("b", 2, 13.0)}


def test_snapshot_window_groups_equal_timestamps() -> None:
    results = asanb.run("SELECT COUNT(*) AS n, System.Timestamp() AS e INTO o FROM input TIMESTAMP BY time "
                        "GROUP BY SnapshotWindow()", {"input": stream([1, 1, 2, 3, 3, 3])})
    assert list(zip(ends_of(results["o"]), results["o"].n, strict=True)) == [(1, 2), (2, 1), (3, 3)]


def test_windows_set_names_each_window() -> None:
    query = ("SELECT WindowId() AS w, COUNT(*) AS n, System.Timestamp() AS e INTO o FROM input TIMESTAMP BY time "
             "GROUP BY Windows(TumblingWindow(second, 10) AS 'ten', TumblingWindow(second, 20) AS 'twenty')")
    results = asanb.run(query, {"input": stream([1, 12, 15])})
    rows = set(zip(results["o"].w, ends_of(results["o"]), results["o"].n, strict=True))
    assert rows == {("ten", 10, 1), ("ten", 20, 2), ("twenty", 20, 3)}


def test_record_and_ordered_aggregates() -> None:
    query = ("SELECT TopOne() OVER (ORDER BY v DESC) AS best, Collect(v) AS all_v, "
             "CollectTop(2) OVER (ORDER BY v ASC) AS low, COUNT(DISTINCT k) AS kinds, "
             "PERCENTILE_CONT(0.5) OVER (ORDER BY v) AS median, STDEV(v) AS spread "
             "INTO o FROM input TIMESTAMP BY time GROUP BY TumblingWindow(second, 10)")
    results = asanb.run(query, {"input": stream([1, 2, 3, 4], k=["a", "a", "b", "a"], v=[4, 9, 1, 6])})
    assert results.state == "Stopped", results.error
    row = results["o"].iloc[0]
    assert row.best["v"] == 9 and row.best["k"] == "a"
    assert row.all_v == [4, 9, 1, 6]
    assert [(item["rank"], item["value"]["v"]) for item in row.low] == [(1, 1), (2, 4)]
    assert row.kinds == 2
    assert row["median"] == pytest.approx(5.0)
    assert row.spread == pytest.approx(pd.Series([4, 9, 1, 6]).std())


def test_aggregates_skip_nulls_and_sum_of_nothing_is_null() -> None:
    frame = stream([1, 2, 12], v=[None, None, 3])
    results = asanb.run("SELECT SUM(v) AS s, COUNT(v) AS c, COUNT(*) AS n, MIN(v) AS lo INTO o FROM input "
                        "TIMESTAMP BY time GROUP BY TumblingWindow(second, 10)", {"input": frame})
    out = results["o"]
    assert out.c.tolist() == [0, 1] and out.n.tolist() == [2, 1]
    assert pd.isna(out.s.iloc[0]) and out.s.iloc[1] == 3 and pd.isna(out.lo.iloc[0])


def batch(seconds: list[float], key: list[str]) -> pd.DataFrame:
    times = pd.to_datetime([BASE + pd.Timedelta(seconds=s) for s in seconds], utc=True).as_unit("ns")
    return pd.DataFrame({"k": key, "v": [1.0] * len(seconds), EVENT_TIME: times})


@pytest.mark.parametrize("plan", [
    WindowDefinition("tumbling", 10 * SECOND),
    WindowDefinition("hopping", 10 * SECOND, 5 * SECOND),
    WindowDefinition("sliding", 10 * SECOND),
    WindowDefinition("session", 5 * SECOND, 0, 0, 60 * SECOND),
    WindowDefinition("snapshot"),
], ids=lambda plan: plan.kind)
@pytest.mark.parametrize("function", ["count_star", "collect"])
def test_state_is_released_once_the_watermark_passes_the_last_window(plan: WindowDefinition, function: str) -> None:
    spec = AggregateSpec(function, "v" if function == "collect" else None, "out")
    operator = WindowAggregateOp(plan, ["k"], [spec])
    operator.on_batch(batch([1, 2, 3, 7], ["a", "b", "a", "b"]))
    assert operator.state_size() > 0
    emitted = operator.on_watermark(int((BASE + pd.Timedelta(seconds=100)).value))
    assert operator.state_size() == 0
    assert sum(len(frame) for frame in emitted) > 0
    assert operator.on_end() == []


def test_windows_are_held_until_final() -> None:
    operator = WindowAggregateOp(WindowDefinition("tumbling", 10 * SECOND), ["k"], [AggregateSpec("count_star", None, "n")])
    operator.on_batch(batch([1, 9], ["a", "a"]))
    assert operator.on_watermark(int((BASE + pd.Timedelta(seconds=9)).value)) == []
    [frame] = operator.on_watermark(int((BASE + pd.Timedelta(seconds=10)).value))
    assert frame.n.tolist() == [2]
