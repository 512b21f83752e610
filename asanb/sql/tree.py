"""Generic traversal of the SAQL syntax tree: children, an iterative pre-order walk, and the depth bound."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator

from asanb.errors import AsaSyntaxError, Span
from asanb.sql import ast

__all__ = ["check_depth", "children", "walk"]

# Nodes that chain into deep trees; the outermost of a run is what a depth error points at.
_CHAINING = (*typing.get_args(ast.Expr), ast.When, ast.Over, ast.OrderItem, ast.Duration, ast.Join, ast.Apply)


def children(node: object) -> list[object]:
    """The syntax-tree nodes held directly by ``node`` (fields and tuple fields), in field order."""
    if not dataclasses.is_dataclass(node) or isinstance(node, (Span, type)):
        return []
    found: list[object] = []
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        for child in value if isinstance(value, tuple) else (value,):
            if dataclasses.is_dataclass(child) and not isinstance(child, (Span, type)):
                found.append(child)
    return found


def walk(node: object) -> Iterator[object]:
    """Every syntax-tree node under ``node`` (itself included), parents before children, in source order.
    Iterative, so even a tree deeper than the recursion limit can be walked."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def check_depth(query: ast.Query, text: str, limit: int) -> None:
    """Raise AsaSyntaxError when the tree is more than ``limit`` levels deep. Left-deep operator chains
    (a OR b OR ...) grow without parser recursion, and every later stage walks the tree recursively."""
    stack: list[tuple[object, int, object]] = [(query, 0, query)]
    while stack:
        node, depth, root = stack.pop()
        if not isinstance(root, _CHAINING) or not isinstance(node, _CHAINING):
            root = node
        if depth > limit:
            span: Span | None = getattr(root, "span", None)
            raise AsaSyntaxError(f"this expression nests more than {limit} levels deep (each operator of a long "
                                 "AND / OR / + chain is a level); use IN (...) lists or split it into WITH steps",
                                 span, text)
        stack.extend((child, depth + 1, root) for child in children(node))
