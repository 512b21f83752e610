"""The Jupyter layer: magics, widgets and dashboards over the public API."""

from asanb.notebook.jobs import Job
from asanb.notebook.registry import register_function, register_source

__all__ = ["Job", "register_function", "register_source"]
