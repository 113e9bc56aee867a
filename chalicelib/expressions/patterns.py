"""Regular expressions for matches(): bounded, screened for catastrophic backtracking, cached.

Python's re has no timeout, so cost is bounded before matching:
  * exponential backtracking needs a variable repetition or an alternation inside another
    repetition, as in (a+)+ or (ab|a)* - such patterns are refused outright;
  * what remains is at worst polynomial: each variable repetition multiplies the work by at most
    min(len(text), its span), so a pattern like \\d*\\d*\\d*x may only run on text short enough to
    keep that product within MATCH_BACKTRACK_BUDGET (one or two open-ended repeats: any text up
    to MAX_MATCH_SUBJECT_LENGTH).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from re import _constants as sre_constants  # stable since 3.11; same tree the re module compiles
from re import _parser as sre_parser
from typing import Any

from ..errors import ExpressionError, ExpressionLimitExceeded
from .limits import MATCH_BACKTRACK_BUDGET, MAX_MATCH_SUBJECT_LENGTH, MAX_PATTERN_LENGTH

_BACKTRACKING_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
_MAX_CACHED_PATTERNS = 256


@dataclass(frozen=True)
class ScreenedPattern:
    regex: re.Pattern[str]
    spans: tuple[int, ...]  # high - low of each backtracking variable repetition
    anchored: bool = False  # starts with ^ / \A: a search tries one start position, not len + 1

    def worst_case(self, length: int, *, search: bool = False) -> int:
        """Backtracking steps a match on text of this length can take at worst (capped just above
        the budget, so huge spans cost nothing to multiply)."""
        cost = length + 1 if search and not self.anchored else 1
        for span in self.spans:
            cost *= max(1, min(length, span))  # choices this repetition can backtrack over
            if cost > MATCH_BACKTRACK_BUDGET:
                return MATCH_BACKTRACK_BUDGET + 1
        return cost

    def fullmatch(self, text: str) -> bool:
        if len(text) > MAX_MATCH_SUBJECT_LENGTH:
            raise ExpressionLimitExceeded(f"matches(): text longer than {MAX_MATCH_SUBJECT_LENGTH} characters")
        if self.worst_case(len(text)) > MATCH_BACKTRACK_BUDGET:
            raise ExpressionLimitExceeded(
                f"matches(): text of {len(text)} characters is too long for a pattern with "
                f"{len(self.spans)} variable repetitions; simplify the pattern")
        return self.regex.fullmatch(text) is not None


def compile_pattern(pattern: Any) -> ScreenedPattern:
    if not isinstance(pattern, str):
        raise ExpressionError("matches() expects the pattern to be a string")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ExpressionLimitExceeded(f"matches(): pattern longer than {MAX_PATTERN_LENGTH} characters")
    return _compile(pattern)


@functools.lru_cache(maxsize=_MAX_CACHED_PATTERNS)
def _compile(pattern: str) -> ScreenedPattern:
    try:
        parsed = sre_parser.parse(pattern)
        regex = re.compile(pattern)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        raise ExpressionError(f"matches(): invalid pattern: {exc}") from None
    spans = _variable_repeat_spans(parsed)
    if spans is None:
        raise ExpressionError(
            "matches(): pattern nests a repetition or alternation inside another repetition, "
            "which can take exponential time; simplify it (e.g. (a+)+ -> a+)")
    return ScreenedPattern(regex, tuple(spans), _anchored(parsed, regex))


_CLASS_HEAD = re.compile(r"\[\^?\]?")  # a ] right after [ or [^ is a literal in Python
_VARIABLE_QUANTIFIER = re.compile(r"[*+]|\{([0-9]*),([0-9]*)\}")


def tokens(source: str) -> list[tuple[int, str, bool]]:
    """(position, text, is_syntax) of a pattern's source: escapes and whole [classes] are single
    tokens with is_syntax False; every other character is its own syntax token."""
    out, i = [], 0
    while i < len(source):
        if source[i] == "\\":
            out.append((i, source[i:i + 2], False))
        elif source[i] == "[":
            j = i + len(_CLASS_HEAD.match(source, i).group())
            while j < len(source) and source[j] != "]":
                j += 2 if source[j] == "\\" else 1
            out.append((i, source[i:j + 1], False))
        else:
            out.append((i, source[i], True))
        i += len(out[-1][1])
    return out


def repeats_an_alternation(source: str) -> bool:
    """Whether an alternation sits inside a group repeated more than once, judged as written.
    Python's parser turns (\\w|\\d)+ into [\\w\\d]+, which the tree check then finds harmless,
    but ECMA engines (JSON Schema patterns also run in clients) backtrack over both branches."""
    open_groups: list[bool] = []  # per open group: holds a | at any depth
    for i, text, syntax in tokens(source):
        if not syntax:
            continue
        if text == "(":
            open_groups.append(False)
        elif text == "|" and open_groups:
            open_groups[-1] = True
        elif text == ")" and open_groups:
            alternation = open_groups.pop()
            quantifier = _VARIABLE_QUANTIFIER.match(source, i + 1)
            upper = quantifier and quantifier.group(2)  # None for * and +, "" for {n,}
            if alternation and quantifier and (not upper or int(upper) > 1):
                return True
            if open_groups:
                open_groups[-1] = open_groups[-1] or alternation
    return False


def _anchored(parsed: Any, regex: re.Pattern[str]) -> bool:
    if not len(parsed) or regex.flags & re.MULTILINE:  # (?m)^ may match after any newline
        return False
    return parsed[0] in ((sre_constants.AT, sre_constants.AT_BEGINNING), (sre_constants.AT, sre_constants.AT_BEGINNING_STRING))


def _variable_repeat_spans(parsed: Any) -> list[int] | None:
    """Spans of the variable repetitions, or None when one sits inside another repetition."""
    spans: list[int] = []
    pending = [(list(parsed), False)]  # (items, inside a repetition); iterative, no recursion
    while pending:
        items, repeated = pending.pop()
        for op, arg in items:
            if op in _BACKTRACKING_REPEATS or op == sre_constants.POSSESSIVE_REPEAT:
                low, high, body = arg
                if high != low:
                    if repeated:
                        return None
                    if op in _BACKTRACKING_REPEATS:  # possessive repeats never give characters back
                        spans.append(high - low)
                pending.append((list(body), repeated or high > 1))
            elif op == sre_constants.BRANCH:
                if repeated:
                    return None
                pending.extend((list(branch), repeated) for branch in arg[1])
            elif op == sre_constants.SUBPATTERN:
                pending.append((list(arg[-1]), repeated))
            elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
                pending.append((list(arg[1]), repeated))
            elif op == sre_constants.ATOMIC_GROUP:
                pending.append((list(arg), repeated))
            elif op == sre_constants.GROUPREF_EXISTS:
                pending.extend((list(branch), repeated) for branch in arg[1:] if branch is not None)
    return spans
