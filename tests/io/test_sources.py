"""Sources: every input kind, chunked reads, ASA JSON typing, and clear errors for bad inputs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from asanb.errors import ConfigError
from asanb.io.simulated import IoTStream, TaxiStream, benchmark_events, parse_sim_url
from asanb.io.sinks import frame_to_records, write_json_lines
from asanb.io.sources import as_source

EVENTS = [
    {"deviceId": "d1", "ts": "2026-01-01T00:00:02Z", "reading": {"temp": 20.5}, "n": 1, "tag": None},
    {"deviceId": "d2", "ts": "2026-01-01T00:00:04Z", "reading": {"temp": 22.0}, "n": 2, "extra": True},
    {"deviceId": "d3", "ts": "2026-01-01T00:00:06Z", "reading": {"temp": 21.5}, "n": 3, "tag": "y"},
]


def read_all(source, batch_size: int = 2) -> pd.DataFrame:
    return pd.concat(list(source.batches(batch_size)), ignore_index=True)


def test_list_of_events_keeps_asa_types_and_union_of_fields() -> None:
    frame = read_all(as_source(EVENTS, alias="input"), batch_size=10)
    assert list(frame.columns) == ["deviceId", "ts", "reading", "n", "tag", "extra"]
    assert frame["n"].dtype == "int64"
    assert frame["reading"][1] == {"temp": 22.0}
    assert frame["ts"][0] == "2026-01-01T00:00:02Z"  # ISO strings stay strings until TIMESTAMP BY / CAST
    assert pd.isna(frame["tag"][0]) and pd.isna(frame["extra"][0])


@pytest.mark.parametrize("layout", ["array", "lines"])
def test_json_files_in_both_asa_layouts(tmp_path: Path, layout: str) -> None:
    path = tmp_path / "events.json"
    text = json.dumps(EVENTS) if layout == "array" else "\n".join(json.dumps(e) for e in EVENTS)
    path.write_text(text)
    source = as_source(str(path), alias="input")
    assert source.schema[:2] == ("deviceId", "ts")
    assert read_all(source)["deviceId"].tolist() == ["d1", "d2", "d3"]


def test_csv_and_parquet_read_in_chunks_equal_whole(tmp_path: Path) -> None:
    frame = benchmark_events(1000)
    frame.to_csv(tmp_path / "e.csv", index=False)
    frame.to_parquet(tmp_path / "e.parquet", index=False)
    chunks = list(as_source(tmp_path / "e.parquet", alias="x").batches(300))
    assert [len(c) for c in chunks] == [300, 300, 300, 100]
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), frame)
    from_csv = read_all(as_source(tmp_path / "e.csv", alias="x"), 300)
    assert from_csv["fare"].tolist() == frame["fare"].tolist()


def test_dataframe_and_iterator_sources() -> None:
    frame = pd.DataFrame({"a": range(5)})
    assert [len(b) for b in as_source(frame, alias="x").batches(2)] == [2, 2, 1]
    source = as_source(iter([frame, frame]), alias="x")
    assert source.schema == ("a",)  # peeking the schema does not lose the first batch
    assert len(read_all(source)) == 10


def test_malformed_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"a": 1}\n{"a": 2,,}\n')
    with pytest.raises(ConfigError, match=r"bad.json: malformed JSON at line 2, column 9"):
        read_all(as_source(path, alias="input"))


@pytest.mark.parametrize(("value", "message"), [
    ("missing.json", "file not found"), (42, "input 'input' is a int"), ("sim:boat", "unknown simulated"),
    ("sim:taxi?speed=3", "unknown parameter 'speed'"),
])
def test_bad_inputs_are_config_errors(value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        as_source(value, alias="input")


def test_simulated_streams_are_deterministic_and_bounded() -> None:
    first = read_all(TaxiStream(rate=500, events=1234, seed=1), 100)
    again = read_all(TaxiStream(rate=500, events=1234, seed=1), 1000)
    other = read_all(TaxiStream(rate=500, events=1234, seed=2), 100)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)
    assert len(first) == 1234 and first["pickup_time"].is_monotonic_increasing
    assert set(first["weekday"]) <= {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}


def test_duration_bounds_event_time_and_endless_streams_keep_going() -> None:
    frame = read_all(parse_sim_url("sim:iot?rate=100&duration=10&devices=5"), 64)
    span = (frame["ts"].iloc[-1] - pd.Timestamp("2026-01-01", tz="UTC")).total_seconds()
    assert span <= 10 and 800 < len(frame) < 1200
    endless = IoTStream(rate=10).batches(50)
    assert [len(next(endless)) for _ in range(5)] == [50] * 5


def test_benchmark_events_equal_the_peers_input() -> None:
    from shared_location import SHARED

    assert SHARED is not None, "set ASANB_SHARED to the shared/ folder"
    sys.path.insert(0, str(SHARED / "perf"))
    import gen_events
    pd.testing.assert_frame_equal(benchmark_events(5000), gen_events.make_events(5000))


def test_json_lines_sink_writes_asa_style_values(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "t": pd.to_datetime(["2026-01-01T00:00:01Z", None], utc=True),
        "x": [1.5, float("nan")], "r": [{"a": 1}, [1, 2]],
    })
    assert write_json_lines(frame, tmp_path / "o.json") == 2
    rows = [json.loads(line) for line in (tmp_path / "o.json").read_text().splitlines()]
    assert rows == [{"t": "2026-01-01T00:00:01.000000Z", "x": 1.5, "r": {"a": 1}}, {"t": None, "x": None, "r": [1, 2]}]
    assert frame_to_records(frame)[1]["x"] is None
