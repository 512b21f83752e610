"""The windowed GROUP BY operator: aggregate rows per window and group, emit each window when it is final.

A window ending at ``end`` is final once every event with a time <= end has arrived (the watermark has
passed it); its rows then leave the operator stamped with the window end as event time (``__ts``, what
System.Timestamp() returns) and the window's name (``__window_id``). Empty windows produce nothing.

State is bounded by the window size, not the stream length: tumbling/hopping windows with mergeable
aggregates keep per-pane partials only; other windows keep the raw rows still inside an open window.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from asanb.engine.aggregates import AggregateSpec, aggregate_rows, finalize_partials, merge_partials, partials
from asanb.engine.operator import Operator
from asanb.engine.windows import (
    ceil_to_grid,
    event_nanos,
    hopping_ends,
    is_paned,
    pane_ns,
    session_ends,
    sliding_ends,
    step_ns,
)
from asanb.plan.aggregation import WINDOW_ID
from asanb.plan.logical import WindowDefinition
from asanb.plan.scope import EVENT_TIME

_END = "__end"
_PANE = "__pane"
_NEVER = np.iinfo(np.int64).min
_FOREVER = np.iinfo(np.int64).max


class _PaneState:
    """Tumbling/hopping windows over mergeable aggregates: partials per (pane end, keys)."""

    def __init__(self, plan: WindowDefinition, keys: list[str], specs: Sequence[AggregateSpec]) -> None:
        self.plan = plan
        self.keys = keys
        self.specs = specs
        self.pending: list[pd.DataFrame] = []
        self.panes: pd.DataFrame | None = None
        self.emitted_ns = _NEVER

    def add(self, frame: pd.DataFrame) -> None:
        pane = pane_ns(self.plan)
        work = frame.assign(**{_PANE: ceil_to_grid(event_nanos(frame), pane, self.plan.offset_ns % pane)})
        self.pending.append(partials(work, [_PANE] + self.keys, self.specs))

    def emit(self, until_ns: int) -> pd.DataFrame | None:
        panes = self._consolidate()
        if panes is None or not len(panes) or until_ns <= self.emitted_ns or until_ns < int(panes[_PANE].min()):
            return None
        plan, pane = self.plan, pane_ns(self.plan)
        pane_ends = panes[_PANE].to_numpy(dtype=np.int64)
        first = ceil_to_grid(pane_ends, step_ns(plan), plan.offset_ns % step_ns(plan))
        pieces = []
        for k in range(-(-plan.size_ns // step_ns(plan))):
            end = first + k * step_ns(plan)
            inside = (end <= pane_ends - pane + plan.size_ns) & (end > self.emitted_ns) & (end <= until_ns)
            if inside.any():
                pieces.append(panes[inside].assign(**{_END: end[inside]}).drop(columns=[_PANE]))
        self.emitted_ns = until_ns
        # A pane is done when the last window holding it has been emitted.
        self.panes = panes[pane_ends - pane + plan.size_ns > until_ns].reset_index(drop=True)
        if not pieces:
            return None
        merged = merge_partials(pd.concat(pieces, ignore_index=True), [_END] + self.keys)
        result = merged[[_END] + self.keys].copy()
        for name, values in finalize_partials(merged, self.specs).items():
            result[name] = values.to_numpy() if values.dtype != object else values
        return result

    def _consolidate(self) -> pd.DataFrame | None:
        if self.pending:
            frames = ([self.panes] if self.panes is not None and len(self.panes) else []) + self.pending
            self.pending = []
            self.panes = merge_partials(pd.concat(frames, ignore_index=True), [_PANE] + self.keys)
        return self.panes

    def size(self) -> int:
        return sum(len(frame) for frame in self.pending) + (0 if self.panes is None else len(self.panes))


class _RowState:
    """Any window kind and any aggregate: keep the raw rows until no open window can still hold them."""

    def __init__(self, plan: WindowDefinition, keys: list[str], specs: Sequence[AggregateSpec]) -> None:
        self.plan = plan
        self.keys = keys
        self.specs = specs
        self.pending: list[pd.DataFrame] = []
        self.rows: pd.DataFrame | None = None
        self.emitted_ns = _NEVER

    def add(self, frame: pd.DataFrame) -> None:
        self.pending.append(frame)

    def emit(self, until_ns: int) -> pd.DataFrame | None:
        if self.pending:
            frames = ([self.rows] if self.rows is not None and len(self.rows) else []) + self.pending
            self.pending = []
            self.rows = pd.concat(frames, ignore_index=True)
        rows = self.rows
        if rows is None or not len(rows) or until_ns <= self.emitted_ns:
            return None
        times = event_nanos(rows)
        positions, ends = self._assign(rows, times)
        due = (ends > self.emitted_ns) & (ends <= until_ns)
        self.rows = rows[self._still_needed(rows, times, positions, ends, until_ns)].reset_index(drop=True)
        self.emitted_ns = until_ns
        if not due.any():
            return None
        chosen = rows.take(positions[due]).reset_index(drop=True)
        chosen[_END] = ends[due]
        return aggregate_rows(chosen, [_END] + self.keys, self.specs)

    def _assign(self, rows: pd.DataFrame, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        plan = self.plan
        if is_paned(plan):
            return hopping_ends(times, plan)
        if plan.kind == "snapshot":
            return np.arange(len(rows)), times
        if plan.kind == "sliding":
            return sliding_ends(times, _group_codes(rows, self.keys), plan.size_ns)
        ends = session_ends(times, _group_codes(rows, list(plan.partition_columns)), plan.size_ns,
                            plan.max_duration_ns)
        return np.arange(len(rows)), ends

    def _still_needed(self, rows: pd.DataFrame, times: np.ndarray, positions: np.ndarray, ends: np.ndarray,
                      until_ns: int) -> np.ndarray:
        kind = self.plan.kind
        if kind == "snapshot":
            return times > until_ns
        if kind == "session":
            return ends > until_ns
        # Tumbling, hopping, sliding: a row's last window ends before time + size (sliding: at it).
        reach = self.plan.size_ns if kind == "sliding" else self.plan.size_ns - 1
        return times + reach > until_ns

    def size(self) -> int:
        return sum(len(frame) for frame in self.pending) + (0 if self.rows is None else len(self.rows))


def _group_codes(rows: pd.DataFrame, columns: list[str]) -> np.ndarray:
    if not columns:
        return np.zeros(len(rows), dtype=np.int64)
    codes: np.ndarray = rows.groupby(columns, sort=False, dropna=False, observed=True).ngroup().to_numpy(np.int64)
    return codes


class WindowAggregateOp(Operator):
    """GROUP BY ``keys`` and one window (or several, from Windows(...)) computing ``specs``."""

    def __init__(self, window: WindowDefinition | tuple[WindowDefinition, ...], keys: Sequence[str],
                 specs: Sequence[AggregateSpec], *, step: str = "") -> None:
        self.step = step
        self.windows = window if isinstance(window, tuple) else (window,)
        self.keys = list(keys)
        self.aggregates = tuple(specs)
        mergeable = all(spec.mergeable for spec in self.aggregates)
        self.states = [
            (_PaneState if is_paned(plan) and mergeable else _RowState)(plan, self.keys, self.aggregates)
            for plan in self.windows
        ]
        self._columns: list[str] | None = None

    def on_batch(self, frame: pd.DataFrame, port: int = 0) -> list[pd.DataFrame]:
        if len(frame):
            if self._columns is None:
                self._columns = list(frame.columns)
            for state in self.states:
                state.add(frame)
        return []

    def on_watermark(self, watermark_ns: int) -> list[pd.DataFrame]:
        return self._emit(watermark_ns)

    def on_end(self) -> list[pd.DataFrame]:
        return self._emit(_FOREVER)

    def state_size(self) -> int:
        return sum(state.size() for state in self.states)

    def _emit(self, until_ns: int) -> list[pd.DataFrame]:
        frames = []
        for plan, state in zip(self.windows, self.states, strict=True):
            result = state.emit(until_ns)
            if result is not None and len(result):
                frames.append(self._shape(result, plan))
        if not frames:
            return []
        out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return [out.sort_values(EVENT_TIME, kind="stable", ignore_index=True)]

    def _shape(self, result: pd.DataFrame, plan: WindowDefinition) -> pd.DataFrame:
        ends = result[_END].to_numpy(dtype=np.int64)
        shaped = result[self.keys + [spec.output for spec in self.aggregates]].copy()
        shaped[EVENT_TIME] = pd.arrays.DatetimeArray._from_sequence(
            ends.view("datetime64[ns]"), dtype=pd.DatetimeTZDtype("ns", "UTC"))
        shaped[WINDOW_ID] = plan.name
        return shaped
