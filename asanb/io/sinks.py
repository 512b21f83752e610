"""Output sinks: JSON lines as ASA writes them (ISO 8601 UTC times, NULL as null, records and arrays as JSON)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

__all__ = ["frame_to_records", "write_json_lines"]


def _plain(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        stamp = value.tz_convert("UTC") if value.tzinfo else value.tz_localize("UTC")
        # Microsecond precision with 'Z', the shape ASA's JSON output uses for UTC datetimes.
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA:
        return None
    return value


def frame_to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-able rows of ``frame``."""
    columns = [str(c) for c in frame.columns]
    return [dict(zip(columns, (_plain(v) for v in row), strict=True))
            for row in frame.itertuples(index=False, name=None)]


def write_json_lines(frame: pd.DataFrame, path: str | Path) -> int:
    """Write one JSON object per line; returns the number of rows written."""
    rows = frame_to_records(frame)
    with Path(path).open("wb") as handle:
        for row in rows:
            handle.write(orjson.dumps(row) + b"\n")
    return len(rows)
