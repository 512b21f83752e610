"""JavaScript UDFs registered and run where an event loop already runs on the thread (a Jupyter cell): the V8
context must not adopt that loop, or registration fails on the time limit and the job thread waits forever."""

from __future__ import annotations

import asyncio

import asanb


def test_a_javascript_udf_registers_and_runs_inside_a_running_event_loop() -> None:
    async def cell() -> asanb.Results:
        add_one = asanb.JavaScriptFunction("addOne", "function addOne(x) { return x + 1; }")
        return asanb.run("SELECT udf.addOne(a) AS b INTO o FROM i", {"i": [{"a": 1}, {"a": 2}]},
                         functions=[add_one])

    results = asyncio.run(cell())
    assert results.state == "Stopped"
    assert results["o"]["b"].tolist() == [2, 3]


def test_the_time_limit_still_stops_a_runaway_script_inside_a_running_event_loop() -> None:
    async def cell() -> asanb.Results:
        spin = asanb.JavaScriptFunction("spin", "function spin(x) { while (true) {} }", time_limit_seconds=0.3)
        return asanb.run("SELECT udf.spin(a) AS b INTO o FROM i", {"i": [{"a": 1}]}, functions=[spin])

    results = asyncio.run(cell())
    assert results.state == "Failed"
    assert isinstance(results.error, asanb.JavaScriptError)
