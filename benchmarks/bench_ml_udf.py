"""ML UDF benchmark: ``asanb.run`` with ``udf.score`` against the bare client loops of
../shared/perf/score_client.py (httpx + json, aiohttp + orjson), same server, same batch size and
concurrency, in the same run.

The server is the peer's score_server.py in its own process (so server CPU never shares asanb's GIL);
asanb's rows are the same 5 floats per row, built from 5 columns as ``udf.score(f1, ..., f5)``.

    python benchmarks/bench_ml_udf.py [--quick] [--latencies 0,20] [--batches 1,50,200,1000,2000,5000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

PERF = Path(__file__).resolve().parents[2] / "shared" / "perf"
sys.path.insert(0, str(PERF))

import score_client as peers  # noqa: E402

import asanb  # noqa: E402
from asanb.udf.ml import FunctionColumn  # noqa: E402

QUERY = "SELECT udf.score(f1, f2, f3, f4, f5) AS p INTO output FROM input"
COLUMNS = tuple(FunctionColumn(f"f{i}", "float", i - 1) for i in range(1, 6))


def run_asanb(url: str, batch: int, parallel: int, seconds: float, pace: float) -> dict[str, float]:
    # As many rows as the fastest peer scored in the same time, so the job's fixed start-up cost (swagger
    # fetch, client, threads) weighs what it weighs in a real run of that length, not more.
    rows = max(batch * parallel * 8, int(pace * seconds) // batch * batch)
    rows = min(rows, 3_000_000)
    rng = np.random.default_rng(1)
    # Six decimals, as the peer's make_rows: the same JSON bytes per row on both sides.
    frame = pd.DataFrame(np.round(rng.normal(size=(rows, 5)), 6), columns=[c.name for c in COLUMNS])
    score = asanb.MLFunction("score", url, max_batch_count=batch, parallel_requests_per_partition=parallel,
                             input_request_name="data", inputs=COLUMNS, output_type="float")
    started = time.perf_counter()
    results = asanb.run(QUERY, {"input": frame}, functions=[score])
    elapsed = time.perf_counter() - started
    if results.state != "Stopped" or len(results["output"]) != rows:
        raise SystemExit(f"asanb failed at B={batch} C={parallel}: {results.error}")
    latency = results.metrics["latency_ms"].sort_values()
    return {"rows_per_s": rows / elapsed, "p50_ms": float(latency.quantile(0.5)),
            "p95_ms": float(latency.quantile(0.95)), "requests": len(latency)}


def bare(url: str, batch: int, parallel: int, seconds: float, client: str, codec: str) -> dict[str, float]:
    point = asyncio.run(peers.run_point(url, batch, parallel, seconds, client=client, codec=codec))
    return {"rows_per_s": point["rows_per_s"], "p50_ms": point["p50_ms"], "p95_ms": point["p95_ms"],
            "requests": point["requests"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latencies", default="0,20")
    parser.add_argument("--batches", default="1,50,200,1000,2000,5000")
    parser.add_argument("--parallel", default="1,2,4,8")
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--quick", action="store_true", help="a few points, 0.6 s each")
    args = parser.parse_args()
    if args.quick:
        args.batches, args.parallel, args.seconds, args.latencies = "1,200,2000", "1,4", 0.6, "0"
    print(f"{'lat':>4} {'B':>5} {'C':>2} | {'asanb rows/s':>12} {'p50':>6} | {'httpx+json':>11} {'p50':>6} | "
          f"{'aiohttp+orjson':>14} {'p50':>6} | {'asanb/best':>10} {'+p50 ms':>7}")
    ratios = []
    for latency in (float(x) for x in args.latencies.split(",")):
        server = peers.Server(peers.parse_cfg(f"lat={latency:g},w=1,gcf=1"))
        try:
            for batch in (int(x) for x in args.batches.split(",")):
                for parallel in (int(x) for x in args.parallel.split(",")):
                    httpx_json = bare(server.url, batch, parallel, args.seconds, "httpx", "json")
                    fastest = bare(server.url, batch, parallel, args.seconds, "aiohttp", "orjson")
                    pace = max(fastest["rows_per_s"], httpx_json["rows_per_s"])
                    ours = run_asanb(server.url, batch, parallel, args.seconds, pace)
                    ratio = ours["rows_per_s"] / max(fastest["rows_per_s"], httpx_json["rows_per_s"])
                    ratios.append(ratio)
                    print(f"{latency:4g} {batch:5} {parallel:2} | {ours['rows_per_s']:12,.0f} {ours['p50_ms']:6.1f} | "
                          f"{httpx_json['rows_per_s']:11,.0f} {httpx_json['p50_ms']:6.1f} | "
                          f"{fastest['rows_per_s']:14,.0f} {fastest['p50_ms']:6.1f} | {ratio:10.2f} "
                          f"{ours['p50_ms'] - fastest['p50_ms']:7.2f}", flush=True)
        finally:
            server.stop()
    print(f"asanb / fastest bare loop: median {statistics.median(ratios):.2f}, min {min(ratios):.2f}")


if __name__ == "__main__":
    main()
