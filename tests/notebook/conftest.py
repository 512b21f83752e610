"""Fixtures: a real IPython shell with the extension loaded, a clean session registry, the real local
scoring server, and endless inputs that can only end by being stopped."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pandas as pd
import pytest
from IPython.testing.globalipapp import start_ipython

from asanb.notebook.registry import DEFAULTS, SESSION
from asanb.udf.server import ScoringServer, ServerSettings


@pytest.fixture(scope="session")
def shell():
    ip = start_ipython()
    ip.run_line_magic("load_ext", "asanb")
    return ip


@pytest.fixture
def ip(shell):
    """The shell with a clean registry; jobs left running by a test are stopped afterwards."""
    SESSION.functions.clear()
    SESSION.sources.clear()
    SESSION.defaults.clear()
    SESSION.defaults.update(DEFAULTS)
    yield shell
    for job in SESSION.running_jobs().values():
        job.stop(wait=True, timeout=30)


@pytest.fixture
def scoring_server() -> Iterator[ScoringServer]:
    with ScoringServer(ServerSettings()) as server:
        yield server


class EndlessInput:
    """An endless iterator of small batches; ``reached`` is set once ``after`` batches were read, and
    ``on_reached`` (if given) runs then, on the job thread."""

    def __init__(self, after: int = 3, on_reached=None) -> None:
        self.after = after
        self.on_reached = on_reached
        self.reached = threading.Event()
        self.batches = 0

    def __iter__(self):
        return self

    def __next__(self) -> pd.DataFrame:
        self.batches += 1
        if self.batches == self.after:
            self.reached.set()
            if self.on_reached is not None:
                self.on_reached()
        start = self.batches * 10
        return pd.DataFrame({"v": list(range(start, start + 10))})


@pytest.fixture
def endless():
    return EndlessInput
