"""Shared helpers for the SQL front-end tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from asanb.errors import Span
from asanb.sql import ast

NO_SPAN = Span(0, 0, 0, 0)


def _strip_spans(node: object) -> object:
    """The same tree with every Span replaced, so trees parsed from different text compare equal."""
    if isinstance(node, Span):
        return NO_SPAN
    if isinstance(node, tuple):
        return tuple(_strip_spans(item) for item in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {f.name: _strip_spans(getattr(node, f.name)) for f in dataclasses.fields(node)}
        if isinstance(node, ast.Query):
            changes.update(text="", comments=())
        return dataclasses.replace(node, **changes)
    return node


@pytest.fixture
def strip_spans() -> Callable[[object], object]:
    """Compare trees parsed from different text: ``strip_spans(a) == strip_spans(b)``."""
    return _strip_spans
