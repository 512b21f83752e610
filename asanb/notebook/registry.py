"""The session registry: functions and sources every ``%%asaquery`` cell can use, and the jobs it started."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from asanb.errors import ConfigError

if TYPE_CHECKING:
    from asanb.notebook.jobs import Job

__all__ = ["DEFAULTS", "SESSION", "Registry", "register_function", "register_source"]


DEFAULTS: dict[str, Any] = {"streaming_units": 1, "clock": "replay", "speed": 1.0, "dashboard": "auto",
                            "charts": "auto"}
"""Session defaults for options a cell does not give (``%asanb config key=value`` changes them)."""


@dataclass
class Registry:
    """Functions by lower-case alias, sources by alias, jobs and their dashboards by id (oldest first)."""

    functions: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)
    jobs: dict[int, Job] = field(default_factory=dict)
    dashboards: dict[int, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=lambda: dict(DEFAULTS))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add_function(self, function: Any) -> Any:
        alias = getattr(function, "alias", None)
        if not isinstance(alias, str) or not alias:
            raise ConfigError(f"register_function takes an MLFunction or PythonFunction, got {type(function).__name__}")
        self.functions[alias.lower()] = function
        return function

    def add_source(self, alias: str, source: Any) -> None:
        if not alias.isidentifier():
            raise ConfigError(f"a source alias is a name used after FROM, got {alias!r}")
        self.sources[alias] = source

    def find_source(self, alias: str) -> Any | None:
        for name, source in self.sources.items():
            if name.lower() == alias.lower():
                return source
        return None

    def add_job(self, job: Job) -> int:
        job_id = int(next(self._ids))
        self.jobs[job_id] = job
        return job_id

    def running_jobs(self) -> dict[int, Job]:
        return {job_id: job for job_id, job in self.jobs.items() if not job.done}

    def functions_frame(self) -> pd.DataFrame:
        """One row per registered function (the key is never shown)."""
        rows = []
        for function in self.functions.values():
            rows.append({
                "alias": function.alias, "kind": type(function).__name__,
                "endpoint": getattr(function, "endpoint", ""),
                "max_batch_count": getattr(function, "max_batch_count", None),
                "parallel_requests_per_partition": getattr(function, "parallel_requests_per_partition", None),
            })
        return pd.DataFrame(rows, columns=["alias", "kind", "endpoint", "max_batch_count",
                                           "parallel_requests_per_partition"])


SESSION = Registry()
"""The registry of this Python process (one notebook kernel)."""


def register_function(function: Any) -> Any:
    """Make a function (MLFunction, PythonFunction) available to every ``%%asaquery`` cell; returns it."""
    return SESSION.add_function(function)


def register_source(alias: str, source: Any) -> None:
    """Make a source (DataFrame, path, ``"sim:taxi?..."``, iterator) readable as ``FROM alias`` in every cell."""
    SESSION.add_source(alias, source)
