"""Write a shared conformance case (../shared/conformance/cases/*.json) out as an ASA project: the query
script, Inputs/ with local input files, Outputs/ stubs and a test/testConfig.json whose one case feeds the
case's events and expects its rows, so ``asanb test`` checks the same thing as the conformance runner."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from asanb.errors import ProjectError
from asanb.project.model import JobSettings, LocalInput, OutputSpec, Serialization

__all__ = ["write_conformance_project"]


def write_conformance_project(case: Mapping[str, Any] | str | os.PathLike[str],
                              directory: str | os.PathLike[str]) -> Path:
    """Write the project into ``directory`` (created) and return its asaproj.json."""
    if isinstance(case, Mapping):
        return _write(case, Path(directory))
    source = Path(case)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ProjectError(f"cannot read the conformance case: {error}", file=str(source)) from None
    return _write(data, Path(directory))


def _write(case: Mapping[str, Any], root: Path) -> Path:
    name = str(case.get("name") or "case")
    for folder in ("Inputs", "Outputs", "test/Case1"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / f"{name}.asaql").write_text(str(case["query"]), encoding="utf-8")
    configurations = [{"filePath": "JobConfig.json", "subType": "JobConfig"}]
    _dump(root / "JobConfig.json", JobSettings().to_json())
    case_inputs, case_outputs = [], []
    sources = [(alias, rows, "stream") for alias, rows in (case.get("inputs") or {}).items()]
    sources += [(alias, rows, "reference") for alias, rows in (case.get("reference_inputs") or {}).items()]
    for alias, rows, kind in sources:
        data_file = root / "Inputs" / f"{alias}_data.json"
        _dump(data_file, rows)
        local = LocalInput(alias=alias, path=data_file, kind=kind)
        _dump(root / "Inputs" / f"{alias}.json", {**_input_stub(alias, kind)})
        _dump(root / "Inputs" / f"local_{alias}.json", local.to_json(root / "Inputs"))
        configurations += [{"filePath": f"Inputs/{alias}.json", "subType": "Input"},
                           {"filePath": f"Inputs/local_{alias}.json", "subType": "InputMock"}]
        case_file = root / "test" / "Case1" / f"{alias}.json"
        _dump(case_file, rows)
        case_inputs.append({**LocalInput(alias=alias, path=case_file, kind=kind).to_json(root / "test")})
    for alias, rows in (case.get("expected") or {}).items():
        stub = OutputSpec(alias=alias, data_source_type="Blob storage",
                          serialization=Serialization(json_format="LineSeparated"))
        _dump(root / "Outputs" / f"{alias}.json", stub.to_json())
        configurations.append({"filePath": f"Outputs/{alias}.json", "subType": "Output"})
        expected_file = root / "test" / "Case1" / f"expected_{alias}.json"
        _dump(expected_file, rows)
        case_outputs.append({"OutputAlias": alias, "FilePath": f"Case1/expected_{alias}.json", "IgnoreFields": [],
                             "Required": True, "OrderSensitive": bool(case.get("order_sensitive"))})
    _dump(root / "asaproj.json", {"name": name, "startFile": f"{name}.asaql", "configurations": configurations})
    _dump(root / "test" / "testConfig.json",
          {"Script": f"../{name}.asaql",
           "TestCases": [{"Name": name, "Inputs": case_inputs, "ExpectedOutputs": case_outputs}]})
    return root / "asaproj.json"


def _input_stub(alias: str, kind: str) -> dict[str, Any]:
    return {"InputAlias": alias, "Type": "Reference Data" if kind == "reference" else "Data Stream",
            "DataSourceType": "Blob storage" if kind == "reference" else "Event Hub",
            "Serialization": Serialization().to_json(), "ScriptType": "Input"}


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
