"""Read an ASA project folder (asaproj.json, the .asaql script, JobConfig.json, Inputs/, Outputs/,
Functions/) into ``asanb.project.model.Project``; every failure is a ProjectError naming the file and field.

Layout facts: ../shared/spec/asa_project.md, "Project layout". Files are classified by their own
``ScriptType`` (Input, InputMock, Output, Function, JobConfig), then by asaproj.json's ``subType``, then
by the folder they sit in, so projects written by VS Code, by hand or by ``asanb.export`` all load.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from asanb.errors import ProjectError
from asanb.project.functions import load_function
from asanb.project.model import (
    FunctionSpec,
    InputSpec,
    JobSettings,
    LocalInput,
    OutputSpec,
    Project,
    Serialization,
    get_field,
    input_kind,
)

__all__ = ["find_project_file", "load_project", "read_json", "resolve_file"]

PROJECT_FILE = "asaproj.json"
_FOLDER_KINDS = {"inputs": "input", "outputs": "output", "functions": "function"}
_SCRIPT_TYPES = {"input": "input", "inputmock": "inputmock", "output": "output", "function": "function",
                 "jobconfig": "jobconfig"}


def read_json(path: Path, *, what: str = "file") -> Any:
    """Parse a JSON file; a missing file or a syntax error is a ProjectError with the file and line."""
    if not path.is_file():
        raise ProjectError(f"{what} not found", file=str(path))
    try:
        text = path.read_text(encoding="utf-8-sig")  # VS Code on Windows may write a byte-order mark
    except (OSError, UnicodeDecodeError) as error:
        raise ProjectError(f"cannot read {what}: {error}", file=str(path)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ProjectError(f"invalid JSON at column {error.colno}: {error.msg}", file=str(path),
                           line=error.lineno) from None


def resolve_file(reference: str, *bases: Path) -> Path | None:
    """The first existing ``bases[i] / reference``; Windows separators are accepted on any OS."""
    relative = Path(str(reference).replace("\\", "/"))
    if relative.is_absolute():
        return relative if relative.exists() else None
    for base in bases:
        candidate = base / relative
        if candidate.exists():
            return candidate.resolve()
    return None


def find_project_file(path: str | os.PathLike[str]) -> Path:
    """``path`` itself, or ``asaproj.json`` inside it when it is a folder."""
    target = Path(path).expanduser()
    if target.is_dir():
        target = target / PROJECT_FILE
    if not target.is_file():
        raise ProjectError("project file not found (pass asaproj.json or the folder holding it)",
                           file=str(target))
    return target.resolve()


def load_project(path: str | os.PathLike[str], *, check_local_inputs: bool = True) -> Project:
    """Read the project at ``path``. ``check_local_inputs=False`` accepts local input files that do not
    exist (a test run supplies its own inputs per case)."""
    project_file = find_project_file(path)
    root = project_file.parent
    data = read_json(project_file, what="project file")
    if not isinstance(data, Mapping):
        raise ProjectError("the project file must hold a JSON object", file=str(project_file))
    script_path = _script_path(data, root, project_file)
    script = script_path.read_text(encoding="utf-8-sig")
    files = _configuration_files(data, root, project_file)
    settings = JobSettings()
    inputs: dict[str, InputSpec] = {}
    mocks: list[LocalInput] = []
    outputs: list[OutputSpec] = []
    functions: list[FunctionSpec] = []
    for file, declared in files:
        content = read_json(file, what="configuration file")
        scanned = declared == "?"
        if scanned and not (_is_configuration(content) or file.name.lower() == "jobconfig.json"):
            continue  # e.g. Inputs/data.json holding events, found by scanning the folder
        if not isinstance(content, Mapping):
            raise ProjectError("a configuration file must hold a JSON object", file=str(file))
        kind = _file_kind(content, "" if scanned else declared, file)
        if kind == "jobconfig":
            settings = JobSettings.from_json(content, file=file)
        elif kind == "input":
            spec = InputSpec.from_json(content, file=file, alias=_alias_from_name(file))
            inputs[spec.alias.lower()] = spec
        elif kind == "inputmock":
            mocks.append(_local_input(content, file, root, check=check_local_inputs))
        elif kind == "output":
            outputs.append(OutputSpec.from_json(content, file=file, alias=_alias_from_name(file)))
        else:
            functions.append(load_function(content, file))
    for mock in mocks:
        existing = inputs.get(mock.alias.lower())
        if existing is None:  # a local input with no cloud definition still runs locally
            existing = InputSpec(alias=mock.alias, kind=mock.kind, serialization=Serialization(mock.format),
                                 file=mock.file)
        inputs[mock.alias.lower()] = _with_local(existing, mock)
    name = str(get_field(data, "name", default=root.name))
    return Project(name=name, script=script, settings=settings, inputs=tuple(inputs.values()),
                   outputs=tuple(outputs), functions=tuple(functions), root=root, script_path=script_path,
                   project_file=project_file)


def _with_local(spec: InputSpec, local: LocalInput) -> InputSpec:
    from dataclasses import replace

    return replace(spec, local=local)


def _script_path(data: Mapping[str, Any], root: Path, project_file: Path) -> Path:
    start = get_field(data, "startFile", "scriptFile", "script")
    if start:
        found = resolve_file(str(start), root)
        if found is None or not found.is_file():
            raise ProjectError(f"the query script {start!r} does not exist in {root}", file=str(project_file),
                               field="startFile")
        return found
    candidates = sorted(root.glob("*.asaql"))
    if len(candidates) != 1:
        found_text = ", ".join(p.name for p in candidates) or "none"
        raise ProjectError(f"no startFile names the query script and the folder has {len(candidates)} .asaql "
                           f"files ({found_text})", file=str(project_file), field="startFile")
    return candidates[0]


def _configuration_files(data: Mapping[str, Any], root: Path, project_file: Path) -> list[tuple[Path, str]]:
    """(path, declared subType) for every JSON configuration file of the project."""
    configurations = get_field(data, "configurations")
    if configurations is None:
        # No list: take the conventional places (a hand-written or minimal project).
        found = [root / "JobConfig.json"] if (root / "JobConfig.json").is_file() else []
        for folder in ("Inputs", "Outputs", "Functions"):
            found.extend(sorted((root / folder).glob("*.json")))
        return [(path, "?") for path in found]  # "?": scanned, so a data file beside them is skipped
    if not isinstance(configurations, list):
        raise ProjectError("must be a list of {filePath, subType}", file=str(project_file),
                           field="configurations")
    files = []
    for index, entry in enumerate(configurations):
        where = f"configurations[{index}].filePath"
        reference = get_field(entry, "filePath") if isinstance(entry, Mapping) else None
        if not reference:
            raise ProjectError("missing", file=str(project_file), field=where)
        if not str(reference).lower().endswith(".json"):
            continue  # a JavaScript UDF's .js file; its JSON names or sits beside it
        path = resolve_file(str(reference), root)
        if path is None:
            raise ProjectError(f"{reference!r} does not exist", file=str(project_file), field=where)
        files.append((path, str(get_field(entry, "subType", default=""))))
    return files


def _is_configuration(content: Any) -> bool:
    markers = ("ScriptType", "InputAlias", "Alias", "Binding", "properties", "StreamingUnits")
    return isinstance(content, Mapping) and get_field(content, *markers) is not None


def _file_kind(content: Mapping[str, Any], declared: str, file: Path) -> str:
    script_type = get_field(content, "ScriptType")
    for label in (str(script_type or ""), declared):
        folded = label.replace(" ", "").lower()
        if folded in _SCRIPT_TYPES:
            return _SCRIPT_TYPES[folded]
        if folded and ("function" in folded or folded.endswith(("udf", "uda"))):
            return "function"
    if file.name.lower() == "jobconfig.json":
        return "jobconfig"
    folder = _FOLDER_KINDS.get(file.parent.name.lower())
    if folder == "input" and get_field(content, "FilePath") and not get_field(content, "DataSourceType"):
        return "inputmock"
    if folder:
        return folder
    raise ProjectError(f"cannot tell what this file configures (ScriptType {script_type!r})", file=str(file),
                       field="ScriptType")


def _alias_from_name(file: Path) -> str:
    # VS Code names local inputs local_<alias>.json and functions <alias>.js.json.
    return file.name.removesuffix(".json").removesuffix(".js")


def _local_input(content: Mapping[str, Any], file: Path, root: Path, *, check: bool) -> LocalInput:
    alias = get_field(content, "InputAlias", "Alias")
    if not alias:
        raise ProjectError("missing", file=str(file), field="InputAlias")
    reference = get_field(content, "FilePath")
    if not reference:
        raise ProjectError("missing: the local input file", file=str(file), field="FilePath")
    path = resolve_file(str(reference), file.parent, root)
    if path is None:
        if check:
            raise ProjectError(f"local input file {reference!r} for input '{alias}' does not exist (looked in "
                               f"{file.parent} and {root})", file=str(file), field="FilePath")
        path = (file.parent / str(reference).replace("\\", "/")).resolve()
    serialization = Serialization.from_json({"Type": get_field(content, "Format", default="Json")}, file=file)
    kind = input_kind(get_field(content, "Type", default="Data Stream"), file=file, field_name="Type")
    return LocalInput(alias=str(alias), path=path, format=serialization.type, kind=kind, file=file)
