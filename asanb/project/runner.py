"""Run a loaded Project through ``asanb.run``: its local input files feed stream and reference inputs, its
functions are registered, JobConfig.json gives the settings."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from asanb.config import JobConfig
from asanb.errors import ProjectError
from asanb.io.sources import ListSource
from asanb.job import Results, run
from asanb.project.model import Project

__all__ = ["project_sources", "run_project"]

_SUFFIXES = {"Json": (".json", ".jsonl", ".ndjson"), "Csv": (".csv",), "Parquet": (".parquet",)}


def run_project(project: Project, inputs: Mapping[str, Any] | None = None, *, config: JobConfig | None = None,
                **options: Any) -> Results:
    """``asanb.run`` on the project's script; ``inputs`` (alias -> any asanb input) replace local files."""
    streams, reference = project_sources(project, inputs or {})
    return run(project.script, streams, reference=reference or None,
               functions=[spec.definition for spec in project.functions],
               config=config or project.config, **options)


def project_sources(project: Project, overrides: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(stream inputs, reference inputs) by alias. An input the script names without a local file or an
    override is a ProjectError; one it does not name is skipped."""
    given = {alias.lower(): value for alias, value in overrides.items()}
    streams: dict[str, Any] = {}
    reference: dict[str, Any] = {}
    for spec in project.inputs:
        target = reference if spec.is_reference else streams
        if spec.alias.lower() in given:
            target[spec.alias] = given.pop(spec.alias.lower())
        elif spec.local is not None:
            target[spec.alias] = local_source(spec.local.path, spec.local.format, spec.alias,
                                              spec.local.file)
        elif _mentions(project.script, spec.alias):
            raise ProjectError(f"input '{spec.alias}' has no local input file; add Inputs/local_{spec.alias}.json "
                               "(ScriptType InputMock) or pass it in inputs=", file=str(spec.file or ""),
                               field="FilePath")
    for alias, value in overrides.items():  # aliases the project does not declare: streams
        if alias.lower() in given:
            streams[alias] = value
    return streams, reference


def local_source(path: Path, format_name: str, alias: str, declared_in: Path | None = None) -> Any:
    """What asanb.run reads for a local input file: its path when the suffix tells the format, else the
    events parsed here (ASA local inputs may be e.g. ``data.txt`` holding JSON)."""
    if not path.is_file():
        raise ProjectError(f"local input file {path} for input '{alias}' does not exist",
                           file=str(declared_in) if declared_in else str(path), field="FilePath")
    if path.suffix.lower() in _SUFFIXES.get(format_name, ()):
        return path
    if format_name != "Json":
        raise ProjectError(f"local input file {path.name} for input '{alias}' is {format_name}; name it "
                           f"*{_SUFFIXES.get(format_name, ('.?',))[0]}", file=str(declared_in or path),
                           field="Format")
    return ListSource(read_json_events(path))


def read_json_events(path: Path) -> list[dict[str, Any]]:
    """Events of a JSON file: one array, one object, or one object per line (ASA accepts all three)."""
    text = path.read_text(encoding="utf-8-sig").strip()
    if not text:
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        events = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ProjectError(f"invalid JSON event: {error.msg}", file=str(path), line=number) from None
        return events
    return value if isinstance(value, list) else [value]


def _mentions(script: str, alias: str) -> bool:
    return re.search(rf"(?<![\w.\[]){re.escape(alias)}(?![\w])", script, flags=re.IGNORECASE) is not None
