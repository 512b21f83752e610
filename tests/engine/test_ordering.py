"""Event ordering policies: late arrival, out of order, Adjust / Drop, substreams (TIMESTAMP BY ... OVER)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import asanb
from asanb import JobConfig
from asanb.io.sources import DataFrameSource

BASE = pd.Timestamp("2026-01-01T10:00:00Z")
SELECT = "SELECT i, System.Timestamp() AS at INTO o FROM input TIMESTAMP BY t"


def stream(seconds: list[int], keys: list[str] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({"t": [BASE + pd.Timedelta(seconds=s) for s in seconds], "i": range(len(seconds))})
    if keys is not None:
        frame["k"] = keys
    return frame


def run(query: str, frame: pd.DataFrame, **settings_: object) -> asanb.Results:
    results = asanb.run(query, {"input": frame}, config=JobConfig(**settings_))  # type: ignore[arg-type]
    assert results.state == "Stopped", results.error
    return results


def seconds_of(results: asanb.Results) -> list[float]:
    frame = results["o"].sort_values("i")
    return [(at - BASE).total_seconds() for at in frame["at"]]


def test_late_arrival_is_adjusted_to_the_arrival_time_minus_the_tolerance() -> None:
    # arrival time in a replay = the input's clock: the latest event time read (40 s here)
    results = run(SELECT, stream([40, 0, 39]), events_late_arrival_max_delay_seconds=15,
                  events_out_of_order_max_delay_seconds=60)
    assert seconds_of(results) == [40, 25, 39]
    assert results.counters["adjusted_late_arrival"] == 1
    assert "adjusted_out_of_order" not in results.counters


def test_out_of_order_is_checked_after_the_late_arrival_adjustment() -> None:
    results = run(SELECT, stream([40, 0, 33]), events_late_arrival_max_delay_seconds=15,
                  events_out_of_order_max_delay_seconds=5)
    # 0 s: late, 25 s, then still out of order (< 40 - 5): 35 s, counted once, as late
    assert seconds_of(results) == [40, 35, 35]
    assert results.counters["adjusted_late_arrival"] == 1
    assert results.counters["adjusted_out_of_order"] == 1


def test_drop_counts_each_reason() -> None:
    results = run(SELECT, stream([40, 0, 33, 41]), events_late_arrival_max_delay_seconds=15,
                  events_out_of_order_max_delay_seconds=5, events_out_of_order_policy="Drop")
    assert results["o"].i.tolist() == [0, 3]
    assert results.counters["dropped"] == {"late_arrival": 1, "out_of_order": 1}


def test_substreams_order_each_key_on_its_own_time_line() -> None:
    query = SELECT.replace("TIMESTAMP BY t", "TIMESTAMP BY t OVER k")
    frame = stream([50, 51, 10, 11, 9], ["a", "a", "b", "b", "b"])
    results = run(query, frame, events_late_arrival_max_delay_seconds=100)
    # b's events are 40 s behind a's but in order among themselves; only 9 s after 11 s is out of order
    assert seconds_of(results) == [50, 51, 10, 11, 11]
    assert results.counters["adjusted_out_of_order"] == 1
    without = run(SELECT, frame, events_late_arrival_max_delay_seconds=100)
    assert seconds_of(without) == [50, 51, 51, 51, 51]


def test_substreams_still_apply_late_arrival_globally() -> None:
    # ASA's event-ordering example: tolerance 15 s late, 5 s out of order; an event 40 s late gets 10:00:25
    query = SELECT.replace("TIMESTAMP BY t", "TIMESTAMP BY t OVER k")
    results = run(query, stream([40, 0, 30], ["a", "b", "b"]), events_late_arrival_max_delay_seconds=15,
                  events_out_of_order_max_delay_seconds=5)
    assert seconds_of(results) == [40, 25, 30]
    assert results.counters["adjusted_late_arrival"] == 1


def test_partition_by_is_accepted_and_changes_nothing() -> None:
    frame = stream([1, 2, 3], ["a", "b", "a"])
    with_partition = run("SELECT i INTO o FROM input PARTITION BY k TIMESTAMP BY t", frame)
    assert with_partition["o"].i.tolist() == [0, 1, 2]


def reference(seconds: list[int], keys: list[str], late: int, disorder: int, drop: bool,
              substreams: bool) -> tuple[dict[int, float], dict[str, int]]:
    """Event by event, as the event ordering page describes it."""
    clock: int | None = None
    latest: dict[str, int] = {}
    times: dict[int, float] = {}
    counts: dict[str, int] = {}
    for i, (t, key) in enumerate(zip(seconds, keys, strict=True)):
        before = t if clock is None else clock
        clock = max(before, t)
        is_late = t < before - late
        adjusted = before - late if is_late else t
        bound = (latest.get(key) if substreams else before)
        limit = None if bound is None else bound - disorder
        out_of_order = not is_late and limit is not None and adjusted < limit
        reason = "late_arrival" if is_late else "out_of_order" if out_of_order else None
        if reason and drop:
            counts[reason] = counts.get(reason, 0) + 1
            continue
        if reason:
            counts["adjusted_" + reason] = counts.get("adjusted_" + reason, 0) + 1
        if substreams:
            latest[key] = max(latest.get(key, adjusted), adjusted)
        times[i] = max(adjusted, limit) if limit is not None else adjusted
    return times, counts


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.sampled_from("abc")), min_size=1, max_size=30),
       st.integers(0, 20), st.integers(0, 20), st.booleans(), st.booleans(), st.integers(1, 6))
def test_policies_match_the_reference_for_any_batch_size(events: list[tuple[int, str]], late: int, disorder: int,
                                                         drop: bool, substreams: bool, batch_size: int) -> None:
    seconds, keys = (list(column) for column in zip(*events, strict=True))
    query = SELECT.replace("TIMESTAMP BY t", "TIMESTAMP BY t OVER k") if substreams else SELECT
    results = run(query, stream(seconds, keys), events_late_arrival_max_delay_seconds=late,
                  events_out_of_order_max_delay_seconds=disorder,
                  events_out_of_order_policy="Drop" if drop else "Adjust", batch_size=batch_size)
    expected, counts = reference(seconds, keys, late, disorder, drop, substreams)
    out = results["o"]
    assert dict(zip(out.i, ((at - BASE).total_seconds() for at in out["at"]), strict=True)) == expected
    snapshot = results.counters
    adjusted = {name: value for name, value in snapshot.items() if name.startswith("adjusted_")}
    got = dict(snapshot["dropped"]) if drop else adjusted
    assert got == counts
    assert sum(snapshot["dropped"].values()) + len(out) == len(seconds)  # nothing lost uncounted


def test_recorded_arrival_times_are_the_event_time_without_timestamp_by() -> None:
    frame = stream([0, 1, 2]).assign(enqueued=[BASE + pd.Timedelta(seconds=s) for s in (10, 11, 13)])
    query = "SELECT i, System.Timestamp() AS at INTO o FROM input"
    results = asanb.run(query, {"input": DataFrameSource(frame, arrival_time_column="enqueued")})
    assert results.state == "Stopped", results.error
    assert seconds_of(results) == [10, 11, 13]  # not the wall clock of the replay


def test_late_arrival_is_measured_against_recorded_arrival_times() -> None:
    # In event-time order, so the replay clock would find nothing late; the recorded arrivals say events 1
    # and 2 reached the input 29 s after they happened, beyond the 5 s tolerance.
    frame = stream([0, 1, 2]).assign(enqueued=[BASE + pd.Timedelta(seconds=s) for s in (0, 30, 31)])
    source = DataFrameSource(frame, arrival_time_column="enqueued")
    results = asanb.run(SELECT, {"input": source}, config=JobConfig(events_out_of_order_max_delay_seconds=60))
    assert results.state == "Stopped", results.error
    assert seconds_of(results) == [0, 25, 26]
    assert results.counters["adjusted_late_arrival"] == 2
    dropped = asanb.run(SELECT, {"input": source}, config=JobConfig(events_out_of_order_policy="Drop"))
    assert seconds_of(dropped) == [0] and dropped.counters["dropped"] == {"late_arrival": 2}


def test_a_missing_or_null_arrival_time_fails_the_job_naming_the_column() -> None:
    frame = stream([0, 1]).assign(enqueued=[BASE, None])
    results = asanb.run(SELECT, {"input": DataFrameSource(frame, arrival_time_column="enqueued")})
    assert results.state == "Failed" and "arrival time column 'enqueued' is NULL for 1 event" in str(results.error)
    results = asanb.run(SELECT, {"input": DataFrameSource(stream([0]), arrival_time_column="enqueued")})
    assert results.state == "Failed" and "'enqueued' is missing" in str(results.error)
