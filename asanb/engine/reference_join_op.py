"""JOIN of a stream with reference data: each event looks its key up in the current reference table.

No time bound and no state besides the table (ASA's reference data join); a joined row keeps the event's
time. The table is reloaded when its refresh interval has passed (wall clock, injected as ``now``). Equal
keys must identify one reference row: a duplicate key fails the job with the key and the JOIN's place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import pandas as pd

from asanb.engine.expressions import compile_expression
from asanb.engine.join_rows import Side, gather, null_columns, residual_filter, take
from asanb.engine.operator import Operator
from asanb.engine.operators import ErrorPolicy
from asanb.errors import ExecutionError
from asanb.plan import logical
from asanb.plan.scope import EVENT_TIME


class ReferenceTable(Protocol):
    """Reference data as the engine sees it (``asanb.io.reference.Reference`` implements it)."""

    @property
    def refresh_seconds(self) -> float | None: ...

    def load(self) -> pd.DataFrame: ...


class ReferenceJoinOp(Operator):
    """Port 0 is the stream; the right side is ``table``."""

    def __init__(self, node: logical.Join, table: ReferenceTable, policy: ErrorPolicy,
                 now: Callable[[], pd.Timestamp]) -> None:
        self.step = node.step
        self.node = node
        self.table = table
        self.policy = policy
        self.now = now
        self.outer = node.kind == "left"
        self.left, self.right = Side.of(node.left_side), Side.of(node.right_side)
        self.residual = compile_expression(node.residual, node.scope) if node.residual is not None else None
        self.loaded_ns: int | None = None
        self.rows = pd.DataFrame()
        self.index: pd.Index | None = None
        self.positions = np.empty(0, dtype=np.int64)

    def on_batch(self, frame: pd.DataFrame, port: int = 0) -> list[pd.DataFrame]:
        if frame.empty:
            return []
        self._refresh()
        left_rows, right_rows = self._pairs(frame)
        out: list[pd.DataFrame] = []
        columns = gather(self.left, frame, left_rows) | gather(self.right, self.rows, right_rows)
        columns[EVENT_TIME] = take(frame[EVENT_TIME], left_rows)
        joined = pd.DataFrame(columns)
        if self.residual is not None and len(joined):
            joined, left_rows = residual_filter(joined, left_rows, self.residual, self.policy, self.step)
        if len(joined):
            out.append(joined)
        if self.outer:
            unmatched = np.ones(len(frame), dtype=bool)
            unmatched[left_rows] = False
            if unmatched.any():
                rows = np.flatnonzero(unmatched)
                nulls = gather(self.left, frame, rows) | null_columns(self.right, len(rows))
                nulls[EVENT_TIME] = take(frame[EVENT_TIME], rows)
                out.append(pd.DataFrame(nulls))
        return out

    def _refresh(self) -> None:
        now = self.now().value
        refresh = self.table.refresh_seconds
        if self.loaded_ns is not None and (refresh is None or now - self.loaded_ns < refresh * 1e9):
            return
        self.rows = self.table.load().reset_index(drop=True)
        self.loaded_ns = now
        if not self.right.keys:
            return
        keys = [key(self.rows) for key in self.right.keys]
        valid = np.logical_and.reduce([key.notna().to_numpy() for key in keys])
        self.positions = np.flatnonzero(valid)
        arrays = [key[valid].array for key in keys]
        index = pd.Index(arrays[0]) if len(arrays) == 1 else pd.MultiIndex.from_arrays(arrays)
        if not index.is_unique:
            duplicate = index[index.duplicated()][0]
            raise ExecutionError(
                f"reference data '{self.node.reference}' has the join key {duplicate!r} on more than one row; "
                f"a reference JOIN needs one row per key (JOIN at {self.node.span}): remove the duplicates or "
                "add key columns to ON", step=self.step)
        self.index = index

    def _pairs(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        if not self.right.keys:  # a condition without equalities: every reference row is a candidate
            count = len(self.rows)
            return np.repeat(np.arange(len(frame)), count), np.tile(np.arange(count), len(frame))
        assert self.index is not None
        keys = [key(frame) for key in self.left.keys]
        nulls = np.logical_or.reduce([key.isna().to_numpy() for key in keys])
        probe = pd.Index(keys[0].array) if len(keys) == 1 else pd.MultiIndex.from_arrays([k.array for k in keys])
        found = self.index.get_indexer(probe)
        found[nulls] = -1
        rows = np.flatnonzero(found >= 0)
        return rows, self.positions[found[rows]]
