"""JobConfig: the job settings of ASA's JobConfig.json, snake-cased, as one frozen object."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from asanb.errors import ConfigError

__all__ = ["JobConfig", "partitions_for"]

_POLICY_ACTIONS = ("Adjust", "Drop")
_ERROR_POLICIES = ("Stop", "Drop")
_CLOCKS = ("replay", "paced")


def partitions_for(streaming_units: int) -> int:
    """Partitions an ML UDF fans out over: one per 6 SU, at least one (../shared/spec/ml_udf.md §2)."""
    return max(1, math.ceil(streaming_units / 6))


@dataclass(frozen=True, slots=True)
class JobConfig:
    """Job settings.

    Args:
        streaming_units: ASA's SU count (1, 3, 6, 12, 18 ...); ML UDF partitions = ceil(SU / 6).
        events_late_arrival_max_delay_seconds: late-arrival tolerance (ASA default 5 s).
        events_out_of_order_max_delay_seconds: out-of-order tolerance (ASA default 0 s).
        events_out_of_order_policy: "Adjust" (move the timestamp to the bound) or "Drop".
        output_error_policy: "Stop" (the job fails) or "Drop" (the event is dropped and counted).
        clock: "replay" (as fast as possible, deterministic) or "paced" (wall clock x ``speed``).
        speed: event-time seconds per wall-clock second for the paced clock.
        duration_seconds: stop after this much wall time (None: until the inputs end).
        limit_events: stop after reading this many events per input (None: all).
        batch_size: events per micro-batch read from a source (with ML UDFs, rounded up to whole rounds of
            requests, at most doubled: asanb.job.micro_batch_size).
        retriable_statuses: HTTP statuses an ML UDF retries with backoff.
        max_retry_seconds: total time budget for one ML request including its retries.
    """

    streaming_units: int = 1
    events_late_arrival_max_delay_seconds: float = 5.0
    events_out_of_order_max_delay_seconds: float = 0.0
    events_out_of_order_policy: str = "Adjust"
    output_error_policy: str = "Stop"
    clock: str = "replay"
    speed: float = 1.0
    duration_seconds: float | None = None
    limit_events: int | None = None
    batch_size: int = 250_000
    retriable_statuses: tuple[int, ...] = (408, 429, 500, 502, 503, 504)
    max_retry_seconds: float = 60.0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.streaming_units < 1:
            raise ConfigError(f"streaming_units must be at least 1, got {self.streaming_units}")
        if self.events_out_of_order_policy not in _POLICY_ACTIONS:
            raise ConfigError(
                f"events_out_of_order_policy must be one of {_POLICY_ACTIONS}, got {self.events_out_of_order_policy!r}"
            )
        if self.output_error_policy not in _ERROR_POLICIES:
            raise ConfigError(f"output_error_policy must be one of {_ERROR_POLICIES}, got {self.output_error_policy!r}")
        if self.clock not in _CLOCKS:
            raise ConfigError(f"clock must be one of {_CLOCKS}, got {self.clock!r}")
        if self.speed <= 0:
            raise ConfigError(f"speed must be positive, got {self.speed}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be positive, got {self.batch_size}")
        if self.events_late_arrival_max_delay_seconds < 0 or self.events_out_of_order_max_delay_seconds < 0:
            raise ConfigError("event ordering tolerances must be zero or positive seconds")

    @property
    def partitions(self) -> int:
        """ML UDF partitions for this job's streaming units."""
        return partitions_for(self.streaming_units)

    def replace(self, **changes: Any) -> JobConfig:
        """A copy with some settings changed."""
        return replace(self, **changes)
