"""Fuzzing: whatever the text, the front end raises only AsanbError subclasses (never an internal error)."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asanb.errors import AsanbError
from asanb.sql.lint import lint
from asanb.sql.parser import parse
from asanb.sql.printer import to_asa_text, to_saql

_WORDS = [
    "SELECT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "INTO", "AS", "WITH", "UNION", "JOIN", "LEFT", "OUTER",
    "CROSS", "APPLY", "ON", "AND", "OR", "NOT", "IS", "NULL", "IN", "BETWEEN", "LIKE", "CASE", "WHEN", "THEN",
    "ELSE", "END", "CAST", "TRY_CAST", "TIMESTAMP", "OVER", "PARTITION", "LIMIT", "DURATION", "ORDER", "DESC",
    "TOP", "DISTINCT", "TRUE", "udf", "System", "COUNT", "TumblingWindow", "HoppingWindow", "SessionWindow",
    "SnapshotWindow", "Windows", "Duration", "Hop", "Offset", "DATEADD", "second", "minute", "a", "t", "[x y]",
    "1", "2.5", "-1", "'s'", "(", ")", ",", ".", "*", "+", "-", "/", "%", "=", "<>", "<", ">=", ";", "\n#c\n",
    "-- c\n", "/* c */", "bigint", "nvarchar", "max", "record", "Window", "Tumbling", "Session", "Timeout",
    "MaxDuration", ".5", "1.", "LAG", "ISFIRST", "mi",
]


def _check(text: str) -> None:
    try:
        query = parse(text)
    except AsanbError:
        return
    lint(query)
    printed = to_saql(query)
    assert to_saql(parse(printed)) == printed
    to_asa_text(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=40))
def test_token_soup(words: list[str]) -> None:
    _check(" ".join(words))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_random_text(text: str) -> None:
    _check(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["SELECT a", "FROM t", "WHERE", "a", "=", "1", "GROUP BY", "TumblingWindow(",
                                 "s", ",", "10", ")", "UNION", "CASE WHEN", "THEN", "END", "AND", "(", "udf.f("]),
                max_size=30))
def test_near_valid_soup(words: list[str]) -> None:
    _check("SELECT " + " ".join(words))


_ATOMS = st.sampled_from(["a", "t.b", "[c d]", "1", "-2", "2.5", "'s'", "NULL", "TRUE", "System.Timestamp()",
                          "COUNT(*)", "udf.f(a)", "DATEADD(mi, 1, a)", "timestamp"])


def _compose(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "%", "=", "<>", "<", ">=", "AND", "OR"]),
                       children).map(lambda t: f"{t[0]} {t[1]} {t[2]}")
    return st.one_of(
        binary,
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"- {c}"),
        children.map(lambda c: f"NOT {c}"),
        children.map(lambda c: f"{c} IS NOT NULL"),
        st.tuples(children, children, children).map(lambda t: f"{t[0]} BETWEEN {t[1]} AND {t[2]}"),
        st.tuples(children, children).map(lambda t: f"{t[0]} NOT IN ({t[1]}, 1)"),
        st.tuples(children, children).map(lambda t: f"{t[0]} LIKE {t[1]}"),
        st.tuples(children, children).map(lambda t: f"CASE WHEN {t[0]} THEN {t[1]} ELSE {t[0]} END"),
        children.map(lambda c: f"CAST({c} AS float)"),
        st.tuples(children, children).map(lambda t: f"LAG({t[0]}) OVER (PARTITION BY {t[1]} LIMIT DURATION(s, 5))"),
    )


_EXPRS = st.recursive(_ATOMS, _compose, max_leaves=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(select_expr=_EXPRS, where_expr=_EXPRS)
def test_generated_expressions_round_trip(select_expr: str, where_expr: str,
                                          strip_spans: Callable[[object], object]) -> None:
    text = f"SELECT {select_expr} AS x FROM t WHERE {where_expr}"
    try:
        query = parse(text)
    except AsanbError:
        return  # generated text can nest predicates in ways the grammar rejects; that is fine
    printed = to_saql(query)
    reparsed = parse(printed)
    assert strip_spans(reparsed) == strip_spans(query)
    assert to_saql(reparsed) == printed
