"""What a cell shows: each output as a DataFrame under its alias and row count, a compact job summary (HTML and
plain text, so saved notebooks and terminals read the same), and errors as one message without a traceback."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import pandas as pd
from IPython.display import display as _ipython_display

import asanb
from asanb.errors import AsanbError, QueryError
from asanb.notebook.query_text import cell_span

__all__ = ["OutputHeader", "StaticFigure", "Summary", "display", "error_message", "summary_facts"]


def display(*objects: Any) -> None:
    """IPython's display (untyped upstream), typed for the rest of the package."""
    _ipython_display(*objects)  # type: ignore[no-untyped-call]


def _total(values: Any) -> int:
    return int(sum(values.values())) if isinstance(values, Mapping) else int(values or 0)


def _per_alias(values: Any) -> str:
    if not isinstance(values, Mapping) or not values:
        return "0"
    return ", ".join(f"{alias}={count:,}" for alias, count in values.items())


def summary_facts(results: asanb.Results, wall_seconds: float | None = None) -> dict[str, str]:
    """The job summary as ordered label -> text pairs."""
    counters = results.counters
    metrics = results.metrics
    facts = {"state": results.state,
             "events in": _per_alias(counters.get("events_in")),
             "events out": _per_alias(counters.get("events_out")),
             "dropped": _per_alias(counters.get("dropped")) if _total(counters.get("dropped")) else "0"}
    if len(metrics):
        errors = int((metrics["status"] != 200).sum())
        facts["requests"] = f"{len(metrics):,} ({int(counters.get('ml_retries', 0)):,} retries, {errors:,} not OK)"
        facts["latency p50 / p95"] = (f"{metrics['latency_ms'].quantile(0.5):.1f} / "
                                      f"{metrics['latency_ms'].quantile(0.95):.1f} ms")
    if wall_seconds is not None:
        facts["wall time"] = f"{wall_seconds:.2f} s"
    if results.error is not None:
        facts["error"] = f"{type(results.error).__name__}: {results.error.message}"
    return facts


class Summary:
    """The compact job summary; displays as a one-row HTML table and as ``label: value`` lines."""

    def __init__(self, results: asanb.Results, wall_seconds: float | None = None) -> None:
        self.facts = summary_facts(results, wall_seconds)

    def __repr__(self) -> str:
        return " · ".join(f"{label}: {value}" for label, value in self.facts.items())

    def _repr_html_(self) -> str:
        color = {"Stopped": "#2e7d32", "Failed": "#c62828"}.get(self.facts["state"], "#555")
        cells = "".join(f"<td style='padding:2px 10px'><span style='color:#777'>{html.escape(label)}</span><br>"
                        f"{html.escape(value)}</td>" for label, value in self.facts.items() if label != "state")
        badge = f"<td style='padding:2px 10px;color:{color};font-weight:bold'>{self.facts['state']}</td>"
        return f"<table class='asanb-summary'><tr>{badge}{cells}</tr></table>"


class StaticFigure:
    """A finished dashboard as plain output that outlives the kernel: plotly's own mimetype (JupyterLab,
    Notebook 7, VS Code), HTML loading plotly.js from its CDN (nbviewer, nbconvert's HTML) and a text line."""

    def __init__(self, figure: Any) -> None:
        self.figure = figure

    def __repr__(self) -> str:
        title = self.figure.layout.title.text or "asanb dashboard"
        return f"{title} (static chart: {len(self.figure.data)} traces)"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        import plotly.io as pio

        bundle: dict[str, Any] = pio.renderers["plotly_mimetype"].to_mimebundle(self.figure.to_dict())
        bundle["text/html"] = pio.to_html(self.figure, full_html=False, include_plotlyjs="cdn")
        bundle["text/plain"] = repr(self)
        return bundle


class OutputHeader:
    """``alias — N rows`` above an output's DataFrame."""

    def __init__(self, alias: str, frame: pd.DataFrame) -> None:
        self.alias = alias
        self.rows = len(frame)

    def __repr__(self) -> str:
        return f"{self.alias}: {self.rows:,} rows"

    def _repr_html_(self) -> str:
        return f"<b>{html.escape(self.alias)}</b> <span style='color:#777'>{self.rows:,} rows</span>"


def error_message(error: AsanbError, query: str, cell: str | None = None) -> AsanbError:
    """The error with the query attached, so it renders the failing line with a caret. With the ``cell`` as
    typed (before ``{var}`` substitution and ``--timestamp-by``), the caret points into the cell's own text,
    and the message says what the magic had put in place of the ``{var}`` the caret is under."""
    if not isinstance(error, QueryError):
        return error
    error.with_query(query)
    if cell is None or not cell.strip() or error.span is None or error.query != query or cell.rstrip() == query:
        return error
    span, ran = cell_span(error.span, query, cell.rstrip())
    error.span, error.query = span, cell.rstrip()
    if ran is not None:
        error.message += f" (the query ran with {ran.strip()!r} there)"
    return error
