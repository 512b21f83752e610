"""Run All in a real ipykernel: cells queued one after another without waiting (as Jupyter's Run All sends
them) all run, including %%asaquery cells with an ML UDF, because asanb never nests the kernel's event loop
(../shared/research/jupyter_anchors.md §0.1: nest-asyncio made queued cells vanish)."""

from __future__ import annotations

import queue

import pytest

jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

CELLS = [
    "%load_ext asanb\nimport asanb, pandas as pd\nfrom asanb.udf.server import ScoringServer\n"
    "server = ScoringServer().start()\n"
    "asanb.notebook.register_function(asanb.MLFunction('score', server.score_url, max_batch_count=40))",
    "taxi = 'sim:taxi?events=200&seed=1'",
    "%%asaquery -o scored --no-dashboard --quiet\n"
    "WITH d AS (SELECT vendorid, weekday, pickuphour, passenger, distance FROM taxi)\n"
    "SELECT udf.score(d) AS fare INTO o FROM d",
    "import asyncio\nawait asyncio.sleep(0)\nprint('rows', len(scored['o']), scored.state)",
    "server.stop()\nprint('done')",
]


def test_queued_cells_all_run_in_a_real_kernel() -> None:
    # The native "python3" kernel runs on this interpreter (sys.executable), so it imports this asanb.
    manager = jupyter_client.KernelManager(kernel_name="python3")
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        ids = [client.execute(cell) for cell in CELLS]  # all sent before any reply is read
        replies = {}
        while len(replies) < len(ids):
            reply = client.get_shell_msg(timeout=60)
            replies[reply["parent_header"]["msg_id"]] = reply["content"]
        statuses = [replies[msg_id]["status"] for msg_id in ids]
        assert statuses == ["ok"] * len(CELLS), [replies[msg_id] for msg_id in ids]
        printed = []
        while True:
            try:
                message = client.get_iopub_msg(timeout=5)
            except queue.Empty:
                break
            if message["msg_type"] == "stream":
                printed.append(message["content"]["text"])
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle" \
                    and message["parent_header"].get("msg_id") == ids[-1]:
                break
        assert "rows 200 Stopped" in "".join(printed) and "done" in "".join(printed)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


DASHBOARD_SETUP = (
    "%load_ext asanb\nimport asanb\nfrom asanb.udf.server import ScoringServer\n"
    "server = ScoringServer().start()\n"
    "asanb.notebook.register_function(asanb.MLFunction('score', server.score_url, max_batch_count=40))\n"
    "taxi = 'sim:taxi?events=200&seed=1'"
)
DASHBOARD_CELL = ("%%asaquery --dashboard -q -o scored\n"
                  "WITH d AS (SELECT vendorid, weekday, pickuphour, passenger, distance FROM taxi)\n"
                  "SELECT udf.score(d) AS fare INTO o FROM d")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PLOTLY = "application/vnd.plotly.v1+json"
# What JupyterLab 4 / Notebook 7 put in every execute request's metadata (CodeCell.execute).
JUPYTERLAB_METADATA = {"deletedCells": [], "recordTiming": False, "cellId": "c1"}


def _execute(client, code: str, metadata: dict | None = None) -> tuple[dict, list[dict]]:
    """Send one execute request (with the frontend's metadata); its reply and the iopub messages it caused."""
    message = client.session.msg("execute_request", {
        "code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False,
        "stop_on_error": True}, metadata=metadata or {})
    client.shell_channel.send(message)
    msg_id = message["header"]["msg_id"]
    outputs = []
    while True:
        iopub = client.get_iopub_msg(timeout=60)
        if iopub["parent_header"].get("msg_id") != msg_id:
            continue
        if iopub["msg_type"] == "status" and iopub["content"]["execution_state"] == "idle":
            break
        outputs.append(iopub)
    while True:
        reply = client.get_shell_msg(timeout=60)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"], outputs


def _mimetypes(outputs: list[dict]) -> list[str]:
    return [kind for message in outputs if message["msg_type"] in ("display_data", "execute_result")
            for kind in message["content"]["data"]]


def test_dashboard_is_live_in_jupyterlab_and_static_under_an_executor() -> None:
    manager = jupyter_client.KernelManager(kernel_name="python3")
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        assert _execute(client, DASHBOARD_SETUP)[0]["status"] == "ok"
        # As nbclient / nbconvert / nbval send it: no widget, one static plotly figure at the end.
        reply, outputs = _execute(client, DASHBOARD_CELL)
        assert reply["status"] == "ok", reply
        assert _mimetypes(outputs).count(PLOTLY) == 1 and WIDGET_VIEW not in _mimetypes(outputs)
        # As JupyterLab sends it: the live widget first, then the static figure that stays in the saved notebook.
        reply, outputs = _execute(client, DASHBOARD_CELL, JUPYTERLAB_METADATA)
        assert reply["status"] == "ok", reply
        kinds = _mimetypes(outputs)
        assert WIDGET_VIEW in kinds and kinds.count(PLOTLY) == 1
        assert kinds.index(WIDGET_VIEW) < kinds.index(PLOTLY)
        # Forced static even in JupyterLab; %asanb dashboard redraws the latest job's charts on demand.
        _execute(client, "%asanb config charts=static")
        reply, outputs = _execute(client, DASHBOARD_CELL + "\n", JUPYTERLAB_METADATA)
        assert WIDGET_VIEW not in _mimetypes(outputs)
        reply, outputs = _execute(client, "%asanb dashboard", JUPYTERLAB_METADATA)
        assert reply["status"] == "ok" and _mimetypes(outputs) == [PLOTLY, "text/html", "text/plain"]
        _execute(client, "server.stop()")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
