"""Stream-stream JOIN: pairs and times against a brute-force reference, LEFT OUTER NULL rows, self-joins,
joins against WITH steps, batch-split invariance, state release.

Expected rows come from a reference written from the JOIN rule (key equal, right time - left time within
[low, high], joined time = the later time), never from the engine itself.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import asanb
from asanb import JobConfig
from asanb.engine.counters import Counters
from asanb.engine.join_op import StreamJoinOp
from asanb.engine.operators import ErrorPolicy, ScanOp
from asanb.plan import logical
from asanb.plan.catalog import Catalog
from asanb.plan.planner import plan_query
from asanb.sql.parser import parse

BASE = pd.Timestamp("2026-01-01T00:00:00Z")
SECOND = 1_000_000_000


def stream(seconds: list[float], **columns: list) -> pd.DataFrame:
    return pd.DataFrame({"time": [BASE + pd.Timedelta(seconds=s) for s in seconds], **columns})


def secs(values: pd.Series) -> list[float]:
    return [(pd.Timestamp(t) - BASE).total_seconds() for t in values]


def reference(left: pd.DataFrame, right: pd.DataFrame, low: float, high: float,
              outer: bool) -> list[tuple]:
    """(left v, right w, joined time in s) of every pair, plus LEFT OUTER rows (v, None, left + high)."""
    rows = []
    for _, a in left.iterrows():
        found = False
        for _, b in right.iterrows():
            delta = (b.time - a.time).total_seconds()
            if a.k is not None and a.k == b.k and low <= delta <= high:
                rows.append((a.v, b.w, (max(a.time, b.time) - BASE).total_seconds()))
                found = True
        if outer and not found:
            rows.append((a.v, None, (a.time - BASE).total_seconds() + max(high, 0)))
    return sorted(rows, key=repr)


def joined(results: asanb.Results) -> list[tuple]:
    out = results["o"]
    if out.empty:
        return []
    rows = [(int(v), None if pd.isna(w) else int(w), t) for v, w, t in zip(out.v, out.w, secs(out.t), strict=True)]
    return sorted(rows, key=repr)


JOIN = ("SELECT a.v, b.w, System.Timestamp() AS t INTO o FROM l a TIMESTAMP BY time {kind} JOIN r b "
        "TIMESTAMP BY time ON a.k = b.k AND DATEDIFF(second, a, b) BETWEEN {low} AND {high}")


def test_inner_join_pairs_within_the_bound_at_the_later_time() -> None:
    left = stream([1, 3, 9], k=["x", "y", "x"], v=[1, 2, 3])
    right = stream([2, 4, 16], k=["x", "x", "x"], w=[10, 20, 30])
    results = asanb.run(JOIN.format(kind="", low=0, high=5), {"l": left, "r": right})
    assert results.state == "Stopped", results.error
    assert joined(results) == [(1, 10, 2.0), (1, 20, 4.0)]


def test_left_outer_emits_unmatched_rows_with_nulls_once_the_bound_has_passed() -> None:
    left = stream([1, 3, 9], k=["x", "y", "x"], v=[1, 2, 3])
    right = stream([2, 4, 16], k=["x", "x", "x"], w=[10, 20, 30])
    results = asanb.run(JOIN.format(kind="LEFT OUTER", low=0, high=5), {"l": left, "r": right})
    assert results.state == "Stopped", results.error
    assert joined(results) == [(1, 10, 2.0), (1, 20, 4.0), (2, None, 8.0), (3, None, 14.0)]
    assert joined(results) == reference(left, right, 0, 5, outer=True)


def test_a_reversed_datediff_bounds_the_other_direction() -> None:
    left = stream([5, 10], k=["x", "x"], v=[1, 2])
    right = stream([2, 9], k=["x", "x"], w=[10, 20])
    query = ("SELECT a.v, b.w, System.Timestamp() AS t INTO o FROM l a TIMESTAMP BY time JOIN r b TIMESTAMP BY "
             "time ON a.k = b.k AND DATEDIFF(second, b, a) BETWEEN 0 AND 3")
    results = asanb.run(query, {"l": left, "r": right})
    assert joined(results) == [(1, 10, 5.0), (2, 20, 10.0)]


def test_null_keys_never_match_and_the_rest_of_on_filters_pairs() -> None:
    left = stream([1, 2, 3], k=["x", None, "x"], v=[1, 2, 3])
    right = stream([2, 3, 4], k=["x", None, "x"], w=[10, 20, 30])
    query = JOIN.format(kind="", low=-5, high=5) + " AND b.w >= a.v * 10"
    results = asanb.run(query, {"l": left, "r": right})
    assert joined(results) == [(1, 10, 2.0), (1, 30, 4.0), (3, 30, 4.0)]


def test_self_join_pairs_each_event_with_later_ones_of_the_same_key() -> None:
    events = stream([1, 2, 4, 9], k=["x", "x", "y", "x"], v=[1, 2, 3, 4])
    query = ("SELECT a.v AS v, b.v AS w, System.Timestamp() AS t INTO o FROM input a TIMESTAMP BY time "
             "JOIN input b TIMESTAMP BY time ON a.k = b.k AND DATEDIFF(second, a, b) BETWEEN 0 AND 5")
    results = asanb.run(query, {"input": events}, config=JobConfig(batch_size=2))
    assert results.state == "Stopped", results.error
    renamed = events.rename(columns={"v": "v"}).assign(w=events.v)
    assert joined(results) == reference(events, renamed, 0, 5, outer=False)


def test_join_against_a_with_step() -> None:
    left = stream([1, 3], k=["x", "y"], v=[1, 2])
    right = stream([2, 4], k=["x", "y"], w=[5, 50])
    query = ("WITH big AS (SELECT k, w FROM r TIMESTAMP BY time WHERE w > 10) "
             "SELECT a.v, big.w, System.Timestamp() AS t INTO o FROM l a TIMESTAMP BY time JOIN big "
             "ON a.k = big.k AND DATEDIFF(second, a, big) BETWEEN 0 AND 5")
    results = asanb.run(query, {"l": left, "r": right})
    assert results.state == "Stopped", results.error
    assert joined(results) == [(2, 50, 4.0)]


def test_unqualified_columns_of_one_side_resolve_and_windows_read_joined_rows() -> None:
    left = stream([1, 3], k=["x", "x"], v=[1, 2])
    right = stream([2, 12], k=["x", "x"], w=[10, 20])
    query = ("SELECT COUNT(*) AS n, SUM(w) AS s INTO o FROM l a TIMESTAMP BY time JOIN r b TIMESTAMP BY time "
             "ON a.k = b.k AND DATEDIFF(second, a, b) BETWEEN 0 AND 10 GROUP BY TumblingWindow(second, 10)")
    results = asanb.run(query, {"l": left, "r": right})
    assert results.state == "Stopped", results.error
    # Pairs (1 s, 2 s) at 2 s and (3 s, 12 s) at 12 s: one per window.
    assert list(results["o"].n) == [1, 1] and list(results["o"].s) == [10, 20]


keys = st.sampled_from(["x", "y", None])
events = st.lists(st.tuples(st.integers(0, 40), keys), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(events, events, st.integers(1, 5), st.sampled_from([(0, 5), (-3, 3), (-6, -2)]), st.booleans())
def test_join_matches_the_reference_for_any_batch_split(left_events, right_events, batch, bound, outer) -> None:
    left = stream(sorted(t for t, _ in left_events), k=[k for _, k in sorted(left_events, key=lambda e: e[0])],
                  v=list(range(len(left_events))))
    right = stream(sorted(t for t, _ in right_events), k=[k for _, k in sorted(right_events, key=lambda e: e[0])],
                   w=list(range(100, 100 + len(right_events))))
    query = JOIN.format(kind="LEFT OUTER" if outer else "", low=bound[0], high=bound[1])
    results = asanb.run(query, {"l": left, "r": right}, config=JobConfig(batch_size=batch))
    assert results.state == "Stopped", results.error
    assert joined(results) == reference(left, right, *bound, outer=outer)


def _operator(query: str) -> tuple[StreamJoinOp, ScanOp, ScanOp]:
    tree = parse(query)
    plan = plan_query(tree, Catalog({"l": ("time", "k", "v"), "r": ("time", "k", "w")}))
    join = next(node for node in plan.nodes() if isinstance(node, logical.Join))
    scans = [node for node in plan.nodes() if isinstance(node, logical.InputScan)]
    counters = Counters()
    make = [ScanOp(scan, counters, 0, "Adjust", lambda: BASE) for scan in scans]
    return StreamJoinOp(join, ErrorPolicy("Stop", counters)), make[0], make[1]


@pytest.mark.parametrize("kind", ["", "LEFT OUTER"])
def test_state_is_released_once_the_watermark_passes_the_bound(kind: str) -> None:
    query = JOIN.format(kind=kind, low=0, high=5)
    operator, left_scan, right_scan = _operator(query)
    frame = stream([1, 2, 3], k=["x", "y", "x"], v=[1, 2, 3])
    operator.on_batch(left_scan.on_batch(frame)[0], 0)
    operator.on_batch(right_scan.on_batch(frame.rename(columns={"v": "w"}))[0], 1)
    assert operator.state_size() == 6
    operator.on_watermark((BASE + pd.Timedelta(seconds=7)).value)
    assert operator.state_size() == 1  # the left row at 3 s can still meet a right row up to 8 s
    released = operator.on_watermark((BASE + pd.Timedelta(seconds=8)).value)
    assert operator.state_size() == 0
    if kind:
        assert sum(len(frame) for frame in released) == 0  # every left row had a partner


def test_bad_join_queries_name_the_rule_and_the_place() -> None:
    frame = stream([1], k=["x"], v=[1])
    with pytest.raises(asanb.PlanError, match="needs a time bound") as caught:
        asanb.run("SELECT a.v INTO o FROM l a JOIN r b ON a.k = b.k", {"l": frame, "r": frame})
    assert caught.value.span.line == 1 and caught.value.span.column == 24


CHAIN = ("SELECT a.v, b.w, c.u, System.Timestamp() AS t INTO o FROM l a TIMESTAMP BY time LEFT OUTER JOIN r b "
         "TIMESTAMP BY time ON a.k = b.k AND DATEDIFF(second, a, b) BETWEEN 0 AND 5 "
         "{kind} JOIN m c TIMESTAMP BY time ON a.k = c.k AND DATEDIFF(second, b, c) BETWEEN {low} AND {high}")


@pytest.mark.parametrize(("kind", "low", "high"), [("", -5, 5), ("LEFT OUTER", -5, 5), ("LEFT OUTER", -8, -1),
                                                   ("LEFT OUTER", 1, 8)])
def test_null_times_of_an_unmatched_left_outer_row_meet_no_partner_in_the_next_join(kind: str, low: int,
                                                                                    high: int) -> None:
    # a at 2 s and 3 s find no b: their b time is NULL when the second JOIN's DATEDIFF reads it. The c events
    # of the same key are still buffered when those rows arrive (at 7 s and 8 s), so a NULL time mistaken
    # for a number could pair them.
    left = stream([1, 2, 3], k=["x", "y", "y"], v=[1, 2, 3])
    right = stream([2, 30], k=["x", "q"], w=[10, 20])
    middle = stream([2, 4, 6, 9, 12], k=["x", "x", "y", "y", "y"], u=[100, 200, 300, 400, 500])
    results = asanb.run(CHAIN.format(kind=kind, low=low, high=high), {"l": left, "r": right, "m": middle},
                        config=JobConfig(batch_size=2))
    assert results.state == "Stopped", results.error
    out = results["o"]
    found = [] if out.empty else sorted(
        (int(v), None if pd.isna(w) else int(w), None if pd.isna(u) else int(u), t)
        for v, w, u, t in zip(out.v, out.w, out.u, secs(out.t), strict=True))
    pairs = [(1, 10, u, max(2.0, c)) for c, u in ((2, 100), (4, 200)) if low <= c - 2 <= high]
    nulls = [(2, None, None, 7.0), (3, None, None, 8.0)] if kind else []
    # a at 1 s with b at 2 s, unmatched by c: LEFT OUTER emits it with NULL c at b time + high.
    lonely = [(1, 10, None, 2.0 + max(high, 0))] if kind and not pairs else []
    assert found == sorted(pairs + nulls + lonely)


@pytest.mark.parametrize("kind", ["", "LEFT OUTER"])
@pytest.mark.parametrize(("low", "high"), [(-5, 5), (-8, -1)])
def test_rows_with_a_null_join_time_are_never_buffered(kind: str, low: int, high: int) -> None:
    tree = parse(CHAIN.format(kind=kind, low=low, high=high))
    plan = plan_query(tree, Catalog({"l": ("time", "k", "v"), "r": ("time", "k", "w"), "m": ("time", "k", "u")}))
    second = [node for node in plan.nodes() if isinstance(node, logical.Join)][-1]
    operator = StreamJoinOp(second, ErrorPolicy("Stop", Counters()))
    middle = stream([3, 5, 9], k=["y", "y", "y"], u=[1, 2, 3]).assign(__ts=lambda f: f.time)
    operator.on_batch(middle, 1)
    at = [BASE + pd.Timedelta(seconds=s) for s in (7, 8)]
    unmatched = pd.DataFrame({"a.k": ["y", "y"], "a.v": [2, 3], "b.k": [None, None], "b.w": [None, None],
                              "__ts": at, "__time_a": at, "__time_b": pd.Series([None, None], dtype=object)})
    out = operator.on_batch(unmatched, 0)
    # LEFT OUTER: emitted at once, at the row's own time, with NULLs for c; INNER: dropped. Never buffered.
    emitted = pd.concat(out) if out else pd.DataFrame()
    assert len(emitted) == (2 if kind else 0)
    if kind:
        assert list(emitted["__ts"]) == at and emitted["c.u"].isna().all()
    assert operator.state_size() == 3
    assert operator.on_batch(stream([10], k=["y"], u=[4]).assign(__ts=lambda f: f.time), 1) == []
    operator.on_watermark((BASE + pd.Timedelta(seconds=30)).value)
    assert operator.state_size() == 0


def test_a_side_used_as_a_record_holds_that_side_s_columns_under_their_own_names() -> None:
    left = stream([1, 3], k=["x", "y"], v=[1, 2])
    right = stream([2, 4], k=["x", "y"], w=[10, 20])
    seen: list[list[str]] = []

    def columns(frame: pd.DataFrame) -> pd.Series:
        seen.append(list(frame.columns))
        return pd.Series(frame["w"].to_numpy() * 2)

    query = ("SELECT a.*, b AS rec, udf.twice(b) AS w2 INTO o FROM l a TIMESTAMP BY time JOIN r b TIMESTAMP BY time "
             "ON a.k = b.k AND DATEDIFF(second, a, b) BETWEEN 0 AND 5")
    results = asanb.run(query, {"l": left, "r": right}, functions=[asanb.PythonFunction("twice", columns)])
    assert results.state == "Stopped", results.error
    out = results["o"]
    assert list(out.columns) == ["time", "k", "v", "rec", "w2"]
    assert [sorted(record) for record in out.rec] == [["k", "time", "w"]] * 2
    assert [record["w"] for record in out.rec] == [10, 20] and list(out.w2) == [20, 40]
    assert seen and all(names == ["time", "k", "w"] for names in seen)


@pytest.mark.parametrize(("query", "fragment"), [
    ("SELECT * INTO o FROM l a TIMESTAMP BY time JOIN r b TIMESTAMP BY time "
     "ON a.k = b.k AND DATEDIFF(second, a, b) BETWEEN 0 AND 5", "SELECT \\* cannot be used in a JOIN"),
    ("SELECT z.* INTO o FROM l a TIMESTAMP BY time JOIN r b TIMESTAMP BY time "
     "ON a.k = b.k AND DATEDIFF(second, a, b) BETWEEN 0 AND 5", "'z.\\*' names no input"),
])
def test_star_in_a_join_names_the_rule_and_the_place(query: str, fragment: str) -> None:
    frame = stream([1], k=["x"], v=[1], w=[2])
    with pytest.raises(asanb.PlanError, match=fragment) as caught:
        asanb.run(query, {"l": frame, "r": frame})
    assert caught.value.span is not None and caught.value.span.column == 8
