"""CROSS / OUTER APPLY over arrays and records, nested values from JSON files, and malformed nested events
under the output error policy."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import asanb
from asanb import JobConfig

EVENTS = [
    {"id": 1, "readings": [{"t": 20.5}, {"t": 21.0}], "tags": {"site": "north", "rack": 4}},
    {"id": 2, "readings": [], "tags": {}},
    {"id": 3, "readings": None, "tags": None},
]


def rows(frame, *columns: str) -> list[tuple]:
    return [tuple(None if pd.isna(value) else value for value in row)
            for row in frame[list(columns)].itertuples(index=False)]


def test_cross_apply_gives_one_row_per_element_with_its_index_and_nested_fields() -> None:
    results = asanb.run("SELECT i.id, e.ArrayIndex AS n, e.ArrayValue.t AS t INTO o FROM input i "
                        "CROSS APPLY GetArrayElements(i.readings) AS e", {"input": EVENTS})
    assert results.state == "Stopped", results.error
    assert rows(results["o"], "id", "n", "t") == [(1, 0, 20.5), (1, 1, 21.0)]


def test_cross_apply_over_record_properties() -> None:
    results = asanb.run("SELECT id, p.PropertyName AS name, p.PropertyValue AS value INTO o FROM input "
                        "CROSS APPLY GetRecordProperties(tags) AS p", {"input": EVENTS})
    assert rows(results["o"], "id", "name", "value") == [(1, "site", "north"), (1, "rack", 4)]


def test_outer_apply_keeps_rows_without_elements_once_with_nulls() -> None:
    results = asanb.run("SELECT id, e.ArrayIndex AS n INTO o FROM input OUTER APPLY GetArrayElements(readings) AS e",
                        {"input": EVENTS})
    assert rows(results["o"], "id", "n") == [(1, 0), (1, 1), (2, None), (3, None)]


def test_apply_then_filter_and_aggregate_the_elements(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    timed = [dict(event, ts=f"2026-01-01T00:00:0{n}Z") for n, event in enumerate(EVENTS, start=1)]
    path.write_text(json.dumps(timed))  # nested values survive the JSON input path
    results = asanb.run("SELECT COUNT(*) AS n, MAX(e.ArrayValue.t) AS top INTO o FROM input TIMESTAMP BY ts "
                        "CROSS APPLY GetArrayElements(readings) AS e WHERE e.ArrayValue.t > 20 "
                        "GROUP BY TumblingWindow(second, 10)", {"input": str(path)})
    assert results.state == "Stopped", results.error
    assert rows(results["o"], "n", "top") == [(2, 21.0)]


def test_apply_over_a_non_array_fails_the_job_under_stop_naming_the_place() -> None:
    bad = EVENTS + [{"id": 4, "readings": "oops", "tags": 5}]
    results = asanb.run("SELECT id, e.ArrayValue INTO o\nFROM input CROSS APPLY GetArrayElements(readings) AS e",
                        {"input": bad})
    assert results.state == "Failed"
    assert isinstance(results.error, asanb.EventError)
    assert "needs an array, got nvarchar(max)" in str(results.error) and "line 2" in str(results.error)


def test_malformed_nested_events_are_dropped_and_counted_under_drop() -> None:
    bad = EVENTS + [{"id": 4, "readings": {"not": "an array"}, "tags": 5}]
    config = JobConfig(output_error_policy="Drop")
    results = asanb.run("SELECT id, e.ArrayValue.t AS t INTO o FROM input CROSS APPLY GetArrayElements(readings) AS e",
                        {"input": bad}, config=config)
    assert results.state == "Stopped", results.error
    assert rows(results["o"], "id", "t") == [(1, 20.5), (1, 21.0)]
    assert results.counters["dropped"] == {"output_error_policy": 1}


@pytest.mark.parametrize(("query", "fragment"), [
    ("SELECT id FROM input CROSS APPLY GetArrayLength(readings) AS e", "APPLY takes GetArrayElements"),
    ("SELECT id FROM input CROSS APPLY GetArrayElements(readings, 1) AS e", "takes one argument"),
    ("SELECT id FROM input i CROSS APPLY GetArrayElements(nothing) AS e", "unknown column 'nothing'"),
    ("SELECT id FROM input i CROSS APPLY GetArrayElements(readings) AS i", "already the name"),
])
def test_bad_apply_queries_name_the_place(query: str, fragment: str) -> None:
    with pytest.raises(asanb.PlanError, match=fragment) as caught:
        asanb.run(query, {"input": EVENTS})
    assert caught.value.span is not None


def test_the_input_and_the_apply_alias_as_records_hold_their_own_fields() -> None:
    results = asanb.run("SELECT i.*, e AS element INTO o FROM input i CROSS APPLY GetArrayElements(i.readings) AS e",
                        {"input": EVENTS[:1]})
    assert results.state == "Stopped", results.error
    out = results["o"]
    assert list(out.columns) == ["id", "readings", "tags", "element"]
    assert list(out.element) == [{"ArrayIndex": 0, "ArrayValue": {"t": 20.5}},
                                 {"ArrayIndex": 1, "ArrayValue": {"t": 21.0}}]
