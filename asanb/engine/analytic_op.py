"""LAG, LAST and ISFIRST over micro-batches: rows wait until the watermark passes their time, then are taken
in event-time order (ties: arrival order), and each call looks back through per-partition state that only
holds what LIMIT DURATION (or ISFIRST's interval) can still reach.

Semantics (LAG / LAST / ISFIRST reference pages; ../shared/spec/saql.md, "Query shape"):
- LAG(x, k, d): x of the k-th previous event of the partition satisfying WHEN, if at most LIMIT DURATION
  before the current event (inclusive); else d (NULL by default). LAST(x, d) is the same with k = 0: the
  current event counts when it satisfies WHEN. A NULL x of a found event is NULL, not d.
- ISFIRST(unit, n): 1 for the first event satisfying WHEN in its partition and tumbling interval
  (epoch-aligned, end-inclusive like TumblingWindow), else 0 (also 0 when WHEN is not satisfied).
Per batch: one stable sort by partition code, cumulative candidate counts, and a gather; no per-event Python.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from asanb.engine.expressions import compile_expression, truth_mask
from asanb.engine.operator import Operator
from asanb.engine.operators import ErrorPolicy
from asanb.engine.partitions import group_ends, partition_codes
from asanb.engine.windows import ceil_to_grid, event_nanos
from asanb.plan import logical
from asanb.plan.scope import Scope

__all__ = ["AnalyticOp"]


class _Call:
    """One analytic call: its compiled inputs and the state it keeps (times, values and keys of the last
    candidate events of each partition)."""

    def __init__(self, call: logical.AnalyticCall, scope: Scope, index: int) -> None:
        self.call = call
        self.prefix = f"__an{index}_"
        self.value = compile_expression(call.value, scope) if call.value is not None else None
        self.default = compile_expression(call.default, scope) if call.default is not None else None
        self.when = compile_expression(call.when, scope) if call.when is not None else None
        self.keys = [compile_expression(expr, scope) for expr in call.partition_by]
        self.keep = max(call.offset, 1)  # candidates per partition a later event can still reach
        self.times = np.empty(0, dtype=np.int64)
        self.values: pd.Series | None = None
        self.key_values: list[pd.Series] = []
        self._last_values: pd.Series | None = None  # state + batch values while a batch is processed

    @property
    def columns(self) -> list[str]:
        names = [f"{self.prefix}k{j}" for j in range(len(self.keys))]
        names += [self.prefix + part for part, present in (("v", self.value), ("d", self.default), ("w", self.when))
                  if present is not None]
        return names

    def evaluate(self, frame: pd.DataFrame, columns: dict[str, Any]) -> None:
        """Add this call's inputs to ``columns`` (computed when the row arrives, so a failing row meets the
        output error policy before it reaches any state)."""
        for j, key in enumerate(self.keys):
            columns[f"{self.prefix}k{j}"] = key(frame)
        if self.value is not None:
            columns[self.prefix + "v"] = self.value(frame)
        if self.default is not None:
            columns[self.prefix + "d"] = self.default(frame)
        if self.when is not None:
            columns[self.prefix + "w"] = truth_mask(self.when(frame))

    def process(self, ready: pd.DataFrame, times: np.ndarray) -> Any:
        """The call's value for every row of ``ready`` (sorted by event time); updates the state."""
        old, new = len(self.times), len(ready)
        keys = [_concat(old_key, ready[f"{self.prefix}k{j}"]) for j, old_key in enumerate(self._old_keys())]
        codes = partition_codes(keys, old + new)
        all_times = np.concatenate((self.times, times))
        candidate = np.ones(old + new, dtype=bool)
        if self.when is not None:
            candidate[old:] = ready[self.prefix + "w"].to_numpy(dtype=bool)
        order = _stable_order(codes) if self.keys else np.arange(old + new)
        sorted_codes, sorted_candidate = codes[order], candidate[order]
        sorted_times = all_times[order]
        seen = np.cumsum(sorted_candidate)  # candidates up to and including each row, all partitions
        positions = np.flatnonzero(sorted_candidate)
        function = self.call.function
        if function == "last":
            ordinal = seen - 1
        elif function == "lag":
            ordinal = seen - sorted_candidate - self.call.offset
        else:
            ordinal = seen - sorted_candidate - 1
        found = ordinal >= 0
        target = positions[np.where(found, ordinal, 0)] if len(positions) else np.zeros_like(ordinal)
        found &= sorted_codes[target] == sorted_codes
        if function == "isfirst":
            ends = ceil_to_grid(sorted_times, self.call.interval_ns, 0)
            found &= ends[target] == ends
            result_sorted = sorted_candidate & ~found
        else:
            found &= sorted_times - sorted_times[target] <= self.call.limit_ns
        where = np.empty(old + new, dtype=np.int64)
        where[order] = np.arange(old + new)
        mine = where[old:]  # sorted positions of this batch's rows, in batch order
        self._keep_state(positions, sorted_codes, order, all_times, keys, ready)
        if function == "isfirst":
            return result_sorted[mine].astype(np.int64)
        return self._values(ready, found[mine], order[target[mine]])

    def _values(self, ready: pd.DataFrame, found: np.ndarray, source: np.ndarray) -> pd.Series:
        assert self._last_values is not None
        taken = self._last_values.take(source).reset_index(drop=True)
        if found.all():
            return taken
        if taken.dtype == bool:
            taken = taken.astype("boolean")  # a bit column with NULLs (asanb.types)
        if self.default is None:
            return taken.where(found)
        return taken.where(found, ready[self.prefix + "d"].reset_index(drop=True))

    def _old_keys(self) -> list[pd.Series]:
        if len(self.key_values) == len(self.keys):
            return self.key_values
        return [pd.Series([], dtype=object) for _ in self.keys]

    def _keep_state(self, positions: np.ndarray, sorted_codes: np.ndarray, order: np.ndarray,
                    all_times: np.ndarray, keys: list[pd.Series], ready: pd.DataFrame) -> None:
        """Keep the last ``keep`` candidates of each partition (older ones are out of every later reach)."""
        combined = None
        if self.value is not None:
            old = self.values if self.values is not None else ready[self.prefix + "v"].iloc[:0]
            combined = _concat(old, ready[self.prefix + "v"])
        self._last_values = combined  # read by _values for this batch
        ends = group_ends(sorted_codes[positions])
        kept = order[positions[(ends - np.arange(len(positions))) <= self.keep]]
        self.times = all_times[kept]
        self.key_values = [key.take(kept).reset_index(drop=True) for key in keys]
        if combined is not None:
            self.values = combined.take(kept).reset_index(drop=True)

    def forget(self, watermark_ns: int) -> None:
        """Drop state no event after the watermark can reach (LIMIT DURATION / interval passed)."""
        if not len(self.times):
            return
        if self.call.function == "isfirst":
            alive = ceil_to_grid(self.times, self.call.interval_ns, 0) > watermark_ns
        else:
            alive = self.times + self.call.limit_ns > watermark_ns
        if alive.all():
            return
        self.times = self.times[alive]
        self.key_values = [key[alive].reset_index(drop=True) for key in self.key_values]
        if self.values is not None:
            self.values = self.values[alive].reset_index(drop=True)


def _stable_order(codes: np.ndarray) -> np.ndarray:
    """Stable argsort of partition codes; small codes as int16 let numpy use its linear-time radix sort."""
    if len(codes) and codes.max() < 2**15:
        return np.argsort(codes.astype(np.int16), kind="stable")
    return np.argsort(codes, kind="stable")


def _concat(old: pd.Series, new: pd.Series) -> pd.Series:
    new = new.reset_index(drop=True)
    if not len(old):
        return new
    return pd.concat([old, new], ignore_index=True)


class AnalyticOp(Operator):
    """The Analytic plan node: holds rows until the watermark, then computes every call in event-time order."""

    def __init__(self, node: logical.Analytic, policy: ErrorPolicy) -> None:
        self.step = node.step
        self.policy = policy
        self.calls = [_Call(call, node.scope, index) for index, call in enumerate(node.calls)]
        self.inputs = [name for call in self.calls for name in call.columns]
        self.pending: list[pd.DataFrame] = []

    def on_batch(self, frame: pd.DataFrame, port: int = 0) -> list[pd.DataFrame]:
        if len(frame):
            evaluated = self.policy.apply(frame, self._evaluate, self.step)
            if len(evaluated):
                self.pending.append(evaluated)
        return []

    def _evaluate(self, frame: pd.DataFrame) -> pd.DataFrame:
        columns: dict[str, Any] = {}
        for call in self.calls:
            call.evaluate(frame, columns)
        return frame.assign(**columns)

    def on_watermark(self, watermark_ns: int) -> list[pd.DataFrame]:
        out = self._release(watermark_ns)
        for call in self.calls:
            call.forget(watermark_ns)
        return out

    def on_end(self) -> list[pd.DataFrame]:
        return self._release(None)

    def _release(self, watermark_ns: int | None) -> list[pd.DataFrame]:
        if not self.pending:
            return []
        frame = self.pending[0] if len(self.pending) == 1 else pd.concat(self.pending, ignore_index=True)
        times = event_nanos(frame)
        self.pending = []
        if watermark_ns is not None:
            ready_mask = times <= watermark_ns
            ready = int(ready_mask.sum())
            if ready == 0:
                self.pending = [frame]
                return []
            if ready < len(frame):
                if ready_mask[:ready].all():  # in-order input: the ready rows are a prefix, slice (no copy)
                    self.pending = [frame.iloc[ready:].reset_index(drop=True)]
                    frame, times = frame.iloc[:ready], times[:ready]
                else:
                    self.pending = [frame[~ready_mask].reset_index(drop=True)]
                    frame, times = frame[ready_mask], times[ready_mask]
        if len(times) > 1 and (np.diff(times) < 0).any():
            order = np.argsort(times, kind="stable")  # event-time order; ties keep arrival order
            frame, times = frame.take(order), times[order]
        frame = frame.reset_index(drop=True)
        outputs = {call.call.output: call.process(frame, times) for call in self.calls}
        return [frame.drop(columns=self.inputs).assign(**outputs)]

    def state_size(self) -> int:
        held = sum(len(frame) for frame in self.pending)
        return held + sum(len(call.times) for call in self.calls)
