"""The value model shared by the evaluator and the functions.

Values are plain JSON-like Python data: None, bool, Decimal, str, list and Mapping.  Context data
is converted lazily, one value at a time, as the expression reads it (ints/floats become Decimal),
so a large record costs nothing unless the expression actually walks it.  Every helper raises only
ExpressionError subclasses.
"""
from __future__ import annotations

import decimal
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..errors import ExpressionError, ExpressionLimitExceeded
from .limits import (MAX_LIST_LENGTH, MAX_STRING_LENGTH, MAX_VALUE_NESTING, NUMBER_MAX_EXPONENT,
                     NUMBER_PRECISION)

# Shared, never mutated except for its status flags (which nothing reads).  Trapping Overflow is
# what turns runaway growth into an error instead of ever-larger numbers.
NUMBER_CONTEXT = decimal.Context(
    prec=NUMBER_PRECISION, Emax=NUMBER_MAX_EXPONENT, Emin=-NUMBER_MAX_EXPONENT,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])

LIST_TYPES = (list, tuple)
_MAX_INT_BITS = 4_000  # ~1,200 digits: far past Emax, so refuse before the costly conversion


def number(value: int | str | Decimal) -> Decimal:
    """A Decimal inside the language's precision and exponent range."""
    try:
        result = NUMBER_CONTEXT.create_decimal(value)
    except decimal.Overflow:
        raise ExpressionLimitExceeded(f"number out of range (more than 1e{NUMBER_MAX_EXPONENT})") from None
    except (ArithmeticError, ValueError):
        raise ExpressionError(f"not a number: {str(value)[:40]!r}") from None
    if not result.is_finite():
        raise ExpressionError(f"not a number: {str(value)[:40]!r}")
    return result


def from_context(value: Any) -> Any:
    """Normalise one value read from the context (not its children: those convert on access)."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, Decimal):
        return number(value) if value.is_finite() else None  # NaN/Infinity act like a blank
    if isinstance(value, int):
        if value.bit_length() > _MAX_INT_BITS:
            raise ExpressionLimitExceeded(f"number out of range (more than 1e{NUMBER_MAX_EXPONENT})")
        return number(value)
    if isinstance(value, float):
        return number(repr(value)) if math.isfinite(value) else None
    if isinstance(value, (LIST_TYPES, Mapping)):
        return value
    if isinstance(value, (set, frozenset)):  # e.g. DynamoDB string/number sets
        try:
            return sorted(value)
        except (TypeError, ArithmeticError):  # mixed types, or a NaN among Decimals
            return list(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    raise ExpressionError(f"unsupported value of type {type(value).__name__} in the record")


def format_datetime(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (Decimal, int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, LIST_TYPES):
        return "list"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def is_number(value: Any) -> bool:
    return isinstance(value, Decimal)


def truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, Decimal):
        return not value.is_zero()
    if isinstance(value, (str, LIST_TYPES, Mapping)):
        return len(value) > 0
    return True


def values_equal(left: Any, right: Any, charge: Callable[[int], None], depth: int = 0) -> bool:
    """Equality by value; numbers numerically; booleans never equal numbers (unlike Python)."""
    if depth > MAX_VALUE_NESTING:
        raise ExpressionLimitExceeded(f"values nested deeper than {MAX_VALUE_NESTING} levels")
    left, right = from_context(left), from_context(right)
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, Decimal) and isinstance(right, Decimal):
        return left == right
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    if isinstance(left, LIST_TYPES) and isinstance(right, LIST_TYPES):
        if len(left) != len(right):
            return False
        charge(len(left))
        return all(values_equal(a, b, charge, depth + 1) for a, b in zip(left, right))
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        if len(left) != len(right):
            return False
        charge(len(left))
        return all(key in right and values_equal(left[key], right[key], charge, depth + 1) for key in left)
    return False


def contains_item(items: Any, needle: Any, charge: Callable[[int], None]) -> bool:
    """Shared by the `in` operator and contains(): list membership, substring, or object key."""
    if items is None:
        return False
    if isinstance(items, LIST_TYPES):
        charge(len(items))
        return any(values_equal(item, needle, charge) for item in items)
    if isinstance(items, (str, Mapping)):
        if needle is None:
            return False
        if isinstance(needle, str):
            return needle in items  # substring, or key of an object
    raise ExpressionError(f"cannot look for a {type_name(needle)} in a {type_name(items)}")


def check_string_length(length: int) -> None:
    """Called before building a string where possible, so an oversized one is never allocated."""
    if length > MAX_STRING_LENGTH:
        raise ExpressionLimitExceeded(f"string longer than {MAX_STRING_LENGTH} characters")


def check_string(value: str) -> str:
    check_string_length(len(value))
    return value


def check_list_length(length: int) -> None:
    if length > MAX_LIST_LENGTH:
        raise ExpressionLimitExceeded(f"list longer than {MAX_LIST_LENGTH} items")


def check_list(value: list) -> list:
    check_list_length(len(value))
    return value


def format_number(value: Decimal) -> str:
    # Plain notation ('1000', not '1E+3'); bounded by the exponent range.
    return format(value, "f")


def to_text(value: Any) -> str:
    """The string form used by concat() and to_string(); null is the empty string."""
    value = from_context(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, str):
        return value
    raise ExpressionError(f"cannot convert a {type_name(value)} to a string")
