"""asanb.widgets: the notebook forms for UDFs, ``asanb.widgets.MLFunctionForm()`` and
``asanb.widgets.JavaScriptFunctionForm()`` (needs the notebook extra: ipywidgets, plotly)."""

from __future__ import annotations

from asanb.notebook.js_widgets import JavaScriptFunctionForm
from asanb.notebook.widgets import MLFunctionForm

__all__ = ["JavaScriptFunctionForm", "MLFunctionForm"]
