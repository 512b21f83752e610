"""ML UDF benchmark: ``asanb.run`` with ``udf.score`` against the bare client loops of
../shared/perf/score_client.py (httpx + json, aiohttp + orjson), same server, same batch size and
concurrency, in the same run.

The server is the peer's score_server.py in its own process (so server CPU never shares asanb's GIL);
asanb's rows are the peer's batch (5 floats per row, ``make_rows``) repeated, given as 5 columns and sent
as ``udf.score(f1, ..., f5)``: byte-for-byte the bodies the bare loops send.

    python benchmarks/bench_ml_udf.py [--quick] [--reps 3] [--latencies 0,20] [--batches 1,50,...,5000]
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
    rows = min(rows, 3_000_000) // batch * batch
    # The peer's own batch (make_rows) over and over, as its loop sends it: the same request bodies on both
    # sides. Fresh random rows cost the server ~5 % more CPU per request than one repeated body (measured
    # with its process CPU), which would be charged to asanb at the points where the server is saturated.
    batch_rows = np.array(peers.make_rows(batch), dtype=np.float64)
    frame = pd.DataFrame(np.tile(batch_rows, (rows // batch, 1)), columns=[c.name for c in COLUMNS])
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


def median_point(points: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the repetitions."""
    return {key: statistics.median(point[key] for point in points) for key in points[0]}


def measure(url: str, batch: int, parallel: int, seconds: float,
            reps: int) -> tuple[dict[str, float], dict[str, float], dict[str, float], float]:
    """httpx + json, aiohttp + orjson and asanb, interleaved ``reps`` times: a slow spell of the machine
    (another process, frequency scaling: single runs here move by +-15 %) hits all three instead of one. The
    ratio is the median of each repetition's asanb / fastest bare loop, measured seconds apart."""
    runs: dict[str, list[dict[str, float]]] = {"httpx": [], "aiohttp": [], "asanb": []}
    ratios = []
    for _ in range(reps):
        runs["httpx"].append(bare(url, batch, parallel, seconds, "httpx", "json"))
        runs["aiohttp"].append(bare(url, batch, parallel, seconds, "aiohttp", "orjson"))
        pace = max(runs["aiohttp"][-1]["rows_per_s"], runs["httpx"][-1]["rows_per_s"])
        runs["asanb"].append(run_asanb(url, batch, parallel, seconds, pace))
        ratios.append(runs["asanb"][-1]["rows_per_s"] / pace)
    medians = (median_point(runs["asanb"]), median_point(runs["httpx"]), median_point(runs["aiohttp"]))
    return (*medians, statistics.median(ratios))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latencies", default="0,20")
    parser.add_argument("--batches", default="1,50,200,1000,2000,5000")
    parser.add_argument("--parallel", default="1,2,4,8")
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions per point (medians)")
    parser.add_argument("--quick", action="store_true", help="a few points, 0.6 s each, 2 repetitions")
    args = parser.parse_args()
    if args.quick:
        args.batches, args.parallel, args.seconds, args.latencies, args.reps = "1,200,2000", "1,4", 0.6, "0", 2
    print(f"{'lat':>4} {'B':>5} {'C':>2} | {'asanb rows/s':>12} {'p50':>6} | {'httpx+json':>11} {'p50':>6} | "
          f"{'aiohttp+orjson':>14} {'p50':>6} | {'asanb/best':>10} {'+p50 ms':>7}")
    ratios = []
    for latency in (float(x) for x in args.latencies.split(",")):
        server = peers.Server(peers.parse_cfg(f"lat={latency:g},w=1,gcf=1"))
        try:
            # One short job first: the first run in a process pays for imports, first connections and a full
            # garbage collection of everything loaded (~50 ms), which no later job pays.
            run_asanb(server.url, 50, 1, 0.2, 1_000)
            for batch in (int(x) for x in args.batches.split(",")):
                for parallel in (int(x) for x in args.parallel.split(",")):
                    ours, httpx_json, fastest, ratio = measure(server.url, batch, parallel, args.seconds, args.reps)
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
