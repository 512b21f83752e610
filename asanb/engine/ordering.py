"""ASA's event ordering policies for one input: late-arrival tolerance, then out-of-order tolerance (globally,
or per ``TIMESTAMP BY ... OVER`` key), each event adjusted to the bound or dropped, and counted by reason.

Rules (event ordering and TIMESTAMP BY reference pages; ../shared/spec/saql.md, "Time"):
- late arrival: an event whose time is more than the late tolerance before its arrival time is set to
  arrival time - tolerance (Adjust) or dropped. It is applied first, globally even with OVER.
- out of order: then an event more than the out-of-order tolerance before the latest (adjusted) time seen
  — of its substream with OVER, of the input without — is set to that bound or dropped.
asanb's choice for replays (README, "Event ordering"): an event's arrival time is its input's replay clock,
the latest event time read from that input so far, the event included; when the source records arrival
times (``Source.arrival_time_column``), the latest recorded arrival time read so far instead. Each event is counted once, under
the first rule it breaks: ``adjusted_late_arrival`` / ``adjusted_out_of_order`` or dropped ``late_arrival``
/ ``out_of_order``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from asanb.engine.counters import Counters
from asanb.engine.partitions import partition_codes
from asanb.errors import EventError

__all__ = ["EventOrdering", "OrderingPolicy", "recorded_arrivals"]

_NEVER = np.iinfo(np.int64).min


@dataclass(frozen=True, slots=True)
class OrderingPolicy:
    """The JobConfig ordering settings in nanoseconds; ``action`` is "Adjust" or "Drop"."""

    late_arrival_ns: int
    out_of_order_ns: int
    action: str


class EventOrdering:
    """Applies a policy to the event times of one input, batch after batch; keeps the input's clock and, for
    substreams, the latest time of each key that can still make an event out of order."""

    def __init__(self, policy: OrderingPolicy, counters: Counters, substreams: bool) -> None:
        self.policy = policy
        self.counters = counters
        self.substreams = substreams
        self.clock_ns: int | None = None  # the input's replay clock: latest event time read
        self.arrival_ns: int | None = None  # latest recorded arrival time, when the source has them
        self.key_times = np.empty(0, dtype=np.int64)
        self.key_values: list[pd.Series] = []

    @property
    def watermark_ns(self) -> int | None:
        """No later event can get a time at or before this (after its adjustment)."""
        if self.clock_ns is None:
            return None
        arrival = self.clock_ns if self.arrival_ns is None else self.arrival_ns
        # Every later event ends at or after arrival - late tolerance (arrival clocks only move forward) and,
        # without substreams, at or after clock - out-of-order tolerance: the larger bound holds.
        if self.substreams:
            return arrival - self.policy.late_arrival_ns
        return max(arrival - self.policy.late_arrival_ns, self.clock_ns - self.policy.out_of_order_ns)

    def state_size(self) -> int:
        return len(self.key_times)

    def apply(self, nanos: np.ndarray, keys: Sequence[pd.Series] = (),
              arrivals: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """The adjusted times, and a keep mask (None: every event kept). ``arrivals``: recorded arrival
        times of the events (None: the replay clock stands for them)."""
        running = np.maximum.accumulate(nanos)
        start = self.clock_ns if self.clock_ns is not None else int(nanos[0])
        before = np.concatenate(([start], np.maximum(running[:-1], start)))  # clock before each event
        self.clock_ns = max(start, int(running[-1]))
        arrived = before
        if arrivals is not None:
            # A recorded arrival time earlier than one already read cannot move the arrival clock back.
            first = self.arrival_ns if self.arrival_ns is not None else int(arrivals[0])
            arrived = np.maximum(np.maximum.accumulate(arrivals), first)
            self.arrival_ns = int(arrived[-1])
        late = nanos < arrived - self.policy.late_arrival_ns
        times = np.where(late, arrived - self.policy.late_arrival_ns, nanos)
        if self.substreams:
            bound = self._substream_bound(np.where(late & (self.policy.action == "Drop"), _NEVER, times), keys)
            with np.errstate(over="ignore"):  # a key's first event has no bound (_NEVER)
                limit = np.where(bound == _NEVER, _NEVER, bound - self.policy.out_of_order_ns)
        else:
            limit = before - self.policy.out_of_order_ns
        out_of_order = ~late & (times < limit)
        times = np.maximum(times, limit)  # also finishes a late adjustment when out-of-order is stricter
        if self.policy.action == "Drop":
            dropped = late | out_of_order
            self._count("late_arrival", late, dropped=True)
            self._count("out_of_order", out_of_order, dropped=True)
            return times, (~dropped if dropped.any() else None)
        self._count("adjusted_late_arrival", late, dropped=False)
        self._count("adjusted_out_of_order", out_of_order, dropped=False)
        return times, None

    def _count(self, reason: str, mask: np.ndarray, *, dropped: bool) -> None:
        amount = int(mask.sum())
        if amount:
            (self.counters.drop if dropped else self.counters.count)(reason, amount)

    def _substream_bound(self, times: np.ndarray, keys: Sequence[pd.Series]) -> np.ndarray:
        """For each event, the latest time of its key before it (state from earlier batches included)."""
        old = len(self.key_times)
        old_keys = self.key_values if self.key_values else [pd.Series([], dtype=object) for _ in keys]
        combined = [_concat(before, key) for before, key in zip(old_keys, keys, strict=True)]
        codes = partition_codes(combined, old + len(times))
        all_times = np.concatenate((self.key_times, times))
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        latest = pd.Series(all_times[order]).groupby(sorted_codes, sort=False).cummax().to_numpy(dtype=np.int64)
        first = np.concatenate(([True], sorted_codes[1:] != sorted_codes[:-1]))
        previous = np.concatenate(([_NEVER], latest[:-1]))
        previous[first] = _NEVER
        where = np.empty(len(order), dtype=np.int64)
        where[order] = np.arange(len(order))
        self._keep_keys(order, sorted_codes, latest, combined)
        return previous[where[old:]]

    def _keep_keys(self, order: np.ndarray, sorted_codes: np.ndarray, latest: np.ndarray,
                   combined: list[pd.Series]) -> None:
        """One latest time per key, only while it can still make an event out of order: once it is older than
        the late-arrival bound plus the out-of-order tolerance, the late-arrival rule decides alone."""
        last = np.concatenate((sorted_codes[1:] != sorted_codes[:-1], [True]))
        assert self.clock_ns is not None
        arrival = self.clock_ns if self.arrival_ns is None else self.arrival_ns
        floor = arrival - self.policy.late_arrival_ns + self.policy.out_of_order_ns
        keep = last & (latest > floor)
        rows = order[keep]
        self.key_times = latest[keep]
        self.key_values = [key.take(rows).reset_index(drop=True) for key in combined]


def _concat(old: pd.Series, new: pd.Series) -> pd.Series:
    new = new.reset_index(drop=True)
    return new if not len(old) else pd.concat([old, new], ignore_index=True)


def recorded_arrivals(frame: pd.DataFrame, column: str, alias: str) -> np.ndarray:
    """Arrival times the source recorded in ``column`` (datetimes or ISO 8601 strings), as int64 nanoseconds."""
    if column not in frame.columns:
        raise EventError(f"input '{alias}': its arrival time column '{column}' is missing from a batch",
                         field=column)
    values = frame[column]
    try:
        times = pd.to_datetime(values, utc=True, format="ISO8601") if values.dtype == object else values
        if isinstance(times.dtype, pd.DatetimeTZDtype):
            times = times.dt.tz_convert("UTC")
        elif times.dtype.kind == "M":
            times = times.dt.tz_localize("UTC")  # ASA times are UTC; a naive column is read as UTC
        else:
            raise TypeError(f"dtype {times.dtype}")
    except (ValueError, TypeError) as error:
        raise EventError(f"input '{alias}': arrival time column '{column}' does not hold datetimes ({error})",
                         field=column) from None
    if times.isna().any():
        raise EventError(f"input '{alias}': arrival time column '{column}' is NULL for "
                         f"{int(times.isna().sum())} event(s)", field=column)
    return np.asarray(times.to_numpy(dtype="datetime64[ns]").view("i8"))
