"""Lint: the udf-in-case rule (../shared/spec/ml_udf.md §6)."""

from __future__ import annotations

from asanb.sql.lint import Diagnostic, lint, walk
from asanb.sql.parser import parse


def test_udf_inside_case_is_reported_once_with_its_span() -> None:
    text = ("SELECT CASE WHEN a IS NOT NULL THEN CASE WHEN b > 1 THEN udf.score(a) END ELSE '' END AS s\n"
            "FROM input")
    diagnostics = lint(parse(text))
    assert len(diagnostics) == 1
    diagnostic = diagnostics[0]
    assert isinstance(diagnostic, Diagnostic) and diagnostic.code == "udf-in-case"
    assert text[diagnostic.span.start:diagnostic.span.end] == "udf.score(a)"
    assert "every row" in diagnostic.message and "UNION" in diagnostic.message and "WITH" in diagnostic.message


def test_udf_outside_case_and_uda_in_case_are_fine() -> None:
    assert lint(parse("SELECT udf.score(a), CASE WHEN a > 1 THEN uda.agg(a) END FROM input")) == []


def test_rule_looks_inside_steps_and_conditions() -> None:
    query = parse("WITH s AS (SELECT a FROM t WHERE CASE udf.f(a) WHEN 1 THEN 1 ELSE 0 END = 1) SELECT a FROM s")
    assert [d.code for d in lint(query)] == ["udf-in-case"]


def test_walk_visits_every_node() -> None:
    names = {type(node).__name__ for node in walk(parse("SELECT a + 1 FROM t WHERE b IS NULL"))}
    assert {"Query", "Select", "SelectItem", "BinaryOp", "ColumnRef", "Literal", "Source", "IsNull"} <= names
