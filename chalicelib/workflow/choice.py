"""ASL Choice rules evaluated against record data (no expression parsing for plain comparisons)."""
from __future__ import annotations

import fnmatch
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
            return fnmatch.fnmatchcase(value, expected)
        return _compare(operator[len("String"):], value, expected)
    if operator.startswith("Numeric"):
        number = _number(value)
        return number is not None and _compare(operator[len("Numeric"):], number, Decimal(str(expected)))
    if operator == "BooleanEquals":
        return isinstance(value, bool) and value == expected
    if operator.startswith("Timestamp"):
        if not isinstance(value, str):
            return False
        return _compare(operator[len("Timestamp"):], _normal_ts(value), _normal_ts(expected))
    return False


def _normal_ts(value: str) -> str:
    from datetime import datetime, timezone
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()


def _compare(op: str, a: Any, b: Any) -> bool:
    return {"Equals": a == b, "LessThan": a < b, "GreaterThan": a > b,
            "LessThanEquals": a <= b, "GreaterThanEquals": a >= b}[op]
