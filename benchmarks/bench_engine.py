"""Engine benchmark: asanb against DuckDB, hand-written pandas and streamz on the same events, same run.

Workloads (../shared/perf/BASELINES.md):
  W1 filter + projection, W2 10 s tumbling COUNT/AVG by vendor, W3 60 s / 10 s hopping COUNT by device,
  W4 LAG(fare) per deviceId with LIMIT DURATION(hour, 1), W5 a 5 s stream self-join on deviceId.
The peers are the functions of ../shared/perf/bench_engines.py, imported as they are; every engine's output
signature (row count + column sums) is checked against pandas before any figure is printed.

    python benchmarks/bench_engine.py [--n 1000000] [--reps 3] [--workloads W1,W2,W3,W4]
    python benchmarks/bench_engine.py --memory W4|W5 [--n 1000000]   # peak RSS at n and 10 n streamed events
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import psutil

PERF = Path(__file__).resolve().parents[2] / "shared" / "perf"
sys.path.insert(0, str(PERF))

import bench_engines as peers  # noqa: E402
import gen_events  # noqa: E402

import asanb  # noqa: E402

QUERIES = {
    "W1": "SELECT vendorid, distance * 2 AS d2 INTO output FROM input WHERE passenger > 2",
    "W2": "SELECT vendorid, COUNT(*) AS cnt, AVG(fare) AS avg_fare, System.Timestamp() AS wend INTO output "
          "FROM input TIMESTAMP BY ts GROUP BY vendorid, TumblingWindow(second, 10)",
    "W3": "SELECT deviceId, COUNT(*) AS cnt, System.Timestamp() AS wend INTO output "
          "FROM input TIMESTAMP BY ts GROUP BY deviceId, HoppingWindow(second, 60, 10)",
    "W5": "SELECT a.deviceId, a.ts AS ats, b.ts AS bts, a.fare AS afare, b.fare AS bfare INTO output "
          "FROM input a TIMESTAMP BY ts JOIN input b TIMESTAMP BY ts "
          "ON a.deviceId = b.deviceId AND DATEDIFF(second, a, b) BETWEEN 0 AND 5",
    "W4": "SELECT deviceId, ts, fare, LAG(fare) OVER (PARTITION BY deviceId LIMIT DURATION(hour, 1)) AS prev_fare "
          "INTO output FROM input TIMESTAMP BY ts",
}
# The memory check keeps the output small (first event of each device within the hour), so what grows with
# the stream would be the engine's state, not the collected results.
MEMORY_QUERIES = {
    "W4": "SELECT deviceId, fare INTO output FROM input TIMESTAMP BY ts "
          "WHERE LAG(fare) OVER (PARTITION BY deviceId LIMIT DURATION(hour, 1)) IS NULL",
    "W5": "SELECT COUNT(*) AS pairs INTO output FROM input a TIMESTAMP BY ts JOIN input b TIMESTAMP BY ts "
          "ON a.deviceId = b.deviceId AND DATEDIFF(second, a, b) BETWEEN 0 AND 5 "
          "GROUP BY TumblingWindow(minute, 10)",
}
STREAMING_PEERS = ("streamz",)
_LIBC_NAME = ctypes.util.find_library("c")
_LIBC = ctypes.CDLL(_LIBC_NAME) if _LIBC_NAME and sys.platform.startswith("linux") else None


class PeakRss:
    """Samples this process's RSS in a thread; ``growth_mb`` is the peak above the starting value."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.base = self.peak = self.process.memory_info().rss
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.done.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        # Hand memory freed by earlier runs back to the OS first, so the starting RSS is what is live: else a
        # run can reuse pages an earlier one left in the allocator and show no growth at all.
        gc.collect()
        if _LIBC is not None:
            _LIBC.malloc_trim(0)
        self.base = self.peak = self.process.memory_info().rss
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.base) / 2**20


def run_asanb(workload: str, frame):
    results = asanb.run(QUERIES[workload], {"input": frame})
    if results.state != "Stopped":
        raise SystemExit(f"asanb failed on {workload}: {results.error}")
    return results["output"]


def signature(workload: str, out):
    if workload == "W1":
        return [len(out), float(out["d2"].sum())]
    if workload == "W5":
        return peers.sig_pandas("W5", out)
    if workload == "W2":
        return [len(out), int(out["cnt"].sum()), float(out["avg_fare"].sum())]
    if workload == "W4":
        return peers.sig_pandas("W4", out)
    return [len(out), int(out["cnt"].sum())]


def timed(function, *args) -> tuple[float, object]:
    function(*args)  # warm-up: imports, caches
    started = time.perf_counter()
    out = function(*args)
    return time.perf_counter() - started, out


def streamed_events(n: int, chunk: int = 100_000):
    """``n`` events as a generator of chunks, each continuing the time line of the one before, so the input
    is never all in memory (the memory check measures the engine, not the input)."""
    offset = pd.Timedelta(0)
    for index, start in enumerate(range(0, n, chunk)):
        frame = gen_events.make_events(min(chunk, n - start), seed=index)
        frame["ts"] = frame["ts"] + offset
        offset = frame["ts"].iloc[-1] - gen_events.START + pd.Timedelta(milliseconds=1)
        yield frame


def memory_check(workload: str, n: int) -> None:
    """Peak RSS growth of asanb on n and on 10 n streamed events: bounded state keeps the ratio near 1."""
    asanb.run(MEMORY_QUERIES[workload], {"input": streamed_events(min(n, 200_000))})  # warm-up: imports, caches
    growth = {}
    for size in (n, 10 * n):
        with PeakRss() as rss:
            started = time.perf_counter()
            results = asanb.run(MEMORY_QUERIES[workload], {"input": streamed_events(size)})
            elapsed = time.perf_counter() - started
        if results.state != "Stopped":
            raise SystemExit(f"asanb failed on {workload}: {results.error}")
        growth[size] = rss.growth_mb
        print(f"{workload} memory n = {size:>11,}: {len(results['output']):,} output rows, "
              f"peak RSS growth {rss.growth_mb:7.1f} MB, {size / elapsed / 1e6:.2f} M events/s (incl. generating)")
    ratio = growth[10 * n] / max(growth[n], 1.0)
    print(f"{workload} peak RSS growth 10 n / n = {ratio:.2f} (target < 1.5)")


def bench_w5(sizes: list[int], reps: int) -> None:
    """W5 (5 s self-join on deviceId) at each size with its own events, then peak RSS at the largest size n and
    at 10 n streamed events (output aggregated so the results stay small): state is bounded by the time bound."""
    for n in sizes:
        frame = gen_events.make_events(n)
        con = peers.prep_duckdb(frame)
        engines = {
            "asanb": lambda frame=frame: run_asanb("W5", frame),
            "duckdb": lambda con=con: peers.run_duckdb("W5", con)[0],
            "pandas": lambda frame=frame: peers.run_pandas("W5", frame)[0],
            "streamz": lambda frame=frame: peers.run_streamz("W5", frame, 10_000)[0],
        }
        expected = signature("W5", engines["pandas"]())
        seconds: dict[str, list[float]] = {name: [] for name in engines}
        for _ in range(reps):
            for name, engine in engines.items():
                elapsed, out = timed(engine)
                if not peers.sig_equal(signature("W5", out), expected):
                    raise SystemExit(f"{name} W5 signature {signature('W5', out)} != pandas {expected}")
                seconds[name].append(elapsed)
        ours = statistics.median(seconds["asanb"])
        label = f"W5@{n:.0e}".replace("+0", "")
        for name, values in seconds.items():
            median = statistics.median(values)
            print(f"{label:8} {name:8} {n / median / 1e6:11.2f} {median * 1e3:8.1f} {median / ours:12.2f}x")
    memory_check("W5", sizes[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=float, default=1e6)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--w5-n", default="1e5,1e6", help="event counts W5 runs at (comma list)")
    parser.add_argument("--workloads", default="W1,W2,W3,W4")
    parser.add_argument("--memory", metavar="WORKLOAD", choices=sorted(MEMORY_QUERIES),
                        help="instead of the speed table: peak RSS growth at n and 10 n streamed events")
    args = parser.parse_args()
    n = int(args.n)
    if args.memory:
        memory_check(args.memory, n)
        return
    frame = gen_events.make_events(n)
    input_mb = frame.memory_usage(deep=True).sum() / 2**20
    con = peers.prep_duckdb(frame)
    engines = {
        "asanb": lambda w: run_asanb(w, frame),
        "duckdb": lambda w: peers.run_duckdb(w, con)[0],
        "pandas": lambda w: peers.run_pandas(w, frame)[0],
        "streamz": lambda w: peers.run_streamz(w, frame, 10_000)[0],
    }
    print(f"N = {n:,} events, input DataFrame {input_mb:.0f} MB, {os.cpu_count()} cores, reps = {args.reps}")
    print(f"{'workload':8} {'engine':8} {'M events/s':>11} {'ms':>8} {'asanb/engine':>13}")
    for workload in args.workloads.split(","):
        if workload == "W5":
            bench_w5([int(float(size)) for size in args.w5_n.split(",")], args.reps)
            continue
        expected = signature(workload, peers.run_pandas(workload, frame)[0])
        seconds: dict[str, list[float]] = {name: [] for name in engines}
        for _ in range(args.reps):
            for name, engine in engines.items():
                elapsed, out = timed(engine, workload)
                got = signature(workload, out)
                if not peers.sig_equal(got, expected):
                    raise SystemExit(f"{name} {workload} signature {got} != pandas {expected}")
                seconds[name].append(elapsed)
        with PeakRss() as rss:
            run_asanb(workload, frame)
        ours = statistics.median(seconds["asanb"])
        for name, values in seconds.items():
            median = statistics.median(values)
            ratio = median / ours
            print(f"{workload:8} {name:8} {n / median / 1e6:11.2f} {median * 1e3:8.1f} {ratio:12.2f}x")
        print(f"{workload:8} asanb peak RSS growth {rss.growth_mb:.0f} MB = {rss.growth_mb / input_mb:.2f} x input")


if __name__ == "__main__":
    main()
