"""Planning LAG / LAST / ISFIRST: the Analytic node sits below WHERE, calls are checked against ASA's rules."""

from __future__ import annotations

import pytest

from asanb.errors import NotSupportedError, PlanError
from asanb.plan import logical
from asanb.plan.catalog import Catalog
from asanb.plan.planner import plan_query
from asanb.sql.parser import parse

CATALOG = Catalog(inputs={"input": ("time", "make", "speed")})


def plan(text: str) -> logical.Plan:
    return plan_query(parse(text), CATALOG)


def chain(node: logical.PlanNode) -> list[str]:
    names = [type(node).__name__]
    while not isinstance(node, logical.InputScan):
        node = node.child  # type: ignore[union-attr]
        names.append(type(node).__name__)
    return names


def test_analytic_node_is_below_the_where_and_the_select_reads_its_column() -> None:
    result = plan("SELECT make, LAG(speed) OVER (PARTITION BY make LIMIT DURATION(minute, 1)) FROM input "
                  "TIMESTAMP BY time WHERE LAG(speed) OVER (PARTITION BY make LIMIT DURATION(minute, 1)) > 10")
    output = result.outputs[0]
    assert output.columns == ("make", "lag")
    assert chain(output.child) == ["Project", "Filter", "Project", "Analytic", "InputScan"]
    analytic = next(node for node in result.nodes() if isinstance(node, logical.Analytic))
    [call] = analytic.calls  # the same call in SELECT and WHERE is computed once
    assert (call.function, call.offset, call.limit_ns) == ("lag", 1, 60 * 10**9)


def test_defaults_and_arguments_are_resolved() -> None:
    result = plan("SELECT LAG(speed, 3, 0) OVER (LIMIT DURATION(second, 5) WHEN speed > 1) AS a, "
                  "LAST(speed) OVER (LIMIT DURATION(hour, 2)) AS b, ISFIRST(mi, 10) OVER (PARTITION BY make) AS c "
                  "FROM input")
    analytic = next(node for node in result.nodes() if isinstance(node, logical.Analytic))
    lag, last, isfirst = analytic.calls
    assert (lag.offset, lag.default is not None, lag.when is not None) == (3, True, True)
    assert (last.offset, last.limit_ns) == (0, 2 * 3600 * 10**9)
    assert (isfirst.interval_ns, len(isfirst.partition_by)) == (600 * 10**9, 1)
    assert result.outputs[0].columns == ("a", "b", "c")


def test_analytic_inside_an_aggregate_is_computed_before_grouping() -> None:
    result = plan("SELECT SUM(LAG(speed) OVER (LIMIT DURATION(second, 5))) AS s FROM input TIMESTAMP BY time "
                  "GROUP BY TumblingWindow(second, 10)")
    assert "Analytic" in chain(result.outputs[0].child)


@pytest.mark.parametrize(("query", "error", "message", "column"), [
    ("SELECT LAG(speed) OVER (PARTITION BY make) FROM input", PlanError, "LIMIT DURATION", 19),
    ("SELECT LAG(speed) FROM input", PlanError, "LIMIT DURATION", 8),
    ("SELECT LAST(speed) OVER (WHEN speed > 1) FROM input", PlanError, "LIMIT DURATION", 20),
    ("SELECT ISFIRST(second, 5) OVER (LIMIT DURATION(second, 5)) FROM input", PlanError, "no LIMIT DURATION", 39),
    ("SELECT LAG(speed, 0) OVER (LIMIT DURATION(second, 5)) FROM input", PlanError, "at least 1", 19),
    ("SELECT LAG(speed, 1, 2, 3) OVER (LIMIT DURATION(second, 5)) FROM input", PlanError, "LAG takes", 8),
    ("SELECT LAG(LAST(speed) OVER (LIMIT DURATION(second, 1))) OVER (LIMIT DURATION(second, 5)) FROM input",
     PlanError, "another analytic", 12),
    ("SELECT LAG(speed) OVER (LIMIT DURATION(month, 1)) FROM input", PlanError, "month", 40),
    ("SELECT LAG(nope) OVER (LIMIT DURATION(second, 5)) FROM input", PlanError, "unknown column 'nope'", 12),
    ("SELECT LAG(*) OVER (LIMIT DURATION(second, 5)) FROM input", NotSupportedError, "LAG(*)", 8),
])
def test_bad_analytic_calls_name_the_place(query: str, error: type, message: str, column: int) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace("*", r"\*").replace(")", r"\)")) as caught:
        plan(query)
    assert caught.value.span is not None
    assert caught.value.span.column == column


def test_timestamp_by_over_and_partition_by_are_planned() -> None:
    result = plan("SELECT make FROM input PARTITION BY make TIMESTAMP BY time OVER make")
    scan = next(node for node in result.nodes() if isinstance(node, logical.InputScan))
    assert len(scan.timestamp_over) == 1
    assert "TIMESTAMP BY OVER" in result.explain()


def test_timestamp_by_over_is_used_on_every_input_or_on_none() -> None:
    catalog = Catalog(inputs={"input": ("time", "make", "speed"), "other": ("time", "make", "speed")})
    both = ("SELECT a.make INTO o FROM input a TIMESTAMP BY time OVER make JOIN other b TIMESTAMP BY time {over} "
            "ON a.make = b.make AND DATEDIFF(second, a, b) BETWEEN 0 AND 5")
    plan_query(parse(both.format(over="OVER make")), catalog)
    with pytest.raises(PlanError, match="on every input of the query or on none") as caught:
        plan_query(parse(both.format(over="")), catalog)
    assert caught.value.span is not None and caught.value.span.column == 68
    union = ("SELECT make INTO o FROM input TIMESTAMP BY time OVER make\n"
             "SELECT make INTO p FROM other")
    with pytest.raises(PlanError, match="'input' at line 1") as caught:
        plan_query(parse(union), catalog)
    assert caught.value.span is not None and caught.value.span.line == 2
