"""Planning JOIN and APPLY: the time bound rule, normalized bounds, name resolution across two aliases, and
bad queries failing with their place."""

from __future__ import annotations

import pytest

from asanb.errors import PlanError
from asanb.plan import logical
from asanb.plan.catalog import Catalog
from asanb.plan.planner import plan_query
from asanb.sql.parser import parse

CATALOG = Catalog({"l": ("ts", "k", "v"), "r": ("ts", "k", "w")}, references={"ref": ("k", "site")})


def plan(query: str) -> logical.Plan:
    return plan_query(parse(query), CATALOG)


def join_of(query: str) -> logical.Join:
    return next(node for node in plan(query).nodes() if isinstance(node, logical.Join))


def test_the_bound_is_normalized_to_right_minus_left_in_nanoseconds() -> None:
    forward = join_of("SELECT a.v, b.w FROM l a JOIN r b ON a.k = b.k AND DATEDIFF(minute, a, b) BETWEEN -1 AND 2")
    assert (forward.bound.low_ns, forward.bound.high_ns) == (-60_000_000_000, 120_000_000_000)
    backward = join_of("SELECT a.v, b.w FROM l a JOIN r b ON DATEDIFF(second, b, a) BETWEEN 0 AND 5 AND a.k = b.k")
    assert (backward.bound.low_ns, backward.bound.high_ns) == (-5_000_000_000, 0)
    assert len(backward.left_side.keys) == 1 and backward.residual is None


def test_other_terms_of_on_stay_as_the_residual_and_keys_are_oriented_per_side() -> None:
    join = join_of("SELECT a.v FROM l a LEFT JOIN r b ON b.k = a.k AND a.v < b.w "
                   "AND DATEDIFF(second, a, b) BETWEEN 0 AND 5")
    assert join.kind == "left"
    assert join.left_side.keys[0].parts == ("a", "k") and join.right_side.keys[0].parts == ("b", "k")
    assert join.residual is not None


def test_unambiguous_unqualified_names_resolve_and_explain_shows_the_join() -> None:
    query = "SELECT v, w FROM l a JOIN r b ON a.k = b.k AND DATEDIFF(second, a, b) BETWEEN 0 AND 5"
    assert "Join inner" in plan(query).explain()


def test_reference_joins_take_no_bound() -> None:
    join = join_of("SELECT a.v, x.site FROM l a JOIN ref x ON a.k = x.k")
    assert join.reference == "ref" and join.right is None and join.bound is None


@pytest.mark.parametrize(("query", "fragment", "column"), [
    ("SELECT a.v FROM l a JOIN r b ON a.k = b.k", "needs a time bound", 17),
    ("SELECT a.v FROM l a JOIN r b ON a.k = b.k AND DATEDIFF(second, a, b) NOT BETWEEN 0 AND 5", "NOT BETWEEN", 47),
    ("SELECT a.v FROM l a JOIN r b ON DATEDIFF(month, a, b) BETWEEN 0 AND 1", "fixed-length unit", 42),
    ("SELECT a.v FROM l a JOIN r b ON DATEDIFF(day, a, b) BETWEEN 0 AND 8", "seven days", 33),
    ("SELECT a.v FROM l a JOIN r b ON DATEDIFF(second, a, b) BETWEEN 5 AND 0", "empty", 33),
    ("SELECT a.v FROM l a JOIN r b ON DATEDIFF(second, a, a) BETWEEN 0 AND 5", "one alias of each side", 33),
    ("SELECT a.v FROM l a JOIN r b ON DATEDIFF(second, a.ts, b) BETWEEN 0 AND 5", "aliases of the joined", 50),
    ("SELECT a.v FROM l a JOIN r b ON a.k = b.k OR DATEDIFF(second, a, b) BETWEEN 0 AND 5", "AND term", 46),
    ("SELECT a.v FROM l JOIN l ON DATEDIFF(second, l, l) BETWEEN 0 AND 5", "different aliases", 24),
    ("SELECT * FROM l a JOIN r b ON DATEDIFF(second, a, b) BETWEEN 0 AND 5", "SELECT *", 8),
    ("SELECT k FROM l a JOIN r b ON DATEDIFF(second, a, b) BETWEEN 0 AND 5", "ambiguous", 8),
    ("SELECT a.v FROM l a JOIN r b ON k = 1 AND DATEDIFF(second, a, b) BETWEEN 0 AND 5", "ambiguous", 33),
    ("SELECT a.v FROM l a JOIN r b ON a.nope = b.k AND DATEDIFF(second, a, b) BETWEEN 0 AND 5", "unknown column", 33),
    ("SELECT x.v FROM ref x JOIN l a ON a.k = x.k", "right side", 17),
])
def test_bad_joins_name_the_rule_and_the_place(query: str, fragment: str, column: int) -> None:
    with pytest.raises(PlanError, match=fragment) as caught:
        plan(query)
    assert caught.value.span is not None and caught.value.span.column == column
    assert "^" in str(caught.value)
