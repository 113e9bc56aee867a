"""Time buckets in a tenant's time zone. Keys sort as text and step back one period exactly.

hour `2026-11-30T14`, day `2026-11-30`, week = its Monday `2026-11-23`, month `2026-11`,
quarter `2026-Q4`, year `2026`. Date-only values are not shifted between zones."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo


def parse_instant(value) -> datetime | date | None:
    """An aware datetime (UTC when no offset), a date, or None for anything else."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def bucket_key(value, bucket: str, zone: ZoneInfo) -> str | None:
    instant = parse_instant(value)
    if instant is None:
        return None
    if isinstance(instant, datetime):
        local = instant.astimezone(zone)
        if bucket == "hour":
            return local.strftime("%Y-%m-%dT%H")
        day = local.date()
    else:
        if bucket == "hour":
            return instant.strftime("%Y-%m-%dT00")
        day = instant
    if bucket == "day":
        return day.isoformat()
    if bucket == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    if bucket == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if bucket == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year:04d}"


def previous_key(key: str, bucket: str) -> str | None:
    """The bucket one period before `key`, or None for a malformed key."""
    try:
        if bucket == "hour":
            return (datetime.strptime(key, "%Y-%m-%dT%H") - timedelta(hours=1)).strftime("%Y-%m-%dT%H")
        if bucket == "day":
            return (date.fromisoformat(key) - timedelta(days=1)).isoformat()
        if bucket == "week":
            return (date.fromisoformat(key) - timedelta(days=7)).isoformat()
        if bucket == "month":
            year, month = int(key[:4]), int(key[5:7])
            return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"
        if bucket == "quarter":
            year, quarter = int(key[:4]), int(key[6:])
            return f"{year - 1:04d}-Q4" if quarter == 1 else f"{year:04d}-Q{quarter - 1}"
        return f"{int(key) - 1:04d}"
    except (ValueError, IndexError):
        return None


def seconds_between(start, end) -> float | None:
    a, b = parse_instant(start), parse_instant(end)
    if a is None or b is None:
        return None
    if not isinstance(a, datetime):
        a = datetime(a.year, a.month, a.day, tzinfo=timezone.utc)
    if not isinstance(b, datetime):
        b = datetime(b.year, b.month, b.day, tzinfo=timezone.utc)
    return (b - a).total_seconds()


_DAY_KEYS = {
    "day": date.isoformat,
    "week": lambda day: (day - timedelta(days=day.weekday())).isoformat(),
    "month": lambda day: f"{day.year:04d}-{day.month:02d}",
    "quarter": lambda day: f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}",
    "year": lambda day: f"{day.year:04d}",
}


def bucketer(bucket: str, zone: ZoneInfo):
    """bucket_key(·, bucket, zone) as one closure, built once per report dimension. It remembers the
    last text it was given (the lines of one record usually share their timestamp)."""
    if bucket == "hour":
        return lambda value: bucket_key(value, "hour", zone)
    of_day = _DAY_KEYS[bucket]
    memo = [(None, None)]  # one tuple, swapped whole: threads sharing the closure never see half of it

    def key(value) -> str | None:
        last = memo[0]
        if value.__class__ is str and value == last[0]:
            return last[1]
        instant = parse_instant(value)
        if instant is None:
            return None
        result = of_day(instant.astimezone(zone).date() if instant.__class__ is datetime else instant)
        memo[0] = (value, result)
        return result
    return key
