"""Bind JavaScript UDFs and UDAs to one job run: a V8 context each, one engine call per micro-batch (UDF) or
per window emission (UDA), values converted by js_types, failures mapped to asanb errors with the row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from asanb.config import JobConfig
from asanb.errors import JavaScriptError, PlanError, Span, UdfResultError
from asanb.types import python_value
from asanb.udf.binding import BoundFunction
from asanb.udf.javascript import JavaScriptAggregate, JavaScriptFunction
from asanb.udf.js_engine import ScriptContext
from asanb.udf.js_types import convert_output, encode_argument, revive_dates

__all__ = ["JavaScriptAggregateBinding", "JavaScriptBinding", "bind_javascript"]


class _JavaScriptBase(BoundFunction):
    def __init__(self, definition: JavaScriptFunction | JavaScriptAggregate) -> None:
        self.definition = definition
        self.alias = definition.alias
        self.namespace = definition.kind
        self.label = f"{definition.kind}.{definition.alias}"
        self.output_type = definition.output
        self.context: ScriptContext = definition.open()
        self.calls = 0
        self.rows = 0
        self.unsafe_integers = 0

    def _encode(self, argument: pd.Series | pd.DataFrame, position: int) -> dict[str, Any]:
        declared = self.definition.inputs or ()
        encoded = encode_argument(argument, declared[position] if position < len(declared) else "any")
        # ASA hands bigints beyond ±2^53 to JavaScript as rounded Numbers; asanb does too, and counts them.
        self.unsafe_integers += encoded.unsafe_integers
        return encoded.payload

    def _values(self, answer: dict[str, Any], row_of: Any) -> Any:
        error = answer.get("e")
        if error is not None:
            raise self._failure(error, row_of)
        values = answer["v"]
        revive_dates(values, answer["d"])
        column, bad = convert_output(values, self.output_type)
        if bad:
            first = bad[0]
            raise UdfResultError(
                f"{self.label} returned {values[first]!r} ({type(values[first]).__name__}), which is not "
                f"{self.output_type}, for {_describe(row_of(first))}"
                + (f" and {len(bad) - 1} more row(s)" if len(bad) > 1 else ""),
                positions=np.asarray(bad, dtype=np.int64), values=column, row=row_of(first),
            )
        return column

    def _failure(self, error: dict[str, Any], row_of: Any) -> JavaScriptError:
        stack_line = self.context.stack_line(error.get("stack", ""))
        row = row_of(int(error["row"]))
        where = f" ({stack_line})" if stack_line else ""
        what = "threw" if error["kind"] == "exception" else "failed:"
        return JavaScriptError(
            f"{self.label} {what} {error['message']}{where} for {_describe(row)}. ASA stops the job on "
            "JavaScript runtime errors",
            alias=self.alias, kind=error["kind"], js_message=error["message"], stack_line=stack_line, row=row,
        )

    async def aclose(self) -> None:
        self.context.close()

    def counters(self) -> dict[str, int]:
        return {"js_calls": self.calls, "js_rows": self.rows,
                "js_bigint_beyond_2_53": self.unsafe_integers}


class JavaScriptBinding(_JavaScriptBase):
    """``udf.<alias>(...)``: the whole micro-batch goes to V8 in one call; values come back as one column."""

    def __init__(self, definition: JavaScriptFunction) -> None:
        super().__init__(definition)
        self.check_arguments = self._check

    def _check(self, kinds: Sequence[str], span: Span) -> None:
        inputs = self.definition.inputs
        if inputs is not None and len(kinds) != len(inputs):
            raise PlanError(f"{self.label} takes {len(inputs)} argument(s) ({', '.join(inputs)}), "
                            f"got {len(kinds)}", span)

    async def __call__(self, arguments: Sequence[pd.Series | pd.DataFrame], rows: int) -> Any:
        payload = {"n": rows, "a": [self._encode(argument, k) for k, argument in enumerate(arguments)]}
        answer = self.context.call_rows(payload, rows)
        self.calls += 1
        self.rows += rows

        def row_of(position: int) -> Any:
            return [_value(argument, position) for argument in arguments]

        return self._values(answer, row_of)


class JavaScriptAggregateBinding(_JavaScriptBase):
    """``uda.<alias>(value)``: every group of a window emission in one call; each group gets a fresh state,
    ``init``, ``accumulate(value, timestamp)`` per event in time order, then ``computeResult``."""

    def __init__(self, definition: JavaScriptAggregate) -> None:
        super().__init__(definition)
        self.check_arguments = self._check

    def _check(self, kinds: Sequence[str], span: Span) -> None:
        if len(kinds) != 1:
            raise PlanError(f"{self.label} takes one argument (the value to accumulate), got {len(kinds)}", span)

    async def __call__(self, arguments: Sequence[pd.Series | pd.DataFrame], rows: int) -> Any:
        raise PlanError(f"{self.label} is an aggregate: call it as uda.{self.alias}(...) in a windowed GROUP BY",
                        None)

    def aggregate(self, values: pd.Series, times_ns: np.ndarray, offsets: np.ndarray) -> Any:
        """One result per group; group ``g`` holds rows ``offsets[g]:offsets[g+1]`` of ``values``."""
        millis = (np.asarray(times_ns, dtype=np.int64) // 1_000_000).astype(np.float64)
        payload = {"n": len(values), "a": self._encode(values.reset_index(drop=True), 0), "t": millis,
                   "o": np.asarray(offsets, dtype=np.int64)}
        answer = self.context.call_groups(payload, len(values))
        self.calls += 1
        self.rows += len(values)

        error = answer.get("e")
        if error is not None and error["kind"] == "exception":
            raise self._failure(error, lambda event: [_value(values, event)])
        # Other failures name a group (its result): report the group's first event.
        return self._values(answer, lambda group: [_value(values, int(offsets[group]))])


def _value(argument: pd.Series | pd.DataFrame, position: int) -> Any:
    if isinstance(argument, pd.DataFrame):
        return {str(k): python_value(v) for k, v in argument.iloc[position].items()}
    return python_value(argument.iloc[position])


def _describe(row: Any) -> str:
    text = repr(row)
    return f"the event with arguments {text if len(text) <= 300 else text[:297] + '...'}"


def bind_javascript(definition: JavaScriptFunction | JavaScriptAggregate,
                    config: JobConfig) -> _JavaScriptBase:
    """A fresh V8 context for ``definition`` for one job run."""
    if isinstance(definition, JavaScriptAggregate):
        return JavaScriptAggregateBinding(definition)
    return JavaScriptBinding(definition)
