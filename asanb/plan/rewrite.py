"""Generic expression-tree utilities for the planner: walk, transform bottom-up, and span-free fingerprints."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass, replace
from typing import Any

from asanb.errors import Span
from asanb.sql import ast


def _child_values(node: object) -> Iterator[object]:
    for item in fields(node):  # type: ignore[arg-type]
        yield getattr(node, item.name)


def walk(node: object) -> Iterator[object]:
    """Every AST node under ``node`` (itself included), parents before children."""
    if isinstance(node, tuple):
        for item in node:
            yield from walk(item)
        return
    if not is_dataclass(node) or isinstance(node, Span):
        return
    yield node
    for value in _child_values(node):
        yield from walk(value)


def transform(node: Any, visit: Callable[[Any], Any | None]) -> Any:
    """Rebuild ``node`` bottom-up; ``visit`` may return a replacement for a node (None keeps it).

    ``visit`` sees a node before its children: a replacement is not descended into, so an aggregate
    call swapped for a column reference hides its arguments from later rules.
    """
    if isinstance(node, tuple):
        return tuple(transform(item, visit) for item in node)
    if not is_dataclass(node) or isinstance(node, Span):
        return node
    replaced = visit(node)
    if replaced is not None:
        return replaced
    changes = {}
    for item in fields(node):
        value = getattr(node, item.name)
        new_value = transform(value, visit)
        if new_value is not value:
            changes[item.name] = new_value
    return replace(node, **changes) if changes else node  # type: ignore[type-var]


def fingerprint(node: Any) -> object:
    """A hashable, span-free, case-folded identity of an expression (two spellings of one name match)."""
    if isinstance(node, tuple):
        return tuple(fingerprint(item) for item in node)
    if isinstance(node, ast.ColumnRef):
        return ("col", tuple(part.lower() for part in node.parts))
    if not is_dataclass(node) or isinstance(node, Span):
        return node.lower() if isinstance(node, str) else node
    return (type(node).__name__,) + tuple(
        fingerprint(getattr(node, item.name)) for item in fields(node) if item.name != "span"
    )


def column(name: str, span: Span) -> ast.ColumnRef:
    """A reference to an engine column (``__agg_0`` ...) standing in for a rewritten expression."""
    return ast.ColumnRef((name,), span)
