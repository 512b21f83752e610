"""Bad JavaScript input: compile errors with line/column, name mismatches, exceptions with alias, message,
stack line and row, endless loops (time limit), huge allocations (memory limit), unsupported return
values, and UDA contract and query mistakes — each a clear AsanbError, the job Failed, nothing hangs."""

from __future__ import annotations

import pandas as pd
import pytest

import asanb
from asanb import JavaScriptAggregate, JavaScriptFunction, JobConfig

FRAME = pd.DataFrame({"x": [1, 2, 3]})


def run(function: JavaScriptFunction, config: JobConfig | None = None) -> asanb.Results:
    return asanb.run("SELECT udf.f(x) AS y INTO o FROM i", {"i": FRAME}, functions=[function], config=config)


def test_syntax_error_is_reported_at_registration_with_line_and_column() -> None:
    with pytest.raises(asanb.JavaScriptCompileError, match=r"udf.f: script does not compile at line 2, "
                                                            r"column 15: SyntaxError") as caught:
        JavaScriptFunction("f", "function f(x) {\n    return x +* 1;\n}")
    assert (caught.value.line, caught.value.column) == (2, 15)
    assert isinstance(caught.value, asanb.FunctionError)


def test_truncated_script_points_at_its_end() -> None:
    with pytest.raises(asanb.JavaScriptCompileError, match="Unexpected end of input") as caught:
        JavaScriptFunction("f", "function f(x) {\n  return x;")
    assert caught.value.line == 2


def test_function_name_must_match_the_alias_or_be_main() -> None:
    with pytest.raises(asanb.FunctionError, match=r"named 'createArray' \(the alias\) or 'main'; it defines: "
                                                  r"makeArray"):
        JavaScriptFunction("createArray", "function makeArray(a) { return [a]; }")
    JavaScriptFunction("createArray", "function main(a) { return [a]; }")
    JavaScriptFunction("add", "function (x, y) { return x + y; }")  # ASA's schema example: anonymous


def test_a_js_exception_fails_the_job_with_alias_message_stack_line_and_row() -> None:
    script = "function f(x) {\n  if (x == 2) { throw new Error('two is bad'); }\n  return x;\n}"
    results = run(JavaScriptFunction("f", script))
    assert results.state == "Failed"
    error = results.error
    assert isinstance(error, asanb.JavaScriptError) and error.kind == "exception"
    assert error.alias == "f" and error.js_message == "Error: two is bad"
    assert error.stack_line == "at f (udf.f.js:2:23)"
    assert error.row == [2]
    assert "udf.f threw Error: two is bad (at f (udf.f.js:2:23)) for the event with arguments [2]" in str(error)


def test_a_type_error_inside_the_script_names_its_line() -> None:
    results = run(JavaScriptFunction("f", "function main(x) {\n  return x.a.b;\n}"))
    assert results.state == "Failed" and "TypeError" in str(results.error)
    assert results.error.stack_line.endswith("udf.f.js:2:14)")


def test_an_endless_loop_is_stopped_by_the_time_limit() -> None:
    function = JavaScriptFunction("f", "function main(x) { while (true) {} }", time_limit_seconds=0.3)
    results = run(function)
    assert results.state == "Failed"
    assert isinstance(results.error, asanb.JavaScriptError) and results.error.kind == "timeout"
    assert "time limit of 0.3 s" in str(results.error)


def test_a_huge_allocation_is_stopped_by_the_memory_limit() -> None:
    script = "function main(x) { var a = []; while (true) { a.push(new Array(100000).fill(x)); } }"
    results = run(JavaScriptFunction("f", script, memory_limit_mb=32))
    assert results.state == "Failed"
    assert isinstance(results.error, asanb.JavaScriptError) and results.error.kind == "memory"
    assert "memory limit of 32 MB" in str(results.error)


@pytest.mark.parametrize(("script", "message"), [
    ("function main(x) { return function () {}; }", "returned a function"),
    ("function main(x) { return BigInt(x); }", "returned a bigint"),
    ("function main(x) { var o = {}; o.self = o; return o; }", "circular"),
    ("function main(x) { return [1n]; }", "BigInt"),
])
def test_values_javascript_cannot_hand_back_fail_the_job(script: str, message: str) -> None:
    results = run(JavaScriptFunction("f", script))
    assert results.state == "Failed"
    assert isinstance(results.error, asanb.JavaScriptError) and results.error.kind == "result"
    assert message in str(results.error) and results.error.row == [1]


def test_declared_inputs_check_the_argument_count_at_plan_time() -> None:
    function = JavaScriptFunction("f", "function main(a, b) { return a + b; }", inputs=["bigint", "bigint"])
    with pytest.raises(asanb.PlanError, match=r"udf.f takes 2 argument\(s\) \(bigint, bigint\), got 1"):
        run(function)


def test_bad_type_names_and_limits_are_config_errors() -> None:
    with pytest.raises(asanb.ConfigError, match="'number' is not an ASA data type"):
        JavaScriptFunction("f", "function main(x) { return x; }", output="number")
    with pytest.raises(asanb.ConfigError, match="time_limit_seconds"):
        JavaScriptFunction("f", "function main(x) { return x; }", time_limit_seconds=0)


UDA_QUERY = "SELECT uda.total(x) AS t INTO o FROM i GROUP BY TumblingWindow(second, 10)"


def test_an_aggregate_must_implement_the_contract() -> None:
    with pytest.raises(asanb.FunctionError, match=r"must define this.accumulate, this.computeResult"):
        JavaScriptAggregate("total", "function main() { this.init = function () {}; }")
    half = ("function main() { this.init = function () {}; this.accumulate = function () {};"
            " this.computeResult = function () { return 0; }; this.deaccumulate = function () {}; }")
    with pytest.raises(asanb.FunctionError, match="both this.deaccumulate and this.deaccumulateState"):
        JavaScriptAggregate("total", half)


def test_unknown_aggregates_and_aggregates_in_where_are_plan_errors() -> None:
    with pytest.raises(asanb.PlanError, match=r"unknown aggregate 'uda.total'") as caught:
        asanb.run(UDA_QUERY, {"i": FRAME})
    assert caught.value.span.column == 8
    total = JavaScriptAggregate("total", SUM_UDA)
    with pytest.raises(asanb.PlanError, match="cannot be used in WHERE"):
        asanb.run("SELECT COUNT(*) AS c INTO o FROM i WHERE uda.total(x) > 1 GROUP BY TumblingWindow(second, 1)",
                  {"i": FRAME}, functions=[total])
    with pytest.raises(asanb.PlanError, match="takes one argument"):
        asanb.run("SELECT uda.total(x, x) AS t INTO o FROM i GROUP BY TumblingWindow(second, 1)", {"i": FRAME},
                  functions=[total])


SUM_UDA = """function main() {
    this.init = function () { this.state = 0; };
    this.accumulate = function (value, timestamp) {
        if (value == 2) { throw new RangeError('no twos'); }
        this.state += value;
    };
    this.computeResult = function () { return this.state; };
}"""


def test_an_exception_in_an_aggregate_fails_the_job_with_the_offending_event() -> None:
    results = asanb.run(UDA_QUERY, {"i": FRAME}, functions=[JavaScriptAggregate("total", SUM_UDA)])
    assert results.state == "Failed"
    assert isinstance(results.error, asanb.JavaScriptError)
    assert results.error.js_message == "RangeError: no twos" and results.error.row == [2]
    assert "uda.total.js:4" in results.error.stack_line
