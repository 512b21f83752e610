"""The main demo (``make demo``): score the simulated taxi stream with an ML UDF against the local model
server, print the job summary, and write a self-contained HTML report under the output directory."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from asanb.config import JobConfig
from asanb.job import Results, run
from asanb.udf.ml import MLFunction
from asanb.udf.server import ScoringServer, ServerSettings

QUERY = """\
-- Validate the model input first, as the ASA ML UDF docs advise, then pass the step's rows as records.
WITH Dataframe AS (
    SELECT vendorid, weekday, pickuphour, passenger, distance, pickup_time
    FROM taxi TIMESTAMP BY pickup_time
    WHERE distance IS NOT NULL AND passenger IS NOT NULL
),
Scored AS (
    SELECT vendorid, distance, udf.score(Dataframe) AS predictedFare FROM Dataframe
)
SELECT vendorid, distance, predictedFare INTO scored FROM Scored
SELECT vendorid, COUNT(*) AS trips, AVG(predictedFare) AS avgFare, System.Timestamp() AS windowEnd
INTO fares FROM Scored GROUP BY vendorid, TumblingWindow(second, 10)
"""


def summarize(results: Results) -> dict[str, object]:
    """The figures a data engineer checks first: events, requests, batch sizes, latency, retries."""
    metrics = results.metrics
    summary: dict[str, object] = {
        "state": results.state,
        "events_in": results.counters.get("events_in", {}),
        "events_out": results.counters.get("events_out", {}),
        "dropped": results.counters.get("dropped", {}),
    }
    if len(metrics):
        ok = metrics[metrics["status"] == 200]
        summary.update({
            "requests": int(len(metrics)),
            "retries": int((metrics["attempt"] > 1).sum()),
            "batch_size_mean": round(float(ok["batch_size"].mean()), 1),
            "batch_size_max": int(ok["batch_size"].max()),
            "latency_ms_p50": round(float(ok["latency_ms"].quantile(0.5)), 2),
            "latency_ms_p95": round(float(ok["latency_ms"].quantile(0.95)), 2),
        })
    if results.error is not None:
        summary["error"] = str(results.error)
    return summary


def write_report(results: Results, summary: dict[str, object], out: Path) -> Path:
    """A single HTML file with the charts (plotly inlined once) and the summary table."""
    import plotly.express as px

    figures = []
    fares = results["fares"]
    if len(fares):
        figures.append(px.line(fares, x="windowEnd", y="avgFare", color="vendorid",
                               title="Average predicted fare per 10 s window"))
    if len(results.metrics):
        metrics = results.metrics.reset_index(drop=True)
        figures.append(px.histogram(metrics, x="latency_ms", nbins=40, title="Request latency (ms)"))
        figures.append(px.scatter(metrics, x=metrics.index, y="batch_size", color="partition",
                                  title="Rows per request"))
    parts = [figure.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False)
             for i, figure in enumerate(figures)]
    table = pd.Series({k: json.dumps(v) if isinstance(v, dict) else v for k, v in summary.items()}).to_frame("value")
    html = ("<html><head><meta charset='utf-8'><title>asanb demo</title></head><body>"
            "<h1>asanb demo: taxi stream scored by udf.score</h1>"
            f"<pre>{QUERY}</pre>{table.to_html()}{''.join(parts)}</body></html>")
    path = out / "report.html"
    path.write_text(html, encoding="utf-8")
    return path


def main(out: Path, *, events: int = 20_000) -> int:
    """Run the demo end to end; returns the process exit code."""
    out.mkdir(parents=True, exist_ok=True)
    with ScoringServer(ServerSettings(latency_ms=2.0)) as server:
        score = MLFunction("score", server.score_url, swagger=server.swagger_url, max_batch_count=500,
                           parallel_requests_per_partition=2)
        print(f"model server: {server.score_url}")
        results = run(QUERY, {"taxi": f"sim:taxi?rate=200&events={events}&seed=7"}, functions=[score],
                      config=JobConfig(streaming_units=12))
        server_stats = server.stats()
    summary = summarize(results)
    summary["server_peak_concurrency"] = server_stats.get("peak_concurrency")
    for key, value in summary.items():
        print(f"{key:>24}: {value}")
    for alias, frame in results.outputs.items():
        frame.to_json(out / f"{alias}.jsonl", orient="records", lines=True, date_format="iso")
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")
    print(f"report: {write_report(results, summary, out)}")
    return 0 if results.state == "Stopped" else 1
