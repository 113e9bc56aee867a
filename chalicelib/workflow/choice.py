"""ASL Choice rules evaluated against record data (no expression parsing for plain comparisons)."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import AppError
from ..expressions import compile_expression

_MISSING = object()


def _lookup(data: dict, variable: str) -> Any:
    path = variable[2:] if variable.startswith("$.") else variable
    value: Any = data
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return _MISSING
    return value


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def evaluate_choice(rule, context: dict) -> bool:
    if rule.And is not None:
        return all(evaluate_choice(r, context) for r in rule.And)
    if rule.Or is not None:
        return any(evaluate_choice(r, context) for r in rule.Or)
    if rule.Not is not None:
        return not evaluate_choice(rule.Not, context)
    if rule.Condition is not None:
        try:
            value = compile_expression(rule.Condition).evaluate(context)
        except AppError:
            return False  # a condition that cannot be evaluated on this data does not match
        return value not in (None, False, "", [], {}) and value != 0
    (operator, expected), = rule.comparisons.items()
    value = _lookup(context, rule.Variable)
    if operator == "IsPresent":
        return (value is not _MISSING) == expected
    if operator == "IsNull":
        return (value is None or value is _MISSING) == expected
    if value is _MISSING or value is None:
        return False
    if operator.startswith("String"):
        if not isinstance(value, str):
            return False
        if operator == "StringMatches":
            return _string_matches(value, expected)
        return _compare(operator[len("String"):], value, expected)
    if operator.startswith("Numeric"):
        number, bound = _number(value), _number(expected)
        if number is None or bound is None or not (number.is_finite() and bound.is_finite()):
            return False  # NaN/Infinity do not order (Decimal would raise)
        return _compare(operator[len("Numeric"):], number, bound)
    if operator == "BooleanEquals":
        return isinstance(value, bool) and value == expected
    if operator.startswith("Timestamp"):
        moment, bound = _instant(value), _instant(expected)
        if moment is None or bound is None:
            return False  # not a timestamp: no match (as a string vs number comparison)
        return _compare(operator[len("Timestamp"):], moment, bound)
    return False


def _asl_segments(pattern: str) -> list[str]:
    """ASL StringMatches pattern → the literal pieces between its wildcards. `*` matches any run of
    characters, `\\*` is a literal `*` and `\\\\` a literal backslash; every other character
    (`?`, `[`, ...) stands for itself."""
    segments, current, i = [], [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
            current.append(pattern[i + 1])
            i += 2
            continue
        if ch == "*":
            segments.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    segments.append("".join(current))
    return segments


def _string_matches(value: str, pattern: str) -> bool:
    """Glob match without backtracking: prefix, suffix, and the middle pieces found left to right."""
    segments = _asl_segments(pattern)
    if len(segments) == 1:
        return value == segments[0]
    first, *middle, last = segments
    if len(value) < len(first) + len(last) or not value.startswith(first) or not value.endswith(last):
        return False
    position, stop = len(first), len(value) - len(last)
    for piece in middle:
        found = value.find(piece, position, stop)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def _instant(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (or a date: its UTC midnight) as an aware datetime; None if it is not one."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _compare(op: str, a: Any, b: Any) -> bool:
    return {"Equals": a == b, "LessThan": a < b, "GreaterThan": a > b,
            "LessThanEquals": a <= b, "GreaterThanEquals": a >= b}[op]


_SYMBOLS = {"Equals": "==", "LessThan": "<", "GreaterThan": ">", "LessThanEquals": "<=", "GreaterThanEquals": ">="}


def describe_rule(rule) -> str:
    """A Choice rule as one line a designer reads (`parts_total > 2000 or warranty_status == "x"`);
    a Condition is its own expression."""
    import json
    if rule.And is not None or rule.Or is not None:
        parts = rule.And if rule.And is not None else rule.Or
        joined = (" and " if rule.And is not None else " or ").join(
            f"({describe_rule(r)})" if (r.And or r.Or) else describe_rule(r) for r in parts)
        return joined
    if rule.Not is not None:
        return f"not ({describe_rule(rule.Not)})"
    if rule.Condition is not None:
        return rule.Condition
    (operator, expected), = rule.comparisons.items()
    name = rule.Variable[2:] if rule.Variable.startswith("$.") else rule.Variable
    if operator == "IsPresent":
        return f"{name} is {'present' if expected else 'absent'}"
    if operator == "IsNull":
        return f"{name} is {'empty' if expected else 'not empty'}"
    if operator == "StringMatches":
        return f"{name} matches {json.dumps(expected, ensure_ascii=False)}"
    kind = next(k for k in ("String", "Numeric", "Boolean", "Timestamp") if operator.startswith(k))
    symbol = _SYMBOLS.get(operator[len(kind):], operator)
    shown = json.dumps(expected, ensure_ascii=False) if kind in ("String", "Timestamp") else (
        str(expected).lower() if kind == "Boolean" else (f"{expected:g}" if isinstance(expected, float) else str(expected)))
    return f"{name} {symbol} {shown}"
