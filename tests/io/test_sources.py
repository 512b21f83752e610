"""Sources: every input kind, chunked reads equal whole reads, ASA JSON typing, and clear errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from asanb.errors import ConfigError
from asanb.io.simulated import TaxiStream
from asanb.io.sources import (
    DataFrameSource,
    FileSource,
    IteratorSource,
    ListSource,
    Source,
    as_source,
    records_frame,
)

EVENTS = [
    {"deviceId": "d1", "ts": "2026-01-01T00:00:02Z", "reading": {"temp": 20.5}, "n": 1, "tag": None, "v": 1},
    {"deviceId": "d2", "ts": "2026-01-01T00:00:04Z", "reading": {"temp": 22.0}, "n": 2, "extra": True, "v": 2.5},
    {"deviceId": "d3", "ts": "2026-01-01T00:00:06Z", "reading": {"temp": 21.5}, "n": 3, "tag": "y", "v": 3,
     "tags": ["a", "b"]},
]


def read_all(source: Source, batch_size: int = 2) -> pd.DataFrame:
    batches = list(source.batches(batch_size))
    for batch in batches:
        assert isinstance(batch.index, pd.RangeIndex) and batch.index.start == 0
        assert 0 < len(batch) <= batch_size
    return pd.concat(batches, ignore_index=True)


def write_events(path: Path, events: list[dict], layout: str) -> Path:
    text = json.dumps(events, indent=2) if layout == "array" else "\n".join(json.dumps(e) for e in events) + "\n"
    path.write_text(text)
    return path


def test_list_of_events_keeps_asa_types_and_union_of_fields() -> None:
    frame = read_all(as_source(EVENTS, alias="input"), batch_size=10)
    assert list(frame.columns) == ["deviceId", "ts", "reading", "n", "tag", "v", "extra", "tags"]
    assert frame["n"].dtype == "int64"  # JSON numbers without a fraction are bigint
    assert frame["v"].dtype == "float64" and frame["v"].tolist() == [1.0, 2.5, 3.0]
    assert frame["extra"].dtype == "boolean" and frame["extra"].isna().tolist() == [True, False, True]
    assert frame["reading"][1] == {"temp": 22.0} and frame["tags"][2] == ["a", "b"]
    assert frame["reading"].dtype == object and frame["tags"][0] is None
    assert frame["ts"][0] == "2026-01-01T00:00:02Z"  # ISO strings stay strings until TIMESTAMP BY / CAST
    assert pd.isna(frame["tag"][0]) and frame["tag"][2] == "y"


def test_integer_with_null_stays_integer_and_mixed_types_stay_objects() -> None:
    frame = records_frame([{"a": 7, "b": 1}, {"a": None, "b": "x"}, {"b": [1]}])
    assert str(frame["a"].dtype) == "Int64" and frame["a"][0] == 7 and frame["a"].isna().sum() == 2
    assert frame["b"].dtype == object and frame["b"].tolist() == [1, "x", [1]]
    big = records_frame([{"a": 2**70}, {"a": 1}])
    assert big["a"].tolist() == [2**70, 1]  # no silent overflow


@pytest.mark.parametrize("layout", ["array", "lines"])
def test_json_files_in_both_asa_layouts(tmp_path: Path, layout: str) -> None:
    path = write_events(tmp_path / "events.json", EVENTS, layout)
    source = as_source(str(path), alias="input")
    assert source.description == "file events.json"
    assert source.schema == tuple(read_all(as_source(EVENTS, alias="x"), 10).columns)
    pd.testing.assert_frame_equal(read_all(source), read_all(as_source(EVENTS, alias="x"), 10))


@pytest.mark.parametrize("suffix", [".jsonl", ".ndjson"])
def test_line_delimited_suffixes(tmp_path: Path, suffix: str) -> None:
    path = write_events(tmp_path / f"events{suffix}", EVENTS, "lines")
    assert read_all(as_source(path, alias="input"))["deviceId"].tolist() == ["d1", "d2", "d3"]


def test_chunked_json_has_the_whole_files_schema_and_dtypes(tmp_path: Path) -> None:
    # a field that first appears in the last chunk, and ints that become nullable/float only late
    events = [{"id": i, "x": i} for i in range(9)] + [{"id": 9, "x": 0.5, "late": "yes", "nul": None}]
    path = write_events(tmp_path / "e.jsonl", events, "lines")
    source = as_source(path, alias="input")
    assert source.schema == ("id", "x", "late", "nul")
    chunks = list(source.batches(4))
    assert [len(c) for c in chunks] == [4, 4, 2]
    assert all(tuple(c.columns) == source.schema for c in chunks)
    assert all(c["x"].dtype == "float64" and str(c["late"].dtype) == "str" for c in chunks)
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), read_all(source, 100))
    pd.testing.assert_frame_equal(read_all(source, 100), records_frame(events))


def test_json_file_with_byte_order_mark_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"a": 1}\n\n{"a": 2}\n')
    assert read_all(as_source(path, alias="input"))["a"].tolist() == [1, 2]


def test_csv_and_parquet_read_in_chunks_equal_whole(tmp_path: Path) -> None:
    frame = next(TaxiStream(events=1000, seed=5).batches(1000)).drop(columns="pickup_time")
    frame.to_csv(tmp_path / "e.csv", index=False)
    frame.to_parquet(tmp_path / "e.parquet", index=False)
    parquet = as_source(tmp_path / "e.parquet", alias="x")
    assert parquet.schema == tuple(frame.columns)
    chunks = list(parquet.batches(300))
    assert [len(c) for c in chunks] == [300, 300, 300, 100]
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), frame)
    csv = as_source(str(tmp_path / "e.csv"), alias="x")
    assert csv.schema == tuple(frame.columns)
    assert [len(c) for c in csv.batches(300)] == [300, 300, 300, 100]
    pd.testing.assert_frame_equal(read_all(csv, 300), frame, check_dtype=False)


def test_dataframe_source_slices_without_copying() -> None:
    frame = pd.DataFrame({"a": np.arange(5)}, index=[10, 11, 12, 13, 14])
    source = as_source(frame, alias="x")
    assert isinstance(source, DataFrameSource) and source.description == "DataFrame (5 rows)"
    batches = list(source.batches(2))
    assert [b["a"].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    whole = pd.DataFrame({"a": np.arange(1000)})
    first = next(as_source(whole, alias="x").batches(100))
    assert np.shares_memory(first["a"].to_numpy(), whole["a"].to_numpy())
    assert list(as_source(whole.iloc[:0], alias="x").batches(10)) == []


def test_iterator_source_peeks_schema_without_losing_a_batch() -> None:
    frame = pd.DataFrame({"a": range(5)})
    source = as_source(iter([frame, frame]), alias="x")
    assert isinstance(source, IteratorSource)
    assert source.schema == ("a",)
    assert len(read_all(source)) == 10
    assert list(source.batches(2)) == []  # an iterator is read once


def test_reiterable_of_frames_replays_and_endless_generators_stream() -> None:
    frame = pd.DataFrame({"a": range(3)})
    source = as_source([frame, frame], alias="x")  # a list of DataFrames, not of events
    assert len(read_all(source)) == 6 and len(read_all(source)) == 6

    def endless() -> Iterator[pd.DataFrame]:
        i = 0
        while True:
            yield pd.DataFrame({"i": [i, i + 1, i + 2]})
            i += 3

    batches = as_source(endless(), alias="x").batches(2)
    assert [next(batches)["i"].tolist() for _ in range(4)] == [[0, 1], [2], [3, 4], [5]]


def test_iterator_of_non_frames_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="yielded a int, not a pandas DataFrame"):
        list(as_source(iter([1, 2]), alias="x").batches(2))


def test_every_source_has_arrival_time_column_and_existing_sources_pass_through(tmp_path: Path) -> None:
    path = write_events(tmp_path / "e.json", EVENTS, "lines")
    sources = [as_source(v, alias="x") for v in (pd.DataFrame({"a": [1]}), EVENTS, path, "sim:taxi?events=3",
                                                  iter([pd.DataFrame({"a": [1]})]))]
    assert [type(s) for s in sources][:3] == [DataFrameSource, ListSource, FileSource]
    for source in sources:
        assert isinstance(source, Source) and source.arrival_time_column is None and source.description
    assert as_source(sources[0], alias="y") is sources[0]


def test_duck_typed_source_without_optional_attributes_is_adapted() -> None:
    class Mine:
        schema = ("z",)

        def batches(self, batch_size: int) -> Iterator[pd.DataFrame]:
            yield pd.DataFrame({"z": [1, 2]})

    source = as_source(Mine(), alias="x")
    assert source.schema == ("z",) and source.arrival_time_column is None and source.description == "Mine"
    assert read_all(source)["z"].tolist() == [1, 2]


def test_malformed_json_lines_name_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"a": 1}\n\n{"a": 2,,}\n')
    with pytest.raises(ConfigError, match=r"bad.json: malformed JSON at line 3, column 9"):
        _ = as_source(path, alias="input").schema


def test_malformed_json_array_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad_array.json"
    path.write_text('[\n  {"a": 1},\n  {"a": tru}\n]')
    with pytest.raises(ConfigError, match=r"bad_array.json: malformed JSON at line 3, column 9"):
        list(as_source(path, alias="input").batches(10))


def test_json_values_that_are_not_events_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "scalars.json"
    path.write_text('{"a": 1}\n5\n')
    with pytest.raises(ConfigError, match=r"scalars.json: line 2 is a JSON int, not an event"):
        _ = as_source(path, alias="input").schema


@pytest.mark.parametrize(("value", "message"), [
    ("missing.json", "input 'input': file not found: missing.json"),
    (42, r"input 'input' is a int; an input is one of: a pandas DataFrame"),
    ({"a": 1}, "input 'input' is a dict"),
    ("sim:boat", "input 'input': unknown simulated stream"),
    ("sim:taxi?speed=3", "unknown parameter 'speed'"),
])
def test_bad_inputs_are_config_errors(value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        as_source(value, alias="input")


def test_unsupported_suffix_and_directories(tmp_path: Path) -> None:
    (tmp_path / "data.xml").write_text("<a/>")
    with pytest.raises(ConfigError, match=r"unsupported file type '\.xml'"):
        as_source(tmp_path / "data.xml", alias="input")
    with pytest.raises(ConfigError, match="is not a file"):
        as_source(tmp_path, alias="input")
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(ConfigError, match="cannot read Parquet"):
        _ = as_source(tmp_path / "bad.parquet", alias="input").schema


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="batch_size"):
        list(as_source(pd.DataFrame({"a": [1]}), alias="x").batches(0))
