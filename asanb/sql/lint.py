"""Advice on valid SAQL that does not do what it seems to: rules over the syntax tree, as Diagnostics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from asanb.errors import Span
from asanb.sql import ast
from asanb.sql.tree import walk

__all__ = ["Diagnostic", "lint", "walk"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: a rule code, what to do about it, and where."""

    code: str
    message: str
    span: Span


def _udf_in_case(query: ast.Query) -> Iterator[Diagnostic]:
    # ASA calls an ML UDF for every row of its step, CASE or not (../shared/spec/ml_udf.md §6).
    seen: set[int] = set()
    for node in walk(query):
        if not isinstance(node, ast.Case):
            continue
        for inner in walk(node):
            if isinstance(inner, ast.FunctionCall) and inner.namespace == "udf" and id(inner) not in seen:
                seen.add(id(inner))
                yield Diagnostic(
                    "udf-in-case",
                    f"udf.{inner.name} is inside CASE, but Azure Stream Analytics calls an ML UDF for every row "
                    "of the step anyway, so the condition saves no scoring requests. To score only the rows "
                    "that need it, filter them in their own WITH step (WHERE <condition>), call the UDF there, "
                    "and merge it with the other rows' step using UNION.",
                    inner.span,
                )


_RULES = (_udf_in_case,)


def lint(query: ast.Query) -> list[Diagnostic]:
    """All diagnostics for ``query``, in rule order then source order."""
    return [diagnostic for rule in _RULES for diagnostic in rule(query)]
