"""The in-memory model of an ASA project (../shared/spec/asa_project.md): frozen records for the script,
job settings, inputs, outputs and functions, each with ``from_json``/``to_json`` for its project file.

JSON readers accept the Visual Studio Code shape (PascalCase: ``InputAlias``, ``Serialization.Type``) and
the ARM shape (camelCase under ``properties``), matching keys without regard to case. Paths are absolute;
``to_json`` writes them relative to the folder the caller passes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from asanb.config import JobConfig
from asanb.errors import ProjectError

__all__ = [
    "FunctionSpec",
    "InputSpec",
    "JobSettings",
    "LocalInput",
    "OutputSpec",
    "Project",
    "Serialization",
    "get_field",
    "relative_path",
]

STREAM = "stream"
REFERENCE = "reference"
# ASA tools spell the input kind several ways: "Data Stream" (VS Code, testConfig), "Stream" (ARM).
_KINDS = {"data stream": STREAM, "stream": STREAM, "reference data": REFERENCE, "reference": REFERENCE}
_KIND_LABELS = {STREAM: "Data Stream", REFERENCE: "Reference Data"}
# JobConfig.json's -1 late-arrival tolerance ("wait indefinitely") as a finite span the engine's int64
# nanosecond clock can hold: a century.
WAIT_INDEFINITELY_SECONDS = 100 * 365 * 86_400.0
_FORMATS = {"json": "Json", "csv": "Csv", "avro": "Avro", "parquet": "Parquet"}


def get_field(data: Mapping[str, Any], *names: str, default: Any = None) -> Any:
    """The first of ``names`` present in ``data``, matched without regard to case (VS Code writes
    ``InputAlias``, ARM ``inputAlias``-style camelCase)."""
    folded = {str(key).lower(): value for key, value in data.items()}
    for name in names:
        if name.lower() in folded:
            return folded[name.lower()]
    return default


def relative_path(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` with forward slashes, as project files store it."""
    return Path(os.path.relpath(path, base)).as_posix()


def input_kind(value: Any, *, file: Path | None, field_name: str) -> str:
    """'stream' or 'reference' from any of ASA's spellings; a ProjectError naming the field otherwise."""
    kind = _KINDS.get(str(value).strip().lower()) if value is not None else None
    if kind is None:
        raise ProjectError(f"input type {value!r} is neither 'Data Stream' nor 'Reference Data'",
                           file=str(file) if file else None, field=field_name)
    return kind


@dataclass(frozen=True, slots=True)
class Serialization:
    """How events are encoded: ``type`` is Json, Csv, Avro or Parquet."""

    type: str = "Json"
    encoding: str = "UTF8"
    field_delimiter: str | None = None
    json_format: str | None = None  # "LineSeparated" or "Array" on outputs

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None, *, file: Path | None = None) -> Serialization:
        if not data:
            return cls()
        # ARM nests the settings under "properties"; VS Code keeps them flat.
        props = get_field(data, "properties") or data
        raw_type = str(get_field(data, "type", default="Json"))
        kind = _FORMATS.get(raw_type.lower())
        if kind is None:
            raise ProjectError(f"serialization type {raw_type!r} is not one of {', '.join(_FORMATS.values())}",
                               file=str(file) if file else None, field="Serialization.Type")
        return cls(type=kind, encoding=str(get_field(props, "encoding", default="UTF8")),
                   field_delimiter=get_field(props, "fieldDelimiter"), json_format=get_field(props, "format"))

    def to_json(self) -> dict[str, Any]:
        """The VS Code shape (``{"Type": "Json", "Encoding": "UTF8"}``)."""
        data: dict[str, Any] = {"Type": self.type}
        if self.type in ("Json", "Csv"):
            data["Encoding"] = self.encoding
        if self.field_delimiter is not None:
            data["FieldDelimiter"] = self.field_delimiter
        if self.json_format is not None:
            data["Format"] = self.json_format
        return data


@dataclass(frozen=True, slots=True)
class LocalInput:
    """A local run input (``ScriptType: InputMock``): the file whose events feed ``alias`` locally."""

    alias: str
    path: Path
    format: str = "Json"
    kind: str = STREAM
    file: Path | None = None  # the JSON that declared it

    def to_json(self, base: Path) -> dict[str, Any]:
        return {"InputAlias": self.alias, "Type": _KIND_LABELS[self.kind], "Format": self.format,
                "FilePath": relative_path(self.path, base), "ScriptType": "InputMock"}


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One ``Inputs/<alias>.json``: a stream or reference input, its data source and serialization."""

    alias: str
    kind: str = STREAM
    data_source_type: str | None = None
    serialization: Serialization = field(default_factory=Serialization)
    local: LocalInput | None = None
    file: Path | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_reference(self) -> bool:
        return self.kind == REFERENCE

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, file: Path | None = None,
                  alias: str | None = None) -> InputSpec:
        props = get_field(data, "properties")
        if isinstance(props, Mapping):  # ARM: {"name", "properties": {"type", "datasource", "serialization"}}
            source = get_field(props, "datasource") or {}
            return cls(alias=str(get_field(data, "name", default=alias or "")),
                       kind=input_kind(get_field(props, "type", default="Stream"), file=file,
                                       field_name="properties.type"),
                       data_source_type=get_field(source, "type"),
                       serialization=Serialization.from_json(get_field(props, "serialization"), file=file),
                       file=file, raw=dict(data))
        name = get_field(data, "InputAlias", "Alias", "Name", default=alias)
        if not name:
            raise ProjectError("input has no alias", file=str(file) if file else None, field="InputAlias")
        return cls(alias=str(name),
                   kind=input_kind(get_field(data, "Type", default="Data Stream"), file=file, field_name="Type"),
                   data_source_type=get_field(data, "DataSourceType"),
                   serialization=Serialization.from_json(get_field(data, "Serialization"), file=file),
                   file=file, raw=dict(data))

    def to_json(self) -> dict[str, Any]:
        """The VS Code shape; unknown source settings from the file read are kept."""
        data = dict(self.raw) if self.raw and not get_field(self.raw, "properties") else {}
        data.update({"InputAlias": self.alias, "Type": _KIND_LABELS[self.kind],
                     "DataSourceType": self.data_source_type, "Serialization": self.serialization.to_json(),
                     "ScriptType": "Input"})
        return data


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """One ``Outputs/<alias>.json``."""

    alias: str
    data_source_type: str | None = None
    serialization: Serialization | None = None
    file: Path | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, file: Path | None = None,
                  alias: str | None = None) -> OutputSpec:
        props = get_field(data, "properties")
        if isinstance(props, Mapping):
            source = get_field(props, "datasource") or {}
            serialization = get_field(props, "serialization")
            return cls(alias=str(get_field(data, "name", default=alias or "")),
                       data_source_type=get_field(source, "type"),
                       serialization=Serialization.from_json(serialization, file=file) if serialization else None,
                       file=file, raw=dict(data))
        name = get_field(data, "Alias", "OutputAlias", "Name", default=alias)
        if not name:
            raise ProjectError("output has no alias", file=str(file) if file else None, field="Alias")
        serialization = get_field(data, "Serialization")
        return cls(alias=str(name), data_source_type=get_field(data, "DataSourceType"),
                   serialization=Serialization.from_json(serialization, file=file) if serialization else None,
                   file=file, raw=dict(data))

    def to_json(self) -> dict[str, Any]:
        data = dict(self.raw) if self.raw and not get_field(self.raw, "properties") else {}
        data.update({"Alias": self.alias, "DataSourceType": self.data_source_type, "ScriptType": "Output"})
        if self.serialization is not None:
            data["Serialization"] = self.serialization.to_json()
        return data


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One ``Functions/<alias>.json``: ``kind`` is 'ml', 'javascript_udf' or 'javascript_uda';
    ``definition`` the asanb object that runs it (MLFunction, JavaScriptFunction, JavaScriptAggregate)."""

    alias: str
    kind: str
    definition: Any
    file: Path | None = None
    script_file: Path | None = None


@dataclass(frozen=True, slots=True)
class JobSettings:
    """``JobConfig.json``: the runtime settings asanb uses (``config``) plus those it only carries
    (compatibility level, data locale) for export."""

    config: JobConfig = field(default_factory=JobConfig)
    compatibility_level: str = "1.2"
    data_locale: str = "en-US"
    file: Path | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, file: Path | None = None) -> JobSettings:
        """Field names as ARM ``StreamingJobProperties`` (any case); -1 late arrival = wait indefinitely."""
        where = str(file) if file else None
        props = get_field(data, "properties")
        source = props if isinstance(props, Mapping) else data
        changes: dict[str, Any] = {}
        numeric = {"streaming_units": ("StreamingUnits", int),
                   "events_late_arrival_max_delay_seconds": ("EventsLateArrivalMaxDelayInSeconds", float),
                   "events_out_of_order_max_delay_seconds": ("EventsOutOfOrderMaxDelayInSeconds", float)}
        for target, (name, convert) in numeric.items():
            value = get_field(source, name)
            if value is None:
                continue
            try:
                changes[target] = convert(value)
            except (TypeError, ValueError):
                raise ProjectError(f"{value!r} is not a number", file=where, field=name) from None
        late = changes.get("events_late_arrival_max_delay_seconds")
        if late is not None and late < 0:
            # -1 means wait indefinitely (../shared/spec/asa_project.md, JobConfig.json).
            changes["events_late_arrival_max_delay_seconds"] = WAIT_INDEFINITELY_SECONDS
        for target, name in (("events_out_of_order_policy", "EventsOutOfOrderPolicy"),
                             ("output_error_policy", "OutputErrorPolicy")):
            value = get_field(source, name)
            if value is not None:
                changes[target] = str(value).capitalize()
        try:
            config = JobConfig(**changes)
        except ProjectError:
            raise
        except Exception as error:  # ConfigError from JobConfig's own checks
            raise ProjectError(str(error), file=where) from None
        return cls(config=config, compatibility_level=str(get_field(source, "CompatibilityLevel", default="1.2")),
                   data_locale=str(get_field(source, "DataLocale", default="en-US")), file=file, raw=dict(data))

    def to_json(self) -> dict[str, Any]:
        """The VS Code ``JobConfig.json`` shape."""
        late = self.config.events_late_arrival_max_delay_seconds
        return {
            "ScriptType": "JobConfig",
            "DataLocale": self.data_locale,
            "OutputErrorPolicy": self.config.output_error_policy,
            "EventsLateArrivalMaxDelayInSeconds": -1 if late >= WAIT_INDEFINITELY_SECONDS else int(late),
            "EventsOutOfOrderMaxDelayInSeconds": int(self.config.events_out_of_order_max_delay_seconds),
            "EventsOutOfOrderPolicy": self.config.events_out_of_order_policy,
            "StreamingUnits": self.config.streaming_units,
            "CompatibilityLevel": self.compatibility_level,
        }


@dataclass(frozen=True, slots=True)
class Project:
    """An ASA project: the query script, job settings, inputs (with their local input files), outputs and
    functions. ``Project.load("asaproj.json")`` reads one; ``run()`` runs it on its local inputs."""

    name: str
    script: str
    settings: JobSettings = field(default_factory=JobSettings)
    inputs: tuple[InputSpec, ...] = ()
    outputs: tuple[OutputSpec, ...] = ()
    functions: tuple[FunctionSpec, ...] = ()
    root: Path | None = None  # the folder holding asaproj.json
    script_path: Path | None = None
    project_file: Path | None = None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Project:
        """Read ``asaproj.json`` (or the folder holding it) and every file it names.

        Raises:
            ProjectError: a file is missing or malformed; the message names the file, field or line.
        """
        from asanb.project.loader import load_project

        return load_project(path)

    @property
    def config(self) -> JobConfig:
        """The runtime settings of JobConfig.json."""
        return self.settings.config

    def input(self, alias: str) -> InputSpec:
        return _by_alias(self.inputs, alias, "input", self.project_file)

    def output(self, alias: str) -> OutputSpec:
        return _by_alias(self.outputs, alias, "output", self.project_file)

    def function(self, alias: str) -> FunctionSpec:
        return _by_alias(self.functions, alias, "function", self.project_file)

    def run(self, inputs: Mapping[str, Any] | None = None, *, config: JobConfig | None = None,
            **options: Any) -> Any:
        """Run the script on the local input files (``inputs`` overrides sources by alias) and return
        ``asanb.Results``; ``options`` go to ``asanb.run`` (on_progress, stop ...)."""
        from asanb.project.runner import run_project

        return run_project(self, inputs, config=config, **options)


_Aliased = TypeVar("_Aliased", InputSpec, OutputSpec, FunctionSpec)


def _by_alias(items: tuple[_Aliased, ...], alias: str, kind: str, file: Path | None) -> _Aliased:
    for item in items:
        if item.alias.lower() == alias.lower():
            return item
    known = ", ".join(item.alias for item in items) or "(none)"
    raise ProjectError(f"no {kind} '{alias}'; the project has: {known}", file=str(file) if file else None)
