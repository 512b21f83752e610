"""Syntax tree back to SAQL text (minimal parentheses, canonical spelling), and '#'-comment export for ASA."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from asanb.errors import AsaSyntaxError
from asanb.sql import ast
from asanb.sql.tokens import KEYWORDS, tokenize

__all__ = ["to_asa_text", "to_saql"]

_PLAIN_NAME = re.compile(r"[^\W\d]\w*")
# Binding strength, loosest first; mirrors the parser's precedence table.
_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "=": 4, "<>": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
               "+": 5, "-": 5, "*": 6, "/": 6, "%": 6}
_PREDICATE, _ADDITIVE, _UNARY, _ATOM = 4, 5, 7, 8


def name(text: str) -> str:
    """An identifier, in [brackets] when it is a keyword or not a plain name."""
    if _PLAIN_NAME.fullmatch(text) and text.lower() not in KEYWORDS:
        return text
    return "[" + text.replace("]", "]]") + "]"


def _precedence(node: object) -> int:
    if isinstance(node, ast.BinaryOp):
        return _PRECEDENCE[node.op]
    if isinstance(node, ast.UnaryOp):
        return _PRECEDENCE["not"] if node.op == "not" else _UNARY
    if isinstance(node, (ast.IsNull, ast.InList, ast.Between, ast.Like)):
        return _PREDICATE
    if isinstance(node, ast.Literal) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool) \
            and node.value < 0:
        return _UNARY
    return _ATOM


def _operand(node: ast.Expr, minimum: int) -> str:
    """Print ``node``, parenthesized when it binds looser than ``minimum``."""
    text = to_saql(node)
    return f"({text})" if _precedence(node) < minimum else text


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def _literal(node: ast.Literal) -> str:
    if node.value is None:
        return "NULL"
    if isinstance(node.value, bool):
        return "TRUE" if node.value else "FALSE"
    if isinstance(node.value, str):
        return "'" + node.value.replace("'", "''") + "'"
    if isinstance(node.value, float):
        if node.value in (float("inf"), float("-inf")):
            return "-1e999" if node.value < 0 else "1e999"
        text = repr(node.value)
        return text if any(c in text for c in ".en") else text + ".0"
    return str(node.value)


def _binary(node: ast.BinaryOp) -> str:
    level = _PRECEDENCE[node.op]
    # Left-associative: a right operand of the same strength needs parentheses.
    return f"{_operand(node.left, level)} {node.op.upper()} {_operand(node.right, level + 1)}"


def _unary(node: ast.UnaryOp) -> str:
    if node.op == "not":
        return f"NOT {_operand(node.operand, _PRECEDENCE['not'])}"
    inner = _operand(node.operand, _UNARY)
    # A space keeps '- -x' from becoming a '--' comment and '-5' (a literal) from merging with the sign.
    return f"{node.op} {inner}" if inner[:1] in "-+" or isinstance(node.operand, ast.Literal) else node.op + inner


def _not(negated: bool) -> str:
    return " NOT" if negated else ""


def _call(node: ast.FunctionCall) -> str:
    prefix = f"{node.namespace}." if node.namespace in ("udf", "uda") else ""
    if node.namespace == "system":
        head = "System.Timestamp"
    else:
        plain = name(node.name) == node.name and node.name.upper().lower() == node.name
        head = prefix + (node.name.upper() if plain and not prefix else name(node.name))
    if node.star:
        args = "*"
    else:
        args = ("DISTINCT " if node.distinct else "") + ", ".join(to_saql(arg) for arg in node.args)
    over = f" {_over(node.over)}" if node.over is not None else ""
    return f"{head}({args}){over}"


def _over(node: ast.Over) -> str:
    parts = []
    if node.partition_by:
        parts.append("PARTITION BY " + ", ".join(to_saql(e) for e in node.partition_by))
    if node.limit_duration is not None:
        parts.append("LIMIT " + to_saql(node.limit_duration))
    if node.when is not None:
        parts.append("WHEN " + to_saql(node.when))
    if node.order_by:
        parts.append("ORDER BY " + ", ".join(to_saql(item) for item in node.order_by))
    return f"OVER ({' '.join(parts)})"


def _case(node: ast.Case) -> str:
    parts = ["CASE"] + ([to_saql(node.operand)] if node.operand is not None else [])
    parts += [to_saql(when) for when in node.whens]
    if node.else_result is not None:
        parts.append("ELSE " + to_saql(node.else_result))
    return " ".join(parts + ["END"])


def _window(node: ast.WindowSpec) -> str:
    head = f"{node.kind.capitalize()}Window("
    if node.kind == "snapshot" or node.unit is None:
        text = head + ")"
    else:
        fields = {"tumbling": ("size", "offset"), "hopping": ("size", "hop", "offset"), "sliding": ("size",),
                  "session": ("size", "max_duration")}[node.kind]
        amounts = [getattr(node, field) for field in fields]
        while amounts and amounts[-1] is None:
            amounts.pop()
        text = head + ", ".join([node.unit.name] + [_number(a) for a in amounts]) + ")"
    if node.partition_by:
        text += " OVER (PARTITION BY " + ", ".join(to_saql(e) for e in node.partition_by) + ")"
    return text


def _window_set(node: ast.WindowSet) -> str:
    inner = ", ".join(f"{_window(w)} AS {_literal(ast.Literal(w.name or '', 'nvarchar(max)', w.span))}"
                      for w in node.windows)
    return f"Windows({inner})"


def _source(node: ast.Source) -> str:
    text = name(node.name) + (f" AS {name(node.alias)}" if node.alias else "")
    if node.timestamp_by is not None:
        text += " TIMESTAMP BY " + to_saql(node.timestamp_by)
        if node.timestamp_over:
            text += " OVER " + ", ".join(to_saql(e) for e in node.timestamp_over)
    if node.partition_by:
        text += " PARTITION BY " + ", ".join(to_saql(e) for e in node.partition_by)
    return text


def _join(node: ast.Join) -> str:
    if isinstance(node.right, ast.Apply):
        return f"{to_saql(node.left)} {to_saql(node.right)}"
    keyword = {"inner": "JOIN", "left": "LEFT OUTER JOIN"}.get(node.kind, "JOIN")
    condition = f" ON {to_saql(node.condition)}" if node.condition is not None else ""
    return f"{to_saql(node.left)} {keyword} {to_saql(node.right)}{condition}"


def _select_item(node: ast.SelectItem) -> str:
    return to_saql(node.expr) + (f" AS {name(node.alias)}" if node.alias is not None else "")


def _select(node: ast.Select) -> str:
    head = "SELECT" + (" DISTINCT" if node.distinct else "") + (f" TOP {node.top}" if node.top is not None else "")
    lines = [head + " " + ", ".join(_select_item(item) for item in node.items)]
    if node.into is not None:
        lines.append(f"INTO {name(node.into)}")
    lines.append("FROM " + to_saql(node.from_))
    if node.where is not None:
        lines.append("WHERE " + to_saql(node.where))
    if node.group_by is not None:
        lines.append(to_saql(node.group_by))
    if node.having is not None:
        lines.append("HAVING " + to_saql(node.having))
    return "\n".join(lines)


def _group_by(node: ast.GroupBy) -> str:
    items = [to_saql(item) for item in node.items]
    if node.window is not None:
        items.append(to_saql(node.window))
    return "GROUP BY " + ", ".join(items)


def _query(node: ast.Query) -> str:
    parts = []
    if node.steps:
        parts.append("WITH " + ",\n".join(to_saql(step) for step in node.steps))
    parts += [to_saql(statement) for statement in node.statements]
    return "\n".join(parts)


def _step(node: ast.Step) -> str:
    body = to_saql(node.body).replace("\n", "\n    ")
    return f"{name(node.name)} AS (\n    {body}\n)"


_PRINTERS: dict[type, Callable[[Any], str]] = {
    ast.Literal: _literal,
    ast.ColumnRef: lambda n: ".".join(name(part) for part in n.parts),
    ast.Star: lambda n: f"{name(n.qualifier)}.*" if n.qualifier else "*",
    ast.TimeUnit: lambda n: n.name,
    ast.UnaryOp: _unary,
    ast.BinaryOp: _binary,
    ast.IsNull: lambda n: f"{_operand(n.operand, _PREDICATE)} IS{_not(n.negated)} NULL",
    ast.InList: lambda n: f"{_operand(n.operand, _PREDICATE)}{_not(n.negated)} IN ("
                          + ", ".join(to_saql(i) for i in n.items) + ")",
    ast.Between: lambda n: f"{_operand(n.operand, _PREDICATE)}{_not(n.negated)} BETWEEN "
                           f"{_operand(n.low, _ADDITIVE)} AND {_operand(n.high, _ADDITIVE)}",
    ast.Like: lambda n: f"{_operand(n.operand, _PREDICATE)}{_not(n.negated)} LIKE {_operand(n.pattern, _ADDITIVE)}",
    ast.When: lambda n: f"WHEN {to_saql(n.condition)} THEN {to_saql(n.result)}",
    ast.Case: _case,
    ast.TypeName: lambda n: n.name,
    ast.Cast: lambda n: f"{'TRY_CAST' if n.is_try else 'CAST'}({to_saql(n.operand)} AS {n.type.name})",
    ast.OrderItem: lambda n: to_saql(n.expr) + (" DESC" if n.descending else ""),
    ast.Duration: lambda n: f"DURATION({n.unit.name}, {_number(n.amount)})",
    ast.Over: _over,
    ast.FunctionCall: _call,
    ast.WindowSpec: _window,
    ast.WindowSet: _window_set,
    ast.GroupBy: _group_by,
    ast.Source: _source,
    ast.Apply: lambda n: f"{'OUTER' if n.outer else 'CROSS'} APPLY {to_saql(n.call)} AS {name(n.alias)}",
    ast.Join: _join,
    ast.SelectItem: _select_item,
    ast.Select: _select,
    ast.Union: lambda n: "\nUNION\n".join(to_saql(s) for s in n.selects),
    ast.Step: _step,
    ast.Comment: lambda n: {"--": f"--{n.text}", "/*": f"/*{n.text}*/", "#": f"#{n.text}"}[n.style],
    ast.Query: _query,
}


def to_saql(node: object) -> str:
    """SAQL text for any syntax-tree node or a whole Query; parsing it gives back the same tree (spans aside)."""
    printer = _PRINTERS.get(type(node))
    if printer is None:
        raise TypeError(f"to_saql cannot print {type(node).__name__}")
    return printer(node)


def to_asa_text(query_text: str) -> str:
    """The query with '#' comment lines rewritten as '--' comments (ASA rejects '#'); all else byte-identical."""
    try:
        starts = [c.span.start for c in tokenize(query_text)[1] if c.style == "#"]
    except AsaSyntaxError:
        # Invalid text still exports: fall back to the line rule the tokenizer applies.
        starts = [m.end(1) for m in re.finditer(r"(?m)^([ \t]*)#", query_text)]
    pieces, last = [], 0
    for start in starts:
        pieces += [query_text[last:start], "--"]
        last = start + 1
    return "".join(pieces) + query_text[last:]
