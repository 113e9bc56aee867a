"""Turns expression source into a flat list of tokens.

The lexer is a single forward scan, one compiled regular expression match per token (its
alternatives exclusive by their first character, so linear in the source length, itself capped).  Operator aliases (&&, ||, !) are folded into their keyword forms here so
the parser only ever sees one spelling.

scan() is what the parser reads: plain tuples (tag, value, position) whose tag is the operator or
keyword itself ('==', '(', 'and', 'true', ...) and otherwise the kind ('name', 'number', 'string',
'variable', 'eof'), so the parser tests one string per token.  tokenize() gives the same tokens as
Token(kind, value, position).
"""
from __future__ import annotations

import re
from typing import Any, NamedTuple

from ..errors import ExpressionError, ExpressionLimitExceeded
from .limits import MAX_NUMBER_LITERAL_LENGTH, MAX_SOURCE_LENGTH
from .values import number

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
OPERATORS = frozenset({"==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "(", ")", "[", "]", ",", "."})

_ALIASES = {"&&": "and", "||": "or", "!": "not"}

_IDENTIFIER_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}
_KINDS = {**{op: "op" for op in OPERATORS}, **{word: "keyword" for word in KEYWORDS}}  # tag -> kind


class Token(NamedTuple):
    kind: str        # 'number', 'string', 'name', 'variable', 'keyword', 'op' or 'eof'
    value: Any       # Decimal for numbers, the text otherwise
    position: int    # offset of the token's first character in the source


def syntax_error(message: str, position: int, source: str) -> ExpressionError:
    return ExpressionError(f"{message} at position {position}", position=position, source=source)


# One scan per token: a compiled alternation (C speed) instead of a Python loop per character, the
# token's kind told by the number of its group (lastindex). The groups keep the old scanner's rules
# exactly: ASCII digits; a '.' is a decimal point only before a digit; a string runs to its first
# unescaped quote (a backslash escapes any character); a keyword is a whole identifier. Nothing here
# can backtrack: each alternative starts with its own characters and repeats possessively.
_SCAN = re.compile(r"""[ \t\r\n]*+(?:
    ((?:and|or|not|in|true|false|null)(?![A-Za-z0-9_])|==|!=|<=|>=|[<>+\-*/%()\[\],.])  # 1: its own tag
  | ([A-Za-z_][A-Za-z0-9_]*+)                                       # 2: name
  | '([^'\\]*+(?:\\[\s\S][^'\\]*+)*+)'                              # 3: string body
  | "([^"\\]*+(?:\\[\s\S][^"\\]*+)*+)"                              # 4: string body
  | ([0-9]++(?:\.[0-9]++)?+)                                        # 5: number
  | (&&|\|\||!)                                                     # 6: alias of a keyword
  | (\$[A-Za-z_][A-Za-z0-9_]*+)                                     # 7: variable
  | ()\Z                                                            # 8: the end
)""", re.VERBOSE)
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def scan(source: str) -> list[tuple[str, Any, int]]:
    """The tokens as (tag, value, position), the last one ('eof', None, len(source))."""
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionLimitExceeded(
            f"expression is {len(source)} characters long; the limit is {MAX_SOURCE_LENGTH}", source=source)
    tokens: list[tuple[str, Any, int]] = []
    append = tokens.append
    match = _SCAN.scanner(source).match  # each match: the blanks before a token, then the token (or the end)
    while found := match():
        kind = found.lastindex
        if kind == 1:
            text = found[1]
            append((text, text, found.start(1)))
        elif kind == 2:
            append(("name", found[2], found.start(2)))
        elif kind == 8:
            append(("eof", None, len(source)))
            return tokens
        elif kind == 5:
            pos, stop = found.span(5)
            if stop < len(source) and source[stop] in _IDENTIFIER_START:
                raise syntax_error(f"invalid number {source[pos:stop + 1]!r}", pos, source)
            if stop - pos > MAX_NUMBER_LITERAL_LENGTH:
                raise ExpressionLimitExceeded(
                    f"number literal longer than {MAX_NUMBER_LITERAL_LENGTH} characters at position {pos}",
                    position=pos, source=source)
            append(("number", number(found[5]), pos))  # rounded like every other number
        elif kind == 6:
            word = _ALIASES[found[6]]
            append((word, word, found.start(6)))
        elif kind == 7:
            append(("variable", found[7], found.start(7)))
        else:  # a quoted string: the group is its body, the token starts at the quote
            body = found[kind]
            append(("string", _unescape(body) if "\\" in body else body, found.start(kind) - 1))
    # Nothing matches after the last token (matched again from its start: only on this path) and its
    # blanks: say why.
    pos = _SCAN.match(source, tokens[-1][2]).end() if tokens else 0
    _refuse(source, pos + len(source[pos:]) - len(source[pos:].lstrip(" \t\r\n")))


def tokenize(source: str) -> list[Token]:
    kinds = _KINDS
    return [Token(kinds.get(tag, tag), value, position) for tag, value, position in scan(source)]


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
