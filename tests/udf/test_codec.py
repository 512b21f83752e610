"""Request bodies and response mapping: property tests that rows survive encoding in order."""

from __future__ import annotations

import orjson
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from asanb.errors import ScoringError
from asanb.udf.codec import RowBlock, decode_response, encode_body

values = st.one_of(st.none(), st.integers(-2**53, 2**53), st.floats(allow_nan=False, allow_infinity=False, width=32),
                   st.text(max_size=5), st.booleans())
rows = st.lists(st.lists(values, min_size=1, max_size=4), min_size=1, max_size=30)


@given(rows, st.data())
def test_array_rows_round_trip_in_order(batch: list, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(batch) - 1))
    stop = data.draw(st.integers(start + 1, len(batch)))
    body = orjson.loads(encode_body("data", RowBlock(arrays=batch), start, stop))
    assert body == {"Inputs": {"data": batch[start:stop]}}


@given(st.lists(st.tuples(st.integers(-1000, 1000), st.text(max_size=4)), min_size=1, max_size=30))
def test_record_rows_keep_field_names_and_order(pairs: list) -> None:
    frame = pd.DataFrame(pairs, columns=["n", "s"])
    body = orjson.loads(encode_body("WebServiceInput0", RowBlock(records=frame), 0, len(frame)))
    assert body["Inputs"]["WebServiceInput0"] == [{"n": n, "s": s} for n, s in pairs]


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=50))
def test_responses_map_back_by_position_in_every_shape(predictions: list) -> None:
    for document in (predictions, {"Results": {"out": predictions}}, {"out": predictions}):
        assert decode_response(orjson.dumps(document), len(predictions), "out", "http://h", 200) == predictions


def test_wrong_length_and_html_bodies_are_errors_with_excerpts() -> None:
    with pytest.raises(ScoringError, match=r"returned 2 results for a batch of 3 rows.*\[1,2\]"):
        decode_response(b"[1,2]", 3, None, "http://h/score", 200)
    with pytest.raises(ScoringError, match=r"not JSON: '<html>oops"):
        decode_response(b"<html>oops</html>", 1, None, "http://h/score", 200)


def test_nan_and_timestamps_are_json_null_and_iso() -> None:
    frame = pd.DataFrame({"x": [float("nan")], "t": pd.to_datetime(["2026-01-01T00:00:01Z"], utc=True)})
    body = orjson.loads(encode_body("data", RowBlock(records=frame), 0, 1))
    assert body["Inputs"]["data"][0]["x"] is None
    assert body["Inputs"]["data"][0]["t"].startswith("2026-01-01T00:00:01")
