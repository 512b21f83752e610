"""Which value feeds each input a cell's query reads: ``--input alias=…`` (a variable, a path or a ``sim:``
URL), else a DataFrame variable of the same name, else a registered source; a miss says what to type."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from asanb.errors import ConfigError, PlanError
from asanb.notebook.registry import Registry
from asanb.sql import ast

__all__ = ["check_timestamp_columns", "resolve_inputs"]


def _usable(value: Any) -> bool:
    """Values that can be an input on their own (so an unrelated variable never shadows a source)."""
    if isinstance(value, pd.DataFrame | Path):
        return True
    if isinstance(value, list):
        return bool(value) and (all(isinstance(item, dict) for item in value)
                                or all(isinstance(item, pd.DataFrame) for item in value))
    if isinstance(value, Iterator):
        return True
    if isinstance(value, str):
        return value.lower().startswith("sim:") or Path(value).suffix.lower() in (".json", ".jsonl", ".ndjson",
                                                                                 ".csv", ".parquet")
    return hasattr(value, "batches") and hasattr(value, "schema")


def _frames_in(namespace: dict[str, Any]) -> list[str]:
    return [name for name, value in namespace.items()
            if not name.startswith("_") and isinstance(value, pd.DataFrame)]


def _from_option(alias: str, target: str, namespace: dict[str, Any]) -> Any:
    if target.isidentifier() and target in namespace:
        return namespace[target]
    if target.lower().startswith("sim:") or Path(target).suffix or "/" in target:
        return target  # a path or a simulated stream: the source layer checks it and names the alias
    close = difflib.get_close_matches(target, _frames_in(namespace), n=1)
    hint = f"did you mean --input {alias}={close[0]}? " if close else ""
    raise ConfigError(f"--input {alias}={target}: there is no variable named '{target}'. {hint}"
                      f"Give a DataFrame variable, a file path (.json/.csv/.parquet) or sim:taxi?rate=100")


def resolve_inputs(query: str, sources: list[ast.Source], given: dict[str, str], namespace: dict[str, Any],
                   registry: Registry) -> dict[str, Any]:
    """Input alias -> value for every input the query reads."""
    inputs: dict[str, Any] = {alias: _from_option(alias, target, namespace) for alias, target in given.items()}
    lowered = {alias.lower() for alias in inputs}
    for source in sources:
        name = source.name
        if name.lower() in lowered:
            continue
        value = namespace.get(name)
        if not _usable(value):
            value = registry.find_source(name)
        if value is None:
            frames = _frames_in(namespace)
            close = difflib.get_close_matches(name, frames + list(registry.sources), n=1)
            hint = f" Did you mean --input {name}={close[0]}?" if close else ""
            choices = ", ".join(frames[:8]) or "none"
            raise PlanError(
                f"no input '{name}': there is no DataFrame variable of that name and no registered source.{hint} "
                f"Type --input {name}=<variable|path|sim:taxi?rate=100> (DataFrame variables here: {choices})",
                source.span, query,
            )
        inputs[name] = value
        lowered.add(name.lower())
    return inputs


def check_timestamp_columns(inputs: dict[str, Any], hints: dict[str, str]) -> None:
    """A ``--timestamp-by`` column must exist in each DataFrame it applies to and hold times."""
    for alias, value in inputs.items():
        column = hints.get(alias, hints.get(""))
        if column is None or not isinstance(value, pd.DataFrame):
            continue
        timelike = [str(c) for c in value.columns if _is_time(value[c])]
        suggestion = (f"columns that hold times: {', '.join(timelike)}" if timelike
                      else "no column holds times; add one (e.g. df['time'] = pd.Timestamp.now()) or leave out "
                           "--timestamp-by to use arrival time")
        if column not in value.columns:
            raise ConfigError(f"--timestamp-by {column}: input '{alias}' has no column '{column}'; {suggestion}")
        if not _is_time(value[column]):
            raise ConfigError(f"--timestamp-by {column}: column '{column}' of input '{alias}' does not hold "
                              f"times (first value {value[column].iloc[0]!r} if any); {suggestion}")


def _is_time(column: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    if column.dtype != object and not pd.api.types.is_string_dtype(column):
        return False
    sample = column.dropna().head(5)
    if sample.empty:
        return False
    try:
        pd.to_datetime(sample, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        return False
    return True
