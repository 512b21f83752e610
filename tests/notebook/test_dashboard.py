"""The live dashboard fed by a real run against the loopback scoring server: the figure's data matches the
run's request metrics and counters, the badge goes Degraded on a retry and ends Stopped or Failed, redraws
are throttled, and the job leaves a static figure behind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import asanb
from asanb import JobConfig, MLFunction
from asanb.io.simulated import TaxiStream
from asanb.notebook.dashboard import Dashboard
from asanb.notebook.live_metrics import LiveMetrics
from asanb.udf.server import ScoringServer, ServerSettings

QUERY = """
WITH Dataframe AS (SELECT vendorid, weekday, pickuphour, passenger, distance FROM taxi)
SELECT distance, udf.score(Dataframe) AS fare INTO scored FROM Dataframe
"""


class FakeClock:
    """Time that moves only when told to: throttling is tested without sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def taxi(n: int) -> pd.DataFrame:
    return next(TaxiStream(rate=100, events=n, seed=3).batches(n))


def run_with(dashboard: Dashboard, server: ScoringServer, events: int = 600, **function) -> asanb.Results:
    score = MLFunction("score", server.score_url, **({"max_batch_count": 50} | function))
    return asanb.run(QUERY, {"taxi": taxi(events)}, functions=[score],
                     config=JobConfig(streaming_units=12, batch_size=100),
                     on_progress=dashboard.on_progress, on_request=dashboard.on_request)


def trace(figure: go.Figure, name: str) -> go.BaseTraceType:
    return next(t for t in figure.data if t.name == name)


def test_figure_data_after_a_run_with_a_retry() -> None:
    with ScoringServer(ServerSettings(fail_pattern=(200, 200, 200, 200, 503))) as server:
        dashboard = Dashboard(LiveMetrics(concurrency_limit=2 * 2), title="taxi")
        results = run_with(dashboard, server, parallel_requests_per_partition=2)
        static = dashboard.finish(results.state)
        server_batches = server.stats()["batch_sizes"]
    assert results.state == "Stopped"
    assert isinstance(static, go.Figure) and not isinstance(static, go.FigureWidget)
    metrics = results.metrics
    # Every attempt is in the batch-size histogram; the one 503 is in the status chart.
    assert sorted(trace(static, "batch size").x) == sorted(metrics["batch_size"])
    assert sorted(metrics.loc[metrics.status == 200, "batch_size"]) == sorted(server_batches)
    assert int(np.sum(trace(static, "HTTP 503").y)) == 1 == int((metrics["status"] == 503).sum())
    # Latency percentiles stay within what the requests measured.
    p95 = np.asarray(trace(static, "latency p95").y, dtype=float)
    assert len(p95) and metrics.latency_ms.min() <= p95.min() and p95.max() <= metrics.latency_ms.max()
    # Events per second integrate back to the events read and written.
    view = dashboard.metrics.view()
    assert round(float(np.sum(view.events_in_per_s)) * view.bin_seconds) == 600
    assert round(float(np.sum(view.events_out_per_s)) * view.bin_seconds) == len(results["scored"])
    assert max(trace(static, "in flight").y) <= 4 and set(trace(static, "concurrency limit").y) == {4}
    assert dashboard.metrics.history[:2] == ["Starting", "Running"]
    assert "Degraded" in dashboard.metrics.history and dashboard.metrics.history[-1] == "Stopped"
    assert "Stopped" in static.layout.title.text and "Stopped" in dashboard.badge.value


def test_a_fatal_status_ends_failed_with_the_reason() -> None:
    with ScoringServer(ServerSettings(fail_pattern=(200, 401))) as server:
        dashboard = Dashboard(LiveMetrics(concurrency_limit=1))
        results = run_with(dashboard, server)
        static = dashboard.finish(results.state, results.error.message)
    assert results.state == "Failed"
    assert dashboard.metrics.state == "Failed" and "401" in dashboard.metrics.reason
    assert "Failed" in dashboard.badge.value and "401" in static.layout.title.text


def test_redraws_are_throttled_to_ten_per_second_on_real_samples() -> None:
    samples, requests = [], []
    with ScoringServer(ServerSettings()) as server:
        recorder = Dashboard(LiveMetrics())
        recorder.on_progress = samples.append  # type: ignore[method-assign]
        recorder.on_request = requests.append  # type: ignore[method-assign]
        run_with(recorder, server, events=1_000)
    assert len(samples) >= 10 and len(requests) == 20
    clock = FakeClock()
    dashboard = Dashboard(LiveMetrics(clock=clock), clock=clock, max_redraws_per_second=10)
    for index, sample in enumerate(samples + requests):
        clock.now = index * 0.01  # one event every 10 ms: at most one redraw per 100 ms
        if isinstance(sample, dict):
            dashboard.on_progress(sample)
        else:
            dashboard.on_request(sample)
    assert dashboard.redraws == pytest.approx(1 + (len(samples) + len(requests) - 1) // 10, abs=1)
    assert dashboard.metrics.view().totals["requests"] == 20


def test_stop_button_calls_the_stop_callback() -> None:
    stopped = []
    dashboard = Dashboard(on_stop=lambda: stopped.append(True))
    dashboard.stop_button.click()
    assert stopped == [True] and dashboard.stop_button.disabled


def test_dashboard_cell_shows_a_static_figure_and_closes_the_widget(ip, scoring_server, capsys) -> None:
    asanb.notebook.register_function(MLFunction("score", scoring_server.score_url, max_batch_count=100))
    ip.user_ns["taxi"] = taxi(300)
    ip.run_cell_magic("asaquery", "--dashboard -o scored_run", QUERY)
    results = ip.user_ns["scored_run"]
    assert results.state == "Stopped" and len(results["scored"]) == 300
    out = capsys.readouterr().out
    # Outside a Jupyter frontend the dashboard is never a widget: one static chart at the end.
    assert "Stopped (static chart: " in out and "scored: 300 rows" in out
    assert asanb.notebook.registry.SESSION.dashboards[max(asanb.notebook.registry.SESSION.dashboards)].live is False


def test_a_static_dashboard_makes_no_widgets_and_draws_the_same_figure() -> None:
    with ScoringServer(ServerSettings()) as server:
        live, static = Dashboard(LiveMetrics(concurrency_limit=2)), Dashboard(LiveMetrics(concurrency_limit=2),
                                                                                    live=False)
        score = MLFunction("score", server.score_url, max_batch_count=50)
        samples: list = []
        requests: list = []
        results = asanb.run(QUERY, {"taxi": taxi(300)}, functions=[score], config=JobConfig(batch_size=100),
                            on_progress=samples.append, on_request=requests.append)
    for dashboard in (live, static):
        for sample in samples:
            dashboard.on_progress(sample)
        for request in requests:
            dashboard.on_request(request)
    assert not hasattr(static, "widget") and static.redraws == 0 and live.redraws > 0
    ends = [dashboard.finish(results.state) for dashboard in (live, static)]
    assert [sorted(trace(end, "batch size").x) for end in ends] == [sorted(results.metrics["batch_size"])] * 2
    assert [list(trace(end, "in flight").y) for end in ends][0] == list(trace(ends[1], "in flight").y)
    static.close()  # nothing to close, no error


def test_live_widgets_guess_and_overrides(ip, monkeypatch) -> None:
    from asanb.notebook.frontend import live_widgets

    assert live_widgets(ip) == (False, "not running in a Jupyter kernel")

    class KernelShell:
        """A shell whose kernel ran a request with the given metadata (what ipykernel's get_parent returns)."""

        def __init__(self, metadata: dict) -> None:
            self.kernel = self
            self.metadata = metadata

        def get_parent(self, channel: str) -> dict:
            return {"metadata": self.metadata}

    lab = KernelShell({"deletedCells": [], "recordTiming": False, "cellId": "x"})
    assert live_widgets(lab) == (True, "")
    live, why = live_widgets(KernelShell({}))
    assert not live and "nbclient" in why
    monkeypatch.setenv("VSCODE_PID", "1")
    assert "VS Code" in live_widgets(lab)[1]
    ip.run_line_magic("asanb", "config charts=live")
    assert live_widgets(KernelShell({})) == (True, "")
