"""Read an azure-streamanalytics-cicd ``test/testConfig.json`` into frozen test cases
(../shared/spec/asa_project.md, "Local run and tests"). File paths resolve against the testConfig folder,
then the project folder; a file that is missing is recorded, not raised, so each case reports its own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asanb.errors import ProjectError
from asanb.project.loader import read_json, resolve_file
from asanb.project.model import REFERENCE, get_field, input_kind

__all__ = ["CaseInput", "ExpectedOutput", "TestCase", "TestConfig", "read_test_config"]


@dataclass(frozen=True, slots=True)
class CaseInput:
    """One ``Inputs`` entry: the events of ``alias`` for this case."""

    alias: str
    kind: str
    format: str
    path: Path
    field: str  # where it was declared, e.g. TestCases[0].Inputs[1]

    @property
    def is_reference(self) -> bool:
        return self.kind == REFERENCE


@dataclass(frozen=True, slots=True)
class ExpectedOutput:
    """One ``ExpectedOutputs`` entry. ``order_sensitive`` is an asanb extension (``OrderSensitive``);
    the cicd tool has no such flag and rows compare as a multiset."""

    alias: str
    path: Path
    ignore_fields: tuple[str, ...] = ()
    required: bool = True
    order_sensitive: bool = False
    field: str = ""


@dataclass(frozen=True, slots=True)
class TestCase:
    name: str
    inputs: tuple[CaseInput, ...]
    expected: tuple[ExpectedOutput, ...]
    problem: str | None = None  # a malformed entry: the case fails with this message instead of running


@dataclass(frozen=True, slots=True)
class TestConfig:
    file: Path
    script: Path | None
    cases: tuple[TestCase, ...]


def read_test_config(path: Path, project_root: Path) -> TestConfig:
    """The cases of ``path``; a file that is missing or not JSON, or has no TestCases list, is a ProjectError."""
    data = read_json(path, what="test configuration")
    if not isinstance(data, Mapping):
        raise ProjectError("a testConfig.json must hold a JSON object", file=str(path))
    cases = get_field(data, "TestCases")
    if not isinstance(cases, list):
        raise ProjectError("missing or not a list", file=str(path), field="TestCases")
    script_ref = get_field(data, "Script")
    script = resolve_file(str(script_ref), path.parent, project_root) if script_ref else None
    bases = (path.parent, project_root)
    return TestConfig(file=path, script=script,
                      cases=tuple(_case(entry, index, path, bases) for index, entry in enumerate(cases)))


def _case(entry: Any, index: int, file: Path, bases: tuple[Path, Path]) -> TestCase:
    where = f"TestCases[{index}]"
    if not isinstance(entry, Mapping):
        return TestCase(name=f"Case {index + 1}", inputs=(), expected=(), problem=f"{file}: {where} is not an object")
    name = str(get_field(entry, "Name", default=f"Case {index + 1}"))
    try:
        inputs = tuple(_input(item, f"{where}.Inputs[{j}]", file, bases)
                       for j, item in enumerate(get_field(entry, "Inputs", default=[]) or []))
        expected = tuple(_expected(item, f"{where}.ExpectedOutputs[{j}]", file, bases)
                         for j, item in enumerate(get_field(entry, "ExpectedOutputs", default=[]) or []))
    except ProjectError as error:
        return TestCase(name=name, inputs=(), expected=(), problem=str(error))
    return TestCase(name=name, inputs=inputs, expected=expected)


def _path(item: Mapping[str, Any], where: str, file: Path, bases: tuple[Path, Path]) -> Path:
    reference = get_field(item, "FilePath")
    if not reference:
        raise ProjectError("missing", file=str(file), field=f"{where}.FilePath")
    found = resolve_file(str(reference), *bases)
    if found is None:
        raise ProjectError(f"file {reference!r} does not exist (looked in {bases[0]} and {bases[1]})",
                           file=str(file), field=f"{where}.FilePath")
    return found


def _alias(item: Any, key: str, where: str, file: Path) -> Any:
    """A test case entry must be an object naming its alias."""
    if not isinstance(item, Mapping):
        raise ProjectError("not an object", file=str(file), field=where)
    alias = get_field(item, key)
    if not alias:
        raise ProjectError("missing", file=str(file), field=f"{where}.{key}")
    return alias


def _input(item: Any, where: str, file: Path, bases: tuple[Path, Path]) -> CaseInput:
    alias = _alias(item, "InputAlias", where, file)
    kind = input_kind(get_field(item, "Type", default="Data Stream"), file=file, field_name=f"{where}.Type")
    return CaseInput(alias=str(alias), kind=kind, format=str(get_field(item, "Format", default="Json")).capitalize(),
                     path=_path(item, where, file, bases), field=where)


def _expected(item: Any, where: str, file: Path, bases: tuple[Path, Path]) -> ExpectedOutput:
    alias = _alias(item, "OutputAlias", where, file)
    required = get_field(item, "Required", default=True)
    ignore = get_field(item, "IgnoreFields", default=[]) or []
    if not isinstance(ignore, list):
        raise ProjectError("must be a list of column names", file=str(file), field=f"{where}.IgnoreFields")
    # An unrequired output is not validated, so its expected file need not exist.
    path = _path(item, where, file, bases) if required is not False else Path(
        str(get_field(item, "FilePath", default="")).replace("\\", "/"))
    return ExpectedOutput(alias=str(alias), path=path, ignore_fields=tuple(str(name) for name in ignore),
                          required=required is not False,
                          order_sensitive=bool(get_field(item, "OrderSensitive", default=False)), field=where)
