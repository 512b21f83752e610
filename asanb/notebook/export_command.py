"""``%asanb export DIR [--job ID] [--name NAME] [--include-secrets]``: write a job of this session (the last
one started, or ``--job ID`` from ``%asanb jobs``) as an ASA project and ARM template with ``asanb.export``."""

from __future__ import annotations

import argparse
from typing import Any

import asanb
from asanb.errors import ConfigError
from asanb.notebook.registry import SESSION

__all__ = ["USAGE", "export_command"]

USAGE = "%asanb export DIR [--job ID] [--name NAME] [--include-secrets]"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # a ConfigError in the cell instead of SystemExit
        raise ConfigError(f"{message}. Usage: {USAGE}")


def _parser() -> _Parser:
    parser = _Parser(prog="%asanb export", add_help=False)
    parser.add_argument("directory")
    parser.add_argument("--job", type=int)
    parser.add_argument("--name")
    parser.add_argument("--include-secrets", action="store_true")
    return parser


def export_command(rest: list[str]) -> Any:
    """Export a session job; returns the ExportSummary (shown with its warnings)."""
    options = _parser().parse_args(rest)
    if not SESSION.jobs:
        raise ConfigError("no job to export yet: run a %%asaquery cell first (or call asanb.export(query, dir))")
    job_id = options.job if options.job is not None else max(SESSION.jobs)
    if job_id not in SESSION.jobs:
        raise ConfigError(f"no job {job_id}; jobs: {', '.join(map(str, SESSION.jobs))}")
    return asanb.export(SESSION.jobs[job_id], options.directory, name=options.name,
                        include_secrets=options.include_secrets)
