"""Parser: every construct of the grammar, the shared conformance queries, spans and error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shared_location import SHARED  # noqa: E402

from asanb.errors import AsaSyntaxError, Span
from asanb.sql import ast
from asanb.sql.parser import parse

CASES = sorted((SHARED / "conformance" / "cases").glob("*.json")) if SHARED else []


def select(text: str) -> ast.Select:
    statement = parse(text).statements[0]
    assert isinstance(statement, ast.Select)
    return statement


def expr(text: str) -> ast.Expr:
    return select(f"SELECT {text} FROM t").items[0].expr


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_conformance_queries_parse(path: Path) -> None:
    query = parse(json.loads(path.read_text())["query"])
    assert query.statements


def test_select_list_forms() -> None:
    s = select("SELECT DISTINCT TOP 5 *, t.*, a AS x, b y, c AS [z z], d AS 'q' INTO out FROM t")
    assert s.distinct and s.top == 5 and s.into == "out"
    assert s.items[0].expr == ast.Star(None, Span(1, 23, 22, 23))
    assert isinstance(s.items[1].expr, ast.Star) and s.items[1].expr.qualifier == "t"
    assert [item.alias for item in s.items] == [None, None, "x", "y", "z z", "q"]
    assert s.into_span == Span(1, 70, 69, 72)


def test_precedence_and_associativity() -> None:
    e = expr("1 + 2 * 3 - 4")
    assert isinstance(e, ast.BinaryOp) and e.op == "-"
    assert isinstance(e.left, ast.BinaryOp) and e.left.op == "+"
    assert isinstance(e.left.right, ast.BinaryOp) and e.left.right.op == "*"
    w = select("SELECT a FROM t WHERE NOT a = 1 OR b > 2 AND c < 3").where
    assert isinstance(w, ast.BinaryOp) and w.op == "or"
    assert isinstance(w.left, ast.UnaryOp) and w.left.op == "not" and isinstance(w.left.operand, ast.BinaryOp)
    assert isinstance(w.right, ast.BinaryOp) and w.right.op == "and"


def test_literals_and_negative_numbers() -> None:
    values = [(item.expr.value, item.expr.type_name) for item in
              select("SELECT 1, 2.5, 'x', TRUE, FALSE, NULL, -3 FROM t").items]  # type: ignore[union-attr]
    assert values == [(1, "bigint"), (2.5, "float"), ("x", "nvarchar(max)"), (True, "bit"), (False, "bit"),
                      (None, "null"), (-3, "bigint")]
    assert isinstance(expr("-a"), ast.UnaryOp)


def test_predicates() -> None:
    w = select("SELECT a FROM t WHERE a IS NOT NULL AND b NOT IN (1, 2) AND c BETWEEN 1 AND 2 "
               "AND d NOT LIKE 'x%'").where
    found = {type(node).__name__: node for node in _conjuncts(w)}
    assert found["IsNull"].negated and found["InList"].negated and len(found["InList"].items) == 2
    assert not found["Between"].negated and found["Like"].negated


def _conjuncts(node: object) -> list[object]:
    if isinstance(node, ast.BinaryOp) and node.op == "and":
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def test_case_and_cast() -> None:
    searched = expr("CASE WHEN a > 1 THEN 'x' ELSE 'y' END")
    assert isinstance(searched, ast.Case) and searched.operand is None and searched.else_result is not None
    simple = expr("CASE a WHEN 1 THEN 'one' WHEN 2 THEN 'two' END")
    assert isinstance(simple, ast.Case) and simple.operand is not None and len(simple.whens) == 2
    cast = expr("TRY_CAST(a AS NVARCHAR(MAX))")
    assert isinstance(cast, ast.Cast) and cast.is_try and cast.type.name == "nvarchar(max)"
    with pytest.raises(AsaSyntaxError, match="valid types: bigint, float"):
        parse("SELECT CAST(a AS int) FROM t")


def test_calls_namespaces_and_units() -> None:
    udf = expr("udf.Score(a, b)")
    assert isinstance(udf, ast.FunctionCall) and (udf.namespace, udf.name) == ("udf", "Score")
    assert udf.span.start == 7
    ts = expr("System.Timestamp()")
    assert isinstance(ts, ast.FunctionCall) and (ts.namespace, ts.name) == ("system", "timestamp")
    count = expr("COUNT(*)")
    assert isinstance(count, ast.FunctionCall) and count.star and count.name == "count"
    distinct = expr("Count(DISTINCT a)")
    assert isinstance(distinct, ast.FunctionCall) and distinct.distinct and distinct.name == "count"
    dateadd = expr("DATEADD(mi, 5, t)")
    assert isinstance(dateadd, ast.FunctionCall) and dateadd.args[0] == ast.TimeUnit("minute", Span(1, 16, 15, 17))
    with pytest.raises(AsaSyntaxError, match="unknown time unit 'fortnight'"):
        parse("SELECT DATEPART(fortnight, t) FROM t")


@pytest.mark.parametrize(("alias", "unit"), [
    ("yy", "year"), ("yyyy", "year"), ("qq", "quarter"), ("q", "quarter"), ("mm", "month"), ("m", "month"),
    ("dy", "dayofyear"), ("y", "dayofyear"), ("dd", "day"), ("d", "day"), ("wk", "week"), ("ww", "week"),
    ("dw", "weekday"), ("w", "weekday"), ("hh", "hour"), ("mi", "minute"), ("n", "minute"), ("ss", "second"),
    ("s", "second"), ("ms", "millisecond"), ("mcs", "microsecond"), ("ns", "nanosecond"), ("HOUR", "hour"),
])
def test_unit_abbreviations(alias: str, unit: str) -> None:
    call = expr(f"DATEPART({alias}, t)")
    assert isinstance(call, ast.FunctionCall) and isinstance(call.args[0], ast.TimeUnit)
    assert call.args[0].name == unit


def test_over_clause() -> None:
    lag = expr("LAG(a, 1) OVER (PARTITION BY d, e LIMIT DURATION(hh, 2) WHEN a > 0)")
    assert isinstance(lag, ast.FunctionCall) and lag.over is not None
    assert len(lag.over.partition_by) == 2 and lag.over.when is not None
    assert lag.over.limit_duration is not None and lag.over.limit_duration.unit.name == "hour"
    assert lag.over.limit_duration.amount == 2.0
    top = expr("TopOne() OVER (ORDER BY a DESC, b ASC)")
    assert isinstance(top, ast.FunctionCall) and top.over is not None
    assert [item.descending for item in top.over.order_by] == [True, False]


def test_dotted_and_bracketed_names() -> None:
    ref = expr("t.[select].[a b].c")
    assert isinstance(ref, ast.ColumnRef) and ref.parts == ("t", "select", "a b", "c")
    assert isinstance(expr("[select]"), ast.ColumnRef)
    assert expr("timestamp") == ast.ColumnRef(("timestamp",), Span(1, 8, 7, 16))


def test_from_clause_source_options() -> None:
    source = select("SELECT a FROM input AS i TIMESTAMP BY t OVER d, e PARTITION BY p").from_
    assert isinstance(source, ast.Source) and source.alias == "i" and source.reference_name == "i"
    assert source.span == Span(1, 15, 14, 19)
    assert isinstance(source.timestamp_by, ast.ColumnRef) and len(source.timestamp_over) == 2
    assert len(source.partition_by) == 1


@pytest.mark.parametrize(("join", "kind"), [("JOIN", "inner"), ("INNER JOIN", "inner"), ("LEFT JOIN", "left"),
                                            ("LEFT OUTER JOIN", "left")])
def test_joins(join: str, kind: str) -> None:
    item = select(f"SELECT a.x FROM a {join} b ON a.id = b.id").from_
    assert isinstance(item, ast.Join) and item.kind == kind and item.condition is not None
    assert isinstance(item.right, ast.Source) and item.right.name == "b"


def test_apply() -> None:
    item = select("SELECT e.ArrayValue FROM t CROSS APPLY GetArrayElements(t.arr) AS e "
                  "OUTER APPLY GetRecordProperties(t.r) AS p").from_
    assert isinstance(item, ast.Join) and item.kind == "apply" and isinstance(item.right, ast.Apply)
    assert item.right.outer and item.right.alias == "p"
    assert isinstance(item.left, ast.Join) and isinstance(item.left.right, ast.Apply)
    assert not item.left.right.outer and item.left.right.call.name == "getarrayelements"


@pytest.mark.parametrize(("window", "expected"), [
    ("TumblingWindow(second, 10)", ("tumbling", "second", 10.0, None, None, None)),
    ("tumblingwindow(ss, 10, 2)", ("tumbling", "second", 10.0, None, 2.0, None)),
    ("HoppingWindow(minute, 10, 5)", ("hopping", "minute", 10.0, 5.0, None, None)),
    ("HoppingWindow(minute, 10, 5, -1)", ("hopping", "minute", 10.0, 5.0, -1.0, None)),
    ("SlidingWindow(hour, 1)", ("sliding", "hour", 1.0, None, None, None)),
    ("SessionWindow(minute, 5, 60)", ("session", "minute", 5.0, None, None, 60.0)),
    ("TumblingWindow(Duration(hour, 1), Offset(millisecond, -1))",
     ("tumbling", "millisecond", 3_600_000.0, None, -1.0, None)),
    ("HoppingWindow(Duration(hour, 1), Hop(minute, 5))", ("hopping", "minute", 60.0, 5.0, None, None)),
])
def test_windows(window: str, expected: tuple[object, ...]) -> None:
    group_by = select(f"SELECT COUNT(*) FROM t GROUP BY k, {window}").group_by
    assert group_by is not None and len(group_by.items) == 1
    w = group_by.window
    assert isinstance(w, ast.WindowSpec)
    assert (w.kind, w.unit.name if w.unit else None, w.size, w.hop, w.offset, w.max_duration) == expected
    assert w.span.start == len("SELECT COUNT(*) FROM t GROUP BY k, ") and w.span.end == w.span.start + len(window)


def test_snapshot_session_partition_and_window_sets() -> None:
    snap = select("SELECT COUNT(*) FROM t GROUP BY SnapshotWindow()").group_by
    assert snap is not None and isinstance(snap.window, ast.WindowSpec) and snap.window.kind == "snapshot"
    session = select("SELECT COUNT(*) FROM t GROUP BY SessionWindow(second, 1, 9) OVER (PARTITION BY d)").group_by
    assert session is not None and isinstance(session.window, ast.WindowSpec)
    assert len(session.window.partition_by) == 1
    sets = select("SELECT COUNT(*) FROM t GROUP BY Windows(TumblingWindow(minute, 1) AS 'a', "
                  "Window('b', HoppingWindow(minute, 5, 1)))").group_by
    assert sets is not None and isinstance(sets.window, ast.WindowSet)
    assert [(w.kind, w.name) for w in sets.window.windows] == [("tumbling", "a"), ("hopping", "b")]


def test_two_windows_without_windows_is_an_error() -> None:
    with pytest.raises(AsaSyntaxError, match="only one window") as caught:
        parse("SELECT COUNT(*) FROM t GROUP BY TumblingWindow(second, 1), HoppingWindow(second, 2, 1)")
    assert caught.value.span is not None and caught.value.span.column == 60


def test_with_steps_union_and_statements() -> None:
    query = parse("WITH a AS (SELECT x FROM t), b AS (SELECT x FROM t UNION SELECT x FROM u)\n"
                  "SELECT x INTO o1 FROM a;\nSELECT x INTO o2 FROM b UNION SELECT x FROM a")
    assert [step.name for step in query.steps] == ["a", "b"]
    assert isinstance(query.steps[1].body, ast.Union) and len(query.steps[1].body.selects) == 2
    assert len(query.statements) == 2
    union = query.statements[1]
    assert isinstance(union, ast.Union) and union.selects[0].into == "o2"


def test_clauses() -> None:
    s = select("SELECT k, COUNT(*) FROM t WHERE a > 1 GROUP BY k, TumblingWindow(s, 1) HAVING COUNT(*) > 2")
    assert s.where is not None and s.having is not None and s.group_by is not None
    assert s.group_by.span.start == s.group_by.span.start and parse_text_at(s.group_by.span).startswith("GROUP BY")


def parse_text_at(span: Span) -> str:
    text = "SELECT k, COUNT(*) FROM t WHERE a > 1 GROUP BY k, TumblingWindow(s, 1) HAVING COUNT(*) > 2"
    return text[span.start:span.end]


def test_spans_on_a_multi_line_query() -> None:
    text = "SELECT\n    a,\n    udf.f(b) AS c\nINTO out\nFROM input\nWHERE b > 1"
    s = select(text)
    call = s.items[1].expr
    assert isinstance(call, ast.FunctionCall) and (call.span.line, call.span.column) == (3, 5)
    assert text[call.span.start:call.span.end] == "udf.f(b)"
    assert s.into_span is not None and (s.into_span.line, s.into_span.column) == (4, 6)
    assert s.where is not None and (s.where.span.line, s.where.span.column) == (6, 7)
    assert text[s.span.start:s.span.end] == text


@pytest.mark.parametrize(("text", "message", "column"), [
    ("SELECT a WHERE b", "expected FROM after the select list, found 'WHERE'", 10),
    ("SELECT a INTO o WHERE b", "expected FROM after the INTO output, found 'WHERE'", 17),
    ("SELECT a FROM", "expected a name for the input or step to read FROM, found the end of the query", 14),
    ("SELECT FROM t", "expected an expression here, found 'FROM'", 8),
    ("SELECT (a FROM t", "expected ')' to close the parenthesis, found 'FROM'", 11),
    ("WITH s AS SELECT a FROM t", "expected '(' after 's AS', found 'SELECT'", 11),
    ("SELECT a FROM t x y", "expected SELECT after the previous statement, found 'y'", 19),
    ("", "expected a SELECT statement in the query, found the end of the query", 1),
    ("SELECT CASE a END FROM t", "expected WHEN after CASE, found 'END'", 15),
    ("SELECT foo.bar(1) FROM t", "unknown function 'foo.bar'", 8),
    ("SELECT a FROM t UNION SELECT a INTO o FROM t", "INTO belongs to the first SELECT", 37),
    ("WITH s AS (SELECT a INTO o FROM t) SELECT a FROM s", "a WITH step cannot have INTO", 26),
])
def test_error_messages_name_the_place(text: str, message: str, column: int) -> None:
    with pytest.raises(AsaSyntaxError) as caught:
        parse(text)
    assert caught.value.message.startswith(message)
    assert caught.value.span is not None and caught.value.span.column == column
    assert "^" in str(caught.value) or not text


def test_deep_nesting_is_a_syntax_error() -> None:
    for text in ("SELECT " + "(" * 5000 + "1" + ")" * 5000 + " FROM t", "SELECT " + "- " * 5000 + "1 FROM t",
                 "SELECT a FROM t WHERE " + "NOT " * 5000 + "a", "SELECT " + "f(" * 3000 + ")" * 3000 + " FROM t"):
        with pytest.raises(AsaSyntaxError, match="nests"):
            parse(text)


def test_error_shows_the_failing_line_with_a_caret() -> None:
    with pytest.raises(AsaSyntaxError) as caught:
        parse("SELECT a\nFROM input\nWHERE b >\nGROUP BY c")
    assert str(caught.value) == (
        "expected an expression here, found 'GROUP' (at line 4, column 1)\n"
        "   4 | GROUP BY c\n"
        "       ^^^^^")


@pytest.mark.parametrize(("window", "expected"), [
    ("Tumbling(second, 10)", ("tumbling", "second", 10.0, None, None)),
    ("HOPPING(minute, 10, 5)", ("hopping", "minute", 10.0, 5.0, None)),
    ("sliding(hh, 1)", ("sliding", "hour", 1.0, None, None)),
    ("Session(Timeout(minute, 5), MaxDuration(minute, 10))", ("session", "minute", 5.0, None, 10.0)),
    ("SessionWindow(Timeout(second, 30), MaxDuration(minute, 1))", ("session", "second", 30.0, None, 60.0)),
])
def test_window_short_names_and_named_session_arguments(window: str, expected: tuple[object, ...]) -> None:
    group_by = select(f"SELECT COUNT(*) FROM t GROUP BY {window}").group_by
    assert group_by is not None and isinstance(group_by.window, ast.WindowSpec)
    w = group_by.window
    assert (w.kind, w.unit.name if w.unit else None, w.size, w.hop, w.max_duration) == expected


def test_snapshot_short_name() -> None:
    group_by = select("SELECT COUNT(*) FROM t GROUP BY Snapshot()").group_by
    assert group_by is not None and isinstance(group_by.window, ast.WindowSpec)
    assert group_by.window.kind == "snapshot"


@pytest.mark.parametrize("text", [
    "SELECT a FROM t TIMESTAMP 'by' x",
    "SELECT a FROM t PARTITION 'by' x",
    "SELECT COUNT(*) FROM t GROUP BY TumblingWindow '(' second, 1)",
])
def test_keyword_lookahead_ignores_strings_that_look_like_keywords(text: str) -> None:
    with pytest.raises(AsaSyntaxError):
        parse(text)


def test_mixed_units_with_a_calendar_unit_are_an_error() -> None:
    with pytest.raises(AsaSyntaxError, match="'month' cannot be mixed"):
        parse("SELECT COUNT(*) FROM t GROUP BY TumblingWindow(Duration(month, 1), Offset(second, 1))")


def test_long_tokens_are_cut_short_in_messages() -> None:
    with pytest.raises(AsaSyntaxError) as caught:
        parse("SELECT a FROM t '" + "x" * 500 + "'")
    assert caught.value.message == "expected SELECT after the previous statement, found '" + "'" + "x" * 36 + "...'"
