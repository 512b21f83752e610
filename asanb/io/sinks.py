"""Output sinks: the frames a job emits per output alias, and JSON lines written the way ASA writes JSON
(datetimes as ISO 8601 UTC with 7 fractional digits and 'Z', NULL/NaN as null, records and arrays as JSON).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from asanb.errors import ConfigError, ExecutionError

__all__ = ["OutputCollector", "format_datetime", "frame_to_records", "write_json_lines"]

_WRITE_ROWS = 65536  # rows converted at a time, so a large output is never held twice as Python dicts
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS


def format_datetime(value: dt.datetime) -> str:
    """ASA's JSON form of a datetime: UTC, 100 ns resolution (.NET ticks, 7 digits), 'Z' suffix;
    a naive value is taken as UTC, as everywhere in ASA (../shared/spec/saql.md, "Time")."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    nanos = value.nanosecond if isinstance(value, pd.Timestamp) else 0
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond:06d}{nanos // 100}Z"


def _datetime_column(series: pd.Series) -> list[Any]:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    values = series.to_numpy()
    # 'YYYY-MM-DDTHH:MM:SS.fffffffff' cut to 7 fractional digits: one C call for the whole column.
    text = np.char.add(np.datetime_as_string(values, unit="ns").astype("U27"), "Z").astype(object)
    text[np.isnat(values)] = None
    return text.tolist()  # type: ignore[no-any-return]


def _float_column(series: pd.Series) -> list[Any]:
    values = series.to_numpy()
    plain = values.astype(object)
    plain[~np.isfinite(values)] = None  # JSON has no NaN or infinity; ASA writes NULL
    return plain.tolist()  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    """One value of an object column (records, arrays, mixed fields) as JSON-able Python."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else format_datetime(pd.Timestamp(value))
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray | set):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, dt.timedelta | pd.Timedelta):
        return value.total_seconds()
    return str(value)


def _column(series: pd.Series) -> list[Any]:
    dtype = series.dtype
    if dtype.kind == "M":
        return _datetime_column(series)
    if dtype.kind == "m":
        return _float_column(series.dt.total_seconds())  # ASA has no duration type: seconds
    if dtype.kind == "f" and isinstance(dtype, np.dtype):
        return _float_column(series)
    if dtype.kind in "iub" and isinstance(dtype, np.dtype):
        return list(series.tolist())
    if dtype == np.dtype(object) or isinstance(dtype, pd.CategoricalDtype):
        return [_plain(value) for value in series.to_numpy(dtype=object)]
    # nullable Int64/boolean/Float64/str: NA becomes None in one pass
    values = series.to_numpy(dtype=object, na_value=None)
    if dtype.kind == "f":
        return [None if v is not None and not math.isfinite(v) else v for v in values]
    return values.tolist()  # type: ignore[no-any-return]


def frame_to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as JSON-able dicts, converted column by column (see ``write_json_lines``)."""
    names = [str(c) for c in frame.columns]
    if not names:
        return [{} for _ in range(len(frame))]
    columns = [_column(frame.iloc[:, i]) for i in range(len(names))]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def write_json_lines(frame: pd.DataFrame, path: str | Path) -> int:
    """Write one JSON object per line (ASA's "line separated" JSON output) and return the rows written.

    Datetimes are ISO 8601 UTC with 7 fractional digits and 'Z' (e.g. 2026-01-01T00:00:01.5000000Z), as ASA
    writes them; NaN, NA and NaT are null; records and arrays are nested JSON; durations are seconds.
    """
    target = Path(path)
    flat = _is_flat(frame)
    try:
        with target.open("wb") as handle:
            for start in range(0, len(frame), _WRITE_ROWS):
                handle.write(_json_lines(frame_to_records(frame.iloc[start:start + _WRITE_ROWS]), flat))
    except orjson.JSONEncodeError as error:
        raise ExecutionError(f"cannot write output {target} as JSON: {error}") from None
    except OSError as error:
        raise ConfigError(f"cannot write output file {target}: {error.strerror or error}") from None
    return len(frame)


def _is_flat(frame: pd.DataFrame) -> bool:
    """No records, arrays or mixed values, and no '},{' in any name or string: then the only '},{' in the
    JSON of a list of its rows are the joins between rows."""
    if any("},{" in str(name) for name in frame.columns):
        return False
    for _, series in frame.items():
        if series.dtype == np.dtype(object) or isinstance(series.dtype, pd.CategoricalDtype):
            return False
        if isinstance(series.dtype, pd.StringDtype) and series.str.contains("},{", regex=False).fillna(False).any():
            return False
    return True


def _json_lines(rows: list[dict[str, Any]], flat: bool) -> bytes:
    if not rows:
        return b""
    if flat:
        # One orjson call per chunk instead of one per row (several times faster); see _is_flat.
        body = orjson.dumps(rows, option=_JSON_OPTIONS)[2:-2]
        return b"{" + body.replace(b"},{", b"}\n{") + b"}\n"
    options = _JSON_OPTIONS | orjson.OPT_APPEND_NEWLINE
    return b"".join(orjson.dumps(row, option=options) for row in rows)


class OutputCollector:
    """The frames emitted to each output alias, kept as a list and concatenated once when asked for."""

    def __init__(self, aliases: Iterable[str] = ()) -> None:
        self._frames: dict[str, list[pd.DataFrame]] = {alias: [] for alias in aliases}
        self._counts: dict[str, int] = dict.fromkeys(self._frames, 0)

    def add(self, alias: str, frame: pd.DataFrame) -> None:
        """Append a frame emitted to ``alias`` (an empty one only if it is the first, for its columns)."""
        frames = self._frames.setdefault(alias, [])
        self._counts[alias] = self._counts.get(alias, 0) + len(frame)
        if len(frame) or not frames:
            frames.append(frame)

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(self._frames)

    @property
    def counts(self) -> dict[str, int]:
        """Rows emitted so far per alias."""
        return dict(self._counts)

    def __contains__(self, alias: object) -> bool:
        return alias in self._frames

    def frame(self, alias: str) -> pd.DataFrame:
        """All rows emitted to ``alias`` with a RangeIndex; an output that got nothing is an empty frame."""
        if alias not in self._frames:
            known = ", ".join(self._frames) or "none"
            raise ConfigError(f"no output named '{alias}'; outputs: {known}")
        frames = self._frames[alias]
        if not frames:
            return pd.DataFrame()
        nonempty = [f for f in frames if len(f)] or frames[:1]
        if len(nonempty) > 1:
            joined = pd.concat(nonempty, ignore_index=True)
        elif isinstance(nonempty[0].index, pd.RangeIndex) and nonempty[0].index.start == 0:
            joined = nonempty[0]
        else:
            joined = nonempty[0].reset_index(drop=True)
        self._frames[alias] = [joined]  # later calls and later adds start from the joined frame
        return joined

    def frames(self) -> dict[str, pd.DataFrame]:
        """Every output's frame, in the order the aliases were declared or first written."""
        return {alias: self.frame(alias) for alias in self._frames}
