"""ASA JSON events to typed DataFrames: the value typing rules, the union of fields, and JSON files read in
either of ASA's local-input layouts (one array, or one event per line) with error positions.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
import pandas as pd

from asanb.errors import ConfigError

__all__ = ["ColumnType", "JsonEventsFile", "infer_types", "merge_types", "records_frame"]

Kind = Literal["int", "float", "bool", "str", "nested", "mixed", "null"]
_BOM = b"\xef\xbb\xbf"
_PEEK_BYTES = 4096


@dataclass(frozen=True, slots=True)
class ColumnType:
    """The ASA type of one field over a set of events, and whether some event lacks it or has null."""

    kind: Kind
    nullable: bool

    @property
    def dtype(self) -> str | None:
        # bigint/bit columns with NULLs use pandas' nullable dtypes so a NULL never turns 7 into 7.0;
        # records, arrays and fields of several types stay Python objects (../shared/spec/saql.md, "Types").
        return {
            "int": "Int64" if self.nullable else "int64",
            "float": "float64",
            "bool": "boolean" if self.nullable else "bool",
            "str": "str",
        }.get(self.kind)


def _kind_of(types: set[type]) -> Kind:
    types = types - {type(None)}
    if not types:
        return "null"
    if types <= {bool}:
        return "bool"
    if types <= {int}:
        return "int"
    if types <= {int, float}:
        return "float"  # a field that is sometimes 3 and sometimes 2.5 is a float column
    if types <= {str}:
        return "str"
    if types <= {dict, list}:
        return "nested"
    return "mixed"


def _merge_kinds(a: Kind, b: Kind) -> Kind:
    if a == b or b == "null":
        return a
    if a == "null":
        return b
    if {a, b} == {"int", "float"}:
        return "float"
    if {a, b} <= {"nested"}:
        return "nested"
    return "mixed"


def merge_types(a: dict[str, ColumnType], b: dict[str, ColumnType]) -> dict[str, ColumnType]:
    """The types of two consecutive sets of events taken together (fields in first-seen order)."""
    merged: dict[str, ColumnType] = {}
    for name in itertools.chain(a, (n for n in b if n not in a)):
        left, right = a.get(name), b.get(name)
        if left is None or right is None:
            only = left or right
            assert only is not None
            merged[name] = ColumnType(only.kind, True)  # absent from one side: NULL there
        else:
            merged[name] = ColumnType(_merge_kinds(left.kind, right.kind), left.nullable or right.nullable)
    return merged


def _columns(records: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    return {name: [record.get(name) for record in records] for name in names}


def infer_types(records: Sequence[dict[str, Any]]) -> dict[str, ColumnType]:
    """Field name → ColumnType over ``records``: the union of their fields, in first-seen order."""
    types: dict[str, ColumnType] = {}
    for name, values in _columns(records).items():
        seen = set(map(type, values))
        missing = type(None) in seen
        types[name] = ColumnType(_kind_of(seen), missing)
    return types


def records_frame(records: Sequence[dict[str, Any]], types: dict[str, ColumnType] | None = None) -> pd.DataFrame:
    """ASA events as a frame with a RangeIndex. ``types`` (e.g. from a whole file) fixes the columns and
    dtypes, so every chunk of a file gets the same schema; fields an event lacks are NULL."""
    for record in records:
        if not isinstance(record, dict):
            raise ConfigError(f"an event must be a JSON object, got {type(record).__name__}: {str(record)[:80]}")
    data = _columns(records)
    types = types if types is not None else infer_types(records)
    empty = [None] * len(records)
    columns = {name: _series(data.get(name, empty), kind) for name, kind in types.items()}
    return pd.DataFrame(columns, index=pd.RangeIndex(len(records)))


def _series(values: list[Any], column: ColumnType) -> pd.Series:
    dtype = column.dtype
    if dtype is not None:
        try:
            return pd.Series(values, dtype=dtype)
        except (OverflowError, TypeError, ValueError):
            pass  # e.g. an integer beyond 64 bits: keep the Python values rather than lose precision
    return pd.Series(values, dtype=object)


@dataclass(frozen=True, slots=True)
class JsonEventsFile:
    """A local JSON input file: a JSON array of events or line-delimited events (detected from the first
    non-blank byte), parsed with orjson; errors name the file, line and column."""

    path: Path

    @property
    def layout(self) -> Literal["array", "lines"]:
        with self.path.open("rb") as handle:
            head = handle.read(_PEEK_BYTES).removeprefix(_BOM).lstrip()
        return "array" if head.startswith(b"[") else "lines"

    def chunks(self, size: int) -> Iterator[list[dict[str, Any]]]:
        """Lists of at most ``size`` events; line-delimited files are read lazily."""
        if self.layout == "array":
            events = self._decode(self.path.read_bytes().removeprefix(_BOM), None)
            if not isinstance(events, list):
                raise ConfigError(f"{self.path}: a JSON input holds an array of events or one event per line")
            for start in range(0, len(events), size):
                chunk = events[start:start + size]
                self._check_objects(chunk, lambda i, s=start: f"array element {s + i + 1}")
                yield chunk
            return
        with self.path.open("rb") as handle:
            numbered = ((n, line) for n, line in enumerate(handle, start=1) if line.strip())
            while block := list(itertools.islice(numbered, size)):
                chunk = [self._decode(line.removeprefix(_BOM) if n == 1 else line, n) for n, line in block]
                self._check_objects(chunk, lambda i, b=block: f"line {b[i][0]}")
                yield chunk

    def types(self, size: int = 65536) -> dict[str, ColumnType]:
        """The column types over the whole file (one full read)."""
        types: dict[str, ColumnType] = {}
        seen = 0
        for chunk in self.chunks(size):
            chunk_types = infer_types(chunk)
            types = merge_types(types, chunk_types) if seen else chunk_types
            seen += len(chunk)
        return types

    def _decode(self, data: bytes, line: int | None) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as error:
            where = f"line {line if line is not None else error.lineno}, column {error.colno}"
            raise ConfigError(f"{self.path}: malformed JSON at {where}: {error.msg}") from None

    def _check_objects(self, chunk: Iterable[Any], where: Any) -> None:
        for index, event in enumerate(chunk):
            if not isinstance(event, dict):
                raise ConfigError(f"{self.path}: {where(index)} is a JSON {type(event).__name__}, not an event "
                                  f"object: {str(event)[:80]}")
