"""Job counters: every input event ends in an output, is filtered by the query, or is counted as dropped."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Counters:
    """Mutable tallies owned by one job run; ``snapshot()`` gives a plain dict for Results and metrics."""

    events_in: Counter[str] = field(default_factory=Counter)
    events_out: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    other: Counter[str] = field(default_factory=Counter)

    def read(self, alias: str, rows: int) -> None:
        self.events_in[alias] += rows

    def emit(self, alias: str, rows: int) -> None:
        self.events_out[alias] += rows

    def drop(self, reason: str, rows: int) -> None:
        self.dropped[reason] += rows

    def count(self, name: str, amount: int) -> None:
        self.other[name] += amount

    def snapshot(self) -> dict[str, object]:
        """``events_in``/``events_out`` per alias, ``dropped`` per reason, then the other tallies."""
        result: dict[str, object] = {
            "events_in": dict(self.events_in),
            "events_out": dict(self.events_out),
            "dropped": dict(self.dropped),
        }
        result.update(self.other)
        return result
