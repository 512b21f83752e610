"""Naming rules shared by the planner's stages: output column names and up-front name checks."""

from __future__ import annotations

from asanb.plan.rewrite import walk
from asanb.plan.scope import Scope
from asanb.sql import ast


def check_names(exprs: tuple[ast.Expr, ...], scope: Scope) -> None:
    """Resolve every column reference now, so an unknown name fails before any event is read."""
    for node in walk(exprs):
        if isinstance(node, ast.ColumnRef):
            scope.resolve(node)


def output_name(item: ast.SelectItem, position: int) -> str:
    """The column name of a select item: its alias, the last part of a column reference, the function name
    of a call, else ``column<N>`` (asanb's choice for unnamed expressions)."""
    if item.alias:
        return item.alias
    expr = item.expr
    if isinstance(expr, ast.ColumnRef):
        return expr.parts[-1]
    if isinstance(expr, ast.FunctionCall):
        return expr.name
    return f"column{position}"
