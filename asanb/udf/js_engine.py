"""The embedded JavaScript engine: one V8 isolate per function (through mini-racer), the script compiled and
checked once, and one call per micro-batch that loops over the rows inside JavaScript.

Why V8 through mini-racer (README, "JavaScript UDFs"; benchmarks/bench_udf.py measures it): wheels for
Linux, macOS and Windows with no Node.js install, a JIT (the per-row loop runs as machine code), and
per-isolate time and memory limits that terminate runaway scripts without killing the Python process.
Values cross the boundary as one JSON text each way (js_types.py), never one call per row.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from py_mini_racer import JSEvalException, JSOOMException, JSParseException, JSTimeoutException, MiniRacer

from asanb.errors import FunctionError, JavaScriptCompileError, JavaScriptError

__all__ = ["ScriptContext"]

_PRELUDE = r"""
globalThis.__asanb = {
  before: [],
  snapshot: function () { this.before = Object.getOwnPropertyNames(globalThis); },
  newFunctions: function () {
    var seen = new Set(this.before);
    return Object.getOwnPropertyNames(globalThis).filter(function (name) {
      return !seen.has(name) && typeof globalThis[name] === 'function';
    });
  },
  column: function (a, n) {
    var i;
    if (a.n) {  // a whole row: build one Object per row from its columns
      var cols = a.c.map(function (c) { return __asanb.column(c, n); });
      var names = a.n, rows = new Array(n);
      for (i = 0; i < n; i++) {
        var o = {};
        for (var j = 0; j < names.length; j++) o[names[j]] = cols[j][i];
        rows[i] = o;
      }
      return rows;
    }
    var v = a.v;
    if (a.d) for (i = 0; i < v.length; i++) v[i] = v[i] === null ? null : new Date(v[i]);
    return v;
  },
  failure: function (kind, row, e) {
    var message, stack = '';
    if (e instanceof Error) { message = e.name + ': ' + e.message; stack = String(e.stack || ''); }
    else if (typeof e === 'string') { message = e; }
    else { try { message = 'uncaught ' + JSON.stringify(e); } catch (x) { message = 'uncaught ' + String(e); } }
    return JSON.stringify({e: {kind: kind, row: row, message: message, stack: stack}});
  },
  // Store one result; returns a failure text for a value ASA cannot take (functions, symbols, BigInt).
  keep: function (out, dates, i, r) {
    if (r === undefined || r === null) { out[i] = null; return null; }
    if (r instanceof Date) { var ms = r.getTime(); out[i] = ms === ms ? ms : null; dates.push(i); return null; }
    var t = typeof r;
    if (t === 'function' || t === 'symbol' || t === 'bigint') {
      return __asanb.failure('result', i, 'returned a ' + t + ', which is not an ASA value');
    }
    out[i] = r;
    return null;
  },
  encode: function (out, dates) {
    try { return JSON.stringify({v: out, d: dates}); }
    catch (e) {
      for (var i = 0; i < out.length; i++) {
        try { JSON.stringify(out[i]); } catch (x) { return __asanb.failure('result', i, x); }
      }
      return __asanb.failure('result', 0, e);
    }
  }
};
"""

_UDA_DRIVER = r"""
globalThis.__asanb_uda = function (text) {
  var p = JSON.parse(text), F = globalThis.__asanb_fn, v = __asanb.column(p.a, p.n), t = p.t, o = p.o;
  var groups = o.length - 1, out = new Array(groups), dates = [];
  for (var g = 0; g < groups; g++) {
    var i = o[g], r;
    try {
      var s = new F();
      s.init();
      for (; i < o[g + 1]; i++) s.accumulate(v[i], new Date(t[i]));
      r = s.computeResult();
    } catch (e) { return __asanb.failure('exception', Math.min(i, o[g + 1] - 1), e); }
    var bad = __asanb.keep(out, dates, g, r);
    if (bad !== null) return bad;
  }
  return __asanb.encode(out, dates);
};
"""

_UDA_METHODS = ("init", "accumulate", "computeResult")
_DEACCUMULATE = ("deaccumulate", "deaccumulateState")


def _udf_driver(arity: int) -> str:
    """A driver specialised for the call's argument count, so the hot loop has no ``apply``."""
    columns = "".join(f"var a{k} = __asanb.column(p.a[{k}], n);\n" for k in range(arity))
    call = ", ".join(f"a{k}[i]" for k in range(arity))
    return (
        f"globalThis.__asanb_udf{arity} = function (text) {{\n"
        "  var p = JSON.parse(text), n = p.n, f = globalThis.__asanb_fn, out = new Array(n), dates = [];\n"
        f"  {columns}"
        "  for (var i = 0; i < n; i++) {\n"
        "    var r;\n"
        f"    try {{ r = f({call}); }} catch (e) {{ return __asanb.failure('exception', i, e); }}\n"
        "    var bad = __asanb.keep(out, dates, i, r);\n"
        "    if (bad !== null) return bad;\n"
        "  }\n"
        "  return __asanb.encode(out, dates);\n"
        "};\n"
    )


class ScriptContext:
    """One function's script in its own V8 isolate, with a time limit per call and a memory limit.

    ``kind`` is 'udf' or 'uda'; the script defines one function named ``main`` or the alias, or is an
    anonymous ``function (...) {...}`` (ASA's schema example). Raises JavaScriptCompileError/FunctionError.
    """

    def __init__(self, alias: str, script: str, *, kind: str, time_limit_seconds: float,
                 memory_limit_mb: int) -> None:
        self.alias = alias
        self.kind = kind
        self.label = f"{kind}.{alias}"
        self.file = f"{self.label}.js"
        self.time_limit = time_limit_seconds
        self.memory_limit_mb = memory_limit_mb
        self.racer = _new_racer()
        self.drivers: set[int] = set()
        try:
            self.racer.set_hard_memory_limit(memory_limit_mb * 1024 * 1024)
            self.racer.eval(_PRELUDE)
            self.racer.eval(_UDA_DRIVER if kind == "uda" else "")
            self._load(script)
            self.arity = int(self._eval("globalThis.__asanb_fn.length"))
            if kind == "uda":
                self._check_aggregate()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------ registration

    def _load(self, script: str) -> None:
        self._eval("__asanb.snapshot()")
        source = f"{script}\n//# sourceURL={self.file}"
        try:
            self._eval(source)
        except JSParseException as error:
            if "require a function name" not in str(error):
                raise self._compile_error(error, script) from None
            # An anonymous `function (x, y) {...}`, as in ASA's function resource schema.
            try:
                self._eval(f"globalThis.__asanb_fn = ({script}\n);\n//# sourceURL={self.file}")
            except JSParseException as inner:
                raise self._compile_error(inner, script) from None
            return
        except JSEvalException as error:
            raise FunctionError(f"{self.label}: the script failed while loading: {_first_line(error)}") from None
        names = orjson.loads(self._eval("JSON.stringify(__asanb.newFunctions())"))
        chosen = next((name for name in (self.alias, "main") if name in names), None)
        if chosen is None:
            found = ", ".join(names) or "none"
            raise FunctionError(
                f"{self.label}: the script must define one function named '{self.alias}' (the alias) or 'main'; "
                f"it defines: {found}. Rename the function or register it under its own name"
            )
        self._eval(f"globalThis.__asanb_fn = globalThis[{orjson.dumps(chosen).decode()}]")

    def _compile_error(self, error: JSParseException, script: str) -> JavaScriptCompileError:
        text = str(error)
        match = re.search(r":(\d+): (\w*Error: .*)", text)
        message = match.group(2) if match else _first_line(error)
        lines = text.splitlines()
        caret = next((row for row in lines[1:] if row.strip() and set(row.strip()) == {"^"}), None)
        script_lines = script.splitlines() or [""]
        line = int(match.group(1)) if match else 0
        column = caret.index("^") + 1 if caret else 0
        if line > len(script_lines):
            # V8 points past the end (our sourceURL comment) when input ends early: name the script's end.
            line, column = len(script_lines), len(script_lines[-1]) + 1
        source = script_lines[line - 1] if 0 < line <= len(script_lines) else ""
        pointer = f"\n    {source}\n    {' ' * max(column - 1, 0)}^" if line else ""
        return JavaScriptCompileError(
            f"{self.label}: script does not compile at line {line}, column {column}: {message}{pointer}",
            line=line, column=column,
        )

    def _check_aggregate(self) -> None:
        """The UDA contract (ASA's JavaScript UDA article): init, accumulate, computeResult; deaccumulate and
        deaccumulateState come together (the AccumulateDeaccumulate form) or not at all."""
        probe = ("(function () { var s = new globalThis.__asanb_fn(); var out = {};"
                 " ['init','accumulate','computeResult','deaccumulate','deaccumulateState'].forEach("
                 "function (k) { out[k] = typeof s[k] === 'function'; }); return JSON.stringify(out); })()")
        try:
            present = orjson.loads(self._eval(probe))
        except JSEvalException as error:
            raise FunctionError(f"{self.label}: constructing the aggregate failed: {_first_line(error)}") from None
        missing = [name for name in _UDA_METHODS if not present[name]]
        if missing:
            raise FunctionError(f"{self.label}: a JavaScript aggregate must define this.{', this.'.join(missing)} "
                                "inside function main() (see ASA's JavaScript UDA templates)")
        if present["deaccumulate"] != present["deaccumulateState"]:
            raise FunctionError(f"{self.label}: define both this.deaccumulate and this.deaccumulateState "
                                "(AccumulateDeaccumulate) or neither (AccumulateOnly)")

    # ------------------------------------------------------------ calls

    def call_rows(self, payload: dict[str, Any], rows: int) -> dict[str, Any]:
        """Run the UDF over one batch: ``payload`` is ``{"n": rows, "a": [argument, ...]}``."""
        arity = len(payload["a"])
        if arity not in self.drivers:
            self._eval(_udf_driver(arity))
            self.drivers.add(arity)
        return self._call(f"__asanb_udf{arity}", payload, rows)

    def call_groups(self, payload: dict[str, Any], rows: int) -> dict[str, Any]:
        """Run the UDA over every group of one window emission (``o`` holds the group offsets)."""
        return self._call("__asanb_uda", payload, rows)

    def _call(self, driver: str, payload: dict[str, Any], rows: int) -> dict[str, Any]:
        from asanb.udf.js_types import json_default

        text = orjson.dumps(payload, default=json_default, option=orjson.OPT_SERIALIZE_NUMPY).decode()
        code = f"{driver}({orjson.dumps(text).decode()})"
        try:
            answer = self.racer.eval(code, timeout_sec=self.time_limit)
        except JSTimeoutException:
            self._settle()
            raise JavaScriptError(
                f"{self.label} ran longer than its time limit of {self.time_limit:g} s on a batch of {rows} "
                "rows and was stopped (an endless loop?). Fix the script or raise time_limit_seconds",
                alias=self.alias, kind="timeout") from None
        except JSOOMException:
            raise JavaScriptError(
                f"{self.label} went over its memory limit of {self.memory_limit_mb} MB on a batch of {rows} "
                "rows and was stopped. Fix the script or raise memory_limit_mb",
                alias=self.alias, kind="memory") from None
        except JSEvalException as error:
            raise JavaScriptError(f"{self.label} failed: {_first_line(error)}", alias=self.alias,
                                  kind="exception", js_message=_first_line(error)) from None
        if not isinstance(answer, str):
            raise JavaScriptError(f"{self.label}: the engine returned no result text", alias=self.alias,
                                  kind="exception")
        return orjson.loads(answer)  # type: ignore[no-any-return]

    def stack_line(self, stack: str) -> str:
        """The first stack frame inside the user's script, e.g. ``at main (udf.f.js:3:11)``."""
        return next((line.strip() for line in stack.splitlines() if self.file in line), "")

    def _settle(self) -> None:
        """Let V8 finish terminating the stopped call before the context may be closed: a quick call queued
        behind it returns only after the terminated one has reported back."""
        try:
            self.racer.eval("0", timeout_sec=self.time_limit)
        except JSEvalException:
            pass

    def _eval(self, code: str) -> Any:
        return self.racer.eval(code, timeout_sec=self.time_limit)

    def close(self) -> None:
        self.racer.close()


def _new_racer() -> MiniRacer:
    """A V8 context served by mini-racer's own loop thread. Created where an event loop runs (a Jupyter cell),
    mini-racer would adopt that loop: it then refuses per-call time limits, and a job thread's calls would wait
    on the loop the cell is blocking."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return MiniRacer()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="asanb-v8") as worker:
        return worker.submit(MiniRacer).result()


def _first_line(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    for line in lines:
        if "Error" in line:
            return line.split(": ", 1)[1] if line.startswith("<anonymous>:") or ".js:" in line else line
    return lines[0] if lines else type(error).__name__
