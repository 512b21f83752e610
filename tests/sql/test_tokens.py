"""Tokenizer: every token kind, the three comment styles, and errors rendered with a caret."""

from __future__ import annotations

import pytest

from asanb.errors import AsaSyntaxError, Span
from asanb.sql.tokens import TokenType, tokenize


def kinds(text: str) -> list[tuple[TokenType, object]]:
    tokens, _ = tokenize(text)
    assert tokens[-1].type is TokenType.EOF
    return [(token.type, token.value) for token in tokens[:-1]]


def test_keywords_are_case_insensitive_and_identifiers_keep_spelling() -> None:
    assert kinds("SeLeCt MyCol from") == [
        (TokenType.KEYWORD, "select"), (TokenType.IDENTIFIER, "MyCol"), (TokenType.KEYWORD, "from")]


def test_bracketed_names_are_never_keywords_and_unescape() -> None:
    assert kinds("[select] [my col] [a]]b]") == [
        (TokenType.IDENTIFIER, "select"), (TokenType.IDENTIFIER, "my col"), (TokenType.IDENTIFIER, "a]b")]


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("42", TokenType.INTEGER, 42),
    ("4.5", TokenType.FLOAT, 4.5),
    ("1e3", TokenType.FLOAT, 1000.0),
    ("2.5E-1", TokenType.FLOAT, 0.25),
    ("'it''s'", TokenType.STRING, "it's"),
    ("''", TokenType.STRING, ""),
    ("_x1", TokenType.IDENTIFIER, "_x1"),
])
def test_literals(text: str, kind: TokenType, value: object) -> None:
    assert kinds(text) == [(kind, value)]
    assert type(kinds(text)[0][1]) is type(value)


def test_operators_and_not_equal_normalized() -> None:
    ops = "+ - * / % = <> != < <= > >= ( ) , . ;"
    values = [value for _, value in kinds(ops)]
    assert values == ["+", "-", "*", "/", "%", "=", "<>", "<>", "<", "<=", ">", ">=", "(", ")", ",", ".", ";"]


def test_comment_styles_are_returned_not_tokenized() -> None:
    text = "SELECT -- line\n/* block\nspans */ a\n   # hash line\nFROM x"
    tokens, comments = tokenize(text)
    assert [t.value for t in tokens[:-1]] == ["select", "a", "from", "x"]
    assert [(c.style, c.text) for c in comments] == [("--", " line"), ("/*", " block\nspans "), ("#", " hash line")]
    assert comments[2].span.line == 4 and comments[2].span.column == 4


def test_spans_are_line_and_column_based() -> None:
    tokens, _ = tokenize("SELECT a,\n  bb FROM t")
    bb = tokens[3]
    assert bb.text == "bb" and bb.span == Span(2, 3, 12, 14)


def test_hash_in_the_middle_of_a_line_is_an_error() -> None:
    with pytest.raises(AsaSyntaxError) as caught:
        tokenize("SELECT a # no")
    assert "'#'" in str(caught.value) and caught.value.span == Span(1, 10, 9, 10)


@pytest.mark.parametrize(("text", "fragment", "rendered"), [
    ("SELECT 'abc", "unterminated string", "   1 | SELECT 'abc\n              ^"),
    ("SELECT [abc", "unterminated [bracketed name]", "   1 | SELECT [abc\n              ^"),
    ("SELECT a /* x", "unterminated /* comment", "   1 | SELECT a /* x\n                ^^"),
    ("SELECT a\nFROM b @", "unexpected character '@'", "   2 | FROM b @\n              ^"),
    ("SELECT 1abc", "invalid number", "   1 | SELECT 1abc\n              ^^"),
    ("SELECT 99999999999999999999", "bigint range", "   1 | SELECT 99999999999999999999\n              " + "^" * 20),
])
def test_errors_render_the_line_with_a_caret(text: str, fragment: str, rendered: str) -> None:
    with pytest.raises(AsaSyntaxError) as caught:
        tokenize(text)
    message = str(caught.value)
    assert fragment in message
    assert message.endswith(rendered)


@pytest.mark.parametrize(("text", "value"), [(".5", 0.5), ("1.", 1.0), (".5e1", 5.0), ("1.e2", 100.0)])
def test_float_forms_without_leading_or_trailing_digits(text: str, value: float) -> None:
    assert kinds(text) == [(TokenType.FLOAT, value)]


def test_dot_between_names_stays_an_operator() -> None:
    assert kinds("a.b") == [(TokenType.IDENTIFIER, "a"), (TokenType.OPERATOR, "."), (TokenType.IDENTIFIER, "b")]


def test_non_ascii_digits_are_not_numbers() -> None:
    with pytest.raises(AsaSyntaxError, match="unexpected character"):
        tokenize("SELECT \u0663 FROM t")
