"""From cell text to the query to run: ``{var}`` substitution from the user namespace, the input names a
query reads, and the ``--timestamp-by`` hint written into the query as ``TIMESTAMP BY``."""

from __future__ import annotations

import difflib
import re
import string
from typing import Any

from asanb.errors import ConfigError, Span
from asanb.sql import ast
from asanb.sql.tree import walk

__all__ = ["add_timestamp_by", "called_functions", "cell_span", "input_sources", "substitute"]


class _Formatter(string.Formatter):
    """``{name}`` and ``{name:spec}`` from the namespace; braces that name nothing known stay as written, so a
    literal brace in the query never breaks (fugue #76: Jinja choked on ``LIKE '{%'``)."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace

    def substitute(self, text: str) -> str:
        out = []
        try:
            parsed = list(self.parse(text))
        except ValueError:  # unbalanced braces: nothing to substitute
            return text
        for literal, name, spec, conversion in parsed:
            out.append(literal)
            if name is None:
                continue
            if name.isidentifier() and name in self.namespace:
                out.append(format(self.namespace[name], spec or ""))
            else:
                out.append("{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}")
        return "".join(out)


def substitute(text: str, namespace: dict[str, Any]) -> str:
    """Replace ``{var}`` with the value of ``var`` from ``namespace``; ``{{`` and ``}}`` are literal braces."""
    return _Formatter(namespace).substitute(text)


def input_sources(tree: ast.Query) -> list[ast.Source]:
    """The FROM items that read job inputs (not WITH steps), in query order."""
    steps = {step.name.lower() for step in tree.steps}
    return [node for node in walk(tree) if isinstance(node, ast.Source) and node.name.lower() not in steps]


def add_timestamp_by(query: str, tree: ast.Query, hints: dict[str, str]) -> str:
    """Write ``TIMESTAMP BY [column]`` after each input named in ``hints`` (key "" = every input) that has no
    TIMESTAMP BY of its own."""
    edits: list[tuple[int, str]] = []
    lowered = {alias.lower(): column for alias, column in hints.items()}
    for source in input_sources(tree):
        column = lowered.get(source.name.lower(), lowered.get(""))
        if column is None or source.timestamp_by is not None:
            continue
        end = source.span.end
        if source.alias:
            # The span covers the input name only; step over "[AS] alias" to reach the place for TIMESTAMP BY.
            pattern = rf"\s+(?:AS\s+)?\[?{re.escape(source.alias)}\]?"
            match = re.compile(pattern, re.IGNORECASE).match(query, end)
            if match is None:
                raise ConfigError(f"--timestamp-by: cannot place TIMESTAMP BY after '{source.name} {source.alias}'; "
                                  "write TIMESTAMP BY in the query instead")
            end = match.end()
        edits.append((end, f" TIMESTAMP BY [{column}]"))
    for position, text in sorted(edits, reverse=True):
        query = query[:position] + text + query[position:]
    return query


def called_functions(tree: ast.Query) -> set[str]:
    """Lower-case aliases of the ``udf.``/``uda.`` functions the query calls."""
    return {node.name.lower() for node in walk(tree)
            if isinstance(node, ast.FunctionCall) and node.namespace in ("udf", "uda")}


def cell_span(span: Span, query: str, cell: str) -> tuple[Span, str | None]:
    """Where ``span`` of the query that ran (after ``{var}`` substitution and ``--timestamp-by``) lies in the
    cell as typed, and the text that ran there when the magic had changed it (None when it was typed as is)."""
    matcher = difflib.SequenceMatcher(None, cell, query, autojunk=False)
    start, end, changed = span.start, max(span.end, span.start + 1), None
    cell_start = cell_end = None
    for tag, cell_from, cell_to, query_from, query_to in matcher.get_opcodes():
        if query_to <= start and tag == "equal" or query_to < start:
            continue
        if query_from >= end and not (tag != "equal" and query_from == start == query_to):
            break
        if tag == "equal":
            low = cell_from + max(start, query_from) - query_from
            high = cell_from + min(end, query_to) - query_from
        else:
            low, high = cell_from, max(cell_to, cell_from + 1)
            changed = (changed or "") + query[query_from:query_to]
        cell_start = low if cell_start is None else min(cell_start, low)
        cell_end = high if cell_end is None else max(cell_end, high)
    if cell_start is None or cell_end is None:
        return span, None
    cell_start = min(cell_start, max(len(cell) - 1, 0))
    line = cell.count("\n", 0, cell_start) + 1
    column = cell_start - (cell.rfind("\n", 0, cell_start) + 1) + 1
    return Span(line, column, cell_start, max(cell_end, cell_start + 1)), changed
