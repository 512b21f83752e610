"""Which window(s) each event belongs to, for every ASA window kind, as vectorized numpy arithmetic.

Rules (../shared/spec/saql.md, "Windows"; the choices are listed in the README's fidelity table):
- windows are start-exclusive and end-inclusive: an event at exactly a window's end belongs to it;
- tumbling and hopping windows are aligned to the Unix epoch (1970-01-01T00:00:00Z) plus ``offset``;
- a sliding window ends at every event's time (it entered) and at every event's time + size (it left);
  only non-empty windows produce output;
- a session window extends while the next event is at most ``timeout`` after the previous one, and is cut
  at the first multiple of ``maxDuration`` (epoch-aligned) that is at least ``maxDuration`` after its start;
- a snapshot window holds the events of one timestamp.
All times are int64 nanoseconds since the epoch, UTC.
"""

from __future__ import annotations

from math import gcd

import numpy as np
import pandas as pd

from asanb.plan.logical import WindowDefinition
from asanb.plan.scope import EVENT_TIME

__all__ = ["ceil_to_grid", "event_nanos", "hopping_ends", "is_paned", "pane_ns", "session_ends", "sliding_ends",
           "step_ns"]


def step_ns(window: WindowDefinition) -> int:
    """Distance between consecutive window ends (tumbling and hopping)."""
    return window.hop_ns if window.kind == "hopping" else window.size_ns


def pane_ns(window: WindowDefinition) -> int:
    """The largest slice every window of a tumbling/hopping definition is a whole number of."""
    return gcd(window.size_ns, step_ns(window))


def is_paned(window: WindowDefinition) -> bool:
    """Tumbling and hopping windows tile time in panes, so mergeable aggregates never keep events."""
    return window.kind in ("tumbling", "hopping")


def event_nanos(frame: pd.DataFrame) -> np.ndarray:
    """The event times of a frame as int64 nanoseconds."""
    nanos: np.ndarray = frame[EVENT_TIME].to_numpy(dtype="datetime64[ns]").view(np.int64)
    return nanos


def ceil_to_grid(times: np.ndarray | int, step: int, offset: int) -> np.ndarray:
    """The first grid point ``offset + k * step`` at or after each time (end-inclusive window ends)."""
    return -((-(np.asarray(times, dtype=np.int64) - offset)) // step) * step + offset


def hopping_ends(times: np.ndarray, plan: WindowDefinition) -> tuple[np.ndarray, np.ndarray]:
    """(row positions, window ends): one pair per window of a tumbling/hopping plan holding each event."""
    step = step_ns(plan)
    first = ceil_to_grid(times, step, plan.offset_ns % step)
    per_event = -(-plan.size_ns // step)
    positions, ends = [], []
    rows = np.arange(len(times))
    for k in range(per_event):
        end = first + k * step
        inside = end - plan.size_ns < times
        positions.append(rows[inside])
        ends.append(end[inside])
    return np.concatenate(positions), np.concatenate(ends)


def sliding_ends(times: np.ndarray, groups: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(row positions, window ends) for sliding windows: for each group, a window ends at every event time and
    every event time + size; a window (end - size, end] holds the group's events in it, empty ones vanish."""
    order = np.lexsort((times, groups))
    sorted_times, sorted_groups = times[order], groups[order]
    positions, ends = [], []
    boundaries = np.flatnonzero(np.diff(sorted_groups)) + 1
    for segment in np.split(np.arange(len(order)), boundaries):
        if not len(segment):
            continue
        group_times = sorted_times[segment]
        candidates = np.unique(np.concatenate([group_times, group_times + size]))
        low = np.searchsorted(group_times, candidates - size, side="right")
        high = np.searchsorted(group_times, candidates, side="right")
        counts = high - low
        keep = counts > 0
        candidates, low, counts = candidates[keep], low[keep], counts[keep]
        starts = np.repeat(low - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        positions.append(order[segment[starts]])
        ends.append(np.repeat(candidates, counts))
    if not positions:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(positions), np.concatenate(ends)


def session_ends(times: np.ndarray, groups: np.ndarray, timeout: int, max_duration: int) -> np.ndarray:
    """The end of the session window holding each event (sessions are per group)."""
    order = np.lexsort((times, groups))
    sorted_times, sorted_groups = times[order], groups[order]
    result = np.empty(len(times), dtype=np.int64)
    start = 0
    while start < len(order):
        group = sorted_groups[start]
        first = int(sorted_times[start])
        cut = int(ceil_to_grid(first + max_duration, max_duration, 0)) if max_duration > 0 else None
        last = first
        stop = start + 1
        while stop < len(order) and sorted_groups[stop] == group:
            time = int(sorted_times[stop])
            if time - last > timeout or (cut is not None and time > cut):
                break
            last = time
            stop += 1
        end = last + timeout
        if cut is not None:
            end = min(end, cut)
        result[order[start:stop]] = end
        start = stop
    return result
