"""From cell text to the query to run: ``{var}`` substitution from the user namespace, the input names a
query reads, and the ``--timestamp-by`` hint written into the query as ``TIMESTAMP BY``."""

from __future__ import annotations

import re
import string
from typing import Any

from asanb.errors import ConfigError
from asanb.sql import ast
from asanb.sql.tree import walk

__all__ = ["add_timestamp_by", "called_functions", "input_sources", "substitute"]


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
