"""asanb's aiohttp transport as an httpx transport, its failures as httpx's exceptions, and the dispatcher over
any other httpx transport — all against the real local scoring server."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pandas as pd
import pytest

from asanb.udf.codec import RowBlock
from asanb.udf.dispatch import BatchScorer
from asanb.udf.ml import MLFunction
from asanb.udf.model import TaxiFareModel
from asanb.udf.swagger import load_signature
from asanb.udf.transport import AiohttpTransport

ROW = {"vendorid": 1, "weekday": "Mon", "pickuphour": 8, "passenger": 2, "distance": 3.5}


def with_client(transport: httpx.AsyncBaseTransport, calls):
    async def go():
        async with httpx.AsyncClient(transport=transport) as client:
            return await calls(client)

    return asyncio.run(go())


def test_an_httpx_client_over_the_transport_gets_status_headers_and_json(scoring_server_factory) -> None:
    server = scoring_server_factory(key="k1")

    async def calls(client: httpx.AsyncClient):
        swagger = await client.get(server.swagger_url)
        denied = await client.post(server.score_url, json={"Inputs": {"data": [ROW]}})
        scored = await client.post(server.score_url, json={"Inputs": {"data": [ROW]}},
                                   headers={"Authorization": "Bearer k1"})
        return swagger, denied, scored

    swagger, denied, scored = with_client(AiohttpTransport(), calls)
    assert swagger.status_code == 200 and "paths" in swagger.json()
    assert swagger.headers["content-type"].startswith("application/json")
    assert denied.status_code == 401
    assert scored.status_code == 200
    assert scored.json() == TaxiFareModel().predict_rows([ROW])
    assert server.stats()["rows"] == 1  # the refused request scored nothing


def test_a_refused_connection_is_httpx_connect_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = AiohttpTransport()

    async def post():
        try:
            return await transport.post(f"http://127.0.0.1:{port}/score", b"{}", {})
        finally:
            await transport.aclose()

    with pytest.raises(httpx.ConnectError):
        asyncio.run(post())


def test_a_hanging_endpoint_is_httpx_read_timeout(scoring_server_factory) -> None:
    server = scoring_server_factory(hang_ms=500)
    with pytest.raises(httpx.ReadTimeout, match="0.1 s"):
        with_client(AiohttpTransport(timeout=0.1),
                    lambda client: client.post(server.score_url, json={"Inputs": {"data": [ROW]}}))


def test_the_dispatcher_drives_any_httpx_transport_and_leaves_it_open(scoring_server) -> None:
    function = MLFunction("score", scoring_server.score_url, max_batch_count=7, parallel_requests_per_partition=2)
    rows = [dict(ROW, distance=float(distance)) for distance in range(1, 41)]
    transport = httpx.AsyncHTTPTransport()

    async def go():
        scorer = BatchScorer(function, load_signature(function), transport=transport)
        values = await scorer.score(RowBlock(records=pd.DataFrame(rows)))
        await scorer.aclose()
        # Still open: the dispatcher closes only the transports it made.
        after = await transport.handle_async_request(httpx.Request("GET", scoring_server.swagger_url))
        await after.aread()
        await transport.aclose()
        return values, after.status_code

    values, status_after_close = asyncio.run(go())
    assert list(values) == TaxiFareModel().predict_rows(rows)
    assert scoring_server.stats()["batch_sizes"] == [7] * 5 + [5]
    assert status_after_close == 200


def test_a_compressed_response_is_decoded_once_on_both_paths() -> None:
    import gzip

    from aiohttp import web

    document = b'{"Results": [1.5, 2.5]}'

    async def go():
        async def compressed(request: web.Request) -> web.Response:
            return web.Response(body=gzip.compress(document), content_type="application/json",
                                headers={"Content-Encoding": "gzip"})

        app = web.Application()
        app.router.add_route("*", "/score", compressed)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/score"
        try:
            async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
                through_httpx = await client.post(url, content=b"{}")
            transport = AiohttpTransport()
            try:
                _, raw = await transport.post(url, b"{}", {"Content-Type": "application/json"})
            finally:
                await transport.aclose()
            return through_httpx, raw
        finally:
            await runner.cleanup()

    through_httpx, raw = asyncio.run(go())
    assert through_httpx.headers["content-encoding"] == "gzip" and through_httpx.content == document
    assert raw == document
