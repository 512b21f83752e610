"""Sinks: ASA-style JSON values (datetimes, NULLs, records, arrays), JSON-lines round trips, the collector."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from asanb.errors import ConfigError
from asanb.io.simulated import TaxiStream
from asanb.io.sinks import OutputCollector, format_datetime, frame_to_records, write_json_lines
from asanb.io.sources import as_source


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_values_are_written_the_way_asa_writes_json(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "t": pd.to_datetime(["2026-01-01T00:00:01.123456789Z", None], utc=True),
        "local": pd.to_datetime(["2026-01-01T01:00:00+01:00", "2026-07-01T02:00:00+02:00"], utc=True)
                   .tz_convert("Europe/Paris"),
        "naive": pd.to_datetime(["2026-01-01T00:00:01.5", "2026-01-01T00:00:00"], format="ISO8601"),
        "x": [1.5, float("nan")], "inf": [float("inf"), 2.0],
        "i": pd.array([1, None], dtype="Int64"), "s": pd.array(["a", None], dtype="str"),
        "b": pd.array([True, None], dtype="boolean"), "n": np.array([3, 4], dtype=np.int64),
        "r": [{"a": np.int64(1), "when": pd.Timestamp("2026-01-01T00:00:02Z")}, [1, 2.5, None, float("nan")]],
    })
    assert write_json_lines(frame, tmp_path / "o.json") == 2
    first, second = read_lines(tmp_path / "o.json")
    assert first == {
        "t": "2026-01-01T00:00:01.1234567Z", "local": "2026-01-01T00:00:00.0000000Z",
        "naive": "2026-01-01T00:00:01.5000000Z", "x": 1.5, "inf": None, "i": 1, "s": "a", "b": True, "n": 3,
        "r": {"a": 1, "when": "2026-01-01T00:00:02.0000000Z"},
    }
    assert second == {
        "t": None, "local": "2026-07-01T00:00:00.0000000Z", "naive": "2026-01-01T00:00:00.0000000Z",
        "x": None, "inf": 2.0, "i": None, "s": None, "b": None, "n": 4, "r": [1, 2.5, None, None],
    }
    assert frame_to_records(frame) == [first, second]  # the same rules without the file


def test_format_datetime_uses_seven_fraction_digits_and_utc() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    assert format_datetime(dt.datetime(2026, 1, 1, 1, 0, 0, 250000, tzinfo=paris)) == "2026-01-01T00:00:00.2500000Z"
    assert format_datetime(pd.Timestamp("2026-01-01T00:00:00.000000150")) == "2026-01-01T00:00:00.0000001Z"


def test_json_lines_round_trip_through_a_source(tmp_path: Path) -> None:
    frame = next(TaxiStream(events=500, seed=11).batches(500))
    assert write_json_lines(frame, tmp_path / "taxi.json") == 500
    back = pd.concat(as_source(tmp_path / "taxi.json", alias="x").batches(128), ignore_index=True)
    assert list(back.columns) == list(frame.columns)
    assert back["pickup_time"].dtype == "str"  # ASA reads datetimes back as strings until TIMESTAMP BY
    parsed = pd.to_datetime(back["pickup_time"], utc=True, format="ISO8601").dt.floor("100ns")
    pd.testing.assert_series_equal(parsed, frame["pickup_time"].dt.floor("100ns"), check_names=False,
                                   check_dtype=False)
    pd.testing.assert_frame_equal(back.drop(columns="pickup_time"), frame.drop(columns="pickup_time"),
                                  check_dtype=False)


def test_large_frames_are_written_in_pieces_and_empty_frames_write_nothing(tmp_path: Path) -> None:
    frame = pd.DataFrame({"k": np.arange(70_000), "v": np.arange(70_000) / 2})
    assert write_json_lines(frame, tmp_path / "big.json") == 70_000
    lines = (tmp_path / "big.json").read_text().splitlines()
    assert len(lines) == 70_000 and json.loads(lines[-1]) == {"k": 69_999, "v": 34_999.5}
    assert write_json_lines(frame.iloc[:0], tmp_path / "none.json") == 0
    assert (tmp_path / "none.json").read_text() == ""


def test_unwritable_path_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot write output file"):
        write_json_lines(pd.DataFrame({"a": [1]}), tmp_path / "missing-dir" / "o.json")


def test_collector_concatenates_once_and_counts_rows() -> None:
    collector = OutputCollector(["alerts", "quiet"])
    collector.add("alerts", pd.DataFrame({"a": [1, 2]}, index=[5, 6]))
    collector.add("alerts", pd.DataFrame({"a": [3]}))
    collector.add("other", pd.DataFrame({"a": []}))
    assert collector.counts == {"alerts": 3, "quiet": 0, "other": 0}
    first = collector.frame("alerts")
    assert first["a"].tolist() == [1, 2, 3] and isinstance(first.index, pd.RangeIndex)
    assert collector.frame("alerts") is first  # joined once, then reused
    collector.add("alerts", pd.DataFrame({"a": [4]}))
    assert collector.frame("alerts")["a"].tolist() == [1, 2, 3, 4]
    assert collector.frame("quiet").empty and list(collector.frame("other").columns) == ["a"]
    assert collector.aliases == ("alerts", "quiet", "other") and "quiet" in collector
    assert {k: len(v) for k, v in collector.frames().items()} == {"alerts": 4, "quiet": 0, "other": 0}
    with pytest.raises(ConfigError, match="no output named 'nope'; outputs: alerts, quiet, other"):
        collector.frame("nope")


@pytest.mark.parametrize("text", ['plain', 'a},{"b": 1}', 'line\nbreak "quoted" \\ slash/'])
def test_strings_that_look_like_json_survive_the_fast_path(tmp_path: Path, text: str) -> None:
    frame = pd.DataFrame({"s": pd.array([text, "x", None], dtype="str"), "n": [1, 2, 3]})
    assert write_json_lines(frame, tmp_path / "s.json") == 3
    assert read_lines(tmp_path / "s.json") == [{"s": text, "n": 1}, {"s": "x", "n": 2}, {"s": None, "n": 3}]
    renamed = frame.rename(columns={"n": "odd},{name"})
    write_json_lines(renamed, tmp_path / "r.json")
    assert read_lines(tmp_path / "r.json")[0] == {"s": text, "odd},{name": 1}
