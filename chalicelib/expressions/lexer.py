"""Turns expression source into a flat list of tokens.

The lexer is a single forward scan, one compiled regular expression match per token (its
alternatives exclusive by their first character, so linear in the source length, itself capped).  Operator aliases (&&, ||, !) are folded into their keyword forms here so
the parser only ever sees one spelling.
"""
from __future__ import annotations

import re
from typing import Any, NamedTuple

from ..errors import ExpressionError, ExpressionLimitExceeded
from .limits import MAX_NUMBER_LITERAL_LENGTH, MAX_SOURCE_LENGTH
from .values import number

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})

_ALIASES = {"&&": "and", "||": "or", "!": "not"}

_IDENTIFIER_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}


class Token(NamedTuple):
    kind: str        # 'number', 'string', 'name', 'variable', 'keyword', 'op' or 'eof'
    value: Any       # Decimal for numbers, the text otherwise
    position: int    # offset of the token's first character in the source


def syntax_error(message: str, position: int, source: str) -> ExpressionError:
    return ExpressionError(f"{message} at position {position}", position=position, source=source)


# One scan per token: a compiled alternation (C speed) instead of a Python loop per character. The
# groups keep the old scanner's rules exactly: ASCII digits; a '.' is a decimal point only before a
# digit; a string runs to its first unescaped quote (a backslash escapes any character).
_TOKEN = re.compile(r"""[ \t\r\n]*(?:
    (?P<number>[0-9]+(?:\.[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<variable>\$[A-Za-z_][A-Za-z0-9_]*)
  | '(?P<single>(?:[^'\\]|\\[\s\S])*)'
  | "(?P<double>(?:[^"\\]|\\[\s\S])*)"
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>+\-*/%()\[\],.!])
  | (?P<end>\Z)
)""", re.VERBOSE)
_token = tuple.__new__  # Token(kind, value, position) without NamedTuple's Python-level __new__


def tokenize(source: str) -> list[Token]:
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionLimitExceeded(
            f"expression is {len(source)} characters long; the limit is {MAX_SOURCE_LENGTH}", source=source)
    tokens: list[Token] = []
    append, match = tokens.append, _TOKEN.match
    pos, end = 0, len(source)
    while True:  # each match: the blanks before a token, then the token (or the end)
        found = match(source, pos)
        if found is None:
            _refuse(source, pos + len(source[pos:]) - len(source[pos:].lstrip(" \t\r\n")))
        kind, stop = found.lastgroup, found.end()
        pos = found.start(kind)
        if kind == "name":
            word = found.group(kind)
            append(_token(Token, ("keyword" if word in KEYWORDS else "name", word, pos)))
        elif kind == "op":
            operator = found.group(kind)
            append(_token(Token, ("keyword", _ALIASES[operator], pos) if operator in _ALIASES else ("op", operator, pos)))
        elif kind == "end":
            break
        elif kind == "number":
            if stop < end and source[stop] in _IDENTIFIER_START:
                raise syntax_error(f"invalid number {source[pos:stop + 1]!r}", pos, source)
            text = found.group(kind)
            if len(text) > MAX_NUMBER_LITERAL_LENGTH:
                raise ExpressionLimitExceeded(
                    f"number literal longer than {MAX_NUMBER_LITERAL_LENGTH} characters at position {pos}",
                    position=pos, source=source)
            append(_token(Token, ("number", number(text), pos)))  # rounded like every other number
        elif kind == "variable":
            append(_token(Token, ("variable", found.group(kind), pos)))
        else:  # a quoted string: the group is its body, the token starts at the quote
            pos -= 1
            body = found.group(kind)
            append(_token(Token, ("string", _unescape(body) if "\\" in body else body, pos)))
        pos = stop
    tokens.append(Token("eof", None, end))
    return tokens


def _unescape(body: str) -> str:
    parts: list[str] = []
    pos = 0
    while pos < len(body):
        char = body[pos]
        if char == "\\":  # the pattern guarantees a character follows
            escaped = body[pos + 1]
            # Unknown escapes stay verbatim so regex patterns like '\d{4}' need no doubling.
            parts.append(_ESCAPES.get(escaped, "\\" + escaped))
            pos += 2
        else:
            parts.append(char)
            pos += 1
    return "".join(parts)


def _refuse(source: str, pos: int) -> None:
    """Why nothing matches at `pos`: the old scanner's message for each case."""
    char = source[pos]
    if char == "$":
        raise syntax_error("'$' must be followed by a variable name", pos, source)
    if char in ("'", '"'):
        raise syntax_error("unterminated string", pos, source)
    hint = " (use '==' to compare)" if char == "=" else ""
    raise syntax_error(f"unexpected character {char!r}{hint}", pos, source)
