"""Event sources: DataFrames, lists of ASA events, JSON/CSV/Parquet files and iterators, as streams of
micro-batches.

Sources never stamp time: without TIMESTAMP BY the engine uses each event's arrival time, the wall clock
when its micro-batch is read. JSON follows ASA's typing (../shared/spec/saql.md, "Types"): integers are
bigint, numbers with a fraction float, strings stay strings (ISO dates too, until TIMESTAMP BY or CAST),
nested objects and arrays stay records and arrays; events with different fields give the union of fields.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import orjson
import pandas as pd

from asanb.errors import ConfigError

__all__ = ["DataFrameSource", "FileSource", "IteratorSource", "Source", "as_source", "records_frame"]

ACCEPTED = ("a pandas DataFrame", "a list of dicts", "a .json/.jsonl/.ndjson/.csv/.parquet path",
            "a 'sim:taxi?...' or 'sim:iot?...' URL", "a Source", "an iterable of DataFrames")


@runtime_checkable
class Source(Protocol):
    """An unbounded-capable stream of micro-batches with a schema known before the first batch."""

    description: str

    @property
    def schema(self) -> tuple[str, ...]: ...

    def batches(self, batch_size: int) -> Iterator[pd.DataFrame]: ...


@dataclass(frozen=True)
class DataFrameSource:
    """A DataFrame replayed in row order, in slices of ``batch_size`` rows (no copies)."""

    frame: pd.DataFrame

    @property
    def schema(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.frame.columns)

    @property
    def description(self) -> str:
        return f"DataFrame ({len(self.frame):,} rows)"

    def batches(self, batch_size: int) -> Iterator[pd.DataFrame]:
        frame = self.frame
        if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0:
            frame = frame.reset_index(drop=True)
        for start in range(0, len(frame), batch_size):
            chunk = frame.iloc[start:start + batch_size]
            yield chunk.reset_index(drop=True) if start else chunk


def records_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """ASA events to a frame: union of fields in first-seen order, nested values kept as objects."""
    columns: dict[str, None] = {}
    for record in records:
        if not isinstance(record, dict):
            raise ConfigError(f"an event must be a JSON object, got {type(record).__name__}: {str(record)[:80]}")
        columns.update(dict.fromkeys(record))
    data = {name: [record.get(name) for record in records] for name in columns}
    frame = pd.DataFrame({name: _column(values) for name, values in data.items()})
    return frame.reset_index(drop=True)


def _column(values: list[Any]) -> pd.Series:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, dict | list) for v in present):
        return pd.Series(values, dtype=object)
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="boolean")
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="Int64" if len(present) < len(values) else "int64")
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="float64")
    if present and all(isinstance(v, str) for v in present):
        return pd.Series(values, dtype="str")
    return pd.Series(values, dtype=object)


@dataclass(frozen=True)
class ListSource:
    """A list of ASA events (dicts)."""

    records: list[dict[str, Any]]

    @property
    def schema(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(k for r in self.records for k in r))

    @property
    def description(self) -> str:
        return f"list of {len(self.records):,} events"

    def batches(self, batch_size: int) -> Iterator[pd.DataFrame]:
        frame = records_frame(self.records)
        yield from DataFrameSource(frame).batches(batch_size)


@dataclass(frozen=True)
class FileSource:
    """A local input file, read lazily in chunks where the format allows."""

    path: Path
    alias: str

    @property
    def kind(self) -> str:
        suffix = self.path.suffix.lower()
        return {".jsonl": "jsonl", ".ndjson": "jsonl"}.get(suffix, suffix.lstrip("."))

    @property
    def description(self) -> str:
        return f"file {self.path}"

    @property
    def schema(self) -> tuple[str, ...]:
        first = next(iter(self.batches(1000)), None)
        return () if first is None else tuple(str(c) for c in first.columns)

    def batches(self, batch_size: int) -> Iterator[pd.DataFrame]:
        if self.kind == "parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(self.path).iter_batches(batch_size=batch_size):
                yield batch.to_pandas()
        elif self.kind == "csv":
            yield from pd.read_csv(self.path, chunksize=batch_size)
        elif self.kind == "jsonl" or (self.kind == "json" and not _starts_with_bracket(self.path)):
            yield from self._json_lines(batch_size)
        else:
            records = self._load(self.path.read_bytes())
            if not isinstance(records, list):
                raise ConfigError(f"{self.path}: a JSON input holds an array of events or one event per line")
            yield from ListSource(records).batches(batch_size)

    def _json_lines(self, batch_size: int) -> Iterator[pd.DataFrame]:
        with self.path.open("rb") as handle:
            numbered = ((number, line) for number, line in enumerate(handle, start=1) if line.strip())
            while chunk := list(itertools.islice(numbered, batch_size)):
                yield records_frame([self._load(line, number) for number, line in chunk])

    def _load(self, data: bytes, line: int | None = None) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            # orjson does not say where; the stdlib parser does, for the error message only.
            try:
                json.loads(data)
            except json.JSONDecodeError as error:
                where = f"line {line}, column {error.colno}" if line else f"line {error.lineno}, column {error.colno}"
                raise ConfigError(f"{self.path}: malformed JSON at {where}: {error.msg}") from None
            raise ConfigError(f"{self.path}: malformed JSON") from None


def _starts_with_bracket(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip()
    return head.startswith(b"[")


@dataclass
class IteratorSource:
    """Any iterable of DataFrames (possibly endless); the schema comes from the first batch, peeked."""

    iterable: Iterable[pd.DataFrame]
    description: str = "iterator of DataFrames"
    _peeked: list[pd.DataFrame] = field(default_factory=list)
    _iterator: Iterator[pd.DataFrame] | None = None

    def _iter(self) -> Iterator[pd.DataFrame]:
        if self._iterator is None:
            self._iterator = iter(self.iterable)
        return self._iterator

    @property
    def schema(self) -> tuple[str, ...]:
        if not self._peeked:
            first = next(self._iter(), None)
            if first is None:
                return ()
            self._peeked.append(first)
        return tuple(str(c) for c in self._peeked[0].columns)

    def batches(self, batch_size: int) -> Iterator[pd.DataFrame]:
        for frame in itertools.chain(self._peeked, self._iter()):
            if not isinstance(frame, pd.DataFrame):
                raise ConfigError(f"an input iterator yielded {type(frame).__name__}, not a DataFrame")
            yield from DataFrameSource(frame).batches(batch_size)
        self._peeked.clear()


def as_source(obj: object, *, alias: str) -> Source:
    """The Source for an input value; ConfigError naming the alias when the value is not usable."""
    if isinstance(obj, pd.DataFrame):
        return DataFrameSource(obj)
    if isinstance(obj, str) and obj.startswith("sim:"):
        from asanb.io.simulated import parse_sim_url

        return parse_sim_url(obj)
    if isinstance(obj, str | Path):
        path = Path(obj)
        if not path.is_file():
            raise ConfigError(f"input '{alias}': file not found: {path}")
        source = FileSource(path, alias)
        if source.kind not in ("json", "jsonl", "csv", "parquet"):
            raise ConfigError(f"input '{alias}': unsupported file type '{path.suffix}'; use .json, .jsonl, .csv or .parquet")
        return source
    if isinstance(obj, list) and all(isinstance(item, dict) for item in obj):
        return ListSource(obj)
    if isinstance(obj, Source):
        return obj
    if isinstance(obj, Iterable) and not isinstance(obj, str | bytes | dict):
        return IteratorSource(obj)
    raise ConfigError(f"input '{alias}' is a {type(obj).__name__}; inputs take {', '.join(ACCEPTED)}")
