"""State is bounded by time, not by the stream: every stateful operator of a running job (windows, analytic
functions, stream joins, reference joins, substream ordering) lets go of what the watermark has put out of
reach, seen through the job's own ``state_rows`` progress samples.

Each event has its own key, so no operator can release state by key: only the watermark can free it.
"""

from __future__ import annotations

import pandas as pd
import pytest

import asanb
from asanb import JobConfig
from asanb.engine.counters import Counters
from asanb.engine.operators import ErrorPolicy, ScanOp
from asanb.engine.reference_join_op import ReferenceJoinOp
from asanb.io.reference import Reference
from asanb.plan import logical
from asanb.plan.catalog import Catalog
from asanb.plan.planner import plan_query
from asanb.sql.parser import parse

BASE = pd.Timestamp("2026-01-01T00:00:00Z")
EVENTS = 200
DEVICES = pd.DataFrame({"k": [f"d{i}" for i in range(EVENTS)], "site": ["north", "south"] * (EVENTS // 2)})
QUERIES = {
    "window": "SELECT k, COUNT(*) AS n INTO o FROM input TIMESTAMP BY time GROUP BY k, TumblingWindow(second, 5)",
    "session": "SELECT k, COUNT(*) AS n INTO o FROM input TIMESTAMP BY time GROUP BY k, SessionWindow(second, 2, 5)",
    "lag": "SELECT k, LAG(v) OVER (PARTITION BY k LIMIT DURATION(second, 5)) AS p INTO o FROM input TIMESTAMP BY time",
    "isfirst": "SELECT k, ISFIRST(second, 5) OVER (PARTITION BY k) AS f INTO o FROM input TIMESTAMP BY time",
    "join": "SELECT a.v, b.v AS w INTO o FROM input a TIMESTAMP BY time JOIN input b TIMESTAMP BY time "
            "ON a.k = b.k AND DATEDIFF(second, a, b) BETWEEN 0 AND 5",
    "left outer join": "SELECT a.v, b.v AS w INTO o FROM input a TIMESTAMP BY time LEFT OUTER JOIN input b "
                       "TIMESTAMP BY time ON a.k = b.k AND DATEDIFF(second, a, b) BETWEEN -5 AND 5",
    "reference join": "SELECT e.v, r.site INTO o FROM input e TIMESTAMP BY time JOIN devices r ON e.k = r.k",
    "substreams": "SELECT k, v INTO o FROM input TIMESTAMP BY time OVER k",
}


@pytest.mark.parametrize("kind", list(QUERIES))
def test_state_held_by_a_running_job_is_bounded_by_time_not_by_the_stream(kind: str) -> None:
    events = pd.DataFrame({"time": [BASE + pd.Timedelta(seconds=s) for s in range(EVENTS)],
                           "k": [f"d{i}" for i in range(EVENTS)], "v": range(EVENTS)})
    samples: list[int] = []
    results = asanb.run(QUERIES[kind], {"input": events}, reference={"devices": DEVICES},
                        config=JobConfig(batch_size=10, events_out_of_order_max_delay_seconds=1),
                        on_progress=lambda sample: samples.append(int(sample["state_rows"])))
    assert results.state == "Stopped", results.error
    assert len(results["o"]) > 0
    # 10 events per batch, a 5 s reach and 1-5 s of watermark delay: a few dozen rows at most, ever
    # (one row per event, and joins hold both sides). Without release, it would grow to EVENTS.
    assert max(samples) <= 30, max(samples)


def test_a_reference_join_holds_no_event_between_batches() -> None:
    query = "SELECT e.v, r.site INTO o FROM input e TIMESTAMP BY time LEFT OUTER JOIN devices r ON e.k = r.k"
    plan = plan_query(parse(query), Catalog({"input": ("time", "k", "v")}, references={"devices": ("k", "site")}))
    join = next(node for node in plan.nodes() if isinstance(node, logical.Join))
    scan = next(node for node in plan.nodes() if isinstance(node, logical.InputScan))
    counters = Counters()
    operator = ReferenceJoinOp(join, Reference(DEVICES, refresh_seconds=0), ErrorPolicy("Stop", counters),
                               lambda: BASE)
    reader = ScanOp(scan, counters, 0, "Adjust", lambda: BASE)
    frame = pd.DataFrame({"time": [BASE, BASE], "k": ["d1", "nope"], "v": [1, 2]})
    out = operator.on_batch(reader.on_batch(frame)[0])
    assert sum(len(part) for part in out) == 2  # matched and unmatched rows leave with their batch
    assert operator.state_size() == 0
    assert operator.on_watermark((BASE + pd.Timedelta(hours=1)).value) == [] and operator.on_end() == []


def test_substream_ordering_forgets_keys_the_late_arrival_bound_has_passed() -> None:
    plan = plan_query(parse("SELECT k INTO o FROM input TIMESTAMP BY time OVER k"), Catalog({"input": ("time", "k")}))
    scan = next(node for node in plan.nodes() if isinstance(node, logical.InputScan))
    reader = ScanOp(scan, Counters(), 2 * 10**9, "Adjust", lambda: BASE, late_arrival_ns=5 * 10**9)
    reader.on_batch(pd.DataFrame({"time": [BASE + pd.Timedelta(seconds=s) for s in range(3)], "k": ["a", "b", "c"]}))
    assert reader.state_size() == 3
    reader.on_batch(pd.DataFrame({"time": [BASE + pd.Timedelta(seconds=60)], "k": ["d"]}))
    assert reader.state_size() == 1  # a, b, c can no longer make an event out of order: only d is kept
