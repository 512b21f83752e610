"""Background jobs and stopping: --background returns a running Job, job.stop() and %asanb stop end it keeping
what was emitted, Ctrl-C in a waiting cell stops the job cleanly, and cancelling an awaiting task stops it.
Every input here is endless, so a stop path that does not work makes the test time out."""

from __future__ import annotations

import _thread
import asyncio

import pytest

import asanb
from asanb.notebook.jobs import Job

QUERY = "SELECT v INTO o FROM stream WHERE v % 2 = 0"


def test_background_cell_returns_a_job_that_stops_and_keeps_its_rows(ip, endless) -> None:
    source = endless(after=3)
    ip.user_ns["stream"] = source
    job = ip.run_cell_magic("asaquery", "--background -o handle", QUERY)
    assert ip.user_ns["handle"] is job and job.results is None
    assert source.reached.wait(30)
    assert job.state in ("Starting", "Running")
    jobs = ip.run_line_magic("asanb", "jobs")
    assert jobs.set_index("id").loc[job.id, "state"] in ("Starting", "Running")
    results = job.stop()
    assert job.state == "Stopped" and results is job.results
    emitted = results["o"]["v"].tolist()
    assert len(emitted) >= 10 and all(v % 2 == 0 for v in emitted)
    assert results.counters["events_in"]["stream"] >= 20


def test_line_magic_stop_ends_running_jobs(ip, endless) -> None:
    first, second = endless(after=2), endless(after=2)
    ip.user_ns["a"], ip.user_ns["b"] = first, second
    job_a = ip.run_cell_magic("asaquery", "--background -q", "SELECT v INTO o FROM a")
    job_b = ip.run_cell_magic("asaquery", "--background -q", "SELECT v INTO o FROM b")
    assert first.reached.wait(30) and second.reached.wait(30)
    frame = ip.run_line_magic("asanb", f"stop {job_a.id}")
    assert job_a.state == "Stopped" and not job_b.done
    assert frame.set_index("id").loc[job_a.id, "state"] == "Stopped"
    ip.run_line_magic("asanb", "stop")
    assert job_b.state == "Stopped"
    with pytest.raises(asanb.ConfigError, match="no job 999"):
        ip.run_line_magic("asanb", "stop 999")


def test_keyboard_interrupt_stops_a_waiting_cell_and_keeps_the_rows(ip, endless, capsys) -> None:
    # Ctrl-C arrives while the cell waits: raised in the main thread by the job's own input.
    source = endless(after=4, on_reached=_thread.interrupt_main)
    ip.user_ns["stream"] = source
    ip.run_cell_magic("asaquery", "-o partial", QUERY)
    results = ip.user_ns["partial"]
    assert results.state == "Stopped"
    assert len(results["o"]) >= 10
    out = capsys.readouterr().out
    assert "Interrupted: the job stopped" in out and "o: " in out


def test_cancelling_the_awaiting_task_stops_the_job(endless) -> None:
    source = endless(after=2)
    job = Job(QUERY, {"stream": source}).start()

    async def await_then_cancel() -> None:
        waiter = asyncio.ensure_future(job.wait_async())
        await asyncio.to_thread(source.reached.wait, 30)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter

    asyncio.run(await_then_cancel())
    results = job.wait(timeout=30)
    assert results.state == "Stopped" and len(results["o"]) > 0


def test_a_job_that_cannot_start_reports_failed_with_the_error() -> None:
    job = Job("SELECT v INTO o FROM", {}).start()
    with pytest.raises(asanb.AsaSyntaxError):
        job.wait(timeout=30)
    assert job.state == "Failed" and isinstance(job.error, asanb.AsaSyntaxError) and job.results is None


def test_the_dashboard_stop_button_stops_a_background_job(ip, endless) -> None:
    ip.run_line_magic("asanb", "config charts=live")  # a live dashboard, as JupyterLab would show it
    source = endless(after=3)
    ip.user_ns["stream"] = source
    job = ip.run_cell_magic("asaquery", "--background --dashboard -q", QUERY)
    dashboard = asanb.notebook.registry.SESSION.dashboards[job.id]
    assert dashboard.live and source.reached.wait(30)
    dashboard.stop_button.click()  # what the button's comm message runs in the kernel
    results = job.wait(timeout=30)
    assert results.state == "Stopped" and len(results["o"]) >= 10
    assert dashboard.finished.wait(30)  # the job thread's done callback draws the end state
    assert dashboard.stop_button.disabled and dashboard.metrics.history[-1] == "Stopped"
    assert "Stopped" in dashboard.badge.value
