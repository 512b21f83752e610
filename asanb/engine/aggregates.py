"""Aggregate functions of a windowed GROUP BY, computed per group of a DataFrame.

Two paths, one meaning. Mergeable aggregates (COUNT, SUM, AVG, MIN, MAX, VAR/STDEV and their P forms) are
kept as small *partials* per (pane, group) that merge by addition or min/max, so tumbling and hopping
windows never hold raw events (the pane technique the perf peers use, ../shared/perf/BASELINES.md). The
others (DISTINCT, Collect, TopOne, CollectTop, PERCENTILE_*) need the window's rows and run per group.
NULLs are skipped by every aggregate but COUNT(*) (../shared/spec/saql.md, "Types").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from asanb.plan.logical import AggregateCall
from asanb.plan.scope import EVENT_TIME
from asanb.types import python_value

__all__ = ["MERGEABLE", "AggregateSpec", "aggregate_rows", "finalize_partials", "merge_partials", "partials"]

# Partials each mergeable function needs: n = rows, c = non-NULL values, s = sum, q = sum of squares.
_PARTS: dict[str, tuple[str, ...]] = {
    "count_star": ("n",), "count": ("c",), "sum": ("s", "c"), "avg": ("s", "c"), "min": ("min",),
    "max": ("max",), "var": ("s", "q", "c"), "varp": ("s", "q", "c"), "stdev": ("s", "q", "c"),
    "stdevp": ("s", "q", "c"),
}
MERGEABLE = frozenset(_PARTS)
_MERGE = {"n": "sum", "c": "sum", "s": "sum", "q": "sum", "min": "min", "max": "max"}


class GroupAggregator(Protocol):
    """A user-defined aggregate (``uda.<alias>``, bound in ``udf/``): one result per group, all groups of a
    window emission in one call. Group ``g`` is rows ``offsets[g]:offsets[g+1]`` of ``values``, in event-time
    order; ``times_ns`` are their event times."""

    def __call__(self, values: pd.Series, times_ns: np.ndarray, offsets: np.ndarray) -> Sequence[Any]: ...


@dataclass(frozen=True, slots=True)
class AggregateSpec(AggregateCall):
    """The planner's ``AggregateCall`` (``function`` over column ``argument`` into column ``output``) plus what
    only a run has: ``aggregator``, the bound JavaScript UDA."""

    aggregator: GroupAggregator | None = None

    @property
    def mergeable(self) -> bool:
        return self.function in MERGEABLE and not self.distinct


def _part_name(spec: AggregateSpec, part: str) -> str:
    return f"{spec.output}:{part}"


def partials(frame: pd.DataFrame, groups: list[str], specs: Sequence[AggregateSpec]) -> pd.DataFrame:
    """Partials of mergeable ``specs`` per group of ``groups`` (NULL keys form their own group)."""
    work = frame[groups].copy()
    named: dict[str, tuple[str, str]] = {}
    for spec in specs:
        values = _numeric(frame[spec.argument]) if spec.argument is not None else None
        for part in _PARTS[spec.function]:
            name = _part_name(spec, part)
            if part == "n":
                work[name] = np.ones(len(frame), dtype=np.int64)
                named[name] = (name, "sum")
            elif part == "c":
                work[name] = frame[spec.argument].notna().to_numpy(dtype=np.int64)
                named[name] = (name, "sum")
            elif part == "q":
                work[name] = values * values  # type: ignore[operator]
                named[name] = (name, "sum")
            elif part == "s":
                work[name] = values
                named[name] = (name, "sum")
            else:
                work[name] = frame[spec.argument]
                named[name] = (name, part)
    grouped = work.groupby(groups, sort=False, dropna=False, observed=True)
    return grouped.agg(**named).reset_index()


def merge_partials(frame: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    """Combine rows of partials that share a group."""
    parts = [column for column in frame.columns if column not in groups]
    how = {column: _MERGE[column.rsplit(":", 1)[1]] for column in parts}
    grouped = frame.groupby(groups, sort=False, dropna=False, observed=True)
    return grouped.agg(how).reset_index()


def finalize_partials(frame: pd.DataFrame, specs: Sequence[AggregateSpec]) -> dict[str, pd.Series]:
    """Each spec's value per row of merged partials."""
    out: dict[str, pd.Series] = {}
    for spec in specs:
        part = {p: frame[_part_name(spec, p)] for p in _PARTS[spec.function]}
        function = spec.function
        if function in ("count_star", "count"):
            out[spec.output] = part["n" if function == "count_star" else "c"].astype(np.int64)
        elif function == "sum":
            out[spec.output] = part["s"].where(part["c"] > 0)
        elif function == "avg":
            out[spec.output] = (part["s"].astype(float) / part["c"]).where(part["c"] > 0)
        elif function in ("min", "max"):
            out[spec.output] = part[function]
        else:
            out[spec.output] = _variance(function, part["s"], part["q"], part["c"])
    return out


def _variance(function: str, total: pd.Series, squares: pd.Series, count: pd.Series) -> pd.Series:
    count = count.astype(float)
    total = total.astype(float)
    sample = function in ("var", "stdev")
    denominator = count - 1 if sample else count
    deviation = (squares.astype(float) - total * total / count.where(count > 0)).clip(lower=0)
    variance = (deviation / denominator.where(denominator > 0))
    return np.sqrt(variance) if function.startswith("stdev") else variance


def _numeric(series: pd.Series) -> pd.Series:
    """Sum-able values: bit counts as 0/1 and nullable integers stay exact."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("Int64")
    if series.dtype == object:
        return pd.to_numeric(series, errors="coerce")
    return series


def aggregate_rows(frame: pd.DataFrame, groups: list[str], specs: Sequence[AggregateSpec]) -> pd.DataFrame:
    """Every spec per group of ``groups`` from raw rows; the path for windows that keep their events."""
    mergeable = [spec for spec in specs if spec.mergeable]
    if mergeable:
        result = partials(frame, groups, mergeable)
        for name, values in finalize_partials(result, mergeable).items():
            result[name] = values
        result = result[groups + [spec.output for spec in mergeable]]
    else:
        grouped = frame.groupby(groups, sort=False, dropna=False, observed=True)
        result = grouped.size().reset_index()[groups]
    others = [spec for spec in specs if not spec.mergeable]
    if not others:
        return result
    indices = frame.groupby(groups, sort=False, dropna=False, observed=True).indices
    keys = list(indices)
    for spec in others:
        if spec.aggregator is not None:
            values = list(_user_aggregate(spec, frame, [indices[key] for key in keys]))
        else:
            values = [_python_aggregate(spec, frame.iloc[indices[key]]) for key in keys]
        column = pd.Series(values, dtype=object)
        lookup = pd.DataFrame(_key_columns(keys, groups))
        lookup[spec.output] = column
        result = result.merge(lookup, on=groups, how="left", sort=False)
    return result


def _user_aggregate(spec: AggregateSpec, frame: pd.DataFrame, groups: list[np.ndarray]) -> Sequence[Any]:
    """Every group in one call to the user's aggregate, each group's rows in event-time order (stable)."""
    times = frame[EVENT_TIME].to_numpy(dtype="datetime64[ns]").view(np.int64)
    sizes = np.fromiter((len(group) for group in groups), dtype=np.int64, count=len(groups))
    positions = np.concatenate(groups) if groups else np.empty(0, dtype=np.int64)
    group_of = np.repeat(np.arange(len(groups)), sizes)
    order = positions[np.lexsort((times[positions], group_of))]
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    return spec.aggregator(frame[spec.argument].iloc[order], times[order], offsets)  # type: ignore[misc]


def _key_columns(keys: list[Any], groups: list[str]) -> dict[str, list[Any]]:
    if len(groups) == 1:
        return {groups[0]: [key[0] if isinstance(key, tuple) else key for key in keys]}
    return {group: [key[i] for key in keys] for i, group in enumerate(groups)}


def _python_aggregate(spec: AggregateSpec, rows: pd.DataFrame) -> Any:
    function = spec.function
    if spec.distinct:
        values: list[Any] = [python_value(v) for v in rows[spec.argument].dropna().unique()]
        if function == "count":
            return len(values)
        if not values:
            return None
        if function == "sum":
            return sum(values)
        if function == "avg":
            return sum(values) / len(values)
        return _python_aggregate(AggregateSpec(function, "__values", spec.output),
                                 pd.DataFrame({"__values": values}))
    if function in MERGEABLE:
        single = aggregate_rows(rows.assign(__group=0), ["__group"], [spec])
        return python_value(single[spec.output].iloc[0])
    if function == "collect":
        if spec.argument is not None:
            return [python_value(v) for v in rows[spec.argument]]
        return [_record(rows, position, spec.record_columns) for position in range(len(rows))]
    ordered = _ordered(rows, spec.order_by)
    if function == "topone":
        return _record(ordered, 0, spec.record_columns) if len(ordered) else None
    if function == "collecttop":
        count = int(spec.parameter or 1)
        return [{"rank": rank + 1, "value": _record(ordered, rank, spec.record_columns)}
                for rank in range(min(count, len(ordered)))]
    if function in ("percentile_cont", "percentile_disc"):
        column = spec.order_by[0][0]
        numbers = ordered[column].dropna().astype(float).to_numpy()
        return _percentile(function, numbers, float(spec.parameter or 0.0))
    raise NotImplementedError(function)


def _ordered(rows: pd.DataFrame, order_by: tuple[tuple[str, bool], ...]) -> pd.DataFrame:
    if not order_by:
        return rows
    columns = [column for column, _ in order_by]
    ascending = [not descending for _, descending in order_by]
    return rows.sort_values(columns, ascending=ascending, kind="stable", na_position="last")


def _record(rows: pd.DataFrame, position: int, columns: tuple[str, ...]) -> dict[str, Any]:
    return {column: python_value(rows[column].iloc[position]) for column in columns}


def _percentile(function: str, values: np.ndarray, fraction: float) -> float | None:
    """PERCENTILE_CONT interpolates between neighbours; PERCENTILE_DISC returns the first value whose
    cumulative distribution reaches ``fraction`` (both over the OVER (ORDER BY) direction's values)."""
    if not len(values):
        return None
    if function == "percentile_cont":
        position = fraction * (len(values) - 1)
        low, high = math.floor(position), math.ceil(position)
        return float(values[low] + (values[high] - values[low]) * (position - low))
    index = max(math.ceil(fraction * len(values)) - 1, 0)
    return float(values[index])
