"""Fixtures: the real local scoring server on 127.0.0.1 (a random free port), started and stopped per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from asanb.udf.server import ScoringServer, ServerSettings


@pytest.fixture
def scoring_server() -> Iterator[ScoringServer]:
    """A running server with default settings."""
    with ScoringServer(ServerSettings()) as server:
        yield server


@pytest.fixture
def scoring_server_factory() -> Iterator[Callable[..., ScoringServer]]:
    """Call with ServerSettings fields to get a running server; all are stopped at teardown."""
    servers: list[ScoringServer] = []

    def start(**settings: Any) -> ScoringServer:
        server = ScoringServer(ServerSettings(**settings)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
