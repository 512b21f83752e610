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
