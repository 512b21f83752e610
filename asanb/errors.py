"""The asanb exception tree and the rendering of query positions (line, column, caret).

    AsanbError                      base: one clean message in Jupyter (no traceback)
    ├── QueryError                  about the query text; .span and .query, str() shows the line and a caret
    │   ├── AsaSyntaxError          tokenizer / parser: stops at the first error
    │   └── PlanError               unknown input/column/function, arity, types, window rules, duplicate output
    ├── NotSupportedError           valid SAQL that asanb does not run (names the feature; never a wrong result)
    ├── ConfigError                 bad JobConfig / MLFunction / source / CLI options
    │   └── ProjectError            an ASA project file (asaproj.json, Inputs/…, testConfig.json); .file, .field, .line
    ├── FunctionError               UDF definitions: swagger load, signature mismatch, script compile error
    │   └── JavaScriptCompileError  a JavaScript UDF/UDA script that does not compile; .line, .column
    ├── ExecutionError              while running; .step
    │   ├── EventError              a malformed event under the Stop policy; .field, .row
    │   │   └── UdfResultError      UDF values that do not convert to the declared output type; .positions
    │   ├── JavaScriptError         a JS exception, time limit, memory limit or unsupported return value
    │   └── ScoringError            model endpoint; .endpoint
    │       ├── ScoringTransportError   timeout / connection refused, after retries
    │       └── ScoringStatusError      .status, .body_excerpt, .first_row: 400/401/404/409 fail the job
    └── InternalError               an asanb bug (keeps its traceback)
    AsanbWarning(UserWarning) → UdfInCaseWarning, ExportWarning

Lower-layer exceptions (pandas, httpx, V8) are mapped to these at the layer edge with ``raise ... from``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "AsaSyntaxError",
    "AsanbError",
    "AsanbWarning",
    "ConfigError",
    "EventError",
    "ExecutionError",
    "ExportWarning",
    "FunctionError",
    "InternalError",
    "JavaScriptCompileError",
    "JavaScriptError",
    "NotSupportedError",
    "PlanError",
    "ProjectError",
    "QueryError",
    "ScoringError",
    "ScoringStatusError",
    "ScoringTransportError",
    "Span",
    "UdfInCaseWarning",
    "UdfResultError",
    "render_span",
]


@dataclass(frozen=True, slots=True)
class Span:
    """A region of the query text: 1-based line and column of its start, 0-based offsets [start, end)."""

    line: int
    column: int
    start: int
    end: int

    def to(self, other: Span) -> Span:
        """The span from the start of this one to the end of ``other``."""
        return Span(self.line, self.column, self.start, max(self.end, other.end))

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}"


def render_span(query: str, span: Span) -> str:
    """The query line holding ``span`` with a caret line under the spanned text."""
    lines = query.splitlines() or [""]
    index = min(max(span.line - 1, 0), len(lines) - 1)
    text = lines[index].expandtabs(1)
    line_start = sum(len(line) + 1 for line in lines[:index])
    width = max(1, min(span.end, line_start + len(text)) - span.start)
    gutter = f"{span.line:>4} | "
    caret = " " * (len(gutter) + span.column - 1) + "^" * width
    return f"{gutter}{text}\n{caret}"


class AsanbError(Exception):
    """Base of every error asanb raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback: users see what happened and what to do.
        return [f"{type(self).__name__}: {self}"]


class QueryError(AsanbError):
    """A problem located in the query text."""

    def __init__(self, message: str, span: Span | None = None, query: str | None = None) -> None:
        super().__init__(message)
        self.span = span
        self.query = query

    def with_query(self, query: str) -> QueryError:
        """Attach the query text so the message can show the failing line."""
        if self.query is None:
            self.query = query
        return self

    def __str__(self) -> str:
        if self.span is None:
            return self.message
        where = f"{self.message} (at {self.span})"
        if self.query:
            return f"{where}\n{render_span(self.query, self.span)}"
        return where


class AsaSyntaxError(QueryError):
    """The query text is not valid SAQL."""


class PlanError(QueryError):
    """The query parses but cannot be planned: names, types, arities or ASA rules."""


class NotSupportedError(QueryError):
    """Valid SAQL that asanb does not run yet; names the feature instead of computing a wrong result."""


class ConfigError(AsanbError):
    """Invalid job, source or function configuration."""


class ProjectError(ConfigError):
    """A file of an ASA project (asaproj.json, JobConfig.json, Inputs/Outputs/Functions JSON, testConfig.json)
    is missing or malformed. ``file`` is its path, ``field`` the JSON field at fault, ``line`` the 1-based
    line of a JSON syntax error."""

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None,
                 line: int | None = None) -> None:
        super().__init__(message)
        self.file = file
        self.field = field
        self.line = line

    def __str__(self) -> str:
        where = self.file or ""
        if where and self.line is not None:
            where = f"{where}, line {self.line}"
        if self.field:
            where = f"{where}, field {self.field!r}" if where else f"field {self.field!r}"
        return f"{where}: {self.message}" if where else self.message


class FunctionError(AsanbError):
    """A user-defined function cannot be loaded or does not match its call."""


class JavaScriptCompileError(FunctionError):
    """A JavaScript UDF/UDA script does not compile; ``line`` and ``column`` are 1-based, in the script."""

    def __init__(self, message: str, *, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class ExecutionError(AsanbError):
    """A failure while the job runs."""

    def __init__(self, message: str, *, step: str | None = None) -> None:
        super().__init__(message)
        self.step = step


class EventError(ExecutionError):
    """An event cannot be processed (wrong type in a field the query uses) under the Stop policy."""

    def __init__(self, message: str, *, step: str | None = None, field: str | None = None,
                 row: Any = None) -> None:
        super().__init__(message, step=step)
        self.field = field
        self.row = row


class UdfResultError(EventError):
    """Some values a UDF returned do not convert to its declared output type. The output error policy
    decides: Stop fails the job, Drop drops those rows (``positions``) and keeps the others (``values``)."""

    def __init__(self, message: str, *, positions: Any = (), values: Any = None, step: str | None = None,
                 row: Any = None) -> None:
        super().__init__(message, step=step, row=row)
        self.positions = positions
        self.values = values


class JavaScriptError(ExecutionError):
    """A JavaScript UDF/UDA failed while running: ``kind`` is 'exception', 'timeout', 'memory' or 'result'
    (a value JavaScript cannot hand back, e.g. a function). ASA treats JavaScript runtime errors as fatal."""

    def __init__(self, message: str, *, alias: str, kind: str, js_message: str = "", stack_line: str = "",
                 row: Any = None, step: str | None = None) -> None:
        super().__init__(message, step=step)
        self.alias = alias
        self.kind = kind
        self.js_message = js_message
        self.stack_line = stack_line
        self.row = row


class ScoringError(ExecutionError):
    """The model endpoint of an ML UDF failed."""

    def __init__(self, message: str, *, endpoint: str = "", step: str | None = None) -> None:
        super().__init__(message, step=step)
        self.endpoint = endpoint


class ScoringTransportError(ScoringError):
    """Timeouts or connection failures that outlasted the retry budget."""


class ScoringStatusError(ScoringError):
    """The endpoint answered with a status that fails the job (400, 401, 404, 409) or exhausted retries."""

    def __init__(self, message: str, *, endpoint: str = "", status: int = 0, body_excerpt: str = "",
                 first_row: Any = None, step: str | None = None) -> None:
        super().__init__(message, endpoint=endpoint, step=step)
        self.status = status
        self.body_excerpt = body_excerpt
        self.first_row = first_row


class InternalError(AsanbError):
    """A bug in asanb; please report it with the query."""


class AsanbWarning(UserWarning):
    """Base of asanb's analyser and runtime warnings."""


class UdfInCaseWarning(AsanbWarning):
    """An ML UDF inside CASE is still called for every row (ASA semantics)."""


class ExportWarning(AsanbWarning):
    """Part of a job that an exported ASA project cannot carry as is: a Python UDF, a simulated source,
    a DataFrame input (``asanb.export`` lists each one in its summary too)."""
