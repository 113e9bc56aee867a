"""The allow-list of functions an expression may call.

Only names registered here exist; the parser rejects anything else (and wrong argument counts)
before an expression is ever stored.  Each implementation receives the runtime (for step
charging and context variables) followed by its evaluated arguments - or, for lazy functions
such as if() and coalesce(), zero-argument callables that evaluate an argument on demand.
Null handling is deliberately forgiving: a blank field should give a blank result, not an error.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from ..errors import ExpressionError, ExpressionLimitExceeded
from . import dates
from .budget import predicted_match_seconds
from .limits import MATCH_WORK_PER_STEP, MAX_NUMBER_LITERAL_LENGTH, MAX_STRING_LENGTH, STRING_WORK_PER_STEP
from .patterns import compile_pattern
from .values import (LIST_TYPES, NUMBER_CONTEXT, check_string, check_string_length, contains_item, from_context,
                     is_number, number, to_text, truthy, type_name)


class Runtime(Protocol):
    def charge(self, steps: int) -> None: ...
    def variable(self, name: str) -> Any: ...
    def reserve_cpu(self, seconds: float) -> None: ...


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    implementation: Callable[..., Any]
    min_args: int
    max_args: int | None                 # None: any number from min_args up
    lazy: bool = False                   # arguments arrive as thunks, evaluated only if used
    literal_checks: Mapping[int, Callable[[Any], Any]] = field(default_factory=dict)  # run at parse time

    def arity_problem(self, count: int) -> str | None:
        if self.min_args <= count and (self.max_args is None or count <= self.max_args):
            return None
        if self.max_args is None:
            expected = f"at least {self.min_args}"
        elif self.min_args == self.max_args:
            expected = str(self.min_args)
        else:
            expected = f"{self.min_args} to {self.max_args}"
        plural = "" if expected in ("1", "at least 1") else "s"
        return f"{self.name}() takes {expected} argument{plural}, got {count}"


FUNCTIONS: dict[str, FunctionSpec] = {}
_EXACTLY_MIN = object()  # default for max_args: the function takes exactly min_args arguments


def _function(name: str, min_args: int, max_args: Any = _EXACTLY_MIN, **options: Any):
    def register(implementation: Callable[..., Any]) -> Callable[..., Any]:
        upper = min_args if max_args is _EXACTLY_MIN else max_args
        FUNCTIONS[name] = FunctionSpec(name, implementation, min_args, upper, **options)
        return implementation
    return register


def _expect(function: str, value: Any, kind: str) -> Any:
    if type_name(value) != kind:
        raise ExpressionError(f"{function}() expects a {kind}, got {type_name(value)}")
    return value


def _items(function: str, rt: Runtime, value: Any) -> list:
    """Elements of a list argument, converted, with the per-element work charged up front."""
    if value is None:
        return []
    _expect(function, value, "list")
    rt.charge(len(value))
    return [from_context(item) for item in value]


def _numbers(function: str, rt: Runtime, value: Any) -> list[Decimal]:
    found = [item for item in _items(function, rt, value) if item is not None]
    for item in found:
        _expect(function, item, "number")
    return found


def _string_function(name: str, transform: Callable[[str], str]) -> None:
    @_function(name, 1)
    def apply(rt: Runtime, value: Any) -> Any:
        return None if value is None else check_string(transform(_expect(name, value, "string")))


def _number_function(name: str, transform: Callable[[Decimal], Decimal]) -> None:
    @_function(name, 1)
    def apply(rt: Runtime, value: Any) -> Any:
        return None if value is None else transform(_expect(name, value, "number"))


_string_function("lower", str.lower)
_string_function("upper", str.upper)
_string_function("trim", str.strip)
_number_function("abs", NUMBER_CONTEXT.abs)
_number_function("floor", lambda n: n.to_integral_value(rounding=ROUND_FLOOR))
_number_function("ceil", lambda n: n.to_integral_value(rounding=ROUND_CEILING))


@_function("len", 1)
def _len(rt: Runtime, value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    if isinstance(value, (str, LIST_TYPES, Mapping)):
        return Decimal(len(value))
    raise ExpressionError(f"len() expects a string, list or object, got {type_name(value)}")


@_function("contains", 2)
def _contains(rt: Runtime, haystack: Any, needle: Any) -> bool:
    return contains_item(haystack, needle, rt.charge)


def _affix_function(name: str, test: Callable[[str, str], bool]) -> None:
    @_function(name, 2)
    def apply(rt: Runtime, text: Any, affix: Any) -> bool:
        if text is None or affix is None:
            return False
        return test(_expect(name, text, "string"), _expect(name, affix, "string"))


_affix_function("starts_with", str.startswith)
_affix_function("ends_with", str.endswith)


def _whole(function: str, what: str, value: Any) -> int:
    """A whole-number argument (a position, length or width), clamped to just past any string's size."""
    if not is_number(value) or value != value.to_integral_value():
        raise ExpressionError(f"{function}() {what} must be a whole number, got {type_name(value)}"
                              if not is_number(value) else f"{function}() {what} must be a whole number")
    return int(max(min(value, Decimal(MAX_STRING_LENGTH + 1)), Decimal(-MAX_STRING_LENGTH - 1)))


def _charge_text(rt: Runtime, length: int) -> None:
    """Work proportional to the characters a string function builds (see STRING_WORK_PER_STEP)."""
    rt.charge(length // STRING_WORK_PER_STEP)


_TO_END = object()  # substring() without a length


@_function("substring", 2, 3)
def _substring(rt: Runtime, text: Any, start: Any, length: Any = _TO_END) -> Any:
    """substring(text, start[, length]): `start` counts from 0 (negative: from the end); out of range
    gives what is there (maybe ''); a negative length gives ''. Any null argument gives null."""
    if text is None or start is None or length is None:
        return None
    text = _expect("substring", text, "string")
    begin = _whole("substring", "start", start)
    if begin < 0:
        begin = max(len(text) + begin, 0)
    end = len(text) if length is _TO_END else begin + max(_whole("substring", "length", length), 0)
    result = text[begin:end]
    _charge_text(rt, len(result))
    return result


def _side_function(name: str, from_end: bool) -> None:
    @_function(name, 2)
    def apply(rt: Runtime, text: Any, count: Any) -> Any:
        """left(text, n) / right(text, n): the first / last n characters (all of them when shorter)."""
        if text is None or count is None:
            return None
        text = _expect(name, text, "string")
        size = max(_whole(name, "count", count), 0)
        result = (text[len(text) - size:] if size < len(text) else text) if from_end else text[:size]
        _charge_text(rt, len(result))
        return result


_side_function("left", False)
_side_function("right", True)


def _pad_function(name: str, on_left: bool) -> None:
    @_function(name, 2, 3)
    def apply(rt: Runtime, text: Any, width: Any, fill: Any = " ") -> Any:
        """pad_left/pad_right(text, width[, fill]): filled up to `width` characters with one fill
        character (a space by default); a text already that long is returned as it is (never cut)."""
        if text is None or width is None or fill is None:
            return None
        text = _expect(name, text, "string")
        size = _whole(name, "width", width)
        if not isinstance(fill, str) or len(fill) != 1:
            raise ExpressionError(f"{name}() fill must be one character"
                                  + ("" if isinstance(fill, str) else f", got {type_name(fill)}"))
        if size <= len(text):
            return text
        check_string_length(size)
        _charge_text(rt, size)
        return text.rjust(size, fill) if on_left else text.ljust(size, fill)


_pad_function("pad_left", True)
_pad_function("pad_right", False)


@_function("replace", 3)
def _replace(rt: Runtime, text: Any, search: Any, replacement: Any) -> Any:
    """Every occurrence of `search` replaced (case-sensitive, no patterns); an empty `search` changes
    nothing. Any null argument gives null."""
    if text is None or search is None or replacement is None:
        return None
    text = _expect("replace", text, "string")
    search, replacement = _expect("replace", search, "string"), _expect("replace", replacement, "string")
    if not search:
        return text
    found = text.count(search)
    size = len(text) + found * (len(replacement) - len(search))
    check_string_length(size)
    _charge_text(rt, size)
    return text.replace(search, replacement)


@_function("index_of", 2)
def _index_of(rt: Runtime, text: Any, search: Any) -> Any:
    """Where `search` first starts in `text` (0 is the first character), -1 when it does not occur."""
    if text is None or search is None:
        return None
    text, search = _expect("index_of", text, "string"), _expect("index_of", search, "string")
    _charge_text(rt, len(text))
    return Decimal(text.find(search))


@_function("concat", 1, None)
def _concat(rt: Runtime, *values: Any) -> str:
    parts = [to_text(value) for value in values]
    check_string_length(sum(len(part) for part in parts))
    return "".join(parts)


@_function("coalesce", 1, None, lazy=True)
def _coalesce(rt: Runtime, *thunks: Callable[[], Any]) -> Any:
    for thunk in thunks:
        if (value := thunk()) is not None:
            return value
    return None


@_function("if", 3, lazy=True)
def _if(rt: Runtime, condition: Callable[[], Any], then: Callable[[], Any], otherwise: Callable[[], Any]) -> Any:
    return then() if truthy(condition()) else otherwise()


@_function("round", 1, 2)
def _round(rt: Runtime, value: Any, places: Any = Decimal(0)) -> Any:
    if value is None or places is None:
        return None
    _expect("round", value, "number")
    if not is_number(places) or places != places.to_integral_value() or abs(places) > 20:
        raise ExpressionError("round() places must be a whole number between -20 and 20")
    try:
        return value.quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP, context=NUMBER_CONTEXT)
    except ArithmeticError:
        raise ExpressionError("round(): the result has too many digits") from None


def _extreme_function(name: str, pick: Callable[..., Any]) -> None:
    @_function(name, 1, None)
    def apply(rt: Runtime, *values: Any) -> Any:
        candidates = values[0] if len(values) == 1 and isinstance(values[0], LIST_TYPES) else values
        present = [item for item in _items(name, rt, candidates) if item is not None]
        kinds = {type_name(item) for item in present}
        if kinds - {"number"} and kinds - {"string"}:
            raise ExpressionError(f"{name}() compares numbers or strings, got {', '.join(sorted(kinds))}")
        return pick(present) if present else None


_extreme_function("min", min)
_extreme_function("max", max)


@_function("sum", 1)
def _sum(rt: Runtime, values: Any) -> Decimal:
    return functools.reduce(NUMBER_CONTEXT.add, _numbers("sum", rt, values), Decimal(0))


@_function("avg", 1)
def _avg(rt: Runtime, values: Any) -> Decimal | None:
    found = _numbers("avg", rt, values)
    if not found:
        return None
    return NUMBER_CONTEXT.divide(functools.reduce(NUMBER_CONTEXT.add, found), Decimal(len(found)))


@_function("count", 1)
def _count(rt: Runtime, values: Any) -> Decimal:
    return Decimal(sum(1 for item in _items("count", rt, values) if item is not None))


@_function("is_empty", 1)
def _is_empty(rt: Runtime, value: Any) -> bool:
    return value is None or (isinstance(value, (str, LIST_TYPES, Mapping)) and len(value) == 0)


_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)


@_function("to_number", 1)
def _to_number(rt: Runtime, value: Any) -> Decimal | None:
    if value is None or is_number(value):
        return value
    text = _expect("to_number", value, "string").strip()
    if not text:
        return None
    if len(text) > MAX_NUMBER_LITERAL_LENGTH:
        raise ExpressionLimitExceeded(f"to_number(): longer than {MAX_NUMBER_LITERAL_LENGTH} characters")
    if not _NUMBER_TEXT.fullmatch(text):
        raise ExpressionError(f"to_number(): {text!r} is not a number")
    return number(text)


@_function("to_string", 1)
def _to_string(rt: Runtime, value: Any) -> str:
    return check_string(to_text(value))


@_function("matches", 2, literal_checks={1: compile_pattern})
def _matches(rt: Runtime, text: Any, pattern: Any) -> bool:
    if text is None or pattern is None:
        return False
    screened = compile_pattern(_expect("matches", pattern, "string"))
    subject = _expect("matches", text, "string")
    # Regex work counts against the evaluation budget, so many matches cannot add up unbounded.
    worst = screened.worst_case(len(subject))
    rt.charge(worst // MATCH_WORK_PER_STEP)
    rt.reserve_cpu(predicted_match_seconds(worst))  # the request's CPU budget: the match itself cannot be interrupted
    return screened.fullmatch(subject)


@_function("today", 0)
def _today(rt: Runtime) -> str:
    given = rt.variable("$today")
    return given if given is not None else dates.utc_now().date().isoformat()


@_function("now", 0)
def _now(rt: Runtime) -> str:
    given = rt.variable("$now")
    return given if given is not None else dates.format_temporal(dates.utc_now())


def _temporal(function: str, value: Any) -> Any:
    return dates.parse_temporal(_expect(function, value, "string"), function)


def _date_function(name: str, arity: int, compute: Callable[..., Any]) -> None:
    """Date functions share one rule: any null argument gives null."""
    @_function(name, arity)
    def apply(rt: Runtime, *args: Any) -> Any:
        if any(arg is None for arg in args):
            return None
        return compute(*args)


_date_function("date", 1, lambda d: _temporal("date", d).isoformat()[:10])
_date_function("add_days", 2, lambda d, n: dates.format_temporal(
    dates.add_days(_temporal("add_days", d), _expect("add_days", n, "number"))))
_date_function("days_between", 2, lambda a, b: dates.days_between(
    _temporal("days_between", a), _temporal("days_between", b)))
_date_function("hours_between", 2, lambda a, b: dates.hours_between(
    _temporal("hours_between", a), _temporal("hours_between", b)))
_date_function("add_months", 2, lambda d, n: dates.format_temporal(
    dates.add_months(_temporal("add_months", d), _expect("add_months", n, "number"), "add_months")))
_date_function("add_years", 2, lambda d, n: dates.format_temporal(
    dates.add_months(_temporal("add_years", d), _expect("add_years", n, "number"), "add_years", "years")))
_date_function("start_of_month", 1, lambda d: dates.start_of_month(_temporal("start_of_month", d)).isoformat())
_date_function("end_of_month", 1, lambda d: dates.end_of_month(_temporal("end_of_month", d)).isoformat())
_date_function("year", 1, lambda d: Decimal(_temporal("year", d).year))
_date_function("month", 1, lambda d: Decimal(_temporal("month", d).month))
_date_function("day", 1, lambda d: Decimal(_temporal("day", d).day))
_date_function("weekday", 1, lambda d: Decimal(_temporal("weekday", d).isoweekday()))


@_function("format_date", 2, literal_checks={1: dates.check_format_pattern})
def _format_date(rt: Runtime, value: Any, pattern: Any) -> Any:
    """format_date(d, 'DD.MM.YYYY'): a date or date-time written with the tokens YYYY YY MM DD HH mm ss
    (every other character as it is). Like the other date functions, any null argument gives null."""
    if value is None or pattern is None:
        return None
    pattern = dates.check_format_pattern(_expect("format_date", pattern, "string"))
    return dates.format_pattern(_temporal("format_date", value), pattern)


@_function("signature_valid", 1)
def _signature_valid(rt: Runtime, signature: Any) -> bool:
    """True when a confirmed signature's hash (signed_sha256 over its signed_fields) matches the
    record's current values of those fields: a signed field that changed since makes it false."""
    from ..signatures import is_valid
    if not isinstance(signature, Mapping):
        return False
    names = signature.get("signed_fields")
    if not isinstance(names, LIST_TYPES) or len(names) > 50:
        return False
    rt.charge(1 + 10 * len(names))
    # The signed values are the record's fields, read from the evaluation context by name.
    values = {name: rt.variable(name) for name in names if isinstance(name, str) and not name.startswith("$")}
    return is_valid(signature, values)
