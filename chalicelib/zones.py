"""Time zones named in definitions (pure): `UTC`, a fixed offset such as `+08:00`, or an IANA name."""
from __future__ import annotations

import re
from datetime import timedelta, timezone, tzinfo

_FIXED = re.compile(r"([+-])(\d{2}):(\d{2})")


def zone_of(name: str) -> tzinfo:
    """tzinfo of a definition's time zone; ValueError naming what is accepted."""
    if name == "UTC":
        return timezone.utc
    fixed = _FIXED.fullmatch(name)
    if fixed:
        hours, minutes = int(fixed[2]), int(fixed[3])
        if hours > 14 or minutes > 59:
            raise ValueError("an offset is at most ±14:00")
        offset = timedelta(hours=hours, minutes=minutes)
        return timezone(-offset if fixed[1] == "-" else offset)
    try:
        from zoneinfo import ZoneInfo
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError, ImportError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError("unknown time zone; use UTC, an offset such as +08:00, or an IANA name") from exc
