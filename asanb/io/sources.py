"""Event sources: DataFrames, lists of ASA events, JSON/CSV/Parquet files, simulated streams and iterators,
each read as a stream of micro-batches (DataFrames with a RangeIndex) that may be endless.

Sources never stamp time. Without TIMESTAMP BY the engine gives each event its arrival time: the wall clock
when its micro-batch is read (../shared/spec/saql.md, "Time"). ``arrival_time_column`` (None on every
built-in source) names a column that holds a recorded arrival time instead; the engine decides how to use it.
JSON events follow ASA's typing (../shared/spec/saql.md, "Types"): see asanb.io.json_events.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from asanb.errors import ConfigError
from asanb.io.json_events import ColumnType, JsonEventsFile, infer_types, records_frame

__all__ = [
    "ACCEPTED",
    "DataFrameSource",
    "FileSource",
    "IteratorSource",
    "ListSource",
    "Source",
    "as_source",
    "infer_types",
    "records_frame",
]

ACCEPTED = ("a pandas DataFrame", "a list of event dicts", "a .json/.jsonl/.ndjson/.csv/.parquet file path",
            "a 'sim:taxi?...' or 'sim:iot?...' URL", "a Source", "an iterable or iterator of DataFrames")
_SUFFIX_KINDS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}


@runtime_checkable
class Source(Protocol):
    """An unbounded-capable stream of micro-batches whose column names are known before the first batch."""

    @property
    def description(self) -> str:
        """Shown in progress and errors: "DataFrame (1,000 rows)", "file events.json", "sim:taxi rate=1000/s"."""
        ...

    @property
    def arrival_time_column(self) -> str | None:
        """A column holding recorded arrival times, or None: the engine stamps the wall clock."""
        ...

    @property
    def schema(self) -> tuple[str, ...]:
        """Column names, known before the first batch (empty when unknowable)."""
        ...

    def batches(self, batch_size: int) -> Iterator[pd.DataFrame]: ...


def _check_size(batch_size: int) -> None:
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch_size}")


def _slices(frame: pd.DataFrame, batch_size: int) -> Iterator[pd.DataFrame]:
    # iloc slices are views and reset_index under copy-on-write copies no data.
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0 or frame.index.step != 1:
        frame = frame.reset_index(drop=True)
    if len(frame) <= batch_size:
        if len(frame):
            yield frame
        return
    for start in range(0, len(frame), batch_size):
        chunk = frame.iloc[start:start + batch_size]
        yield chunk.reset_index(drop=True) if start else chunk


@dataclass(frozen=True, slots=True)
class DataFrameSource:
    """A DataFrame replayed in row order, in slices of ``batch_size`` rows."""

    frame: pd.DataFrame
    arrival_time_column: str | None = None

    @property
    def schema(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.frame.columns)

    @property
    def description(self) -> str:
        return f"DataFrame ({len(self.frame):,} rows)"

    def batches(self, batch_size: int) -> Iterator[pd.DataFrame]:
        _check_size(batch_size)
        yield from _slices(self.frame, batch_size)


@dataclass(frozen=True, slots=True)
class ListSource:
    """A list of ASA events (dicts), typed once over the whole list."""

    records: list[dict[str, Any]]
    arrival_time_column: str | None = None

    @property
    def schema(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(key for record in self.records for key in record))

    @property
    def description(self) -> str:
        return f"list of {len(self.records):,} events"

    def batches(self, batch_size: int) -> Iterator[pd.DataFrame]:
        _check_size(batch_size)
        yield from _slices(records_frame(self.records), batch_size)


@dataclass(frozen=True, slots=True)
class FileSource:
    """A local input file, read lazily in chunks where the format allows.

    JSON files are typed over the whole file first (one extra read) so every batch has the same columns and
    dtypes and a field that first appears late is still in the schema. CSV chunks are typed by pandas chunk
    by chunk; Parquet keeps the file's own types.
    """

    path: Path
    alias: str = "input"
    arrival_time_column: str | None = None
    _json_types: dict[str, dict[str, ColumnType]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def kind(self) -> str:
        return _SUFFIX_KINDS.get(self.path.suffix.lower(), "")

    @property
    def description(self) -> str:
        return f"file {self.path.name}"

    @property
    def schema(self) -> tuple[str, ...]:
        if self.kind == "parquet":
            return tuple(self._parquet().schema_arrow.names)
        if self.kind == "csv":
            return tuple(str(c) for c in self._read_csv(nrows=0).columns)
        return tuple(self._types())

    def batches(self, batch_size: int) -> Iterator[pd.DataFrame]:
        _check_size(batch_size)
        if self.kind == "parquet":
            for batch in self._parquet().iter_batches(batch_size=batch_size):
                yield batch.to_pandas()
        elif self.kind == "csv":
            yield from self._csv_chunks(batch_size)
        else:
            types = self._types()
            for chunk in JsonEventsFile(self.path).chunks(batch_size):
                yield records_frame(chunk, types)

    def _types(self) -> dict[str, ColumnType]:
        stamp = f"{self.path.stat().st_mtime_ns}:{self.path.stat().st_size}"
        if stamp not in self._json_types:  # re-typed when the file changes between runs
            self._json_types.clear()
            self._json_types[stamp] = JsonEventsFile(self.path).types()
        return self._json_types[stamp]

    def _parquet(self) -> Any:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(self.path)
        except (pa.ArrowException, OSError) as error:
            raise ConfigError(f"input '{self.alias}': cannot read Parquet {self.path}: {error}") from None

    def _csv_chunks(self, batch_size: int) -> Iterator[pd.DataFrame]:
        with self._read_csv(chunksize=batch_size) as reader:
            try:
                for chunk in reader:
                    yield chunk.reset_index(drop=True)  # pandas numbers rows on from the previous chunk
            except (pd.errors.ParserError, UnicodeDecodeError) as error:
                raise ConfigError(f"input '{self.alias}': cannot read CSV {self.path}: {error}") from None

    def _read_csv(self, **options: Any) -> Any:
        try:
            return pd.read_csv(self.path, **options)
        except (pd.errors.ParserError, UnicodeDecodeError) as error:
            raise ConfigError(f"input '{self.alias}': cannot read CSV {self.path}: {error}") from None


class IteratorSource:
    """DataFrames from any iterable, possibly endless. A re-iterable (a list) is replayed by each call of
    ``batches``; an iterator is read once. The schema is the first frame's columns, peeked without loss."""

    def __init__(self, iterable: Iterable[pd.DataFrame], description: str = "iterator of DataFrames") -> None:
        self.iterable = iterable
        self.description = description
        self.arrival_time_column: str | None = None
        self._one_shot = iter(iterable) is iterable
        self._iterator: Iterator[pd.DataFrame] | None = None
        self._peeked: list[pd.DataFrame] = []

    def _frames(self) -> Iterator[pd.DataFrame]:
        if not self._one_shot:
            return iter(self.iterable)
        if self._iterator is None:
            self._iterator = iter(self.iterable)
        return self._iterator

    @property
    def schema(self) -> tuple[str, ...]:
        if not self._peeked:
            first = next(self._frames(), None)
            if first is None:
                return ()
            self._peeked.append(_checked(first))
        return tuple(str(c) for c in self._peeked[0].columns)

    def batches(self, batch_size: int) -> Iterator[pd.DataFrame]:
        _check_size(batch_size)
        frames = self._frames()
        if self._one_shot:
            frames = itertools.chain(self._peeked, frames)
            self._peeked = []
        for frame in frames:
            yield from _slices(_checked(frame), batch_size)


def _checked(frame: object) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"an input iterator yielded a {type(frame).__name__}, not a pandas DataFrame")
    return frame


@dataclass(frozen=True, slots=True)
class _AdaptedSource:
    """A user object with ``schema`` and ``batches`` but without the optional Source attributes."""

    inner: Any
    description: str
    arrival_time_column: str | None = None

    @property
    def schema(self) -> tuple[str, ...]:
        return tuple(self.inner.schema)

    def batches(self, batch_size: int) -> Iterator[pd.DataFrame]:
        return iter(self.inner.batches(batch_size))


def as_source(obj: object, *, alias: str) -> Source:
    """The Source for an input value; ConfigError naming the alias when the value is not usable."""
    if isinstance(obj, pd.DataFrame):
        return DataFrameSource(obj)
    if isinstance(obj, str) and obj.strip().lower().startswith("sim:"):
        from asanb.io.simulated import parse_sim_url

        try:
            return parse_sim_url(obj.strip())
        except ConfigError as error:
            raise ConfigError(f"input '{alias}': {error}") from None
    if isinstance(obj, str | Path):
        return _file_source(Path(obj), alias)
    if isinstance(obj, list) and all(isinstance(item, dict) for item in obj):
        return ListSource(obj)
    if hasattr(obj, "batches") and hasattr(obj, "schema"):
        if isinstance(obj, Source):
            return obj
        return _AdaptedSource(obj, getattr(obj, "description", type(obj).__name__))
    if isinstance(obj, Iterable) and not isinstance(obj, bytes | dict):
        return IteratorSource(obj)
    raise ConfigError(f"input '{alias}' is a {type(obj).__name__}; an input is one of: {'; '.join(ACCEPTED)}")


def _file_source(path: Path, alias: str) -> FileSource:
    if not path.exists():
        raise ConfigError(f"input '{alias}': file not found: {path}")
    if not path.is_file():
        raise ConfigError(f"input '{alias}': {path} is not a file")
    if path.suffix.lower() not in _SUFFIX_KINDS:
        raise ConfigError(f"input '{alias}': unsupported file type '{path.suffix}' ({path}); "
                          f"use one of {', '.join(_SUFFIX_KINDS)}")
    return FileSource(path, alias)

