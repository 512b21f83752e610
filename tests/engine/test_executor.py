"""The executor end to end through asanb.run: event time, watermarks, policies, counters, UDF scoring."""

from __future__ import annotations

import pandas as pd
import pytest

import asanb
from asanb import JobConfig, PythonFunction


def events(times: list[str], **columns: list) -> pd.DataFrame:
    return pd.DataFrame({"time": times, **columns})


def test_micro_batch_size_does_not_change_window_results() -> None:
    frame = events([f"2026-01-01T00:00:{s:02d}.5Z" for s in range(40)], v=list(range(40)))
    query = ("SELECT COUNT(*) AS n, SUM(v) AS total, System.Timestamp() AS ends INTO o FROM input "
             "TIMESTAMP BY time GROUP BY TumblingWindow(second, 10)")
    whole = asanb.run(query, {"input": frame})["o"]
    split = asanb.run(query, {"input": frame}, config=JobConfig(batch_size=3))["o"]
    assert whole.n.tolist() == [10, 10, 10, 10]
    pd.testing.assert_frame_equal(whole, split)


def test_out_of_order_events_are_adjusted_and_counted() -> None:
    frame = events(["2026-01-01T00:00:05Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:06Z"], v=[1, 2, 3])
    results = asanb.run("SELECT v, System.Timestamp() AS t INTO o FROM input TIMESTAMP BY time", {"input": frame})
    assert results.counters["adjusted_out_of_order"] == 1
    adjusted = results["o"].set_index("v").t
    assert adjusted[2] == pd.Timestamp("2026-01-01T00:00:05Z")


def test_out_of_order_drop_policy_counts_the_dropped_event() -> None:
    frame = events(["2026-01-01T00:00:05Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:06Z"], v=[1, 2, 3])
    config = JobConfig(events_out_of_order_policy="Drop")
    results = asanb.run("SELECT v INTO o FROM input TIMESTAMP BY time", {"input": frame}, config=config)
    assert results["o"].v.tolist() == [1, 3]
    assert results.counters["dropped"] == {"out_of_order": 1}


def test_every_event_is_accounted_for() -> None:
    frame = events(["2026-01-01T00:00:01Z"] * 5, v=[1, 5, 10, 20, 30])
    results = asanb.run("SELECT v INTO o FROM input WHERE v > 7", {"input": frame})
    assert results.counters["events_in"] == {"input": 5}
    assert results.counters["events_out"] == {"o": 3}
    assert results.counters["filtered"] == 2


def test_malformed_event_stops_the_job_by_default_and_keeps_emitted_rows() -> None:
    frame = events(["2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"], v=["12", "abc"])
    results = asanb.run("SELECT CAST(v AS bigint) AS n INTO o FROM input", {"input": frame})
    assert results.state == "Failed"
    assert isinstance(results.error, asanb.EventError)


def test_malformed_event_is_dropped_and_counted_under_drop_policy() -> None:
    frame = events(["2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"], v=["12", "abc"])
    config = JobConfig(output_error_policy="Drop")
    results = asanb.run("SELECT CAST(v AS bigint) AS n INTO o FROM input", {"input": frame}, config=config)
    assert results.state == "Stopped"
    assert results["o"].n.tolist() == [12]
    assert results.counters["dropped"] == {"output_error_policy": 1}


def test_python_udf_gets_whole_row_as_frame() -> None:
    seen = []

    def width(rows: pd.DataFrame) -> pd.Series:
        seen.append(list(rows.columns))
        return rows["a"] + rows["b"]

    frame = events(["2026-01-01T00:00:01Z"] * 3, a=[1, 2, 3], b=[10, 20, 30])
    query = "WITH d AS (SELECT a, b FROM input) SELECT udf.width(d) AS s INTO o FROM d"
    results = asanb.run(query, {"input": frame}, functions=[PythonFunction("width", width)])
    assert results["o"].s.tolist() == [11, 22, 33]
    assert seen == [["a", "b"]]


def test_timestamp_by_a_number_is_a_plan_error_with_position() -> None:
    frame = events(["2026-01-01T00:00:01Z"], v=[1])
    results = asanb.run("SELECT v INTO o FROM input TIMESTAMP BY v", {"input": frame})
    assert results.state == "Failed"
    assert isinstance(results.error, asanb.PlanError)
    assert "line 1, column 41" in str(results.error)


def test_several_inputs_are_read_in_event_time_order() -> None:
    early = events(["2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"], v=[1, 2])
    late = events(["2026-01-01T00:00:11Z", "2026-01-01T00:00:12Z"], v=[3, 4])
    query = ("SELECT COUNT(*) AS n INTO o FROM a TIMESTAMP BY time GROUP BY TumblingWindow(second, 10)\n"
             "SELECT COUNT(*) AS n INTO p FROM b TIMESTAMP BY time GROUP BY TumblingWindow(second, 10)")
    results = asanb.run(query, {"a": early, "b": late}, config=JobConfig(batch_size=1))
    assert results["o"].n.tolist() == [2] and results["p"].n.tolist() == [2]
    assert results.counters.get("adjusted_out_of_order", 0) == 0


@pytest.mark.parametrize("limit", [1, 3])
def test_limit_events_stops_reading(limit: int) -> None:
    frame = events(["2026-01-01T00:00:01Z"] * 5, v=[1, 2, 3, 4, 5])
    results = asanb.run("SELECT v INTO o FROM input", {"input": frame}, config=JobConfig(limit_events=limit))
    assert results["o"].v.tolist() == list(range(1, limit + 1))


def test_samples_report_how_far_the_watermark_trails_the_newest_event() -> None:
    frame = events([f"2026-01-01T00:00:{s:02d}Z" for s in range(20)], v=list(range(20)))
    samples: list[dict] = []
    config = JobConfig(batch_size=5, events_out_of_order_max_delay_seconds=3, events_late_arrival_max_delay_seconds=10)
    asanb.run("SELECT v INTO o FROM input TIMESTAMP BY time", {"input": frame}, config=config,
              on_progress=samples.append)
    delays = {sample["watermark_delay_s"] for sample in samples if sample["watermark_delay_s"] is not None}
    # Event time, not the wall clock: these events are from 2026-01-01 whatever day the test runs.
    assert delays == {3.0}
