"""HTTP transports for ML UDF requests, measured: the same POST /score against the peer's score_server.py
through each way asanb could send it, with ``C`` requests in flight, in the same run.

- ``aiohttp``: the bare aiohttp session of ../shared/perf/score_client.py (the reference, 1.00).
- ``asanb bytes``: asanb's AiohttpTransport.post, what the dispatcher uses.
- ``asanb as httpx``: the same transport driven through httpx.Request / httpx.Response.
- ``httpx-aiohttp``: the httpx-aiohttp package's transport (when installed), driven the same way.
- ``httpx default``: httpx's own AsyncHTTPTransport (httpcore).

    python benchmarks/bench_transports.py [--batches 1,200] [--parallel 1,8] [--requests 1500]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx
import orjson

PERF = Path(__file__).resolve().parents[2] / "shared" / "perf"
sys.path.insert(0, str(PERF))

import score_client as peers  # noqa: E402

from asanb.udf.transport import AiohttpTransport, post_through  # noqa: E402

HEADERS = {"Content-Type": "application/json"}
Post = Callable[[], Awaitable[tuple[int, bytes]]]


async def contenders(url: str, body: bytes, parallel: int) -> tuple[dict[str, Post], list[Callable]]:
    """Each way to POST ``body`` to ``url``, and the close calls for all of them."""
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=parallel))
    ours = AiohttpTransport(parallel)
    wrapped = AiohttpTransport(parallel)
    default = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=parallel))
    parsed = httpx.URL(url)
    timeouts = httpx.Timeout(60).as_dict()

    async def bare() -> tuple[int, bytes]:
        async with session.post(url, data=body, headers=HEADERS) as response:
            return response.status, await response.read()

    posts: dict[str, Post] = {
        "aiohttp": bare,
        "asanb bytes": lambda: ours.post(url, body, HEADERS),
        "asanb as httpx": lambda: post_through(wrapped, parsed, body, HEADERS, timeouts),
        "httpx default": lambda: post_through(default, parsed, body, HEADERS, timeouts),
    }
    closers: list[Callable] = [session.close, ours.aclose, wrapped.aclose, default.aclose]
    try:
        from httpx_aiohttp import AiohttpTransport as PackageTransport
    except ImportError:
        print("(httpx-aiohttp is not installed: pip install httpx-aiohttp to include it)")
    else:
        package = PackageTransport(limits=httpx.Limits(max_connections=parallel))
        posts["httpx-aiohttp"] = lambda: post_through(package, parsed, body, HEADERS, timeouts)
        closers.append(package.aclose)
    return posts, closers


async def rate(post: Post, parallel: int, requests: int) -> float:
    """Requests per second with ``parallel`` workers sharing ``requests`` POSTs."""
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            status, _ = await post()
            if status != 200:
                raise SystemExit(f"HTTP {status}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(parallel)))
    return requests / (time.perf_counter() - started)


async def point(url: str, batch: int, parallel: int, requests: int, reps: int) -> dict[str, float]:
    body = orjson.dumps({"Inputs": {"data": peers.make_rows(batch)}})
    posts, closers = await contenders(url, body, parallel)
    rates: dict[str, list[float]] = {name: [] for name in posts}
    try:
        for _ in range(reps):  # interleaved, so a slow spell of the machine hits every contender
            for name, post in posts.items():
                await rate(post, parallel, max(20, requests // 20))  # warm the pool
                rates[name].append(await rate(post, parallel, requests))
    finally:
        for close in closers:
            await close()
    return {name: statistics.median(values) for name, values in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", default="1,200")
    parser.add_argument("--parallel", default="1,8")
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    server = peers.Server(peers.parse_cfg("lat=0,w=1,gcf=1"))
    try:
        for batch in (int(x) for x in args.batches.split(",")):
            for parallel in (int(x) for x in args.parallel.split(",")):
                rates = asyncio.run(point(server.url, batch, parallel, args.requests, args.reps))
                reference = rates["aiohttp"]
                print(f"B={batch} C={parallel}: " + ", ".join(
                    f"{name} {value:,.0f} req/s ({value / reference:.2f})" for name, value in rates.items()),
                    flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
