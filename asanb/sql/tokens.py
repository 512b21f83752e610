"""SAQL text to tokens: keywords, identifiers, literals and operators with their Spans; comments set aside."""

from __future__ import annotations

import bisect
import enum
import re
from dataclasses import dataclass

from asanb.errors import AsaSyntaxError, Span
from asanb.sql import ast

__all__ = ["KEYWORDS", "RESERVED", "Token", "TokenType", "tokenize"]


class TokenType(enum.Enum):
    """The kinds of token; keywords carry their lower-case word as value."""

    KEYWORD = "keyword"
    IDENTIFIER = "identifier"
    INTEGER = "integer"
    FLOAT = "float"
    STRING = "string"
    OPERATOR = "operator"
    EOF = "end of query"


@dataclass(frozen=True, slots=True)
class Token:
    """One token. ``value``: lower-case word (keyword), name (identifier, brackets removed), int, float,
    unescaped string, or the operator ('!=' normalized to '<>')."""

    type: TokenType
    text: str
    value: object
    span: Span


# Reserved words can never name a column without [brackets]; the other keywords are contextual
# (``timestamp``, ``partition``, ``over``...) and the parser lets them stand as names where unambiguous.
RESERVED = frozenset({
    "select", "from", "where", "group", "by", "having", "into", "as", "with", "union", "join", "inner",
    "left", "outer", "cross", "apply", "on", "and", "or", "not", "is", "null", "in", "between", "like",
    "case", "when", "then", "else", "end", "distinct",
})
KEYWORDS = RESERVED | frozenset({
    "cast", "try_cast", "timestamp", "over", "partition", "limit", "order", "asc", "desc", "top", "true",
    "false", "duration", "all",
})

_BIGINT_MAX = 2**63 - 1
_PATTERNS: dict[str, re.Pattern[str]] = {
    "space": re.compile(r"\s+"),
    "line_comment": re.compile(r"--[^\r\n]*"),
    "block_comment": re.compile(r"/\*.*?\*/", re.DOTALL),
    "number": re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII),
    "word": re.compile(r"[^\W\d]\w*"),
    "bracketed": re.compile(r"\[(?:[^\]]|\]\])*\]"),
    "string": re.compile(r"'(?:[^']|'')*'"),
    "operator": re.compile(r"<>|!=|<=|>=|[-+*/%=<>(),.;]"),
    "hash_comment": re.compile(r"#[^\r\n]*"),
}


class _Scanner:
    """Walks the text once; ``line_starts`` turns offsets into 1-based line and column."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\n|\r", text)]
        self.tokens: list[Token] = []
        self.comments: list[ast.Comment] = []

    def span(self, start: int, end: int) -> Span:
        index = bisect.bisect_right(self.line_starts, start) - 1
        return Span(index + 1, start - self.line_starts[index] + 1, start, end)

    def fail(self, message: str, start: int, end: int) -> AsaSyntaxError:
        return AsaSyntaxError(message, self.span(start, max(end, start + 1)), self.text)

    def at_line_start(self, pos: int) -> bool:
        line_start = self.line_starts[bisect.bisect_right(self.line_starts, pos) - 1]
        return self.text[line_start:pos].strip() == ""

    def run(self) -> tuple[list[Token], list[ast.Comment]]:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            handler = _DISPATCH.get(char)
            if handler is None:
                handler = _scan_word if (char.isalpha() or char == "_") else _scan_number
                if not (char.isalnum() or char == "_"):
                    handler = _scan_space if char.isspace() else _scan_stray
            handler(self)
        end = len(text)
        self.tokens.append(Token(TokenType.EOF, "", None, self.span(end, end)))
        return self.tokens, self.comments

    def match(self, kind: str) -> re.Match[str] | None:
        return _PATTERNS[kind].match(self.text, self.pos)

    def emit(self, kind: TokenType, end: int, value: object) -> None:
        self.tokens.append(Token(kind, self.text[self.pos:end], value, self.span(self.pos, end)))
        self.pos = end

    def comment(self, style: str, body: str, end: int) -> None:
        self.comments.append(ast.Comment(body, style, self.span(self.pos, end)))
        self.pos = end


def _scan_space(scanner: _Scanner) -> None:
    match = scanner.match("space")
    if match is None:
        _scan_stray(scanner)
        return
    scanner.pos = match.end()


def _scan_word(scanner: _Scanner) -> None:
    match = scanner.match("word")
    if match is None:
        _scan_stray(scanner)
        return
    word = match.group()
    lowered = word.lower()
    if lowered in KEYWORDS:
        scanner.emit(TokenType.KEYWORD, match.end(), lowered)
    else:
        scanner.emit(TokenType.IDENTIFIER, match.end(), word)


def _scan_number(scanner: _Scanner) -> None:
    match = scanner.match("number")
    if match is None:
        _scan_stray(scanner)
        return
    end, text = match.end(), match.group()
    if end < len(scanner.text) and (scanner.text[end].isalnum() or scanner.text[end] == "_"):
        raise scanner.fail(f"invalid number '{scanner.text[scanner.pos:end + 1]}': a name cannot start with "
                           "a digit; put it in [brackets]", scanner.pos, end + 1)
    if text.isdigit():
        if len(text) > 19 or int(text) > _BIGINT_MAX:
            raise scanner.fail(f"integer {text} is out of the bigint range", scanner.pos, end)
        scanner.emit(TokenType.INTEGER, end, int(text))
    else:
        scanner.emit(TokenType.FLOAT, end, float(text))


def _scan_bracketed(scanner: _Scanner) -> None:
    match = scanner.match("bracketed")
    if match is None:
        raise scanner.fail("unterminated [bracketed name]: add the closing ']'", scanner.pos, scanner.pos + 1)
    name = match.group()[1:-1].replace("]]", "]")
    if not name:
        raise scanner.fail("empty [] name", scanner.pos, match.end())
    scanner.emit(TokenType.IDENTIFIER, match.end(), name)


def _scan_string(scanner: _Scanner) -> None:
    match = scanner.match("string")
    if match is None:
        raise scanner.fail("unterminated string literal: add the closing quote (write '' for a quote inside)",
                           scanner.pos, scanner.pos + 1)
    scanner.emit(TokenType.STRING, match.end(), match.group()[1:-1].replace("''", "'"))


def _scan_operator(scanner: _Scanner) -> None:
    text = scanner.text
    if text.startswith(".", scanner.pos) and text[scanner.pos + 1:scanner.pos + 2].isdigit():
        _scan_number(scanner)  # '.5' is a number, as in T-SQL
        return
    if text.startswith("--", scanner.pos):
        match = scanner.match("line_comment")
        assert match is not None
        scanner.comment("--", match.group()[2:], match.end())
        return
    if text.startswith("/*", scanner.pos):
        match = scanner.match("block_comment")
        if match is None:
            raise scanner.fail("unterminated /* comment: add the closing */", scanner.pos, scanner.pos + 2)
        scanner.comment("/*", match.group()[2:-2], match.end())
        return
    match = scanner.match("operator")
    if match is None:
        _scan_stray(scanner)
        return
    op = match.group()
    scanner.emit(TokenType.OPERATOR, match.end(), "<>" if op == "!=" else op)


def _scan_hash(scanner: _Scanner) -> None:
    # '#' comment lines appear in Microsoft's ML UDF examples (../shared/spec/ml_udf.md); only at line start.
    if not scanner.at_line_start(scanner.pos):
        _scan_stray(scanner)
        return
    match = scanner.match("hash_comment")
    assert match is not None
    scanner.comment("#", match.group()[1:], match.end())


def _scan_stray(scanner: _Scanner) -> None:
    char = scanner.text[scanner.pos]
    hint = " ('#' starts a comment only at the beginning of a line)" if char == "#" else ""
    raise scanner.fail(f"unexpected character {char!r}{hint}", scanner.pos, scanner.pos + 1)


_DISPATCH = {
    "[": _scan_bracketed,
    "'": _scan_string,
    "#": _scan_hash,
    **{char: _scan_operator for char in "-+*/%=<>!(),.;"},
}


def tokenize(text: str) -> tuple[list[Token], list[ast.Comment]]:
    """Split ``text`` into tokens (ending with an EOF token) and the comments found between them."""
    return _Scanner(text).run()
