"""JOIN with reference data: lookups without a time bound, LEFT OUTER NULLs, refresh, duplicate keys."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import asanb
from asanb import JobConfig, Reference

EVENTS = pd.DataFrame({"ts": pd.to_datetime(["2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z",
                                             "2026-01-01T00:00:03Z", "2026-01-01T00:00:04Z"]),
                       "dev": ["d1", "d2", "d3", None], "v": [1, 2, 3, 4]})
DEVICES = pd.DataFrame({"dev": ["d1", "d2"], "site": ["north", "south"]})
QUERY = ("SELECT e.v, r.site, System.Timestamp() AS t INTO o FROM input e TIMESTAMP BY ts "
         "{kind} JOIN devices r ON e.dev = r.dev")


def rows(results: asanb.Results) -> list[tuple]:
    out = results["o"]
    return [(int(v), None if pd.isna(site) else site) for v, site in zip(out.v, out.site, strict=True)]


def test_inner_reference_join_looks_each_event_up_and_keeps_its_time() -> None:
    results = asanb.run(QUERY.format(kind=""), {"input": EVENTS}, reference={"devices": DEVICES})
    assert results.state == "Stopped", results.error
    assert rows(results) == [(1, "north"), (2, "south")]
    assert list(results["o"].t) == list(EVENTS.ts[:2])


def test_left_outer_reference_join_gives_nulls_for_unknown_and_null_keys() -> None:
    results = asanb.run(QUERY.format(kind="LEFT OUTER"), {"input": EVENTS}, reference={"devices": DEVICES},
                        config=JobConfig(batch_size=3))
    assert sorted(rows(results)) == [(1, "north"), (2, "south"), (3, None), (4, None)]


def test_reference_from_a_file_and_extra_conditions(tmp_path: Path) -> None:
    path = tmp_path / "devices.json"
    path.write_text(json.dumps([{"dev": "d1", "site": "north", "limit": 0}, {"dev": "d2", "site": "south",
                                                                            "limit": 5}]))
    query = QUERY.format(kind="") + " AND e.v > r.limit"
    results = asanb.run(query, {"input": EVENTS}, reference={"devices": str(path)})
    assert rows(results) == [(1, "north")]


def test_a_callable_reference_is_reloaded_on_its_refresh_interval() -> None:
    versions = iter([DEVICES, DEVICES, DEVICES.assign(site=["east", "west"])] + [DEVICES] * 10)
    # refresh_seconds=0: reloaded for every micro-batch (the first call gives the planner its columns).
    table = Reference(lambda: next(versions), refresh_seconds=0)
    results = asanb.run(QUERY.format(kind=""), {"input": EVENTS}, reference={"devices": table},
                        config=JobConfig(batch_size=1))
    assert rows(results) == [(1, "north"), (2, "west")]


def test_a_reference_loaded_once_is_not_reloaded() -> None:
    calls = []
    results = asanb.run(QUERY.format(kind=""), {"input": EVENTS},
                        reference={"devices": lambda: calls.append(1) or DEVICES}, config=JobConfig(batch_size=1))
    assert rows(results) == [(1, "north"), (2, "south")]
    assert len(calls) == 2  # the planner's look at the columns, then the job's one load


def test_duplicate_reference_keys_fail_the_job_naming_the_key_and_the_join() -> None:
    results = asanb.run(QUERY.format(kind=""), {"input": EVENTS}, reference={"devices": pd.concat([DEVICES,
                                                                                                   DEVICES])})
    assert results.state == "Failed"
    assert "'d1' on more than one row" in str(results.error) and "line 1, column" in str(results.error)


@pytest.mark.parametrize(("query", "fragment"), [
    ("SELECT r.site FROM devices r JOIN input e ON e.dev = r.dev", "right side"),
    ("SELECT e.v FROM input e JOIN devices r ON e.dev = r.dev AND DATEDIFF(second, e, r) BETWEEN 0 AND 1",
     "no event time"),
])
def test_bad_reference_queries_name_the_place(query: str, fragment: str) -> None:
    with pytest.raises(asanb.PlanError, match=fragment) as caught:
        asanb.run(query, {"input": EVENTS}, reference={"devices": DEVICES})
    assert caught.value.span is not None
