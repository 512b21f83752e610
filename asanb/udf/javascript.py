"""JavaScriptFunction and JavaScriptAggregate: ASA's JavaScript UDF (``udf.<alias>``) and UDA (``uda.<alias>``)
definitions, checked at registration, and their ``Functions/<alias>.json`` form (../shared/spec/ml_udf.md §8).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from asanb.errors import ConfigError
from asanb.types import ASA_TYPES

__all__ = ["BINDING_TYPE", "JavaScriptAggregate", "JavaScriptFunction"]

BINDING_TYPE = "Microsoft.StreamAnalytics/JavascriptUdf"
_TYPES = frozenset(ASA_TYPES) | {"any"}


@dataclass(frozen=True, slots=True)
class _JavaScriptDefinition:
    alias: str
    script: str = field(repr=False)
    inputs: tuple[str, ...] | None = None
    output: str = "any"
    time_limit_seconds: float = 10.0
    memory_limit_mb: int = 256

    kind: ClassVar[str] = "udf"
    function_type: ClassVar[str] = "Scalar"
    asa_compatible: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not self.alias or not self.alias.replace("_", "a").isalnum():
            raise ConfigError(f"function alias {self.alias!r} must be letters, digits or underscores")
        if not isinstance(self.script, str) or not self.script.strip():
            raise ConfigError(f"{self.kind}.{self.alias}: script must be JavaScript source text")
        if self.inputs is not None:
            object.__setattr__(self, "inputs", tuple(_asa_type(t, self) for t in self.inputs))
        object.__setattr__(self, "output", _asa_type(self.output, self))
        if self.time_limit_seconds <= 0 or self.memory_limit_mb < 16:
            raise ConfigError(f"{self.kind}.{self.alias}: time_limit_seconds must be positive and "
                              "memory_limit_mb at least 16")
        # Registration compiles the script once, so syntax errors and name mismatches surface here.
        self.open().close()

    def open(self) -> Any:
        """A fresh engine context for this function (one per job run)."""
        from asanb.udf.js_engine import ScriptContext

        return ScriptContext(self.alias, self.script, kind=self.kind, time_limit_seconds=self.time_limit_seconds,
                             memory_limit_mb=self.memory_limit_mb)

    def to_function_json(self) -> dict[str, Any]:
        """The ASA project's ``Functions/<alias>.json`` (ARM function resource with a JavaScript binding)."""
        return {
            "name": self.alias,
            "type": "Microsoft.StreamAnalytics/streamingjobs/functions",
            "properties": {
                "type": self.function_type,
                "properties": {
                    "inputs": [{"dataType": t, "isConfigurationParameter": None} for t in self.inputs or ()],
                    "output": {"dataType": self.output},
                    "binding": {"type": BINDING_TYPE, "properties": {"script": self.script}},
                },
            },
            "asanb": {"timeLimitSeconds": self.time_limit_seconds, "memoryLimitMb": self.memory_limit_mb},
        }

    @classmethod
    def from_function_json(cls, data: dict[str, Any], alias: str | None = None,
                           script: str | None = None) -> Any:
        """Read a function JSON written by ASA tools or ``to_function_json``; ``script`` overrides the
        binding's script (VS Code projects keep it in a ``.js`` file next to the JSON)."""
        try:
            outer = data["properties"]
            inner = outer["properties"]
            binding = inner["binding"]
        except (KeyError, TypeError) as error:
            raise ConfigError(f"function JSON lacks properties.properties.binding ({error})") from None
        if binding.get("type") != BINDING_TYPE:
            raise ConfigError(f"function JSON binding type {binding.get('type')!r} is not {BINDING_TYPE!r}")
        if outer.get("type", cls.function_type) != cls.function_type:
            raise ConfigError(f"function JSON is a {outer.get('type')} function; {cls.__name__} reads "
                              f"{cls.function_type} functions")
        text = script if script is not None else (binding.get("properties") or {}).get("script", "")
        inputs = inner.get("inputs")
        extra = data.get("asanb", {})
        return cls(
            alias=alias or data.get("name", ""),
            script=text,
            inputs=tuple(i.get("dataType", "any") for i in inputs) if inputs else None,
            output=(inner.get("output") or {}).get("dataType", "any"),
            time_limit_seconds=float(extra.get("timeLimitSeconds", 10.0)),
            memory_limit_mb=int(extra.get("memoryLimitMb", 256)),
        )

    @classmethod
    def from_files(cls, json_path: str | Path, script_path: str | Path | None = None) -> Any:
        """Load ``Functions/<alias>.json`` (and its ``.js`` script when the JSON does not embed it)."""
        import json

        path = Path(json_path)
        data = json.loads(path.read_text(encoding="utf-8"))
        # VS Code ASA projects pair Functions/<alias>.js.json with Functions/<alias>.js.
        stem = path.name.removesuffix(".json").removesuffix(".js")
        js = Path(script_path) if script_path else path.with_name(f"{stem}.js")
        script = js.read_text(encoding="utf-8") if js.exists() else None
        alias = stem
        return cls.from_function_json(data, alias=data.get("name") or alias, script=script)


def _asa_type(name: str, definition: _JavaScriptDefinition) -> str:
    folded = str(name).strip().lower()
    if folded == "nvarchar":
        folded = "nvarchar(max)"
    if folded == "double":
        folded = "float"
    if folded not in _TYPES:
        raise ConfigError(f"{definition.kind}.{definition.alias}: {name!r} is not an ASA data type "
                          f"({', '.join(sorted(_TYPES))})")
    return folded


@dataclass(frozen=True, slots=True)
class JavaScriptFunction(_JavaScriptDefinition):
    """A JavaScript UDF called as ``udf.<alias>(...)``, run in an embedded V8 on any OS.

    Args:
        alias: the name used in the query.
        script: one function definition named ``main`` or the alias (or anonymous), e.g.
            ``function createArray(a, b) { return [a, b]; }``.
        inputs: the ASA types of the parameters (checks the call's argument count; 'datetime' parses
            ISO strings into Dates). None: any arguments.
        output: the ASA type of the result ('any' keeps each value's own type).
        time_limit_seconds: the most one call (one micro-batch) may take before it is stopped.
        memory_limit_mb: the heap limit of the function's V8 isolate.
    """


@dataclass(frozen=True, slots=True)
class JavaScriptAggregate(_JavaScriptDefinition):
    """A JavaScript UDA called as ``uda.<alias>(value)`` in a windowed GROUP BY.

    ``script`` defines ``function main() { this.init = ...; this.accumulate = function (value, timestamp)
    {...}; this.computeResult = ...; }`` with optional ``deaccumulate``/``deaccumulateState``
    (ASA's AccumulateOnly and AccumulateDeaccumulate templates). Other arguments as JavaScriptFunction.
    """

    kind: ClassVar[str] = "uda"
    function_type: ClassVar[str] = "Aggregate"
