"""Write an ``asanb.project.model.Project`` to a folder in the Visual Studio Code ASA project layout
(../shared/spec/asa_project.md, "Project layout"): asaproj.json, ``<name>.asaql`` (with ``#`` comment lines
as ``--``), JobConfig.json, ``Inputs/<alias>.json`` with ``Inputs/local_<alias>.json`` local inputs and their
events under ``LocalData/``, ``Outputs/<alias>.json``, ``Functions/<alias>.json`` (Azure ML) and
``Functions/<alias>.js.json`` + ``<alias>.js`` (JavaScript). ``Project.load`` reads every file back.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from asanb.io.sinks import write_json_lines
from asanb.project.model import FunctionSpec, LocalInput, Project, relative_path
from asanb.sql.printer import to_asa_text

__all__ = ["LOCAL_DATA", "ProjectFiles", "write_project"]

LOCAL_DATA = "LocalData"
_FORMATS = {".json": "Json", ".jsonl": "Json", ".ndjson": "Json", ".csv": "Csv", ".parquet": "Parquet"}
_SUBTYPES = {"ml": "Function", "javascript_udf": "JavaScriptUdf", "javascript_uda": "JavaScriptUda"}


@dataclass
class ProjectFiles:
    """What ``write_project`` wrote: every path, the project file, and notes for the export summary."""

    project_file: Path
    script: Path
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _dump(path: Path, data: Any, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(path)


def _local_events(alias: str, value: Any, root: Path) -> tuple[Path, str] | None:
    """Write (or copy) one input's events under LocalData/; (path, format), or None when there are none to
    write (a simulated stream, a callable, an iterator: reading it here would consume it)."""
    folder = root / LOCAL_DATA
    if isinstance(value, list) and all(isinstance(item, Mapping) for item in value):
        value = pd.DataFrame(value)
    if isinstance(value, pd.DataFrame):
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{alias}.json"
        write_json_lines(value, target)
        return target, "Json"
    if isinstance(value, str | Path) and not str(value).strip().lower().startswith("sim:"):
        source = Path(value)
        suffix = source.suffix.lower()
        if source.is_file() and suffix in _FORMATS:
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{alias}{suffix}"
            if source.resolve() != target.resolve():
                shutil.copyfile(source, target)
            return target, _FORMATS[suffix]
    return None


def _function_files(spec: FunctionSpec, folder: Path, include_secrets: bool,
                    files: ProjectFiles) -> list[dict[str, str]]:
    data = spec.definition.to_function_json()
    data["ScriptType"] = "Function"
    binding = data["properties"]["properties"]["binding"]["properties"]
    subtype = _SUBTYPES[spec.kind]
    if spec.kind == "ml":
        path = folder / f"{spec.alias}.json"
        if binding.get("apiKey") and not include_secrets:
            binding["apiKey"] = None
            files.notes.append(f"udf.{spec.alias}: the API key is not written to {relative_path(path, folder.parent)}"
                               f" (pass include_secrets=True to write it); the ARM parameters file asks for it")
        _dump(path, data, files.written)
        return [{"filePath": relative_path(path, folder.parent), "subType": subtype}]
    # JavaScript: the script in its own .js file beside <alias>.js.json, as Visual Studio Code keeps it.
    script = folder / f"{spec.alias}.js"
    folder.mkdir(parents=True, exist_ok=True)
    script.write_text(binding.pop("script"), encoding="utf-8")
    files.written.append(script)
    binding["scriptPath"] = script.name
    path = folder / f"{spec.alias}.js.json"
    _dump(path, data, files.written)
    return [{"filePath": relative_path(script, folder.parent), "subType": subtype},
            {"filePath": relative_path(path, folder.parent), "subType": subtype}]


def write_project(project: Project, directory: str | Path, local_data: Mapping[str, Any] | None = None, *,
                  include_secrets: bool = False) -> ProjectFiles:
    """Write ``project`` into ``directory`` (created if needed; files of the same name are replaced).

    ``local_data`` maps input aliases to their events (DataFrame, list of dicts or a .json/.jsonl/.csv/
    .parquet file): each becomes a local input under LocalData/ so the project runs locally as exported.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    script = root / f"{project.name}.asaql"
    files = ProjectFiles(project_file=root / "asaproj.json", script=script)
    script.write_text(to_asa_text(project.script), encoding="utf-8")
    files.written.append(script)
    configurations: list[dict[str, str]] = []

    def add(path: Path, data: Any, subtype: str) -> None:
        _dump(path, data, files.written)
        configurations.append({"filePath": relative_path(path, root), "subType": subtype})

    add(root / "JobConfig.json", project.settings.to_json(), "JobConfig")
    local = {alias.lower(): value for alias, value in (local_data or {}).items()}
    for spec in project.inputs:
        add(root / "Inputs" / f"{spec.alias}.json", spec.to_json(), "Input")
        events = _local_events(spec.alias, local[spec.alias.lower()], root) if spec.alias.lower() in local else None
        if events is not None:
            path, data_format = events
            files.written.append(path)
            mock = LocalInput(alias=spec.alias, path=path, format=data_format, kind=spec.kind)
            add(root / "Inputs" / f"local_{spec.alias}.json", mock.to_json(root / "Inputs"), "InputMock")
    for output in project.outputs:
        add(root / "Outputs" / f"{output.alias}.json", output.to_json(), "Output")
    for function in project.functions:
        configurations.extend(_function_files(function, root / "Functions", include_secrets, files))
    manifest = {"name": project.name, "startFile": script.name, "configurations": configurations}
    _dump(files.project_file, manifest, files.written)
    return files
