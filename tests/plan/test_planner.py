"""Planner: name resolution, step sharing, UDF hoisting, aggregation rewrite and the errors of bad queries."""

from __future__ import annotations

import pytest

from asanb.errors import PlanError
from asanb.plan import logical
from asanb.plan.catalog import Catalog, FunctionInfo
from asanb.plan.planner import plan_query
from asanb.sql.parser import parse

CATALOG = Catalog(
    inputs={"input": ("time", "make", "speed", "weight", "reading")},
    functions={"score": FunctionInfo("score")},
)


def plan(text: str, catalog: Catalog = CATALOG) -> logical.Plan:
    return plan_query(parse(text), catalog)


def kinds(node: logical.PlanNode) -> list[str]:
    names = [type(node).__name__]
    while not isinstance(node, logical.InputScan | logical.UnionAll):
        node = node.child
        names.append(type(node).__name__)
    return names


def test_filter_projection_shape_and_default_output() -> None:
    result = plan("SELECT make, speed * 2 AS fast FROM input WHERE speed > 10")
    (output,) = result.outputs
    assert output.alias == "output"
    assert output.columns == ("make", "fast")
    # The WHERE reads only the columns the step needs: a pruning Project sits under the Filter.
    assert kinds(output) == ["Output", "Project", "Filter", "Project", "InputScan"]
    assert output.child.child.child.columns == ("make", "speed")


def test_with_step_is_shared_by_two_outputs() -> None:
    result = plan(
        "WITH fast AS (SELECT make, speed FROM input WHERE speed > 100)\n"
        "SELECT make INTO a FROM fast\nSELECT speed INTO b FROM fast"
    )
    first, second = result.outputs
    assert first.child.child is second.child.child  # the same Project node of step 'fast'
    scans = [node for node in result.nodes() if isinstance(node, logical.InputScan)]
    assert len(scans) == 1


def test_identifiers_are_case_insensitive() -> None:
    result = plan("select MAKE from INPUT where Speed > 1")
    assert result.outputs[0].columns == ("MAKE",)


def test_udf_calls_are_hoisted_into_score_nodes_even_inside_case() -> None:
    result = plan("SELECT CASE WHEN speed > 1 THEN udf.score(input) ELSE 0 END AS s FROM input")
    scores = [node for node in result.nodes() if isinstance(node, logical.Score)]
    assert len(scores) == 1 and scores[0].function == "score"


def test_aggregation_plans_keys_and_aggregates() -> None:
    result = plan("SELECT make, COUNT(*) AS n, AVG(speed) AS v FROM input TIMESTAMP BY time "
                  "GROUP BY make, TumblingWindow(second, 10) HAVING COUNT(*) > 1")
    aggregate = next(node for node in result.nodes() if isinstance(node, logical.Aggregate))
    assert [a.function for a in aggregate.aggregates] == ["count_star", "avg"]
    assert aggregate.windows[0].size_ns == 10_000_000_000
    assert len(aggregate.keys) == 1


@pytest.mark.parametrize(
    ("query", "error", "fragment", "column"),
    [
        ("SELECT make FROM nowhere", PlanError, "unknown input or step 'nowhere'", 18),
        ("SELECT colour FROM input", PlanError, "unknown column 'colour'", 8),
        ("SELECT udf.nope(make) FROM input", PlanError, "unknown function 'udf.nope'", 8),
        ("SELECT COUNT(*) FROM input", PlanError, "need a window", 1),
        ("SELECT make, COUNT(*) FROM input GROUP BY make", PlanError, "need a window", 34),
        ("SELECT speed, COUNT(*) AS n FROM input GROUP BY make, TumblingWindow(second, 1)", PlanError,
         "neither in GROUP BY", 8),
        ("SELECT make INTO a FROM input\nSELECT make INTO a FROM input", PlanError, "written by two", 18),
        ("SELECT TumblingWindow(second, 1) FROM input", PlanError, "belongs in GROUP BY", 8),
        ("SELECT COUNT(*) FROM input GROUP BY TumblingWindow(month, 1)", PlanError, "months", 52),
        ("SELECT a.make FROM input a JOIN input b ON a.make = b.make", PlanError, "needs a time bound", 20),
    ],
)
def test_bad_queries_name_the_place(query: str, error: type, fragment: str, column: int) -> None:
    with pytest.raises(error) as caught:
        plan(query)
    assert fragment in str(caught.value)
    assert caught.value.span is not None and caught.value.span.column == column
    assert "^" in str(caught.value)  # the message shows the query line with a caret


def test_explain_lists_every_node() -> None:
    text = plan("WITH s AS (SELECT make FROM input) SELECT make INTO o FROM s").explain()
    assert text.splitlines()[0].startswith("Output o")
    assert "InputScan input" in text
