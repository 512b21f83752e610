"""HTTP for ML UDF requests: aiohttp's connection pool behind httpx's transport interface.

``AiohttpTransport`` is an ``httpx.AsyncBaseTransport`` (so ``httpx.AsyncClient(transport=...)`` works with it
and its failures are httpx's exception types), plus ``post``: bytes in, status and bytes out, which the
dispatcher uses for scoring requests. At one small request in flight, building ``httpx.Request`` and
``httpx.Response`` objects and handing aiohttp the Host and Content-Length headers httpx adds costs 14–17 % of a
loopback round trip (benchmarks/bench_transports.py); that is the difference between meeting and missing the
issue's 0.9 × the bare aiohttp loop. Any other httpx transport can be given to the dispatcher instead and is
driven through httpx's request/response objects.
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
import httpx

__all__ = ["AiohttpTransport", "post_through"]

# Headers aiohttp derives itself from the URL and the body; passing httpx's copies changes how aiohttp
# writes the request and costs measurably per request.
_DERIVED_HEADERS = frozenset({"host", "content-length"})


class AiohttpTransport(httpx.AsyncBaseTransport):
    """At most ``connections`` pooled keep-alive connections; ``timeout`` seconds per request."""

    def __init__(self, connections: int = 100, timeout: float | None = 60.0) -> None:
        self.connections = connections
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # Created on first use, inside the event loop that will run the requests.
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.connections), timeout=self.timeout, trust_env=False,
            auto_decompress=True, cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        """POST ``body``; the status and the whole response body. Failures raise httpx.TransportError."""
        status, content, _ = await self._send("POST", url, body, headers)
        return status, content

    async def _send(self, method: str, url: str, body: bytes | None, headers: Mapping[str, str],
                    decompress: bool = True) -> tuple[int, bytes, tuple[tuple[bytes, bytes], ...]]:
        session = self._session or self._open()
        try:
            async with session.request(method, url, data=body, headers=headers, allow_redirects=False,
                                       auto_decompress=decompress) as response:
                return response.status, await response.read(), response.raw_headers  # no copy: the scoring path ignores them
        except TimeoutError as failure:
            raise httpx.ReadTimeout(f"no response within {self.timeout.total:g} s") from failure
        except aiohttp.ClientConnectorError as failure:
            raise httpx.ConnectError(str(failure)) from failure
        except aiohttp.ClientPayloadError as failure:
            raise httpx.ReadError(str(failure)) from failure
        except aiohttp.InvalidURL as failure:
            raise httpx.UnsupportedProtocol(str(failure)) from failure
        except aiohttp.ClientError as failure:
            raise httpx.RemoteProtocolError(f"{type(failure).__name__}: {failure}") from failure

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        headers = {name: value for name, value in request.headers.items() if name not in _DERIVED_HEADERS}
        body = await request.aread()
        # The body stays as sent (Content-Encoding and all): httpx decodes it, with the codecs httpx has.
        status, content, raw_headers = await self._send(request.method, str(request.url), body or None, headers,
                                                        decompress=False)
        return httpx.Response(status, headers=raw_headers, stream=httpx.ByteStream(content), request=request)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def post_through(transport: httpx.AsyncBaseTransport, url: httpx.URL, body: bytes,
                       headers: Mapping[str, str], timeouts: Mapping[str, float | None]) -> tuple[int, bytes]:
    """POST through any httpx transport, with httpx's request and response objects."""
    request = httpx.Request("POST", url, headers=headers, content=body, extensions={"timeout": dict(timeouts)})
    response = await transport.handle_async_request(request)
    try:
        content = await response.aread()
    finally:
        await response.aclose()
    return response.status_code, content
