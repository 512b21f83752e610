"""Per-request metrics of ML UDF calls: one record per attempt, for Results.metrics and live views."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import pandas as pd

__all__ = ["RequestMetric", "metrics_frame"]


@dataclass(frozen=True, slots=True)
class RequestMetric:
    """One request attempt. ``status`` is the HTTP status, 0 for a transport error (see ``error``)."""

    function: str
    partition: int
    batch_size: int
    attempt: int
    status: int
    latency_ms: float
    request_bytes: int
    response_bytes: int
    started_at: float
    error: str | None = None


def metrics_frame(metrics: Sequence[RequestMetric]) -> pd.DataFrame:
    """A DataFrame with one row per attempt and one column per RequestMetric field."""
    columns = [f.name for f in fields(RequestMetric)]
    # Plain tuples: dataclasses.asdict deep-copies every field and costs ~35 us per request.
    return pd.DataFrame([tuple(getattr(m, name) for name in columns) for m in metrics], columns=columns)
