"""Row plumbing shared by the JOIN operators: key codes, gathering joined columns, NULL sides, the rest of ON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from asanb.engine.expressions import Evaluator, compile_expression, truth_mask
from asanb.engine.operators import ErrorPolicy
from asanb.plan import logical
from asanb.plan.joins import time_column

_LEFT_ROW = "__left_row"


@dataclass(frozen=True, slots=True)
class Side:
    """A JOIN side at run time: compiled keys, the columns it carries and what they become when joined."""

    keys: tuple[Evaluator, ...]
    carried: tuple[str, ...]
    renames: tuple[tuple[str, str], ...]

    @staticmethod
    def of(side: logical.JoinSide) -> Side:
        keys = tuple(compile_expression(key, side.scope) for key in side.keys)
        renames = side.columns + tuple((column, time_column(alias)) for alias, column in side.times)
        carried = tuple(dict.fromkeys(source for source, _ in renames))
        return Side(keys, carried, renames)


def key_codes(probe: Sequence[pd.Series], build: Sequence[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """One int64 code per row of probe + build (equal key tuples, equal codes) and a mask of rows with a
    NULL key part (NULL never equals anything, as in SQL)."""
    rows = (len(probe[0]) + len(build[0])) if probe else 0
    codes = np.zeros(rows, dtype=np.int64)
    nulls = np.zeros(rows, dtype=bool)
    for left, right in zip(probe, build, strict=True):
        part, uniques = pd.factorize(pd.concat([left, right], ignore_index=True))
        nulls |= part < 0
        codes = codes * (len(uniques) + 1) + part
        if len(probe) > 1:
            codes, _ = pd.factorize(codes)  # keep several key parts' combined codes small
    return codes, nulls


def take(values: Any, rows: np.ndarray) -> Any:
    """``values`` (a column of a buffered frame) at ``rows``."""
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.arrays.NumpyExtensionArray):
        return values.to_numpy()[rows]
    return values.take(rows)


def gather(side: Side, frame: pd.DataFrame, rows: np.ndarray) -> dict[str, Any]:
    """The side's joined columns for ``rows`` of its buffered ``frame``."""
    return {joined: take(frame[source], rows) for source, joined in side.renames}


def null_columns(side: Side, rows: int) -> dict[str, Any]:
    """The side's joined columns, all NULL (the right side of an unmatched LEFT OUTER row)."""
    return {joined: np.full(rows, None, dtype=object) for _, joined in side.renames}


def join_time(nanos: np.ndarray) -> pd.arrays.DatetimeArray:
    """int64 nanoseconds as the engine's event-time column type (datetime64[ns, UTC])."""
    return pd.arrays.DatetimeArray._from_sequence(nanos.astype("datetime64[ns]"),
                                                  dtype=pd.DatetimeTZDtype("ns", "UTC"))


def residual_filter(joined: pd.DataFrame, left_rows: np.ndarray, residual: Evaluator, policy: ErrorPolicy,
                    step: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Keep the joined pairs for which the rest of ON is true (under the output error policy), with the
    left row position of each kept pair."""
    joined[_LEFT_ROW] = left_rows

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        mask = truth_mask(residual(frame))
        return frame if mask.all() else frame[mask]

    kept = policy.apply(joined, keep, step)
    rows = kept[_LEFT_ROW].to_numpy()
    return kept.drop(columns=[_LEFT_ROW]).reset_index(drop=True), rows
