"""MLFunctionForm: an ipywidgets form for an ML UDF's properties (alias, endpoint, key, max batch count,
parallel requests, streaming units → partitions × requests), bound to an ``MLFunction``: every valid edit
replaces ``form.function``; Load signature, Test endpoint (one real request through asanb.run), the tuning
helpers of ``asanb.tune`` (Sweep batch sizes, Parallel requests for a target rate) and Register."""

from __future__ import annotations

import dataclasses
import html
from typing import Any

import ipywidgets as widgets
import pandas as pd

import asanb
from asanb import tune
from asanb.config import JobConfig, partitions_for
from asanb.errors import AsanbError
from asanb.notebook.registry import SESSION, Registry
from asanb.udf.ml import MAX_BATCH_COUNT, MLFunction
from asanb.udf.swagger import Signature, load_signature

__all__ = ["MLFunctionForm"]

STREAMING_UNITS = (1, 3, 6, 12, 18, 24, 30, 36, 42, 48, 54, 60, 120, 192)


class MLFunctionForm:
    """``MLFunctionForm(function=None, streaming_units=1)``; display it, or read ``form.function``."""

    def __init__(self, function: MLFunction | None = None, *, streaming_units: int = 1,
                 registry: Registry | None = None) -> None:
        self.function = function
        self.registry = registry or SESSION
        self.signature: Signature | None = None
        self.registered = False
        start = function or MLFunction("score", "http://127.0.0.1:8765/score")
        style = {"description_width": "200px"}
        self.alias = widgets.Text(start.alias, description="Function alias", style=style)
        self.endpoint = widgets.Text(start.endpoint, description="Endpoint", style=style,
                                     layout={"width": "620px"})
        self.key = widgets.Password(start.api_key or "", description="Key", style=style)
        self.max_batch_count = widgets.BoundedIntText(start.max_batch_count, min=1, max=MAX_BATCH_COUNT,
                                                      description="Max batch count", style=style)
        self.parallel = widgets.BoundedIntText(start.parallel_requests_per_partition, min=1, max=100,
                                               description="Parallel requests / partition", style=style)
        units = streaming_units if streaming_units in STREAMING_UNITS else 1
        self.streaming_units = widgets.Dropdown(options=STREAMING_UNITS, value=units,
                                                description="Streaming units", style=style)
        self.concurrency = widgets.HTML()
        self.status = widgets.HTML()
        self.signature_view = widgets.HTML()
        self.test_view = widgets.HTML()
        self.load_button = widgets.Button(description="Load signature", icon="download")
        self.test_button = widgets.Button(description="Test endpoint", icon="play")
        self.register_button = widgets.Button(description="Register", icon="check", button_style="primary")
        self.target_rate = widgets.BoundedIntText(1000, min=1, max=10_000_000, description="Target events/s",
                                                  style=style)
        self.sweep_button = widgets.Button(description="Sweep batch sizes", icon="line-chart",
                                           tooltip="Send sample requests of 50..5000 rows; set max batch count at the knee")
        self.parallel_button = widgets.Button(description="Parallel requests", icon="calculator",
                                              tooltip="Measure latency; Little's law gives parallel requests for the target")
        self.tune_view = widgets.HTML()
        self.tune_chart = widgets.Output()
        self.tune_report: Any = None
        self.sweep_button.on_click(lambda _b: self.sweep_batch_sizes())
        self.parallel_button.on_click(lambda _b: self.advise_parallel_requests())
        self.load_button.on_click(lambda _b: self.load_signature())
        self.test_button.on_click(lambda _b: self.test_endpoint())
        self.register_button.on_click(lambda _b: self.register())
        for control in (self.alias, self.endpoint, self.key, self.max_batch_count, self.parallel,
                        self.streaming_units):
            control.observe(lambda _change: self._rebuild(), names="value")
        self.widget = widgets.VBox([
            self.alias, self.endpoint, self.key, self.max_batch_count, self.parallel, self.streaming_units,
            self.concurrency, widgets.HBox([self.load_button, self.test_button, self.register_button]),
            self.status, self.signature_view, self.test_view,
            widgets.HBox([self.sweep_button, self.target_rate, self.parallel_button]),
            self.tune_view, self.tune_chart,
        ])
        self.widget.add_class("asanb-ml-function-form")
        self._rebuild()

    def _ipython_display_(self) -> None:
        from asanb.notebook.render import display

        display(self.widget)

    @property
    def valid(self) -> bool:
        return self.error is None

    def _rebuild(self) -> None:
        """Build an MLFunction from the fields; on a bad value keep the last good one and say why."""
        partitions = partitions_for(self.streaming_units.value)
        total = partitions * self.parallel.value
        self.concurrency.value = (f"{partitions} partition{'s' if partitions > 1 else ''} × {self.parallel.value} "
                                  f"parallel requests = <b>{total}</b> concurrent requests")
        base = self.function or MLFunction(self.alias.value or "score", "http://127.0.0.1/score")
        try:
            candidate = dataclasses.replace(
                base, alias=self.alias.value.strip(), endpoint=self.endpoint.value.strip(),
                api_key=self.key.value or None, max_batch_count=self.max_batch_count.value,
                parallel_requests_per_partition=self.parallel.value,
            )
        except AsanbError as error:
            self.error: str | None = error.message
            self.status.value = f"<span style='color:#c62828'>{html.escape(error.message)}</span>"
            return
        self.error = None
        self.status.value = ""
        if self.function is not None and candidate.endpoint != self.function.endpoint:
            self.signature = None
        self.function = candidate
        if self.registered:
            self.registry.add_function(candidate)  # the registered function follows the form

    def job_config(self) -> JobConfig:
        return JobConfig(streaming_units=self.streaming_units.value)

    def load_signature(self) -> Signature | None:
        """Read the endpoint's swagger; show its inputs and outputs, or why it could not be read."""
        if self.function is None or not self.valid:
            self.signature_view.value = "Fix the fields above first."
            return None
        try:
            self.signature = load_signature(self.function)
        except AsanbError as error:
            self.signature = None
            self.signature_view.value = (f"<span style='color:#c62828'>Cannot load the signature: "
                                         f"{html.escape(error.message)}</span>")
            return None
        table = pd.DataFrame([{"position": c.map_to, "input column": c.name, "type": c.data_type}
                              for c in self.signature.columns])
        self.signature_view.value = (f"<b>Input</b> {html.escape(self.signature.input_name)} · <b>output</b> "
                                     f"{html.escape(self.signature.output_name or '(a list, one value per row)')}"
                                     f"{table.to_html(index=False)}")
        return self.signature

    def sample_row(self) -> dict[str, Any]:
        """One request row: the swagger's example when it has one, else a value of each column's type."""
        assert self.signature is not None and self.function is not None
        row: dict[str, Any] = tune.sample_rows(self.function, self.signature).iloc[0].to_dict()
        return row

    def test_endpoint(self) -> dict[str, Any]:
        """Send one one-row request the way a job does; show the status and latency."""
        outcome: dict[str, Any] = {"ok": False, "status": None, "latency_ms": None, "message": ""}
        if self.signature is None and self.load_signature() is None:
            outcome["message"] = "no signature: " + self.signature_view.value
            self.test_view.value = "Test skipped: the signature could not be loaded (see above)."
            return outcome
        assert self.function is not None and self.signature is not None
        row = self.sample_row()
        columns = ", ".join(f"[{name}]" for name in row)
        query = (f"WITH sample AS (SELECT {columns} FROM input) "
                 f"SELECT udf.{self.function.alias}(sample) AS result INTO tested FROM sample")
        test_function = dataclasses.replace(self.function, max_batch_count=1)
        try:
            results = asanb.run(query, {"input": pd.DataFrame([row])}, functions=[test_function],
                                config=JobConfig(max_retry_seconds=min(10.0, self.function.timeout)))
        except AsanbError as error:
            outcome["message"] = error.message
        else:
            if len(results.metrics):
                last = results.metrics.iloc[-1]
                outcome.update(status=int(last["status"]), latency_ms=float(last["latency_ms"]))
            outcome["ok"] = results.state == "Stopped"
            outcome["message"] = (f"result {results['tested']['result'].iloc[0]!r}" if outcome["ok"]
                                  else str(results.error.message if results.error else results.state))
        color = "#2e7d32" if outcome["ok"] else "#c62828"
        latency = f"{outcome['latency_ms']:.1f} ms" if outcome["latency_ms"] is not None else "no response"
        self.test_view.value = (f"<span style='color:{color}'>HTTP {outcome['status'] or '—'} · {latency}</span> "
                                f"{html.escape(outcome['message'])}")
        return outcome

    def register(self) -> MLFunction | None:
        """Add the function to the session registry (``udf.<alias>`` in every %%asaquery cell)."""
        if self.function is None or not self.valid:
            self.status.value = "<span style='color:#c62828'>Not registered: fix the fields above first.</span>"
            return None
        self.registry.add_function(self.function)
        self.registered = True
        self.status.value = f"Registered as <code>udf.{html.escape(self.function.alias)}</code>."
        return self.function

    def sweep_batch_sizes(self, sizes: tuple[int, ...] = tune.DEFAULT_SIZES, repeats: int = 5) -> Any:
        """``asanb.tune.batch_size`` on the form's function; sets max batch count to the recommendation."""
        if self.function is None or not self.valid:
            self.tune_view.value = "Fix the fields above first."
            return None
        try:
            report = tune.batch_size(self.function, sizes, repeats=repeats)
        except AsanbError as error:
            self.tune_view.value = f"<span style='color:#c62828'>Sweep failed: {html.escape(error.message)}</span>"
            return None
        self.tune_report = report
        self.max_batch_count.value = report.recommended  # rebuilds form.function
        self.tune_view.value = report._repr_html_() + f"<p>Max batch count set to {report.recommended}.</p>"
        # A click handler runs in the cell's context, so the Output widget captures this display correctly.
        self.tune_chart.clear_output()
        with self.tune_chart:
            from asanb.notebook.render import display

            display(report.figure())
        return report

    def advise_parallel_requests(self, repeats: int = 5) -> Any:
        """``asanb.tune.parallel_requests`` for the target rate at the form's batch size and streaming units;
        sets parallel requests per partition to the recommendation."""
        if self.function is None or not self.valid:
            self.tune_view.value = "Fix the fields above first."
            return None
        try:
            report = tune.parallel_requests(self.function, self.target_rate.value,
                                            streaming_units=self.streaming_units.value, repeats=repeats)
        except AsanbError as error:
            self.tune_view.value = (f"<span style='color:#c62828'>Measurement failed: "
                                    f"{html.escape(error.message)}</span>")
            return None
        self.tune_report = report
        self.parallel.value = min(report.recommended, self.parallel.max)
        self.tune_view.value = report._repr_html_()
        return report
