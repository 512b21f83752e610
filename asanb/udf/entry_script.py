"""Serve a user's own Azure ML scoring script (``init()`` / ``run()``) on 127.0.0.1 with Microsoft's inference
server, so the endpoint a query calls locally is the very code Azure ML will run.

The official ``azureml-inference-server-http`` package (the ``azureml`` extra) provides the Flask app that Azure ML
online endpoints run: ``/score`` calls the script's ``run()``, ``/swagger.json`` is generated from its
inference-schema decorators, exactly what ASA reads for the function signature (../shared/spec/ml_udf.md §3).
Its own launcher (gunicorn) listens on every interface, so asanb serves the same app with werkzeug's server on
loopback only, in a child process: the package keeps its configuration in process-wide globals.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from asanb.errors import ConfigError, FunctionError
from asanb.udf.server import LoopbackEndpoint

__all__ = ["EntryScriptServer", "entry_script_main"]

READY_TIMEOUT_SECONDS = 60.0


def _require_package() -> None:
    try:
        import azureml_inference_server_http  # noqa: F401
    except ImportError:
        raise ConfigError(
            "serving a scoring script needs Microsoft's Azure ML inference server: "
            "pip install 'asanb[azureml]' (package azureml-inference-server-http)"
        ) from None


class EntryScriptServer(LoopbackEndpoint):
    """A user's scoring script behind the official inference server, on ``http://127.0.0.1:<port>``.

    Use as a context manager; ``score_url`` and ``swagger_url`` are what an :class:`asanb.MLFunction` needs.
    """

    def __init__(self, entry_script: str | Path, *, port: int = 0, model_dir: str | Path | None = None) -> None:
        self.entry_script = Path(entry_script).resolve()
        if not self.entry_script.is_file():
            raise ConfigError(f"scoring script not found: {self.entry_script}")
        self.model_dir = Path(model_dir).resolve() if model_dir is not None else None
        self.requested_port = port
        self._port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def port(self) -> int:
        return self._port

    def start(self) -> EntryScriptServer:
        _require_package()
        command = [sys.executable, "-m", "asanb.udf.entry_script", str(self.entry_script),
                   "--port", str(self.requested_port)]
        if self.model_dir is not None:
            command += ["--model-dir", str(self.model_dir)]
        # The server logs a lot: into a file, so a full pipe can never block it.
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log)
        # The child prints its port once it listens; init() may take a while (loading a model).
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode().strip()
        if not line.startswith("listening "):
            self.process.wait()
            raise FunctionError(f"the scoring script {self.entry_script.name} did not start: "
                                f"{(line + ' ' + self.log_text()).strip()[-1500:]}")
        self._port = int(line.split()[1])
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        # The server answers GET / with 200 once the script's init() has run.
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            try:
                if httpx.get(self.url + "/", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process is not None and self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise FunctionError(f"the scoring script {self.entry_script.name} never became ready at {self.url}")
            time.sleep(0.05)  # a readiness probe of another process, not synchronization between our threads

    def log_text(self) -> str:
        """What the inference server and the script have logged so far."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def __enter__(self) -> EntryScriptServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def entry_script_main(argv: list[str] | None = None) -> int:
    """Child process: load the script into the inference server's Flask app and serve it on loopback."""
    import argparse

    parser = argparse.ArgumentParser(prog="asanb serve-model --entry-script")
    parser.add_argument("entry_script")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--model-dir")
    args = parser.parse_args(argv)
    _require_package()
    os.environ["AZUREML_ENTRY_SCRIPT"] = str(Path(args.entry_script).resolve())
    if args.model_dir:
        os.environ["AZUREML_MODEL_DIR"] = str(Path(args.model_dir).resolve())
    from azureml_inference_server_http.server import create_app
    from werkzeug.serving import make_server

    announce = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # the server's own prints go to the log, the port line alone to the parent
    server = make_server("127.0.0.1", args.port, create_app.create(), threaded=True)
    print(f"listening {server.server_port}", file=announce, flush=True)
    announce.close()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(entry_script_main())
