"""CSV for spreadsheets (pure), shared by every CSV the platform writes (record export, report CSV).

Two rules, in this order, for every cell:
1. Formula guard: text a spreadsheet would run as a formula (= + - @ tab CR LF first) gets a leading
   `'`. Plain numbers (-5, +1.5e3) are data and stay as they are where the caller allows it.
2. Quoting: a cell holding the separator, a quote or ANY line break — CR and LF alone included, and
   the other characters str.splitlines() breaks on — is quoted (quotes doubled). csv.writer's
   QUOTE_MINIMAL only quotes the characters of its lineterminator, so with "\\n" a bare CR went out
   unquoted and started a new row in Excel (with the guard bypassed: the new row began with "=")."""
from __future__ import annotations

import re
from typing import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines() splits on
_NEEDS_QUOTES = frozenset(',"' + LINE_BREAKS)
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def neutralise(text: str, *, numbers_ok: bool = False) -> str:
    """`text` with a leading ' when a spreadsheet would evaluate it. `numbers_ok`: a plain numeric
    literal (-5, +1.5, 2e3) is left alone (a negative amount is data, not a formula)."""
    if text.startswith(FORMULA_START) and not (numbers_ok and _PLAIN_NUMBER.fullmatch(text)):
        return "'" + text
    return text


def quote(text: str) -> str:
    """One CSV field (RFC 4180): quoted when it holds the separator, a quote or a line break."""
    if any(c in _NEEDS_QUOTES for c in text):
        return '"' + text.replace('"', '""') + '"'
    return text


def line(cells: Iterable[str], lineterminator: str = "\r\n") -> str:
    return ",".join(quote(c) for c in cells) + lineterminator


def write(rows: Iterable[Iterable[str]], lineterminator: str = "\r\n") -> str:
    """Rows of already-neutralised cell texts → CSV text."""
    return "".join(line(r, lineterminator) for r in rows)


__all__ = ["FORMULA_START", "neutralise", "quote", "line", "write"]
