"""Time-window syntax: GROUP BY window calls (positional, Duration(...) and Windows(...) forms) to WindowSpec /
WindowSet, and the OVER (... LIMIT DURATION ...) clause of analytic functions."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from asanb.errors import AsaSyntaxError
from asanb.sql import ast
from asanb.sql.tokens import TokenType

if TYPE_CHECKING:
    from asanb.sql.parser import _Parser

__all__ = ["WINDOW_PARSERS", "WINDOW_UNITS", "parse_over"]

# Windows take fixed-length units only (../shared/spec/saql.md, Windows); values are nanoseconds so the
# Duration form can be converted exactly to its smallest unit.
WINDOW_UNITS: dict[str, int] = {
    "day": 86_400_000_000_000, "hour": 3_600_000_000_000, "minute": 60_000_000_000, "second": 1_000_000_000,
    "millisecond": 1_000_000, "microsecond": 1_000, "nanosecond": 1,
}
# Positional amounts after the unit, and how many are required, per window kind.
_POSITIONAL: dict[str, tuple[tuple[str, ...], int]] = {
    "tumbling": (("size", "offset"), 1),
    "hopping": (("size", "hop", "offset"), 2),
    "sliding": (("size",), 1),
    "session": (("size", "max_duration"), 2),
}
# Named arguments of the Duration form: TumblingWindow(Duration(hour, 1), Offset(millisecond, -1)).
_NAMED = {"duration": "size", "hop": "hop", "offset": "offset", "timeout": "size", "maxduration": "max_duration"}


def _positional(parser: _Parser, kind: str) -> tuple[ast.TimeUnit, dict[str, float]]:
    names, required = _POSITIONAL[kind]
    unit = parser.parse_time_unit()
    amounts: list[float] = []
    while parser.accept_op(","):
        if len(amounts) == len(names):
            raise parser.error(f"too many arguments for a {kind} window: expected {', '.join(names)}")
        amounts.append(parser.parse_number(f"as the {names[len(amounts)]} of the {kind} window"))
    if len(amounts) < required:
        raise parser.expected(f"',' and the {names[len(amounts)]}", f"in the {kind} window")
    return unit, dict(zip(names, amounts, strict=False))


def _named(parser: _Parser, kind: str) -> tuple[ast.TimeUnit, dict[str, float]]:
    pairs: dict[str, tuple[ast.TimeUnit, float]] = {}
    while True:
        token = parser.token
        field = _NAMED.get(str(token.value).lower()) if parser.is_name(token) else None
        if field is None or field in pairs:
            raise parser.expected(f"one of {', '.join(n.capitalize() for n in _NAMED)}(unit, amount)",
                                  f"in the {kind} window")
        parser.advance()
        parser.expect_op("(", f"after {token.text}")
        unit = parser.parse_time_unit()
        parser.expect_op(",", f"after the unit of {token.text}")
        pairs[field] = (unit, parser.parse_number(f"as the amount of {token.text}"))
        parser.expect_op(")", f"to close {token.text}")
        if not parser.accept_op(","):
            break
    if "size" not in pairs:
        raise parser.error(f"the {kind} window needs Duration(unit, size)")
    units = [unit for unit, _ in pairs.values()]
    if len({unit.name for unit in units}) == 1:
        return units[0], {field: amount for field, (_, amount) in pairs.items()}
    # Mixed units convert to the smallest; the planner judges which units a window may use.
    for unit in units:
        if unit.name not in WINDOW_UNITS:
            raise AsaSyntaxError(f"'{unit.name}' cannot be mixed with other units in a window; use one of: "
                                 f"{', '.join(WINDOW_UNITS)}", unit.span, parser.text)
    smallest = min(units, key=lambda unit: WINDOW_UNITS[unit.name])
    scale = WINDOW_UNITS[smallest.name]
    amounts = {field: amount * WINDOW_UNITS[unit.name] / scale for field, (unit, amount) in pairs.items()}
    return smallest, amounts


def parse_window(parser: _Parser, kind: str) -> ast.WindowSpec:
    """One window call, e.g. ``HoppingWindow(second, 10, 5)``; the parser stands on its name."""
    start = parser.advance().span
    parser.expect_op("(", f"after the {kind} window name")
    if kind == "snapshot":
        parser.expect_op(")", "after SnapshotWindow(")
        return ast.WindowSpec("snapshot", None, None, parser.span_from(start))
    token = parser.token
    named = parser.is_name(token) and str(token.value).lower() in _NAMED and parser.peek_op("(")
    unit, amounts = (_named if named else _positional)(parser, kind)
    parser.expect_op(")", f"to close the {kind} window")
    partition_by: tuple[ast.Expr, ...] = ()
    if kind == "session" and parser.at("over") and parser.peek_op("("):
        parser.pos += 2
        parser.expect("partition", "inside SessionWindow OVER (")
        partition_by = parser.parse_by_list()
        parser.expect_op(")", "to close OVER (PARTITION BY ...)")
    return ast.WindowSpec(kind, unit, amounts["size"], parser.span_from(start), amounts.get("hop"),
                          amounts.get("offset"), amounts.get("max_duration"), partition_by)


def parse_window_set(parser: _Parser) -> ast.WindowSet:
    """``Windows(TumblingWindow(...) AS 'a', ...)``; the older ``Window('a', TumblingWindow(...))`` too."""
    start = parser.advance().span
    parser.expect_op("(", "after Windows")
    windows: list[ast.WindowSpec] = []
    while True:
        windows.append(_named_window(parser))
        if not parser.accept_op(","):
            break
    parser.expect_op(")", "to close Windows(...)")
    return ast.WindowSet(tuple(windows), parser.span_from(start))


def _named_window(parser: _Parser) -> ast.WindowSpec:
    token = parser.token
    if parser.is_name(token) and str(token.value).lower() == "window" and parser.peek_op("("):
        parser.pos += 2
        name = _window_name(parser, "as the first argument of Window(")
        parser.expect_op(",", "after the window name")
        window = _single_window(parser)
        parser.expect_op(")", "to close Window(...)")
        return dataclasses.replace(window, name=name)
    window = _single_window(parser)
    parser.expect("as", "after each window in Windows(...)")
    return dataclasses.replace(window, name=_window_name(parser, "after AS"))


def _single_window(parser: _Parser) -> ast.WindowSpec:
    token = parser.token
    kind = _KINDS.get(str(token.value).lower()) if parser.is_name(token) else None
    if kind is None or not parser.peek_op("("):
        raise parser.expected("a window such as TumblingWindow(second, 10)", "inside Windows(...)")
    return parse_window(parser, kind)


def _window_name(parser: _Parser, where: str) -> str:
    if parser.token.type is TokenType.STRING:
        return str(parser.advance().value)
    return parser.name(where)[0]


def parse_over(parser: _Parser) -> ast.Over:
    """``OVER (PARTITION BY ... LIMIT DURATION(u, n) WHEN c ORDER BY ...)``; the parser stands on OVER."""
    start = parser.advance().span
    parser.expect_op("(", "after OVER")
    clauses: dict[str, object] = {}
    while not parser.at_op(")"):
        word = str(parser.token.value) if parser.token.type is TokenType.KEYWORD else ""
        handler = _OVER_CLAUSES.get(word)
        if handler is None or word in clauses:
            raise parser.expected("PARTITION BY, LIMIT DURATION, WHEN, ORDER BY or ')'", "inside OVER (...)")
        parser.advance()
        clauses[word] = handler(parser)
    parser.advance()
    return ast.Over(clauses.get("partition", ()), clauses.get("limit"), clauses.get("when"),  # type: ignore[arg-type]
                    clauses.get("order", ()), parser.span_from(start))  # type: ignore[arg-type]


def _parse_duration(parser: _Parser) -> ast.Duration:
    start = parser.expect("duration", "after LIMIT").span
    parser.expect_op("(", "after DURATION")
    unit = parser.parse_time_unit()
    parser.expect_op(",", "after the DURATION unit")
    amount = parser.parse_number("as the DURATION amount")
    parser.expect_op(")", "to close DURATION")
    return ast.Duration(unit, amount, parser.span_from(start))


def _parse_order_list(parser: _Parser) -> tuple[ast.OrderItem, ...]:
    parser.expect("by", "after ORDER")
    items = [_parse_order_item(parser)]
    while parser.accept_op(","):
        items.append(_parse_order_item(parser))
    return tuple(items)

def _parse_order_item(parser: _Parser) -> ast.OrderItem:
    expr = parser.parse_expr()
    descending = parser.accept("desc") is not None
    if not descending:
        parser.accept("asc")
    return ast.OrderItem(expr, descending, expr.span.to(parser.last_span))


_OVER_CLAUSES: dict[str, Callable[[_Parser], object]] = {
    "partition": lambda parser: parser.parse_by_list(),
    "limit": _parse_duration,
    "when": lambda parser: parser.parse_expr(),
    "order": _parse_order_list,
}


# Each window also has a short name: TUMBLING(...) is TUMBLINGWINDOW(...) (windowing function pages).
_KINDS = {name: kind for kind in ("tumbling", "hopping", "sliding", "session", "snapshot")
          for name in (kind, f"{kind}window")}


def _window_parser(kind: str) -> Callable[[_Parser], ast.WindowSpec]:
    return lambda parser: parse_window(parser, kind)


WINDOW_PARSERS: dict[str, Callable[[_Parser], ast.WindowSpec | ast.WindowSet]] = {
    **{name: _window_parser(kind) for name, kind in _KINDS.items()},
    "windows": parse_window_set,
}

