"""Request bodies and response mapping for ML UDFs, without per-row Python on the way out.

Bodies are ``{"Inputs": {"<input name>": [row, ...]}}`` with rows as arrays or records
(../shared/spec/ml_udf.md §4). asanb sends values typed as they are in the stream (JSON numbers, strings,
booleans, null; datetimes ISO 8601), not stringified like the doc's examples: typed values are what the
swagger declares, and the local server accepts both. Rows are serialized by pandas' C JSON writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd

from asanb.errors import ScoringError

__all__ = ["RowBlock", "decode_response", "encode_body"]


@dataclass(frozen=True)
class RowBlock:
    """The rows of one scoring call: ``records`` (a frame whose columns are the record fields) or
    ``arrays`` (a 2-D array or a sequence of per-row lists)."""

    records: pd.DataFrame | None = None
    arrays: Any = None

    def __len__(self) -> int:
        return len(self.records) if self.records is not None else len(self.arrays)

    def first_row(self, start: int) -> Any:
        if self.records is not None:
            return {k: _plain(v) for k, v in self.records.iloc[start].items()}
        row = self.arrays[start]
        return [_plain(v) for v in (row.tolist() if isinstance(row, np.ndarray) else row)]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _rows_json(block: RowBlock, start: int, stop: int) -> bytes:
    if block.records is not None:
        text: str = block.records.iloc[start:stop].to_json(orient="records", date_format="iso", date_unit="us")
        return text.encode()
    rows = block.arrays[start:stop]
    if isinstance(rows, np.ndarray) and rows.dtype != object:
        encoded: bytes = orjson.dumps(rows, option=orjson.OPT_SERIALIZE_NUMPY)
        return encoded
    if isinstance(rows, np.ndarray):
        rows = rows.tolist()
    try:
        mixed: bytes = orjson.dumps(rows, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
        return mixed
    except TypeError:
        fallback: str = pd.DataFrame(list(rows)).to_json(orient="values", date_format="iso")
        return fallback.encode()


def encode_body(input_name: str, block: RowBlock, start: int, stop: int) -> bytes:
    """The request body for rows [start, stop) of ``block``."""
    return b'{"Inputs":{' + orjson.dumps(input_name) + b":" + _rows_json(block, start, stop) + b"}}"


def decode_response(content: bytes, expected: int, output_name: str | None, endpoint: str,
                    status: int) -> Sequence[Any]:
    """One result per request row, by position; a wrong count or a non-JSON body is a ScoringError."""
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise ScoringError(f"the endpoint {endpoint} answered HTTP {status} with a body that is not JSON: "
                           f"{_excerpt(content)}", endpoint=endpoint) from None
    results = _results(document, output_name)
    if results is None:
        raise ScoringError(f"the endpoint {endpoint} answered without a list of results: {_excerpt(content)}",
                           endpoint=endpoint)
    if len(results) != expected:
        raise ScoringError(f"the endpoint {endpoint} returned {len(results)} results for a batch of {expected} "
                           f"rows; each row needs one result, in order: {_excerpt(content)}", endpoint=endpoint)
    return results


def _results(document: Any, output_name: str | None) -> Sequence[Any] | None:
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        return None
    for holder in (document.get("Results"), document):
        if isinstance(holder, list):
            return holder
        if isinstance(holder, dict):
            if output_name and isinstance(holder.get(output_name), list):
                return holder[output_name]  # type: ignore[no-any-return]
            lists = [v for v in holder.values() if isinstance(v, list)]
            if len(lists) == 1:
                return lists[0]
    return None


def _excerpt(content: bytes, limit: int = 200) -> str:
    text = content[:limit].decode("utf-8", errors="replace")
    return repr(text + ("…" if len(content) > limit else ""))
