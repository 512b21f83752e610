"""JavaScriptFunctionForm: an ipywidgets form for a JavaScript UDF: alias, script editor, parameter and output
types, *Check* (compiles in V8: a syntax error shows its line and column), *Test call* (one call with the
arguments typed as a JSON array, through asanb.run as a job would make it) and *Register*."""

from __future__ import annotations

import html
import json
from typing import Any

import ipywidgets as widgets
import pandas as pd

import asanb
from asanb.errors import AsanbError
from asanb.notebook.registry import SESSION, Registry
from asanb.types import ASA_TYPES
from asanb.udf.javascript import JavaScriptFunction

__all__ = ["JavaScriptFunctionForm"]

TEMPLATE = """function main(a, b) {
    'use strict';
    return [a, b];
}"""
_OUTPUT_TYPES = ("any", *sorted(ASA_TYPES))


def _error_html(prefix: str, message: str) -> str:
    return f"<span style='color:#c62828'>{html.escape(prefix)}{html.escape(message)}</span>"


class JavaScriptFunctionForm:
    """``JavaScriptFunctionForm(function=None)``; display it, or read ``form.function`` (None until the
    script compiles)."""

    def __init__(self, function: JavaScriptFunction | None = None, *, registry: Registry | None = None) -> None:
        self.registry = registry or SESSION
        self.function: JavaScriptFunction | None = None
        self.error: str | None = None
        self.registered = False
        style = {"description_width": "140px"}
        self.alias = widgets.Text(function.alias if function else "createArray", description="Function alias",
                                  style=style)
        self.script = widgets.Textarea(function.script if function else TEMPLATE, description="Script",
                                       style=style, layout={"width": "720px", "height": "200px"})
        self.inputs = widgets.Text(", ".join(function.inputs or ()) if function else "",
                                   description="Parameter types", placeholder="e.g. bigint, nvarchar(max) (empty: any)",
                                   style=style, layout={"width": "520px"})
        self.output = widgets.Dropdown(options=_OUTPUT_TYPES, value=function.output if function else "any",
                                       description="Output type", style=style)
        self.arguments = widgets.Text("[1, \"a\"]", description="Test arguments", style=style,
                                      placeholder="a JSON array, one value per parameter", layout={"width": "520px"})
        self.status = widgets.HTML()
        self.test_view = widgets.HTML()
        self.check_button = widgets.Button(description="Check", icon="check-square")
        self.test_button = widgets.Button(description="Test call", icon="play")
        self.register_button = widgets.Button(description="Register", icon="check", button_style="primary")
        self.check_button.on_click(lambda _b: self.check())
        self.test_button.on_click(lambda _b: self.test_call())
        self.register_button.on_click(lambda _b: self.register())
        self.widget = widgets.VBox([
            self.alias, self.script, self.inputs, self.output, self.arguments,
            widgets.HBox([self.check_button, self.test_button, self.register_button]), self.status, self.test_view,
        ])
        self.widget.add_class("asanb-js-function-form")
        self.check()

    def _ipython_display_(self) -> None:
        from asanb.notebook.render import display

        display(self.widget)

    @property
    def valid(self) -> bool:
        return self.error is None and self.function is not None

    def check(self) -> JavaScriptFunction | None:
        """Compile the script with the fields' alias and types; show the error with its line and column."""
        types = [part.strip() for part in self.inputs.value.split(",") if part.strip()]
        try:
            function = JavaScriptFunction(self.alias.value.strip(), self.script.value,
                                          inputs=tuple(types) if types else None, output=self.output.value)
        except AsanbError as error:
            self.error = str(error)
            self.status.value = _error_html("", self.error)
            return None
        self.error = None
        self.function = function
        self.status.value = f"Compiles: <code>udf.{html.escape(function.alias)}</code>."
        if self.registered:
            self.registry.add_function(function)  # a registered form keeps the registry in step
        return function

    def test_call(self) -> dict[str, Any]:
        """Call the function once with the test arguments, as a one-row job; show the result or the error."""
        outcome: dict[str, Any] = {"ok": False, "result": None, "message": ""}
        function = self.check()
        if function is None:
            outcome["message"] = self.error or ""
            self.test_view.value = "Test skipped: the script does not compile (see above)."
            return outcome
        try:
            values = json.loads(self.arguments.value or "[]")
        except json.JSONDecodeError as error:
            values = None
            outcome["message"] = f"the test arguments are not JSON ({error.msg} at column {error.colno})"
        if values is not None and not isinstance(values, list):
            values = None
            outcome["message"] = "the test arguments must be a JSON array, e.g. [1, \"a\"]"
        if values is None:
            self.test_view.value = _error_html("", outcome["message"] + "; type e.g. [1, \"a\"]")
            return outcome
        columns = [f"arg{index}" for index in range(len(values))]
        frame = pd.DataFrame([dict(zip(columns, values, strict=True))], columns=columns)
        call = ", ".join(f"[{column}]" for column in columns)
        query = f"SELECT udf.{function.alias}({call}) AS result INTO tested FROM input"
        try:
            results = asanb.run(query, {"input": frame}, functions=[function])
        except AsanbError as error:
            outcome["message"] = error.message
        else:
            outcome["ok"] = results.state == "Stopped"
            if outcome["ok"]:
                outcome["result"] = results["tested"]["result"].iloc[0]
                outcome["message"] = f"returned {outcome['result']!r}"
            else:
                outcome["message"] = str(results.error.message if results.error else results.state)
        if outcome["ok"]:
            self.test_view.value = f"<span style='color:#2e7d32'>OK</span> {html.escape(outcome['message'])}"
        else:
            self.test_view.value = _error_html("Test failed: ", outcome["message"])
        return outcome

    def register(self) -> JavaScriptFunction | None:
        """Add the function to the session registry (``udf.<alias>`` in every %%asaquery cell)."""
        function = self.check()
        if function is None:
            self.status.value = _error_html("Not registered: ", self.error or "")
            return None
        self.registry.add_function(function)
        self.registered = True
        self.status.value = f"Registered as <code>udf.{html.escape(function.alias)}</code>."
        return function
