"""Fixtures for the real-browser tests: JupyterLab on 127.0.0.1 (a random port, a token) serving a copy of the
notebooks, and headless Debian chromium driven by Playwright. `make test` installs chromium when it can; the
tests run whenever chromium is present (ASANB_BROWSER=0 skips them, e.g. for a quick local loop)."""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = os.environ.get("ASANB_CHROMIUM", "/usr/bin/chromium")
STARTUP_SECONDS = 60
OFFLINE_CDN = "https://cdn.plot.ly/"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if os.environ.get("ASANB_BROWSER") == "0":
                item.add_marker(pytest.mark.skip(reason="real browser: ASANB_BROWSER=0"))
            elif not Path(CHROMIUM).exists():
                item.add_marker(pytest.mark.skip(reason=f"real browser: no chromium at {CHROMIUM} "
                                                        "(`make test` installs it when run as root)"))


@dataclass
class Lab:
    """A running JupyterLab: ``url(path)`` builds an address with the token; ``root`` is the served folder."""

    base: str
    token: str
    root: Path

    def url(self, path: str) -> str:
        return f"{self.base}{path}?token={self.token}"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab on 127.0.0.1 with a fresh config, serving a copy of notebooks/ (running cells in the browser
    must not rewrite the committed notebooks)."""
    top = tmp_path_factory.mktemp("lab")
    root = top / "notebooks"
    shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = top / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Every cell stays in the DOM (JupyterLab otherwise renders only the cells near the viewport).
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    token = secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(top / "config"), "JUPYTER_RUNTIME_DIR": str(top / "runtime"),
           "IPYTHONDIR": str(top / "ipython"), "JUPYTER_PLATFORM_DIRS": "1"}
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
               "--ServerApp.ip=127.0.0.1", "--ServerApp.port=0", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               f"--LabApp.user_settings_dir={top / 'settings'}", f"--LabApp.workspaces_dir={top / 'workspaces'}",
               # window.jupyterapp: the test runs JupyterLab's own commands (the ones the Run menu calls)
               "--LabApp.expose_app_in_browser=True",
               # no calls to the internet: news feed, update check, extension listings
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly"]
    process = subprocess.Popen(command, cwd=top, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    lines: queue.Queue[str] = queue.Queue()
    log: list[str] = []

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            log.append(line)
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        port = _wait_for_port(lines, process, log)
        yield Lab(f"http://127.0.0.1:{port}", token, root)
    finally:
        _stop(process)
        (ARTIFACTS / "jupyterlab.log").parent.mkdir(exist_ok=True)
        (ARTIFACTS / "jupyterlab.log").write_text("".join(log))


def _wait_for_port(lines: queue.Queue[str], process: subprocess.Popen[str], log: list[str]) -> int:
    """The port from the server's own 'running at' line (it chose a free one)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    pattern = re.compile(r"http://127\.0\.0\.1:(\d+)/lab")
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            break
        if found := pattern.search(line):
            return int(found.group(1))
        if process.poll() is not None and lines.empty():
            break
    raise AssertionError("JupyterLab did not start:\n" + "".join(log[-40:]))


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM to the server's process group: the server shuts its kernels down, and with them every scoring
    server a notebook started."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@dataclass
class Console:
    """JavaScript errors seen by the page: console.error calls and uncaught exceptions."""

    errors: list[str] = field(default_factory=list)

    def record(self, message: Any) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        # The notebooks also save each chart as HTML that loads plotly.js from its CDN (for nbviewer and other
        # frontends without plotly's renderer). JupyterLab draws the chart with its extension instead, and CI
        # has no internet: that one failed download is expected; the tests check the chart renders.
        if url.startswith(OFFLINE_CDN) and "net::ERR_" in message.text:
            return
        self.errors.append(f"console.error: {message.text} ({url})")


# Module scope, not session: Playwright's sync API keeps an event loop running in the main thread while it is
# open, and every later test calling asyncio.run() would fail.
@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install -y "
                    "chromium); set ASANB_CHROMIUM to use another build")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[tuple[Any, Console]]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    console = Console()
    page.on("console", console.record)
    page.on("pageerror", lambda error: console.errors.append(f"uncaught: {error}"))
    yield page, console
    # The page as the test left it (pass or fail): the first thing to look at when a browser test fails.
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-last.png"), full_page=True)
    context.close()
