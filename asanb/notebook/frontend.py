"""Can this cell's output show live widgets? JupyterLab 4 and Notebook 7 can (their widget manager renders
ipywidgets and anywidget); VS Code's notebook renderer breaks plotly's FigureWidget (plotly #5027), and
nbconvert, nbclient, nbval and terminal IPython have no widget manager at all. Where widgets cannot render,
the dashboard draws one static plotly figure at the end instead (../shared/research/jupyter_anchors.md §3).

JupyterLab and Notebook 7 are recognized by what they send with every execute request: JupyterLab's
``CodeCell.execute`` adds ``deletedCells`` and ``recordTiming`` to the request's metadata, which executors
(nbclient, nbconvert, nbval) and the terminal never send. A widget manager that opened ipywidgets' control
comm also counts. ``%asanb config charts=live|static`` overrides the guess."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from asanb.notebook.registry import SESSION

__all__ = ["CHART_MODES", "jupyterlab_frontend", "live_widgets", "request_metadata", "widget_manager_connected"]

CHART_MODES = ("auto", "live", "static")
"""``%asanb config charts=...``: auto detects the frontend; live and static force one."""


def widget_manager_connected() -> bool:
    """True once a frontend's widget manager has connected to this kernel: the JupyterLab/Notebook 7 manager
    opens ipywidgets' ``jupyter.widget.control`` comm as soon as it attaches to the kernel; executors like
    nbclient never do."""
    try:
        from ipywidgets import Widget
    except ImportError:
        return False
    return getattr(Widget, "_control_comm", None) is not None


def request_metadata(shell: Any) -> dict[str, Any]:
    """The metadata of the execute request being run (empty outside a kernel)."""
    kernel = getattr(shell, "kernel", None)
    get_parent = getattr(kernel, "get_parent", None)
    parent = get_parent("shell") if callable(get_parent) else getattr(shell, "parent_header", None)
    metadata = parent.get("metadata") if isinstance(parent, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def jupyterlab_frontend(shell: Any) -> bool:
    """True when the cell was sent by JupyterLab 4 or Notebook 7 (see the module docstring)."""
    metadata = request_metadata(shell)
    return "deletedCells" in metadata or "recordTiming" in metadata


def live_widgets(shell: Any) -> tuple[bool, str]:
    """(whether the dashboard can be a live widget here, why not)."""
    mode = SESSION.defaults.get("charts", "auto")
    if mode == "live":
        return True, ""
    if mode == "static":
        return False, "%asanb config charts=static"
    if getattr(shell, "kernel", None) is None:
        return False, "not running in a Jupyter kernel"
    if os.environ.get("VSCODE_PID") or os.environ.get("VSCODE_IPC_HOOK_CLI"):
        return False, "VS Code does not render plotly's FigureWidget reliably (plotly #5027)"
    if importlib.util.find_spec("anywidget") is None:
        return False, "anywidget is not installed (plotly's FigureWidget needs it)"
    if not (jupyterlab_frontend(shell) or widget_manager_connected()):
        return False, "this cell was not run from JupyterLab or Notebook 7 (nbconvert, nbclient, nbval: no widgets)"
    return True, ""
