"""ISO 8601 dates and date-times for the date functions.

Dates are 'YYYY-MM-DD'; date-times are 'YYYY-MM-DDTHH:MM[:SS[.ffffff]]' with 'Z' or an offset
(a missing zone means UTC).  The format is matched with an anchored, backtracking-free regex
before anything is built, so odd inputs fail fast with an ExpressionError.
"""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from ..errors import ExpressionError, ExpressionLimitExceeded
from .limits import MAX_FORMAT_PATTERN_LENGTH, MAX_MONTHS
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


def add_months(value: date | datetime, months: Decimal, function: str, unit: str = "months") -> date | datetime:
    """Calendar months later (earlier when negative), the day clamped to the target month's last day:
    31 Jan + 1 month is 28 (or 29) Feb. A date-time keeps its time of day and offset."""
    if months != months.to_integral_value():
        raise ExpressionError(f"{function}(): the number of {unit} must be a whole number")
    per = 12 if unit == "years" else 1
    if abs(months) * per > MAX_MONTHS:
        raise ExpressionError(f"{function}(): {months} {unit} is out of range")
    index = value.year * 12 + value.month - 1 + int(months) * per
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise ExpressionError(f"{function}(): the result is outside the supported date range")
    return value.replace(year=year, month=month + 1, day=min(value.day, calendar.monthrange(year, month + 1)[1]))


def start_of_month(value: date | datetime) -> date:
    """The first day of the value's month (a date-time's month in its own offset, as date() reads it)."""
    return date(value.year, value.month, 1)


def end_of_month(value: date | datetime) -> date:
    return date(value.year, value.month, calendar.monthrange(value.year, value.month)[1])


# format_date() tokens, longest first; every other character is copied as it is.
_FORMAT_TOKENS = ("YYYY", "YY", "MM", "DD", "HH", "mm", "ss")


def check_format_pattern(pattern: str) -> str:
    """Also run on a literal pattern at parse time, so an oversized one is refused at upload."""
    if isinstance(pattern, str) and len(pattern) > MAX_FORMAT_PATTERN_LENGTH:
        raise ExpressionLimitExceeded(f"format_date(): the pattern is longer than {MAX_FORMAT_PATTERN_LENGTH} characters")
    return pattern


def format_pattern(value: date | datetime, pattern: str) -> str:
    """The value written with a fixed token set (YYYY YY MM DD HH mm ss), never strftime; `[text]` is
    copied as it is (for letters that would be tokens). A date's time is midnight; a date-time is
    written in its own offset (UTC for the platform's own values)."""
    check_format_pattern(pattern)
    hour, minute, second = (value.hour, value.minute, value.second) if isinstance(value, datetime) else (0, 0, 0)
    parts = {"YYYY": f"{value.year:04d}", "YY": f"{value.year % 100:02d}", "MM": f"{value.month:02d}",
             "DD": f"{value.day:02d}", "HH": f"{hour:02d}", "mm": f"{minute:02d}", "ss": f"{second:02d}"}
    out: list[str] = []
    at = 0
    while at < len(pattern):
        if pattern[at] == "[" and (close := pattern.find("]", at + 1)) != -1:
            out.append(pattern[at + 1:close])  # [text] is copied as it is, brackets dropped
            at = close + 1
            continue
        for token in _FORMAT_TOKENS:
            if pattern.startswith(token, at):
                out.append(parts[token])
                at += len(token)
                break
        else:
            out.append(pattern[at])
            at += 1
    return "".join(out)


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
