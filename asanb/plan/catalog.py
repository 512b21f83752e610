"""What the planner may know: input schemas, user-defined functions, and SAQL's function families."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from asanb.errors import Span

AGGREGATE_FUNCTIONS = frozenset({
    "count", "sum", "avg", "min", "max", "stdev", "stdevp", "var", "varp", "topone", "collect", "collecttop",
    "percentile_cont", "percentile_disc",
})
ANALYTIC_FUNCTIONS = frozenset({"lag", "last", "isfirst"})
WINDOW_FUNCTIONS = frozenset({
    "tumblingwindow", "hoppingwindow", "slidingwindow", "sessionwindow", "snapshotwindow", "windows",
})

ArgumentCheck = Callable[[Sequence[str], Span], None]
"""Validates a call's argument kinds ('record', 'array' or an ASA scalar type / 'any'); raises PlanError."""


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    """A registered user-defined function as the planner sees it."""

    alias: str
    namespace: str = "udf"
    output_type: str = "any"
    check_arguments: ArgumentCheck | None = None


@dataclass(frozen=True, slots=True)
class Catalog:
    """Input aliases with their columns (case kept), the user-defined functions by lower-case alias, and the
    reference data aliases with their columns."""

    inputs: Mapping[str, tuple[str, ...]]
    functions: Mapping[str, FunctionInfo] = field(default_factory=dict)
    references: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def input_columns(self, name: str) -> tuple[str, tuple[str, ...]] | None:
        """(alias as registered, columns) for ``name`` folded for case, or None."""
        for alias, columns in self.inputs.items():
            if alias.lower() == name.lower():
                return alias, columns
        return None

    def reference_columns(self, name: str) -> tuple[str, tuple[str, ...]] | None:
        """(alias as registered, columns) of reference data ``name`` folded for case, or None."""
        for alias, columns in self.references.items():
            if alias.lower() == name.lower():
                return alias, columns
        return None

    def function(self, namespace: str, name: str) -> FunctionInfo | None:
        info = self.functions.get(name.lower())
        if info is None or info.namespace != namespace:
            return None
        return info
