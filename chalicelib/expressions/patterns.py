"""Regular expressions for matches(): bounded, screened for catastrophic backtracking, cached.

Python's re has no timeout, so cost is bounded up front: the pattern and the subject are
length-limited, and patterns whose backtracking can go exponential - a variable repetition or an
alternation inside another repetition, as in (a+)+ or (ab|a)* - are refused.  Sequential
quantifiers (a*a*a*) stay polynomial and are allowed; the subject limit keeps them tolerable.
"""
from __future__ import annotations

import functools
import re
from re import _constants as sre_constants  # stable since 3.11; same tree the re module compiles
from re import _parser as sre_parser
from typing import Any

from ..errors import ExpressionError, ExpressionLimitExceeded
from .limits import MAX_PATTERN_LENGTH

_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT}
_MAX_CACHED_PATTERNS = 256


@functools.lru_cache(maxsize=_MAX_CACHED_PATTERNS)
def _compile(pattern: str) -> re.Pattern[str]:
    try:
        parsed = sre_parser.parse(pattern)
        compiled = re.compile(pattern)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        raise ExpressionError(f"matches(): invalid pattern: {exc}") from None
    if _may_backtrack_exponentially(parsed):
        raise ExpressionError(
            "matches(): pattern nests a repetition or alternation inside another repetition, "
            "which can take exponential time; simplify it (e.g. (a+)+ -> a+)")
    return compiled


def compile_pattern(pattern: Any) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise ExpressionError("matches() expects the pattern to be a string")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ExpressionLimitExceeded(f"matches(): pattern longer than {MAX_PATTERN_LENGTH} characters")
    return _compile(pattern)


def _may_backtrack_exponentially(parsed: Any) -> bool:
    # Iterative walk over (items, inside_repetition); patterns are short, but no recursion is needed.
    pending = [(list(parsed), False)]
    while pending:
        items, repeated = pending.pop()
        for op, arg in items:
            if op in _REPEATS:
                low, high, body = arg
                if repeated and high != low:
                    return True
                pending.append((list(body), repeated or high > 1))
            elif op == sre_constants.BRANCH:
                if repeated:
                    return True
                pending.extend((list(branch), repeated) for branch in arg[1])
            elif op == sre_constants.SUBPATTERN:
                pending.append((list(arg[-1]), repeated))
            elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
                pending.append((list(arg[1]), repeated))
            elif op == sre_constants.ATOMIC_GROUP:
                pending.append((list(arg), repeated))
            elif op == sre_constants.GROUPREF_EXISTS:
                pending.extend((list(branch), repeated) for branch in arg[1:] if branch is not None)
    return False
