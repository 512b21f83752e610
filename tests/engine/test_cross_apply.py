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
    ("SELECT id FROM input CROSS APPLY GetArrayElements('abc') AS e", "GetArrayElements needs an array, not a "
     "nvarchar"),
    ("SELECT id FROM input OUTER APPLY GetRecordProperties(5) AS p", "GetRecordProperties needs a record"),
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


NESTED = [
    {"id": 1, "readings": [{"t": 20.5}, {"t": 21.0}], "tags": {"site": "north", "pos": {"x": 1}}},
    {"id": 2, "readings": [], "tags": {}},
    {"id": 3, "readings": None, "tags": None},
]
SCALARS = ("SELECT id, GetArrayLength(readings) AS n, GetRecordPropertyValue(GetArrayElement(readings, 1), 't') AS t, "
           "GetRecordPropertyValue(tags, 'site') AS site, GetRecordPropertyValue(tags, 'pos.x') AS x, "
           "tags.pos.x AS x2 INTO o FROM input")


def _lines(tmp_path: Path, events: list[dict]) -> str:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(event) for event in events))
    return str(path)


def test_record_and_array_functions_read_nested_values_of_a_json_file(tmp_path: Path) -> None:
    source = _lines(tmp_path, NESTED)
    results = asanb.run(SCALARS, {"input": source})
    assert results.state == "Stopped", results.error
    assert rows(results["o"], "id", "n", "t", "site", "x", "x2") == [
        (1, 2, 21.0, "north", 1, 1), (2, 0, None, None, None, None), (3, None, None, None, None, None)]
    elements = asanb.run("SELECT id, e.ArrayIndex AS i, e.ArrayValue.t AS t INTO o FROM input "
                         "CROSS APPLY GetArrayElements(readings) AS e", {"input": source})
    assert rows(elements["o"], "id", "i", "t") == [(1, 0, 20.5), (1, 1, 21.0)]
    properties = asanb.run("SELECT id, p.PropertyName AS name, p.PropertyValue.x AS x "
                           "INTO o FROM input CROSS APPLY GetRecordProperties(tags) AS p", {"input": source})
    assert rows(properties["o"], "id", "name", "x") == [(1, "site", None), (1, "pos", 1)]


def test_malformed_nested_json_events_follow_the_output_error_policy(tmp_path: Path) -> None:
    source = _lines(tmp_path, NESTED + [{"id": 4, "readings": "oops", "tags": [1, 2]}])
    dropped = asanb.run(SCALARS, {"input": source}, config=JobConfig(output_error_policy="Drop"))
    assert dropped.state == "Stopped", dropped.error
    assert [row[0] for row in rows(dropped["o"], "id")] == [1, 2, 3]
    assert dropped.counters["events_in"] == {"input": 4}
    assert dropped.counters["dropped"] == {"output_error_policy": 1}  # counted, never silently lost
    stopped = asanb.run(SCALARS, {"input": source})
    assert stopped.state == "Failed" and isinstance(stopped.error, asanb.EventError)
    assert "GetArrayLength needs an array, got nvarchar(max)" in str(stopped.error)
    assert "line 1" in str(stopped.error)
