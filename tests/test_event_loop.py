"""The loop jobs run on: uvloop's where it is installed (a dependency outside Windows), asyncio's on request."""

from __future__ import annotations

import asyncio
import sys
import threading

import pandas as pd
import pytest

import asanb


def loop_seen_by_a_job() -> tuple[str, str]:
    """(the loop class's module, the thread's name) inside a running job."""
    seen: list[tuple[str, str]] = []

    def probe(values: pd.Series) -> pd.Series:
        seen.append((type(asyncio.get_running_loop()).__module__, threading.current_thread().name))
        return values

    results = asanb.run("SELECT udf.probe(x) AS x INTO out FROM input", {"input": pd.DataFrame({"x": [1.0, 2.0]})},
                        functions=[asanb.PythonFunction("probe", probe)])
    assert list(results["out"]["x"]) == [1.0, 2.0]
    return seen[0]


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop has no Windows build; asyncio's loop is used there")
def test_jobs_run_on_uvloop() -> None:
    module, _ = loop_seen_by_a_job()
    assert module.startswith("uvloop")


def test_asanb_event_loop_asyncio_keeps_asyncio_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASANB_EVENT_LOOP", "asyncio")
    module, _ = loop_seen_by_a_job()
    assert module.startswith("asyncio")


def test_from_inside_a_running_loop_a_job_gets_its_own_loop_in_a_worker_thread() -> None:
    async def cell() -> tuple[str, str]:  # what a notebook cell is: code on a running loop
        return loop_seen_by_a_job()

    _, thread = asyncio.run(cell())
    assert thread.startswith("asanb-job") and thread != threading.current_thread().name
