"""Printer: parse -> print -> parse is the identity (spans aside) over a fixture of every construct."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from asanb.sql import ast
from asanb.sql.parser import parse
from asanb.sql.printer import to_asa_text, to_saql

FIXTURE = Path(__file__).parent / "fixtures" / "identity.saql"
QUERIES = [q.strip() for q in re.split(r"(?m)^----\s*$", FIXTURE.read_text()) if q.strip()]


@pytest.mark.parametrize("query", QUERIES, ids=[f"q{i}" for i in range(len(QUERIES))])
def test_round_trip(query: str, strip_spans: Callable[[object], object]) -> None:
    first = parse(query)
    printed = to_saql(first)
    second = parse(printed)
    assert strip_spans(second) == strip_spans(first)
    assert to_saql(second) == printed


def test_fixture_covers_many_queries() -> None:
    assert len(QUERIES) >= 25


def test_minimal_parentheses() -> None:
    printed = to_saql(parse("SELECT (a + b) * c, a + (b * c), a - (b - c), (a - b) - c, NOT (a AND b) FROM t"))
    assert printed.splitlines()[0] == "SELECT (a + b) * c, a + b * c, a - (b - c), a - b - c, NOT (a AND b)"


def test_names_are_bracketed_when_needed() -> None:
    printed = to_saql(parse("SELECT [select], [a b], [x]]y], plain FROM [from]"))
    assert printed == "SELECT [select], [a b], [x]]y], plain\nFROM [from]"


def test_prints_single_nodes() -> None:
    select = parse("SELECT a FROM t GROUP BY SessionWindow(minute, 5, 10)").statements[0]
    assert isinstance(select, ast.Select) and select.group_by is not None
    assert to_saql(select.group_by.window) == "SessionWindow(minute, 5, 10)"
    assert to_saql(select.items[0]) == "a"


def test_to_asa_text_rewrites_only_hash_comment_lines() -> None:
    text = "WITH s AS (\n  # score it\nSELECT '#x' AS h FROM t -- keep\n)\r\n#end\nSELECT * FROM s"
    assert to_asa_text(text) == text.replace("  # score", "  -- score").replace("\n#end", "\n--end")
    exported = to_asa_text(text)
    assert [c.style for c in parse(exported).comments] == ["--", "--", "--"]


def test_to_asa_text_on_invalid_text_still_rewrites_lines() -> None:
    assert to_asa_text("# note\nSELECT 'unterminated") == "-- note\nSELECT 'unterminated"
