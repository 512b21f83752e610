"""A local Azure-ML-compatible scoring endpoint on 127.0.0.1: POST /score, the swagger ASA reads, key auth,
schema errors as 400, fault injection (failure rate, status patterns, latency, hangs, a concurrency cap) and
GET /stats. Used by the tests, the notebooks and ``make demo``; ``asanb serve-model`` runs it in the foreground.

Requests: ``{"Inputs": {"<input name>": [rows]}}`` (rows arrays or records), also ``{"data": [...]}`` or a
bare list. Responses: a JSON list with one prediction per row (what Azure ML scoring scripts built with
inference-schema usually return), or ``{"Results": {"<output name>": [...]}}`` with ``response_shape="results"``; ``"short"`` (one prediction
too few) and ``"html"`` (an HTML page with status 200) inject broken responses.
The swagger document is served at the scoring URL's base + ``/swagger.json``, as the Azure ML inference server does.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from asanb.errors import ConfigError
from asanb.udf.model import FEATURES, SchemaMismatch, TaxiFareModel

__all__ = ["ScoringServer", "ServerSettings", "create_app", "serve_model_main", "swagger_document"]

OUTPUT_NAME = "WebServiceOutput0"


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """How the local endpoint behaves; fault-injection fields can be changed while it runs (``configure``)."""

    host: str = "127.0.0.1"
    port: int = 0
    key: str | None = None
    latency_ms: float = 0.0
    per_row_us: float = 0.0
    fail_rate: float = 0.0
    fail_status: int = 503
    max_concurrency: int | None = None
    seed: int = 0
    input_name: str = "data"
    fail_pattern: tuple[int, ...] | None = None
    hang_ms: float = 0.0
    response_shape: str = "list"


def swagger_document(settings: ServerSettings) -> dict[str, Any]:
    """Swagger 2.0 in the shape the Azure ML inference server generates from sample input/output schemas."""
    json_types = {"integer": {"type": "integer", "format": "int64"}, "number": {"type": "number", "format": "double"},
                  "string": {"type": "string"}}
    example = {"vendorid": 1, "weekday": "Mon", "pickuphour": 12, "passenger": 1, "distance": 5.8}
    row = {"type": "object", "required": [n for n, _ in FEATURES],
           "properties": {name: json_types[kind] for name, kind in FEATURES}}
    service_input = {"type": "object", "properties": {"Inputs": {"type": "object", "properties": {
        settings.input_name: {"type": "array", "items": row}}}},
        "example": {"Inputs": {settings.input_name: [example]}}}
    service_output = {"type": "array", "items": {"type": "number", "format": "double"}, "example": [17.5]}
    return {
        "swagger": "2.0",
        "info": {"title": "asanb local taxi fare model", "version": "1.0"},
        "schemes": ["http"], "consumes": ["application/json"], "produces": ["application/json"],
        "securityDefinitions": {"Bearer": {"type": "apiKey", "name": "Authorization", "in": "header"}},
        "paths": {"/score": {"post": {
            "operationId": "RunMLService",
            "parameters": [{"name": "serviceInputPayload", "in": "body", "schema": {"$ref": "#/definitions/ServiceInput"}}],
            "responses": {"200": {"description": "predictions", "schema": {"$ref": "#/definitions/ServiceOutput"}}},
        }}},
        "definitions": {"ServiceInput": service_input, "ServiceOutput": service_output},
    }


class _State:
    """Counters and fault injection shared by the request handlers (one event loop, plus readers)."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.lock = threading.Lock()
        self.random = random.Random(settings.seed)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.requests = self.rows = self.in_flight = self.peak = 0
            self.statuses: Counter[str] = Counter()
            self.batch_sizes: list[int] = []
            self.pattern = list(self.settings.fail_pattern or ())

    def injected_failure(self) -> int | None:
        with self.lock:
            if self.pattern:
                status = self.pattern.pop(0)
                return None if status == 200 else status
            if self.settings.fail_rate and self.random.random() < self.settings.fail_rate:
                return self.settings.fail_status
        return None

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"requests": self.requests, "rows": self.rows, "peak_concurrency": self.peak,
                    "in_flight": self.in_flight, "status_counts": dict(self.statuses),
                    "batch_sizes": list(self.batch_sizes)}


def _rows_of(body: Any, input_name: str) -> list[Any]:
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        inputs = body.get("Inputs", body)
        if isinstance(inputs, dict):
            rows = inputs.get(input_name, inputs.get("data"))
            if rows is None and len(inputs) == 1:
                rows = next(iter(inputs.values()))
            if isinstance(rows, list):
                return rows
    raise SchemaMismatch(f'expected {{"Inputs": {{"{input_name}": [rows]}}}}')


def create_app(settings: ServerSettings, model: TaxiFareModel | None = None) -> Starlette:
    """The ASGI app; ``app.state.scoring`` holds the counters and settings."""
    model = model or TaxiFareModel(seed=settings.seed)
    state = _State(settings)

    def finish(status: int, content: Any, media_type: str = "application/json") -> Response:
        with state.lock:
            state.statuses[str(status)] += 1
        body = content if isinstance(content, str) else orjson.dumps(content)
        return Response(body, status_code=status, media_type=media_type)

    async def score(request: Request) -> Response:
        current = state.settings
        with state.lock:
            state.requests += 1
            state.in_flight += 1
            state.peak = max(state.peak, state.in_flight)
            busy = current.max_concurrency is not None and state.in_flight > current.max_concurrency
        try:
            if current.key and request.headers.get("authorization") != f"Bearer {current.key}":
                return finish(401, {"message": "missing or wrong key: send 'Authorization: Bearer <key>'"})
            if busy:
                return finish(503, {"message": "the endpoint is busy: too many concurrent requests"})
            if current.hang_ms:
                await asyncio.sleep(current.hang_ms / 1000)
            failure = state.injected_failure()
            if failure is not None:
                return finish(failure, {"message": f"injected failure {failure}"})
            try:
                rows = _rows_of(orjson.loads(await request.body()), current.input_name)
                predictions = model.predict_rows(rows)
            except orjson.JSONDecodeError as error:
                return finish(400, {"message": f"malformed JSON body: {error}"})
            except SchemaMismatch as error:
                return finish(400, {"message": f"input does not match the model schema: {error}"})
            delay = current.latency_ms / 1000 + len(rows) * current.per_row_us / 1e6
            if delay:
                await asyncio.sleep(delay)
            with state.lock:
                state.rows += len(rows)
                state.batch_sizes.append(len(rows))
            if current.response_shape == "results":
                return finish(200, {"Results": {OUTPUT_NAME: predictions}})
            if current.response_shape == "short":  # fault injection: one prediction too few
                return finish(200, predictions[:-1])
            if current.response_shape == "html":  # fault injection: a proxy's error page with status 200
                return finish(200, "<html><body>Bad gateway</body></html>", "text/html")
            return finish(200, predictions)
        finally:
            with state.lock:
                state.in_flight -= 1

    async def swagger(request: Request) -> Response:
        return JSONResponse(swagger_document(state.settings))

    async def stats(request: Request) -> Response:
        return JSONResponse(state.snapshot())

    async def live(request: Request) -> Response:
        return JSONResponse({"status": "Healthy"})

    app = Starlette(routes=[
        Route("/", live), Route("/score", score, methods=["POST"]),
        Route("/swagger.json", swagger), Route("/stats", stats),
    ])
    app.state.scoring = state
    return app


class LoopbackEndpoint:
    """The addresses of a scoring endpoint on 127.0.0.1: Azure ML's ``/score`` route and ``/swagger.json``."""

    @property
    def port(self) -> int:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def score_url(self) -> str:
        return f"{self.url}/score"

    @property
    def swagger_url(self) -> str:
        return f"{self.url}/swagger.json"


class ScoringServer(LoopbackEndpoint):
    """Run the endpoint on 127.0.0.1 in a background thread: ``with ScoringServer() as server: server.score_url``."""

    def __init__(self, settings: ServerSettings | None = None, **changes: Any) -> None:
        self.settings = dataclasses.replace(settings or ServerSettings(), **changes)
        if self.settings.host not in ("127.0.0.1", "localhost"):
            raise ConfigError("the local scoring server listens on 127.0.0.1 only")
        self.app = create_app(self.settings)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ScoringServer:
        config = uvicorn.Config(self.app, host=self.settings.host, port=self.settings.port, loop="asyncio",
                                log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="asanb-scoring-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError("the local scoring server did not start (is the port in use?)")
            time.sleep(0.005)  # polling uvicorn's started flag: there is no event to wait on
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> ScoringServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "the server is not running"
        return int(self._server.servers[0].sockets[0].getsockname()[1])

    def stats(self) -> dict[str, Any]:
        return self.app.state.scoring.snapshot()  # type: ignore[no-any-return]

    def reset_stats(self) -> None:
        self.app.state.scoring.reset()

    def configure(self, **changes: Any) -> None:
        """Change latency or fault injection while the server runs."""
        state = self.app.state.scoring
        with state.lock:
            state.settings = dataclasses.replace(state.settings, **changes)
            if "fail_pattern" in changes:
                state.pattern = list(changes["fail_pattern"] or ())


def serve_model_main(argv: list[str] | None = None) -> int:
    """``asanb serve-model``: run the endpoint in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="asanb serve-model", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--key", default=None)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--per-row-us", type=float, default=0.0)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--fail-status", type=int, default=503)
    parser.add_argument("--max-concurrency", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--input-name", default="data")
    args = parser.parse_args(argv)
    settings = ServerSettings(port=args.port, key=args.key, latency_ms=args.latency_ms, per_row_us=args.per_row_us,
                              fail_rate=args.fail_rate, fail_status=args.fail_status,
                              max_concurrency=args.max_concurrency, seed=args.seed, input_name=args.input_name)
    with ScoringServer(settings) as server:
        print(f"scoring: {server.score_url}\nswagger: {server.swagger_url}\nstats:   {server.url}/stats")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped")
    return 0
