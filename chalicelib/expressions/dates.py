"""ISO 8601 dates and date-times for the date functions.

Dates are 'YYYY-MM-DD'; date-times are 'YYYY-MM-DDTHH:MM[:SS[.ffffff]]' with 'Z' or an offset
(a missing zone means UTC).  The format is matched with an anchored, backtracking-free regex
before anything is built, so odd inputs fail fast with an ExpressionError.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from ..errors import ExpressionError
from .values import NUMBER_CONTEXT, format_datetime

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?",
    re.ASCII)
_SECONDS_PER_DAY = 86_400
_MAX_DAYS = 3_660_000  # ~10,000 years: anything larger cannot land inside date's range anyway


def parse_temporal(text: str, function: str) -> date | datetime:
    """A date, or a timezone-aware datetime; ExpressionError for anything else."""
    try:
        if match := _DATE.fullmatch(text):
            return date(*(int(part) for part in match.groups()))
        if match := _DATETIME.fullmatch(text):
            year, month, day, hour, minute, second, fraction, zone = match.groups()
            micros = int((fraction or "0")[:6].ljust(6, "0"))
            return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                            micros, tzinfo=_parse_zone(zone))
    except ValueError:
        pass  # e.g. month 13: same message as any other malformed value
    raise ExpressionError(f"{function}(): {text[:40]!r} is not an ISO date or date-time")


def _parse_zone(zone: str | None) -> timezone:
    if zone is None or zone in ("Z", "z"):
        return timezone.utc
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(-offset if zone[0] == "-" else offset)  # ValueError past 24h, caught above


def format_temporal(value: date | datetime) -> str:
    return format_datetime(value) if isinstance(value, datetime) else value.isoformat()


def as_datetime(value: date | datetime) -> datetime:
    """Dates count as midnight UTC when mixed with date-times."""
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)


def add_days(value: date | datetime, days: Decimal) -> date | datetime:
    if abs(days) > _MAX_DAYS:
        raise ExpressionError(f"add_days(): {days} days is out of range")
    try:
        if isinstance(value, datetime):
            micros = NUMBER_CONTEXT.multiply(days, Decimal(_SECONDS_PER_DAY * 1_000_000))
            return value + timedelta(microseconds=int(micros.to_integral_value()))
        if days != days.to_integral_value():
            raise ExpressionError("add_days(): a date needs a whole number of days")
        return value + timedelta(days=int(days))
    except OverflowError:
        raise ExpressionError("add_days(): the result is outside the supported date range") from None


def seconds_between(start: date | datetime, end: date | datetime) -> Decimal:
    delta = as_datetime(end) - as_datetime(start)
    whole = Decimal(delta.days * _SECONDS_PER_DAY + delta.seconds)
    # Only add the fraction when there is one, so whole results stay free of trailing zeros.
    return whole + Decimal(delta.microseconds).scaleb(-6) if delta.microseconds else whole


def days_between(start: date | datetime, end: date | datetime) -> Decimal:
    if not isinstance(start, datetime) and not isinstance(end, datetime):
        return Decimal((end - start).days)
    return NUMBER_CONTEXT.divide(seconds_between(start, end), Decimal(_SECONDS_PER_DAY))


def hours_between(start: date | datetime, end: date | datetime) -> Decimal:
    return NUMBER_CONTEXT.divide(seconds_between(start, end), Decimal(3_600))


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)
