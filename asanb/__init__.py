"""asanb: Azure Stream Analytics in a Jupyter notebook.

Run SAQL queries (``SELECT udf.score(...) INTO output FROM input``) over DataFrames, files and simulated
streams with ASA's event-time semantics, call ML model endpoints the way ASA does, and export the job.

    >>> import asanb, pandas as pd
    >>> events = pd.DataFrame({"time": ["2026-01-01T00:00:01Z"], "speed": [120]})
    >>> asanb.run("SELECT speed INTO fast FROM input WHERE speed > 100", {"input": events})["fast"].speed.tolist()
    [120]
"""

from __future__ import annotations

from asanb.config import JobConfig
from asanb.errors import (
    AsanbError,
    AsanbWarning,
    AsaSyntaxError,
    ConfigError,
    EventError,
    ExecutionError,
    ExportWarning,
    FunctionError,
    InternalError,
    JavaScriptCompileError,
    JavaScriptError,
    NotSupportedError,
    PlanError,
    ProjectError,
    QueryError,
    ScoringError,
    ScoringStatusError,
    ScoringTransportError,
    UdfInCaseWarning,
    UdfResultError,
)
from asanb.io.reference import Reference
from asanb.job import Results, run
from asanb.project import Project
from asanb.project.export import export
from asanb.udf.binding import PythonFunction
from asanb.udf.javascript import JavaScriptAggregate, JavaScriptFunction
from asanb.udf.ml import MLFunction

__version__ = "0.1.0"

__all__ = [
    "AsaSyntaxError",
    "AsanbError",
    "AsanbWarning",
    "ConfigError",
    "EventError",
    "ExecutionError",
    "ExportWarning",
    "FunctionError",
    "InternalError",
    "JavaScriptAggregate",
    "JavaScriptCompileError",
    "JavaScriptError",
    "JavaScriptFunction",
    "JobConfig",
    "MLFunction",
    "NotSupportedError",
    "PlanError",
    "Project",
    "ProjectError",
    "PythonFunction",
    "QueryError",
    "Reference",
    "Results",
    "ScoringError",
    "ScoringStatusError",
    "ScoringTransportError",
    "UdfInCaseWarning",
    "UdfResultError",
    "__version__",
    "export",
    "load_ipython_extension",
    "run",
]


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext asanb``: register the ``%%asaquery`` and ``%asanb`` magics."""
    from asanb.notebook.magics import AsaMagics

    ipython.register_magics(AsaMagics)  # type: ignore[attr-defined]


def __getattr__(name: str) -> object:
    # asanb.tune and asanb.widgets load on first use (asanb.widgets.MLFunctionForm()): widgets need the
    # notebook extra (ipywidgets, plotly), and `import asanb` stays light for scripts and the CLI.
    if name in ("tune", "widgets"):
        import importlib

        return importlib.import_module(f"asanb.{name}")
    raise AttributeError(f"module 'asanb' has no attribute {name!r}")
