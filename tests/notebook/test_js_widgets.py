"""JavaScriptFunctionForm: the script compiles in V8 as it is checked (a syntax error shows its line and
column), Test call runs one real call through asanb.run and shows the value or the JavaScript error, and
Register makes udf.<alias> usable by %%asaquery cells."""

from __future__ import annotations

import pandas as pd

import asanb
import asanb.widgets
from asanb.notebook.js_widgets import JavaScriptFunctionForm
from asanb.notebook.registry import Registry


def test_the_template_compiles_and_a_test_call_returns_its_value() -> None:
    form = JavaScriptFunctionForm(registry=Registry())
    assert form.valid and "Compiles" in form.status.value
    form.arguments.value = '[7, "x"]'
    outcome = form.test_call()
    assert outcome["ok"] and outcome["result"] == [7, "x"]
    assert "OK" in form.test_view.value and "[7, &#x27;x&#x27;]" in form.test_view.value


def test_a_syntax_error_shows_line_and_column_and_blocks_register() -> None:
    registry = Registry()
    form = JavaScriptFunctionForm(registry=registry)
    form.script.value = "function main(a) {\n  return a +;\n}"
    assert form.check() is None and not form.valid
    assert "line 2, column" in form.status.value and "SyntaxError" in form.status.value
    assert form.test_call()["ok"] is False and "does not compile" in form.test_view.value
    assert form.register() is None and registry.functions == {}


def test_a_javascript_exception_and_bad_arguments_are_reported() -> None:
    form = JavaScriptFunctionForm(registry=Registry())
    form.script.value = "function main(a) { throw new Error('boom ' + a); }"
    form.arguments.value = "[3]"
    outcome = form.test_call()
    assert not outcome["ok"] and "boom 3" in outcome["message"] and "Test failed" in form.test_view.value
    form.arguments.value = "[3"
    assert not form.test_call()["ok"] and "not JSON" in form.test_view.value
    form.arguments.value = '{"a": 1}'
    assert not form.test_call()["ok"] and "must be a JSON array" in form.test_view.value


def test_declared_types_are_checked_and_kept() -> None:
    form = JavaScriptFunctionForm(registry=Registry())
    form.inputs.value = "bigint, nvarchar(max)"
    form.output.value = "array"
    assert form.check().inputs == ("bigint", "nvarchar(max)") and form.function.output == "array"
    form.inputs.value = "bigint, text"
    assert form.check() is None and "'text' is not an ASA data type" in form.error
    assert "is not an ASA data type" in form.status.value


def test_registered_function_runs_in_an_asaquery_cell(ip) -> None:
    form = ip.run_line_magic("asanb", "function --js")
    assert isinstance(form, JavaScriptFunctionForm) and asanb.widgets.JavaScriptFunctionForm is type(form)
    form.alias.value = "double"
    form.script.value = "function double(v) { return v * 2; }"
    assert form.register() is not None
    ip.user_ns["js_form_readings"] = pd.DataFrame({"v": [1, 4]})
    ip.run_cell_magic("asaquery", "-o doubled -q", "SELECT udf.double(v) AS d INTO o FROM js_form_readings")
    assert ip.user_ns["doubled"]["o"]["d"].tolist() == [2, 8]
    form.script.value = "function double(v) { return v * 3; }"
    form.check()  # a registered form keeps the registry in step
    ip.run_cell_magic("asaquery", "-o tripled -q", "SELECT udf.double(v) AS d INTO o FROM js_form_readings")
    assert ip.user_ns["tripled"]["o"]["d"].tolist() == [3, 12]
    del ip.user_ns["js_form_readings"]  # the shell is shared by the whole session
