"""Stream-stream JOIN (INNER, LEFT OUTER) within a DATEDIFF time bound: a symmetric band hash join.

Each side keeps a buffer of rows that may still meet a future row of the other side. A batch arriving on one
port is matched against the other side's buffer, then joins its own buffer, so every pair is found once,
when its later row arrives (a self-join feeds the same batch to port 0, then port 1). Matching is vectorized:
keys are factorized over probe and buffer together, and each probe row's partners form one contiguous run of
the buffer sorted by (key, time), found with two ``searchsorted`` calls.

Event time of a joined row is the later of the two (ASA's System.Timestamp reference: the earliest time the
result is known). A LEFT OUTER row without a partner is emitted, with NULLs on the right, once the watermark
passes the last time a partner could have: its time is ``left time + high bound`` (at least its own time).
Buffers drop rows the watermark has put out of reach, so state is bounded by the time bound.

In a chained join, a row that an earlier LEFT OUTER JOIN left unmatched has NULL times for that JOIN's right
side; when the next DATEDIFF reads one of those times, the row can meet no partner (DATEDIFF of NULL is NULL,
which is not BETWEEN anything). Such rows are never buffered: an INNER JOIN drops them, a LEFT OUTER JOIN
emits them at once with NULLs on the right, at the row's own time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from asanb.engine.expressions import compile_expression
from asanb.engine.join_rows import Side, gather, join_time, key_codes, null_columns, residual_filter
from asanb.engine.operator import Operator
from asanb.engine.operators import ErrorPolicy
from asanb.plan import logical
from asanb.plan.scope import EVENT_TIME

_TIME = "__bound_t"
_STAMP = "__stamp_t"
_MATCHED = "__matched"
_INT64_SAFE = 2**62
_NULL_TIME = np.iinfo(np.int64).min  # NaT as int64 nanoseconds


class StreamJoinOp(Operator):
    """Port 0 is the left input, port 1 the right input of ``node`` (a stream JOIN with a time bound)."""

    def __init__(self, node: logical.Join, policy: ErrorPolicy) -> None:
        assert node.bound is not None
        self.step = node.step
        self.outer = node.kind == "left"
        self.bound = node.bound
        self.policy = policy
        self.sides = (Side.of(node.left_side), Side.of(node.right_side))
        self.time_columns = (node.bound.left_time, node.bound.right_time)
        self.residual = compile_expression(node.residual, node.scope) if node.residual is not None else None
        self.buffers: list[pd.DataFrame | None] = [None, None]

    # ------------------------------------------------------------ protocol

    def on_batch(self, frame: pd.DataFrame, port: int = 0) -> list[pd.DataFrame]:
        if frame.empty:
            return []
        part = self._prepare(frame, port)
        out: list[pd.DataFrame] = []
        untimed = part[_TIME].to_numpy() == _NULL_TIME
        if untimed.any():
            if self.outer and port == 0:
                rows = part[untimed]
                out.extend(self._null_rows(rows, rows[_STAMP].to_numpy()))
            part = part[~untimed].reset_index(drop=True)
            if not len(part):
                return out
        other = self.buffers[1 - port]
        matched = np.zeros(len(part), dtype=bool)
        if other is not None and len(other):
            probe_rows, build_rows = self._pairs(part, other, port)
            left, right = (part, other) if port == 0 else (other, part)
            left_rows, right_rows = (probe_rows, build_rows) if port == 0 else (build_rows, probe_rows)
            joined, left_rows = self._joined(left, right, left_rows, right_rows)
            if len(joined):
                out.append(joined)
            if self.outer:
                if port == 0:
                    matched[left_rows] = True
                else:
                    flags = other[_MATCHED].to_numpy(copy=True)
                    flags[left_rows] = True
                    other[_MATCHED] = flags
        if self.outer and port == 0:
            part[_MATCHED] = matched
        own = self.buffers[port]
        self.buffers[port] = part if own is None or not len(own) else pd.concat([own, part], ignore_index=True)
        return out

    def on_watermark(self, watermark_ns: int) -> list[pd.DataFrame]:
        # Future rows have times > watermark: a left row can still meet one while left + high > watermark,
        # a right row while right - low > watermark.
        out: list[pd.DataFrame] = []
        left, right = self.buffers
        if left is not None and len(left):
            times = left[_TIME].to_numpy()
            done = times + self.bound.high_ns <= watermark_ns
            if done.any():
                if self.outer:
                    out.extend(self._unmatched(left[done]))
                self.buffers[0] = left[~done].reset_index(drop=True)
        if right is not None and len(right):
            done = right[_TIME].to_numpy() - self.bound.low_ns <= watermark_ns
            if done.any():
                self.buffers[1] = right[~done].reset_index(drop=True)
        return out

    def on_end(self) -> list[pd.DataFrame]:
        left = self.buffers[0]
        out = self._unmatched(left) if self.outer and left is not None and len(left) else []
        self.buffers = [None, None]
        return out

    def state_size(self) -> int:
        return sum(len(buffer) for buffer in self.buffers if buffer is not None)

    # ------------------------------------------------------------ steps

    def _prepare(self, frame: pd.DataFrame, port: int) -> pd.DataFrame:
        """The side's columns, key values and int64 times of one incoming batch."""
        side = self.sides[port]
        columns: dict[str, Any] = {name: _column(frame, name) for name in side.carried}
        for position, key in enumerate(side.keys):
            columns[f"__key{position}"] = key(frame).array
        columns[_TIME] = _nanos(frame[self.time_columns[port]])
        columns[_STAMP] = _nanos(frame[EVENT_TIME])
        return pd.DataFrame(columns)

    def _pairs(self, probe: pd.DataFrame, build: pd.DataFrame, port: int) -> tuple[np.ndarray, np.ndarray]:
        """Row positions (probe, build) of key-equal pairs within the time bound."""
        count = len(self.sides[0].keys)
        codes, nulls = key_codes([probe[f"__key{i}"] for i in range(count)],
                                 [build[f"__key{i}"] for i in range(count)])
        probe_codes, build_codes = codes[:len(probe)], codes[len(probe):]
        probe_times, build_times = probe[_TIME].to_numpy(), build[_TIME].to_numpy()
        # The build side's times a probe row accepts: right in [left + low, left + high] and back.
        low, high = (self.bound.low_ns, self.bound.high_ns) if port == 0 else (-self.bound.high_ns,
                                                                                -self.bound.low_ns)
        lower, upper = probe_times + low, probe_times + high
        origin = min(int(build_times.min()), int(lower.min()))
        span = max(int(build_times.max()), int(upper.max())) - origin + 1
        distinct = int(codes.max()) + 2 if len(codes) else 1
        if distinct * span >= _INT64_SAFE:
            return _merge_pairs(probe_codes, build_codes, lower, upper, build_times, nulls[:len(probe)])
        build_keys = build_codes * span + (build_times - origin)
        order = np.argsort(build_keys, kind="stable")
        ordered = build_keys[order]
        firsts = probe_codes * span + (lower - origin)
        # Sorted queries make searchsorted walk the buffer once instead of jumping around it.
        queries = np.argsort(firsts, kind="stable")
        starts = np.empty(len(probe), dtype=np.int64)
        ends = np.empty(len(probe), dtype=np.int64)
        starts[queries] = np.searchsorted(ordered, firsts[queries], side="left")
        ends[queries] = np.searchsorted(ordered, firsts[queries] + (high - low), side="right")
        counts = np.where(nulls[:len(probe)], 0, ends - starts)
        total = int(counts.sum())
        probe_rows = np.repeat(np.arange(len(probe)), counts)
        offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        return probe_rows, order[np.repeat(starts, counts) + offsets]

    def _joined(self, left: pd.DataFrame, right: pd.DataFrame, left_rows: np.ndarray,
                right_rows: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        """The joined frame of the pairs that pass the rest of ON, and their left row positions."""
        if not len(left_rows):
            return pd.DataFrame(), left_rows
        columns = gather(self.sides[0], left, left_rows) | gather(self.sides[1], right, right_rows)
        stamps = np.maximum(left[_STAMP].to_numpy()[left_rows], right[_STAMP].to_numpy()[right_rows])
        columns[EVENT_TIME] = join_time(stamps)
        joined = pd.DataFrame(columns)
        if self.residual is None:
            return joined, left_rows
        return residual_filter(joined, left_rows, self.residual, self.policy, self.step)

    def _unmatched(self, rows: pd.DataFrame) -> list[pd.DataFrame]:
        """LEFT OUTER rows that met no partner: NULL right columns, time = left + high (the moment ASA
        knows no partner can come), never before the row's own time."""
        rows = rows[~rows[_MATCHED].to_numpy()]
        return self._null_rows(rows, np.maximum(rows[_STAMP].to_numpy(),
                                                rows[_TIME].to_numpy() + max(self.bound.high_ns, 0)))

    def _null_rows(self, rows: pd.DataFrame, stamps: np.ndarray) -> list[pd.DataFrame]:
        """Left ``rows`` with NULL right columns, at event times ``stamps``."""
        if not len(rows):
            return []
        columns = gather(self.sides[0], rows, np.arange(len(rows))) | null_columns(self.sides[1], len(rows))
        columns[EVENT_TIME] = join_time(stamps)
        return [pd.DataFrame(columns)]


def _column(frame: pd.DataFrame, name: str) -> Any:
    if name in frame.columns:
        return frame[name].array
    return np.full(len(frame), None, dtype=object)  # a field absent from this batch is NULL


def _nanos(times: pd.Series) -> np.ndarray:
    if times.dtype == object:  # NULL times of an unmatched LEFT OUTER row from an earlier JOIN
        times = pd.to_datetime(times, utc=True)
    return np.asarray(times.to_numpy(dtype="datetime64[ns]").view("i8"))


def _merge_pairs(probe_codes: np.ndarray, build_codes: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                 build_times: np.ndarray, probe_nulls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The hash-merge form of the band join, for time spans too wide for one combined int64 sort key."""
    probe = pd.DataFrame({"code": probe_codes, "row": np.arange(len(probe_codes))})[~probe_nulls]
    build = pd.DataFrame({"code": build_codes, "other": np.arange(len(build_codes))})
    pairs = probe.merge(build, on="code")
    rows, others = pairs["row"].to_numpy(), pairs["other"].to_numpy()
    times = build_times[others]
    inside = (times >= lower[rows]) & (times <= upper[rows])
    return rows[inside], others[inside]
