"""Tree traversal and the depth bound that keeps every recursive consumer of the tree safe."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from asanb.errors import AsaSyntaxError, Span
from asanb.sql import ast
from asanb.sql.lint import lint
from asanb.sql.parser import MAX_TREE_DEPTH, parse
from asanb.sql.printer import to_saql
from asanb.sql.tree import children, walk


def test_walk_is_pre_order_in_source_order() -> None:
    query = parse("SELECT a + 1 AS x, b FROM t WHERE c IS NULL")
    names = [n.parts[0] for n in walk(query) if isinstance(n, ast.ColumnRef)]
    assert names == ["a", "b", "c"]
    kinds = [type(n).__name__ for n in walk(query)][:5]
    assert kinds == ["Query", "Select", "SelectItem", "BinaryOp", "ColumnRef"]


def test_children_skip_spans_and_plain_values() -> None:
    literal = ast.Literal(1, "bigint", Span(1, 1, 0, 1))
    assert children(literal) == []
    op = ast.BinaryOp("+", literal, literal, Span(1, 1, 0, 5))
    assert children(op) == [literal, literal]


def test_walk_handles_trees_deeper_than_the_recursion_limit() -> None:
    span = Span(1, 1, 0, 1)
    node: ast.Expr = ast.ColumnRef(("a",), span)
    for _ in range(5000):
        node = ast.UnaryOp("-", node, span)
    assert sum(1 for _ in walk(node)) == 5001


def test_long_chains_below_the_bound_work_everywhere(strip_spans: Callable[[object], object]) -> None:
    terms = MAX_TREE_DEPTH - 10
    text = "SELECT " + " + ".join(["a"] * terms) + " AS s FROM t WHERE " + " OR ".join(["b = 1"] * terms)
    query = parse(text)
    printed = to_saql(query)
    assert strip_spans(parse(printed)) == strip_spans(query)
    assert lint(query) == []


@pytest.mark.parametrize("text", [
    "SELECT a FROM t WHERE " + " OR ".join(["b = 1"] * 500),
    "SELECT " + " * ".join(["a"] * 3000) + " FROM t",
    "SELECT a FROM t0 " + " ".join(f"JOIN t{i} ON a = b" for i in range(1, 400)),
])
def test_chains_past_the_bound_are_syntax_errors(text: str) -> None:
    with pytest.raises(AsaSyntaxError, match=f"more than {MAX_TREE_DEPTH} levels deep") as caught:
        parse(text)
    span = caught.value.span
    assert span is not None
    # The error points at the whole chain (its outermost node), which starts at the chain's first operand.
    assert text[span.start:].startswith(("b = 1 OR", "a * a", "t0 JOIN"))
    assert "^" in str(caught.value)
