"""The character-at-a-time lexer the regex lexer (chalicelib/expressions/lexer.py) replaced, kept as
the reference its differential test compares with. Not used by the app.

Turns expression source into a flat list of tokens.

The lexer is a single forward scan with no backtracking, so its cost is linear in the source
length (itself capped).  Operator aliases (&&, ||, !) are folded into their keyword forms here so
the parser only ever sees one spelling.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from chalicelib.errors import ExpressionError, ExpressionLimitExceeded
from chalicelib.expressions.limits import MAX_NUMBER_LITERAL_LENGTH, MAX_SOURCE_LENGTH
from chalicelib.expressions.values import number

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})

# Longest spellings first so '<=' wins over '<'.
_OPERATORS = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "+", "-", "*", "/", "%",
              "(", ")", "[", "]", ",", ".", "!")
_ALIASES = {"&&": "and", "||": "or", "!": "not"}

_IDENTIFIER_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_DIGITS = frozenset("0123456789")  # ASCII only: str.isdigit() would accept '²' and friends
_IDENTIFIER_CHARS = _IDENTIFIER_START | _DIGITS
_WHITESPACE = frozenset(" \t\r\n")
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}


from chalicelib.expressions.lexer import Token  # noqa: E402 — the same token type


class _OldToken(NamedTuple):
    kind: str        # 'number', 'string', 'name', 'variable', 'keyword', 'op' or 'eof'
    value: Any       # Decimal for numbers, the text otherwise
    position: int    # offset of the token's first character in the source


def syntax_error(message: str, position: int, source: str) -> ExpressionError:
    return ExpressionError(f"{message} at position {position}", position=position, source=source)


def tokenize(source: str) -> list[Token]:
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionLimitExceeded(
            f"expression is {len(source)} characters long; the limit is {MAX_SOURCE_LENGTH}", source=source)
    tokens: list[Token] = []
    pos, end = 0, len(source)
    while pos < end:
        char = source[pos]
        if char in _WHITESPACE:
            pos += 1
        elif char in _DIGITS:
            pos = _read_number(source, pos, tokens)
        elif char in _IDENTIFIER_START:
            stop = _scan_identifier(source, pos)
            word = source[pos:stop]
            tokens.append(Token("keyword" if word in KEYWORDS else "name", word, pos))
            pos = stop
        elif char == "$":
            stop = _scan_identifier(source, pos + 1)
            if stop == pos + 1:
                raise syntax_error("'$' must be followed by a variable name", pos, source)
            tokens.append(Token("variable", source[pos:stop], pos))
            pos = stop
        elif char in ("'", '"'):
            pos = _read_string(source, pos, tokens)
        else:
            operator = next((op for op in _OPERATORS if source.startswith(op, pos)), None)
            if operator is None:
                hint = " (use '==' to compare)" if char == "=" else ""
                raise syntax_error(f"unexpected character {char!r}{hint}", pos, source)
            if operator in _ALIASES:
                tokens.append(Token("keyword", _ALIASES[operator], pos))
            else:
                tokens.append(Token("op", operator, pos))
            pos += len(operator)
    tokens.append(Token("eof", None, end))
    return tokens


def _scan_identifier(source: str, pos: int) -> int:
    if pos >= len(source) or source[pos] not in _IDENTIFIER_START:
        return pos
    while pos < len(source) and source[pos] in _IDENTIFIER_CHARS:
        pos += 1
    return pos


def _scan_digits(source: str, pos: int) -> int:
    while pos < len(source) and source[pos] in _DIGITS:
        pos += 1
    return pos


def _read_number(source: str, start: int, tokens: list[Token]) -> int:
    pos = _scan_digits(source, start)
    # A '.' is a decimal point only when a digit follows; otherwise it is member access.
    if pos + 1 < len(source) and source[pos] == "." and source[pos + 1] in _DIGITS:
        pos = _scan_digits(source, pos + 1)
    if pos < len(source) and source[pos] in _IDENTIFIER_START:
        raise syntax_error(f"invalid number {source[start:pos + 1]!r}", start, source)
    text = source[start:pos]
    if len(text) > MAX_NUMBER_LITERAL_LENGTH:
        raise ExpressionLimitExceeded(
            f"number literal longer than {MAX_NUMBER_LITERAL_LENGTH} characters at position {start}",
            position=start, source=source)
    tokens.append(Token("number", number(text), start))  # rounded like every other number
    return pos


def _read_string(source: str, start: int, tokens: list[Token]) -> int:
    quote = source[start]
    parts: list[str] = []
    pos = start + 1
    while pos < len(source):
        char = source[pos]
        if char == quote:
            tokens.append(Token("string", "".join(parts), start))
            return pos + 1
        if char == "\\" and pos + 1 < len(source):
            escaped = source[pos + 1]
            # Unknown escapes stay verbatim so regex patterns like '\d{4}' need no doubling.
            parts.append(_ESCAPES.get(escaped, "\\" + escaped))
            pos += 2
        else:
            parts.append(char)
            pos += 1
    raise syntax_error("unterminated string", start, source)
