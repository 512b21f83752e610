"""ASA types over pandas: dtype naming, plain Python values, CAST / TRY_CAST conversions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from asanb.errors import EventError
from asanb.types import ASA_TYPES, asa_type_of_dtype, asa_type_of_value, cast_series, python_value


@pytest.mark.parametrize(("series", "expected"), [
    (pd.Series([1, 2]), "bigint"), (pd.Series([1, None], dtype="Int64"), "bigint"),
    (pd.Series([1.5]), "float"), (pd.Series(["a"]), "nvarchar(max)"), (pd.Series([True]), "bit"),
    (pd.Series([True, None], dtype="boolean"), "bit"),
    (pd.Series(pd.to_datetime(["2026-01-01"], utc=True)), "datetime"),
    (pd.Series([{"a": 1}], dtype=object), "any"),
])
def test_asa_type_of_dtype(series: pd.Series, expected: str) -> None:
    assert asa_type_of_dtype(series.dtype) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (np.int64(3), "bigint"), (2.0, "float"), (float("nan"), None), ("s", "nvarchar(max)"),
    (np.bool_(True), "bit"), ({"a": 1}, "record"), ([1], "array"), (pd.Timestamp("2026-01-01"), "datetime"),
    (None, None), (pd.NA, None),
])
def test_asa_type_of_value(value: Any, expected: str | None) -> None:
    assert asa_type_of_value(value) == expected
    assert expected is None or expected in ASA_TYPES


@pytest.mark.parametrize(("value", "expected"), [
    (np.int64(3), 3), (np.float64(2.5), 2.5), (np.nan, None), (pd.NA, None), (pd.NaT, None),
    (np.bool_(False), False), ({"a": np.int64(1), "b": [np.float64(np.nan)]}, {"a": 1, "b": [None]}),
    (np.array([1, 2]), [1, 2]), ("x", "x"),
])
def test_python_value_is_plain(value: Any, expected: Any) -> None:
    got = python_value(value)
    assert got == expected and type(got) is type(expected)


def test_cast_strict_names_the_bad_value_and_place() -> None:
    series = pd.Series(["1", "two", None])
    with pytest.raises(EventError) as error:
        cast_series(series, "bigint", strict=True, what="'CAST(x AS bigint)' (line 3, column 9)")
    assert str(error.value) == "cannot convert 'two' to bigint in 'CAST(x AS bigint)' (line 3, column 9)"
    assert error.value.row == "two"
    assert cast_series(series, "bigint", strict=False, what="").tolist() == [1, pd.NA, pd.NA]


def test_cast_float_to_string_uses_shortest_form_and_datetime_iso() -> None:
    assert cast_series(pd.Series([1.0, 2.5, None], dtype=object), "nvarchar(max)", strict=True,
                       what="").tolist()[:2] == ["1", "2.5"]
    times = pd.Series(pd.to_datetime(["2026-01-01T00:00:01.5Z"], utc=True))
    assert cast_series(times, "nvarchar(max)", strict=True, what="").tolist() == ["2026-01-01T00:00:01.5000000Z"]


def test_cast_bit_and_numbers() -> None:
    assert cast_series(pd.Series([True, False]), "bigint", strict=True, what="").tolist() == [1, 0]
    assert cast_series(pd.Series([True, False]), "nvarchar(max)", strict=True, what="").tolist() == ["1", "0"]
    assert cast_series(pd.Series([0.0, 2.0]), "bit", strict=True, what="").tolist() == [False, True]
    assert cast_series(pd.Series([3]), "float", strict=True, what="").dtype == np.float64


def test_cast_to_unknown_type_is_an_error() -> None:
    with pytest.raises(EventError, match="unknown type 'money'"):
        cast_series(pd.Series([1]), "money", strict=False, what="x")
