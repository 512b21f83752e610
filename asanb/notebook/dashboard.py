"""The live scoring dashboard: a state badge, a Stop button and one plotly FigureWidget (throughput, latency
percentiles, in-flight vs limit, batch sizes, retries/errors by status, watermark delay and backlog), redrawn
inside ``batch_update()`` at most ``max_redraws_per_second`` times. When the job ends it hands back a plain
``go.Figure`` to display: saved notebooks then show a chart without a kernel or megabytes of widget state.
With ``live=False`` (a frontend without widgets) it only collects the metrics and draws that static figure."""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from asanb.notebook.live_metrics import LiveMetrics, LiveView

__all__ = ["Dashboard", "build_figure", "draw"]

_COLORS = {"Starting": "#757575", "Running": "#1565c0", "Degraded": "#ef6c00", "Failed": "#c62828",
           "Stopped": "#2e7d32", "Stopping": "#757575"}

# Fixed trace positions: each redraw assigns whole arrays to known traces (status traces are appended after).
_IN, _OUT, _P50, _P95, _P99, _FLIGHT, _LIMIT, _BATCH, _DELAY, _BACKLOG = range(10)


def build_figure(title: str = "") -> go.Figure:
    """The empty dashboard figure with its fixed traces."""
    figure = make_subplots(
        rows=3, cols=2, vertical_spacing=0.12, horizontal_spacing=0.1,
        specs=[[{}, {}], [{}, {}], [{}, {"secondary_y": True}]],
        subplot_titles=("Events per second", "Request latency (ms)", "Requests in flight",
                        "Batch sizes (rows per request)", "Retries and errors by status", "Watermark delay and backlog"),
    )
    line = {"mode": "lines"}
    figure.add_trace(go.Scatter(name="events in/s", **line), row=1, col=1)
    figure.add_trace(go.Scatter(name="events out/s", **line), row=1, col=1)
    for name in ("p50", "p95", "p99"):
        figure.add_trace(go.Scatter(name=f"latency {name}", **line), row=1, col=2)
    figure.add_trace(go.Scatter(name="in flight", line_shape="hv", **line), row=2, col=1)
    figure.add_trace(go.Scatter(name="concurrency limit", line={"dash": "dash", "color": "#999"}, **line), row=2, col=1)
    figure.add_trace(go.Histogram(name="batch size"), row=2, col=2)
    figure.add_trace(go.Scatter(name="watermark delay (s)", **line), row=3, col=2)
    figure.add_trace(go.Scatter(name="rows in state", line={"dash": "dot"}, **line), row=3, col=2, secondary_y=True)
    figure.update_layout(height=720, title=title or None, barmode="stack", margin={"t": 60, "b": 30},
                         legend={"orientation": "h", "y": -0.06})
    figure.update_xaxes(title_text="seconds", row=3)
    return figure


def draw(figure: go.Figure, view: LiveView) -> None:
    """Put ``view`` into ``figure`` (a Figure or FigureWidget); call inside ``batch_update()`` for widgets."""
    data = figure.data
    data[_IN].update(x=view.rate_time, y=view.events_in_per_s)
    data[_OUT].update(x=view.rate_time, y=view.events_out_per_s)
    for index, name in ((_P50, "p50"), (_P95, "p95"), (_P99, "p99")):
        data[index].update(x=view.latency_time, y=view.latency_ms[name])
    data[_FLIGHT].update(x=view.sample_time, y=view.in_flight)
    if view.concurrency_limit is not None and len(view.sample_time):
        data[_LIMIT].update(x=[0, float(view.sample_time[-1])], y=[view.concurrency_limit] * 2)
    data[_BATCH].update(x=view.batch_sizes)
    data[_DELAY].update(x=view.sample_time, y=view.watermark_delay_s)
    data[_BACKLOG].update(x=view.sample_time, y=view.state_rows)
    existing = {trace.name: trace for trace in data[_BACKLOG + 1:]}
    for name, counts in view.status_counts.items():
        if name not in existing:
            figure.add_trace(go.Bar(name=name), row=3, col=1)
            existing[name] = figure.data[-1]
        existing[name].update(x=view.status_time, y=counts)


def badge_html(view: LiveView) -> str:
    """The job state badge and the running totals."""
    color = _COLORS.get(view.state, "#555")
    totals = view.totals
    reason = f" — {html.escape(view.reason)}" if view.reason else ""
    return (f"<div class='asanb-dashboard-state'><span style='background:{color};color:white;padding:2px 8px;"
            f"border-radius:4px;font-weight:bold'>{view.state}</span>{reason}"
            f"<span style='color:#555;margin-left:12px'>{totals.get('events_in', 0):,} events in · "
            f"{totals.get('events_out', 0):,} out · {totals.get('requests', 0):,} requests · "
            f"{totals.get('retries', 0):,} retries · {totals.get('not_ok', 0):,} not OK</span></div>")


class Dashboard:
    """Feed it with ``on_progress``/``on_request`` (from the job thread); display ``.widget``; call
    ``finish(state, reason)`` when the job ends and display the static figure it returns."""

    def __init__(self, metrics: LiveMetrics | None = None, *, title: str = "",
                 on_stop: Callable[[], Any] | None = None, max_redraws_per_second: float = 10.0,
                 clock: Callable[[], float] = time.monotonic, live: bool = True) -> None:
        self.metrics = metrics or LiveMetrics()
        self.title = title
        self.min_interval = 1.0 / max_redraws_per_second
        self.clock = clock
        self.redraws = 0
        self._last_redraw: float | None = None
        self._lock = threading.Lock()
        self.live = live
        self.finished = threading.Event()  # set once finish() has drawn the end state (from any thread)
        if not live:
            return
        self.figure = go.FigureWidget(build_figure(title))
        self.badge = widgets.HTML(badge_html(self.metrics.view()))
        self.stop_button = widgets.Button(description="Stop", icon="stop", button_style="warning",
                                          tooltip="Stop the job; what it emitted is kept")
        self.stop_button.on_click(lambda _button: self._stop(on_stop))
        self.widget = widgets.VBox([widgets.HBox([self.badge, self.stop_button]), self.figure])
        self.widget.add_class("asanb-dashboard")

    def _stop(self, on_stop: Callable[[], Any] | None) -> None:
        self.stop_button.disabled = True
        self.stop_button.description = "Stopping"
        if on_stop is not None:
            on_stop()

    def on_progress(self, sample: dict[str, Any]) -> None:
        self.metrics.on_progress(sample)
        self.tick()

    def on_request(self, metric: Any) -> None:
        self.metrics.on_request(metric)
        self.tick()

    def tick(self) -> bool:
        """Redraw unless the last redraw was less than ``1 / max_redraws_per_second`` ago; True if drawn."""
        if not self.live:
            return False
        now = self.clock()
        if self._last_redraw is not None and now - self._last_redraw < self.min_interval:
            return False
        self._last_redraw = now
        self.redraw()
        return True

    def redraw(self) -> None:
        view = self.metrics.view()
        with self._lock, self.figure.batch_update():
            draw(self.figure, view)
        self.badge.value = badge_html(view)
        self.redraws += 1

    def finish(self, state: str, reason: str = "") -> go.Figure:
        """Final redraw with the end state; returns the same charts as a static ``go.Figure``."""
        self.metrics.finish(state, reason)
        if self.live:
            self.redraw()
            self.stop_button.disabled = True
            self.stop_button.description = state
        self.finished.set()
        return self.snapshot()

    def snapshot(self) -> go.Figure:
        """The charts so far as a static ``go.Figure`` (what a saved notebook, GitHub or nbviewer can show)."""
        view = self.metrics.view()
        static = build_figure(self.title)
        draw(static, view)
        static.update_layout(title=f"{self.title + ' — ' if self.title else ''}{view.state}"
                                   f"{' (' + view.reason + ')' if view.reason else ''}")
        return static

    def close(self) -> None:
        """Remove the live widgets (and their state) once the static figure has been shown."""
        if self.live:
            self.widget.close()
            self.figure.close()
