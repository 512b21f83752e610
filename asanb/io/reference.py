"""Reference data for JOINs: a table read whole (DataFrame, event list, file, or a callable returning one),
re-read every ``refresh_seconds`` of wall-clock time when its content can change (a file or a callable).

ASA reloads reference data on a refresh interval; asanb re-reads a file or calls the callable again when a
micro-batch arrives at least ``refresh_seconds`` after the last load (None: load once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from asanb.errors import ConfigError
from asanb.io.sources import as_source

__all__ = ["Reference", "as_reference"]

_WHOLE = 1 << 30  # one batch holds the whole table


@dataclass(frozen=True, slots=True)
class Reference:
    """Reference data for ``asanb.run(..., reference={"alias": Reference(...)})``.

    Args:
        source: a DataFrame, a list of row dicts, a .json/.jsonl/.csv/.parquet path, or a callable returning
            one of those (called at each load).
        refresh_seconds: re-read a file or call the callable again this often (wall clock); None loads once.
            0 re-reads for every micro-batch (handy in tests).
    """

    source: Any
    refresh_seconds: float | None = None
    alias: str = "reference"

    def __post_init__(self) -> None:
        if self.refresh_seconds is not None and self.refresh_seconds < 0:
            raise ConfigError(f"reference '{self.alias}': refresh_seconds must be zero or positive")

    def load(self) -> pd.DataFrame:
        """The whole table now."""
        value = self.source() if callable(self.source) else self.source
        source = as_source(value, alias=self.alias)
        frames = list(source.batches(_WHOLE))
        if not frames:
            return pd.DataFrame(columns=list(source.schema))
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def as_reference(value: Any, *, alias: str) -> Reference:
    """The Reference for a value given in ``reference={...}``."""
    if isinstance(value, Reference):
        return Reference(value.source, value.refresh_seconds, alias)
    return Reference(value, None, alias)
