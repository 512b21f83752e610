"""SAQL tokens to syntax tree: a recursive-descent parser for queries, FROM, GROUP BY windows and expressions."""

from __future__ import annotations

from collections.abc import Callable

from asanb.errors import AsaSyntaxError, QueryError, Span
from asanb.sql import ast
from asanb.sql.tokens import RESERVED, Token, TokenType, tokenize
from asanb.sql.tree import check_depth
from asanb.sql.windows import WINDOW_PARSERS, parse_over

__all__ = ["MAX_DEPTH", "MAX_TREE_DEPTH", "TIME_UNITS", "TYPE_NAMES", "parse"]

MAX_DEPTH = 64
"""How deeply expressions may nest before the parser gives up (deeper queries are unreadable anyway)."""
MAX_TREE_DEPTH = 128
"""How many levels a syntax tree may have, operator chains included: its consumers (printer, lint, planner,
evaluator) recurse over it, so this bound keeps them far from Python's recursion limit."""

# Abbreviations from the DATEPART reference; TimeUnit keeps the long name (../shared/spec/saql.md).
TIME_UNITS: dict[str, str] = {
    **{name: name for name in ("year", "quarter", "month", "dayofyear", "day", "week", "weekday", "hour",
                                "minute", "second", "millisecond", "microsecond", "nanosecond")},
    "yy": "year", "yyyy": "year", "qq": "quarter", "q": "quarter", "mm": "month", "m": "month",
    "dy": "dayofyear", "y": "dayofyear", "dd": "day", "d": "day", "wk": "week", "ww": "week",
    "dw": "weekday", "w": "weekday", "hh": "hour", "mi": "minute", "n": "minute", "ss": "second",
    "s": "second", "ms": "millisecond", "mcs": "microsecond", "ns": "nanosecond",
}
TYPE_NAMES = ("bigint", "float", "nvarchar(max)", "datetime", "bit", "record", "array")
_UNIT_FIRST = frozenset({"dateadd", "datediff", "datepart", "datename", "isfirst"})
# Window calls outside GROUP BY still parse (the planner explains where they belong).
_UNIT_MAYBE = frozenset({f"{kind}{suffix}" for kind in ("tumbling", "hopping", "sliding", "session")
                         for suffix in ("", "window")})
_COMPARISONS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_ADDITIVE = {"+": "+", "-": "-"}
_MULTIPLICATIVE = {"*": "*", "/": "/", "%": "%"}


class _Parser:
    """Cursor over the token list; every ``parse_*`` method consumes one construct."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens, self.comments = tokenize(text)
        self.pos = 0
        self.depth = 0

    # ------------------------------------------------------------ cursor helpers

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def peek_op(self, op: str, offset: int = 1) -> bool:
        token = self.peek(offset)
        return token.type is TokenType.OPERATOR and token.value == op

    def peek_word(self, word: str) -> bool:
        token = self.peek()
        return token.type is TokenType.KEYWORD and token.value == word

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.type is not TokenType.EOF:
            self.pos += 1
        return token

    @property
    def last_span(self) -> Span:
        return self.tokens[max(self.pos - 1, 0)].span

    def span_from(self, start: Span) -> Span:
        return start.to(self.last_span)

    def error(self, message: str, token: Token | None = None) -> AsaSyntaxError:
        token = token or self.token
        return AsaSyntaxError(message, token.span, self.text)

    def expected(self, what: str, where: str) -> AsaSyntaxError:
        found = "the end of the query" if self.token.type is TokenType.EOF else _quoted(self.token.text)
        return self.error(f"expected {what} {where}, found {found}".replace("  ", " "))

    def at(self, *words: str) -> bool:
        return self.token.type is TokenType.KEYWORD and self.token.value in words

    def at_op(self, op: str) -> bool:
        return self.token.type is TokenType.OPERATOR and self.token.value == op

    def accept(self, word: str) -> Token | None:
        return self.advance() if self.at(word) else None

    def accept_op(self, op: str) -> Token | None:
        return self.advance() if self.at_op(op) else None

    def expect(self, word: str, where: str) -> Token:
        if not self.at(word):
            raise self.expected(word.upper(), where)
        return self.advance()

    def expect_op(self, op: str, where: str) -> Token:
        if not self.at_op(op):
            raise self.expected(f"'{op}'", where)
        return self.advance()

    def is_name(self, token: Token) -> bool:
        return token.type is TokenType.IDENTIFIER or (
            token.type is TokenType.KEYWORD and token.value not in RESERVED)

    def name(self, where: str) -> tuple[str, Span]:
        token = self.token
        if not self.is_name(token):
            raise self.expected("a name", where)
        self.advance()
        return (token.value if token.type is TokenType.IDENTIFIER else token.text), token.span  # type: ignore[return-value]

    def comma_list(self, item: Callable[[], ast.Expr]) -> tuple[ast.Expr, ...]:
        items = [item()]
        while self.accept_op(","):
            items.append(item())
        return tuple(items)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"the query nests more than {MAX_DEPTH} levels deep here; simplify it with WITH steps")

    # ------------------------------------------------------------ statements

    def parse_query(self) -> ast.Query:
        steps: list[ast.Step] = []
        if self.accept("with"):
            steps.append(self.parse_step())
            while self.accept_op(","):
                steps.append(self.parse_step())
        statements: list[ast.Select | ast.Union] = []
        while True:
            while self.accept_op(";"):
                pass
            if self.token.type is TokenType.EOF:
                break
            if not self.at("select"):
                where = "after the WITH steps" if steps and not statements else "to start a statement"
                if statements:
                    where = "after the previous statement"
                raise self.expected("SELECT", where)
            statements.append(self.parse_body(in_step=False))
        if not statements:
            raise self.expected("a SELECT statement", "in the query")
        return ast.Query(tuple(steps), tuple(statements), self.text, tuple(self.comments))

    def parse_step(self) -> ast.Step:
        name, start = self.name("for a WITH step")
        self.expect("as", f"after the step name '{name}'")
        self.expect_op("(", f"after '{name} AS'")
        body = self.parse_body(in_step=True)
        self.expect_op(")", f"to close the step '{name}'")
        return ast.Step(name, body, self.span_from(start))

    def parse_body(self, in_step: bool) -> ast.Select | ast.Union:
        selects = [self.parse_select()]
        while self.accept("union"):
            self.accept("all")
            selects.append(self.parse_select())
        for select in selects[1:]:
            if select.into is not None and select.into_span is not None:
                raise AsaSyntaxError("INTO belongs to the first SELECT of a UNION", select.into_span, self.text)
        if in_step and selects[0].into_span is not None:
            raise AsaSyntaxError("a WITH step cannot have INTO; write INTO in the statement that reads the step",
                                 selects[0].into_span, self.text)
        if len(selects) == 1:
            return selects[0]
        return ast.Union(tuple(selects), selects[0].span.to(selects[-1].span))

    def parse_select(self) -> ast.Select:
        start = self.expect("select", "to start a statement").span
        distinct = self.accept("distinct") is not None
        top = None
        if self.accept("top"):
            if self.token.type is not TokenType.INTEGER:
                raise self.expected("a whole number", "after TOP")
            top = int(self.advance().value)  # type: ignore[call-overload]
        items = [self.parse_select_item()]
        while self.accept_op(","):
            items.append(self.parse_select_item())
        into = into_span = None
        if self.accept("into"):
            into, into_span = self.name("after INTO")
        self.expect("from", "after the select list" if into is None else "after the INTO output")
        from_ = self.parse_from()
        clauses: dict[str, object] = {}
        for word, parse_clause in self.select_clauses.items():
            if self.accept(word):
                clauses[word] = parse_clause(self)
        return ast.Select(tuple(items), from_, self.span_from(start), distinct, top, into, into_span,
                          clauses.get("where"), clauses.get("group"), clauses.get("having"))  # type: ignore[arg-type]

    def parse_select_item(self) -> ast.SelectItem:
        token = self.token
        if self.accept_op("*"):
            return ast.SelectItem(ast.Star(None, token.span), None, token.span)
        if self.is_name(token) and self.peek_op(".") and self.peek_op("*", 2):
            self.pos += 3
            span = self.span_from(token.span)
            return ast.SelectItem(ast.Star(str(token.value), span), None, span)
        expr = self.parse_expr()
        alias = self.parse_alias(allow_string=True)
        return ast.SelectItem(expr, alias, self.span_from(token.span))

    def parse_alias(self, allow_string: bool) -> str | None:
        if self.accept("as"):
            if allow_string and self.token.type is TokenType.STRING:
                if not self.token.value:
                    raise self.error("an alias cannot be empty")
                return str(self.advance().value)
            return self.name("after AS")[0]
        if self.token.type is TokenType.IDENTIFIER:
            return str(self.advance().value)
        return None

    # ------------------------------------------------------------ FROM

    def parse_from(self) -> ast.FromItem:
        item: ast.FromItem = self.parse_source()
        while True:
            handler = self.join_starts.get(str(self.token.value)) if self.token.type is TokenType.KEYWORD else None
            if handler is None:
                return item
            item = handler(self, item)

    def parse_source(self) -> ast.Source:
        name, span = self.name("for the input or step to read FROM")
        alias = self.parse_alias(allow_string=False)
        timestamp_by: ast.Expr | None = None
        timestamp_over: tuple[ast.Expr, ...] = ()
        partition_by: tuple[ast.Expr, ...] = ()
        while True:
            if self.at("timestamp") and self.peek_word("by") and timestamp_by is None:
                self.pos += 2
                timestamp_by = self.parse_expr()
                if self.at("over") and not self.peek_op("("):
                    self.advance()
                    timestamp_over = self.comma_list(self.parse_expr)
            elif self.at("partition") and self.peek_word("by") and not partition_by:
                self.pos += 2
                partition_by = self.comma_list(self.parse_expr)
            else:
                return ast.Source(name, span, alias, timestamp_by, timestamp_over, partition_by)

    def parse_join(self, left: ast.FromItem, kind: str) -> ast.Join:
        right = self.parse_source()
        self.expect("on", f"after the joined input '{right.name}'")
        condition = self.parse_expr()
        return ast.Join(kind, left, right, condition, _span_of(left).to(self.last_span))

    def parse_inner(self, left: ast.FromItem) -> ast.Join:
        self.accept("inner")
        self.expect("join", "after INNER")
        return self.parse_join(left, "inner")

    def parse_left(self, left: ast.FromItem) -> ast.Join:
        self.advance()
        self.accept("outer")
        self.expect("join", "after LEFT [OUTER]")
        return self.parse_join(left, "left")

    def parse_apply(self, left: ast.FromItem) -> ast.Join:
        start = self.advance()
        outer = start.value == "outer"
        self.expect("apply", f"after {start.text.upper()}")
        call = self.parse_primary()
        if not isinstance(call, ast.FunctionCall):
            raise AsaSyntaxError("APPLY needs a function call such as GetArrayElements(x)", _span_of(call),
                                 self.text)
        alias = self.parse_alias(allow_string=False)
        if alias is None:
            raise self.expected("AS alias", "after the APPLY function")
        apply = ast.Apply(call, alias, outer, self.span_from(start.span))
        return ast.Join("apply", left, apply, None, _span_of(left).to(self.last_span))

    join_starts: dict[str, Callable[[_Parser, ast.FromItem], ast.Join]] = {
        "join": parse_inner, "inner": parse_inner, "left": parse_left, "cross": parse_apply,
        "outer": parse_apply,
    }

    # ------------------------------------------------------------ WHERE / GROUP BY / HAVING

    def parse_where(self) -> ast.Expr:
        return self.parse_expr()

    def parse_group_by(self) -> ast.GroupBy:
        start = self.last_span
        self.expect("by", "after GROUP")
        items: list[ast.Expr] = []
        window: ast.WindowSpec | ast.WindowSet | None = None
        while True:
            token = self.token
            lowered = str(token.value).lower() if self.is_name(token) else ""
            window_parser = WINDOW_PARSERS.get(lowered)
            if self.peek_op("(") and window_parser is not None:
                if window is not None:
                    raise self.error("GROUP BY can hold only one window; to compute several in one step use "
                                     "Windows(TumblingWindow(...) AS 'a', HoppingWindow(...) AS 'b')")
                window = window_parser(self)
            else:
                items.append(self.parse_expr())
            if not self.accept_op(","):
                break
        return ast.GroupBy(tuple(items), window, self.span_from(start))

    select_clauses: dict[str, Callable[[_Parser], object]] = {
        "where": parse_where, "group": parse_group_by, "having": parse_where,
    }

    # ------------------------------------------------------------ expressions

    def parse_expr(self) -> ast.Expr:
        self.enter()
        try:
            return self.parse_or()
        finally:
            self.depth -= 1

    def parse_or(self) -> ast.Expr:
        left = self.parse_and()
        while self.accept("or"):
            right = self.parse_and()
            left = ast.BinaryOp("or", left, right, _span_of(left).to(_span_of(right)))
        return left

    def parse_and(self) -> ast.Expr:
        left = self.parse_not()
        while self.accept("and"):
            right = self.parse_not()
            left = ast.BinaryOp("and", left, right, _span_of(left).to(_span_of(right)))
        return left

    def parse_not(self) -> ast.Expr:
        token = self.accept("not")
        if token is None:
            return self.parse_predicate()
        self.enter()
        try:
            operand = self.parse_not()
        finally:
            self.depth -= 1
        return ast.UnaryOp("not", operand, token.span.to(_span_of(operand)))

    def parse_predicate(self) -> ast.Expr:
        left = self.parse_binary(1)
        while True:
            if self.token.type is TokenType.OPERATOR and self.token.value in _COMPARISONS:
                op = _COMPARISONS[str(self.advance().value)]
                right = self.parse_binary(1)
                left = ast.BinaryOp(op, left, right, _span_of(left).to(_span_of(right)))
                continue
            negated_pos = self.pos
            negated = self.accept("not") is not None
            handler = self.predicates.get(str(self.token.value)) if self.token.type is TokenType.KEYWORD else None
            if handler is None or (negated and self.token.value == "is"):
                self.pos = negated_pos
                return left
            self.advance()
            left = handler(self, left, negated)

    def parse_is(self, operand: ast.Expr, _negated: bool) -> ast.Expr:
        negated = self.accept("not") is not None
        self.expect("null", "after IS" + (" NOT" if negated else ""))
        return ast.IsNull(operand, negated, _span_of(operand).to(self.last_span))

    def parse_in(self, operand: ast.Expr, negated: bool) -> ast.Expr:
        self.expect_op("(", "after IN")
        items = self.comma_list(self.parse_expr)
        self.expect_op(")", "to close the IN list")
        return ast.InList(operand, items, negated, _span_of(operand).to(self.last_span))

    def parse_between(self, operand: ast.Expr, negated: bool) -> ast.Expr:
        low = self.parse_binary(1)
        self.expect("and", "between the bounds of BETWEEN")
        high = self.parse_binary(1)
        return ast.Between(operand, low, high, negated, _span_of(operand).to(_span_of(high)))

    def parse_like(self, operand: ast.Expr, negated: bool) -> ast.Expr:
        pattern = self.parse_binary(1)
        return ast.Like(operand, pattern, negated, _span_of(operand).to(_span_of(pattern)))

    predicates: dict[str, Callable[[_Parser, ast.Expr, bool], ast.Expr]] = {
        "is": parse_is, "in": parse_in, "between": parse_between, "like": parse_like,
    }

    def parse_binary(self, level: int) -> ast.Expr:
        """Left-associative arithmetic: level 1 is + -, level 2 is * / %, then unary."""
        if level > len(_ARITHMETIC):
            return self.parse_unary()
        ops = _ARITHMETIC[level - 1]
        left = self.parse_binary(level + 1)
        while self.token.type is TokenType.OPERATOR and self.token.value in ops:
            op = ops[str(self.advance().value)]
            right = self.parse_binary(level + 1)
            left = ast.BinaryOp(op, left, right, _span_of(left).to(_span_of(right)))
        return left

    def parse_unary(self) -> ast.Expr:
        if not (self.at_op("-") or self.at_op("+")):
            return self.parse_primary()
        token = self.advance()
        self.enter()
        try:
            operand = self.parse_unary()
        finally:
            self.depth -= 1
        span = token.span.to(_span_of(operand))
        if token.value == "-" and isinstance(operand, ast.Literal) and operand.type_name in ("bigint", "float") \
                and operand.span.start == token.span.end:
            # '-5' is one literal for the planner; '- 5' stays a UnaryOp so printing round-trips exactly.
            return ast.Literal(-operand.value, operand.type_name, span)  # type: ignore[operator]
        return ast.UnaryOp(str(token.value), operand, span)

    def parse_primary(self) -> ast.Expr:
        token = self.token
        handler = _PRIMARY.get(token.type)
        if handler is None:
            raise self.expected("an expression", "here")
        return handler(self)

    def parse_keyword_primary(self) -> ast.Expr:
        handler = self.keyword_primaries.get(str(self.token.value))
        if handler is not None and not (self.token.value in ("cast", "try_cast") and not self.peek_op("(")):
            return handler(self)
        if self.is_name(self.token):
            return self.parse_name_or_call()
        raise self.expected("an expression", "here")

    def parse_operator_primary(self) -> ast.Expr:
        if not self.at_op("("):
            raise self.expected("an expression", "here")
        self.advance()
        expr = self.parse_expr()
        self.expect_op(")", "to close the parenthesis")
        return expr

    def parse_literal(self) -> ast.Expr:
        token = self.advance()
        type_name = {TokenType.INTEGER: "bigint", TokenType.FLOAT: "float"}.get(token.type, "nvarchar(max)")
        return ast.Literal(token.value, type_name, token.span)

    def parse_keyword_literal(self) -> ast.Expr:
        token = self.advance()
        value, type_name = {"null": (None, "null"), "true": (True, "bit"), "false": (False, "bit")}[str(token.value)]
        return ast.Literal(value, type_name, token.span)

    def parse_case(self) -> ast.Expr:
        start = self.advance().span
        operand = None if self.at("when") else self.parse_expr()
        whens: list[ast.When] = []
        while when := self.accept("when"):
            condition = self.parse_expr()
            self.expect("then", "after the WHEN condition")
            result = self.parse_expr()
            whens.append(ast.When(condition, result, when.span.to(_span_of(result))))
        if not whens:
            raise self.expected("WHEN", "after CASE")
        else_result = self.parse_expr() if self.accept("else") else None
        self.expect("end", "to close CASE")
        return ast.Case(operand, tuple(whens), else_result, self.span_from(start))

    def parse_cast(self) -> ast.Expr:
        start = self.advance()
        self.expect_op("(", f"after {start.text.upper()}")
        operand = self.parse_expr()
        self.expect("as", f"after the value to {start.text.upper()}")
        type_start = self.token
        words = [str(self.advance().value).lower()] if self.is_name(type_start) else []
        if words == ["nvarchar"] and self.accept_op("("):
            size = self.advance()
            words.append(f"({str(size.value).lower()})")
            self.expect_op(")", "after nvarchar(max")
        type_name = "".join(words)
        if type_name not in TYPE_NAMES:
            raise AsaSyntaxError(f"unknown type {_quoted(type_name or type_start.text)} in {start.text.upper()}; "
                                 f"valid types: {', '.join(TYPE_NAMES)}", self.span_from(type_start.span), self.text)
        type_ = ast.TypeName(type_name, self.span_from(type_start.span))
        self.expect_op(")", f"to close {start.text.upper()}")
        return ast.Cast(operand, type_, start.value == "try_cast", self.span_from(start.span))

    def parse_name_or_call(self) -> ast.Expr:
        first = self.advance()
        parts = [_word(first)]
        while self.at_op(".") and self.peek().type in (TokenType.IDENTIFIER, TokenType.KEYWORD):
            self.advance()
            parts.append(_word(self.advance()))
        if not self.at_op("("):
            return ast.ColumnRef(tuple(parts), self.span_from(first.span))
        lowered = tuple(part.lower() for part in parts)
        if len(parts) == 1:
            namespace, name = None, lowered[0]
        elif len(parts) == 2 and lowered[0] in ("udf", "uda"):
            namespace, name = lowered[0], parts[1]
        elif lowered == ("system", "timestamp"):
            namespace, name = "system", "timestamp"
        else:
            raise AsaSyntaxError(f"unknown function '{'.'.join(parts)}': user functions are called as "
                                 "udf.name(...) or uda.name(...)", self.span_from(first.span), self.text)
        return self.parse_call(name, namespace, first.span)

    def parse_call(self, name: str, namespace: str | None, start: Span) -> ast.FunctionCall:
        self.expect_op("(", f"after {name}")
        self.enter()
        try:
            distinct = star = False
            args: tuple[ast.Expr, ...] = ()
            if self.at_op("*"):
                self.advance()
                star = True
            elif not self.at_op(")"):
                distinct = self.accept("distinct") is not None
                first = self.parse_time_unit() if self.unit_first(name, namespace) else self.parse_expr()
                args = (first,) + (self.comma_list(self.parse_expr) if self.accept_op(",") else ())
            self.expect_op(")", f"to close the arguments of {name}")
            over = parse_over(self) if self.at("over") and self.peek_op("(") else None
        finally:
            self.depth -= 1
        return ast.FunctionCall(name, args, self.span_from(start), namespace, distinct, star, over)

    def unit_first(self, name: str, namespace: str | None) -> bool:
        if namespace is not None or name not in _UNIT_FIRST | _UNIT_MAYBE:
            return False
        return name in _UNIT_FIRST or (self.is_name(self.token) and str(self.token.value).lower() in TIME_UNITS)

    def parse_time_unit(self) -> ast.TimeUnit:
        token = self.token
        unit = TIME_UNITS.get(str(token.value).lower()) if self.is_name(token) else None
        if unit is None:
            raise self.error(f"unknown time unit {_quoted(token.text)}; use one of: {', '.join(sorted(set(TIME_UNITS.values())))}")
        self.advance()
        return ast.TimeUnit(unit, token.span)

    def parse_number(self, where: str) -> float:
        sign = -1.0 if self.accept_op("-") else 1.0
        if self.token.type not in (TokenType.INTEGER, TokenType.FLOAT):
            raise self.expected("a number", where)
        return sign * float(self.advance().value)  # type: ignore[arg-type]

    def parse_by_list(self) -> tuple[ast.Expr, ...]:
        self.expect("by", "after PARTITION")
        return self.comma_list(self.parse_expr)

    keyword_primaries: dict[str, Callable[[_Parser], ast.Expr]] = {
        "null": parse_keyword_literal, "true": parse_keyword_literal, "false": parse_keyword_literal,
        "case": parse_case, "cast": parse_cast, "try_cast": parse_cast,
    }


_ARITHMETIC = (_ADDITIVE, _MULTIPLICATIVE)
_PRIMARY: dict[TokenType, Callable[[_Parser], ast.Expr]] = {
    TokenType.INTEGER: _Parser.parse_literal,
    TokenType.FLOAT: _Parser.parse_literal,
    TokenType.STRING: _Parser.parse_literal,
    TokenType.KEYWORD: _Parser.parse_keyword_primary,
    TokenType.IDENTIFIER: _Parser.parse_name_or_call,
    TokenType.OPERATOR: _Parser.parse_operator_primary,
}


def _quoted(text: str) -> str:
    """Token text for a message, cut short: a runaway string literal should not flood the error."""
    return f"'{text}'" if len(text) <= 40 else f"'{text[:37]}...'"


def _word(token: Token) -> str:
    """A name part: identifiers keep their spelling (brackets removed), keywords their source text."""
    return str(token.value) if token.type is TokenType.IDENTIFIER else token.text


def _span_of(node: object) -> Span:
    return node.span  # type: ignore[attr-defined, no-any-return]


def parse(text: str) -> ast.Query:
    """Parse a whole SAQL query; raises AsaSyntaxError (with line, column and caret) on invalid text."""
    try:
        query = _Parser(text).parse_query()
        check_depth(query, text, MAX_TREE_DEPTH)
        return query
    except QueryError as error:
        raise error.with_query(text) from None
    except RecursionError:
        raise AsaSyntaxError("the query nests too deeply; simplify it with WITH steps", None, text) from None
