"""The `schedule` definition kind (pure): recurring work as data. A schedule makes records of one form
on a calendar — an RRULE subset in the tenant's time zone — once per occurrence, or once per record
of another form (each elevator under contract) per occurrence, with values from expressions of the
platform's language (never eval).

    {"name": "monthly_inspection", "title": "Monthly inspection", "form": "inspection_order",
     "rrule": "FREQ=MONTHLY;BYMONTHDAY=1", "start": "2027-01-01", "at": "08:00", "time_zone": "+08:00",
     "lead_days": 3, "missed": "catch_up", "max_catch_up": 3,
     "for_each": {"form": "equipment", "filter": {"status": "in_service"}, "where": "under_contract"},
     "values": {"equipment": "$source.id", "due_date": "$occurrence", "site": "site"}}

Values read the source record's fields by name (for_each), `$source` ({id, number, form}),
`$occurrence` (the occurrence's local date, YYYY-MM-DD), `$occurrence_at` (its UTC instant), and
`$schedule` (the schedule's name), beside `$now` and `$today`.
"""
from __future__ import annotations

import functools
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import DefinitionError
from ..forms.definition import MAX_INDEXES
from ..forms.names import NAME_PATTERN
from ..locales import Translatable
from ..zones import zone_of

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
RULE_PARTS = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "COUNT", "UNTIL", "WKST"}
HORIZON_YEARS = 30  # a rule without UNTIL/COUNT ends this long after its start (re-publish to go on)
VALUE_VARIABLES = ("$occurrence", "$occurrence_at", "$schedule", "$now", "$today")
MAX_VALUES = 200
_PART = re.compile(r"^[A-Z]+=[A-Z0-9,+\-]+$")
_BYDAY = re.compile(r"^[+-]?(?:[1-9]|[1-4][0-9]|5[0-3])?(MO|TU|WE|TH|FR|SA|SU)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ForEach(_Strict):
    """One record per occurrence for each record of `form` that passes `filter` (equality on the form's
    indexed fields: the list Query narrows to them) and `where` (an expression over the record)."""
    form: str = Field(pattern=NAME_PATTERN)
    filter: dict[str, str | int | bool] = Field(default_factory=dict, max_length=MAX_INDEXES)
    where: str | None = Field(default=None, max_length=4000)


class ScheduleDefinition(Translatable, _Strict):
    translatable = ("title", "description")
    name: str = Field(pattern=NAME_PATTERN)
    title: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=2000)
    form: str = Field(pattern=NAME_PATTERN, description="the form whose records the schedule makes")
    rrule: str = Field(max_length=500, description="RFC 5545 RRULE subset: FREQ=DAILY|WEEKLY|MONTHLY|YEARLY; "
                       "INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, COUNT, UNTIL (YYYYMMDD), WKST")
    start: date = Field(description="the first day the rule may fall on (local)")
    at: str = Field(default="08:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="local time of day")
    time_zone: str = Field(default="UTC", max_length=64)
    lead_days: int = Field(default=0, ge=0, le=366, description="make each occurrence's records this many days ahead")
    for_each: ForEach | None = None
    values: dict[str, Any] = Field(default_factory=dict, description="target field → expression (a string) or a "
                                   "literal value (number, boolean, list, object: e.g. a checklist's rows)")
    missed: Literal["catch_up", "latest"] = Field(
        default="catch_up", description="several occurrences due at once (runs were missed): make each of them "
        "(catch_up, the newest max_catch_up; older ones are skipped) or only the newest (latest)")
    max_catch_up: int = Field(default=12, ge=1, le=100)
    enabled: bool = True

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone_of(value)
        return value

    @field_validator("rrule")
    @classmethod
    def _rule_subset(cls, value: str) -> str:
        rule_parts(value)
        return value

    @model_validator(mode="after")
    def _bounded(self):
        if len(self.values) > MAX_VALUES:
            raise ValueError(f"at most {MAX_VALUES} values")
        return self


def rule_parts(value: str) -> dict[str, str]:
    """The RRULE's parts, checked against the subset (ValueError naming the part)."""
    text = value.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts: dict[str, str] = {}
    for chunk in filter(None, text.split(";")):
        if not _PART.match(chunk):
            raise ValueError(f"'{chunk}' is not NAME=VALUE (upper case)")
        name, part = chunk.split("=", 1)
        if name not in RULE_PARTS:
            raise ValueError(f"{name} is not supported (use {', '.join(sorted(RULE_PARTS))})")
        if name in parts:
            raise ValueError(f"{name} is given twice")
        parts[name] = part
    if parts.get("FREQ") not in FREQUENCIES:
        raise ValueError(f"FREQ must be one of {', '.join(FREQUENCIES)}")
    if "INTERVAL" in parts and not (parts["INTERVAL"].isdigit() and 1 <= int(parts["INTERVAL"]) <= 1000):
        raise ValueError("INTERVAL is a whole number from 1 to 1000")
    if "COUNT" in parts and not (parts["COUNT"].isdigit() and 1 <= int(parts["COUNT"]) <= 100000):
        raise ValueError("COUNT is a whole number from 1 to 100000")
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValueError("COUNT and UNTIL cannot both be given")
    if "UNTIL" in parts and not re.fullmatch(r"\d{8}", parts["UNTIL"]):
        raise ValueError("UNTIL is a local date YYYYMMDD")
    for day in parts.get("BYDAY", "").split(",") if "BYDAY" in parts else ():
        if not _BYDAY.match(day):
            raise ValueError(f"BYDAY '{day}' is not a weekday such as MO or 1MO or -1FR")
    for name, low, high in (("BYMONTHDAY", 1, 31), ("BYMONTH", 1, 12), ("BYSETPOS", 1, 366)):
        for item in parts.get(name, "").split(",") if name in parts else ():
            number = item.lstrip("+-")
            if not number.isdigit() or not low <= int(number) <= high or (name == "BYMONTH" and item.startswith("-")):
                raise ValueError(f"{name} '{item}' is out of range")
    return parts


@functools.lru_cache(maxsize=256)
def _rule(rrule: str, start: date, at: str):
    from dateutil.rrule import rrulestr
    parts = rule_parts(rrule)
    hour, minute = (int(x) for x in at.split(":"))
    dtstart = datetime(start.year, start.month, start.day, hour, minute)
    horizon = dtstart.replace(year=dtstart.year + HORIZON_YEARS) if not (start.month == 2 and start.day == 29) \
        else dtstart.replace(day=28, year=dtstart.year + HORIZON_YEARS)
    if "UNTIL" in parts:
        until = datetime.strptime(parts.pop("UNTIL"), "%Y%m%d").replace(hour=23, minute=59)
        parts["UNTIL"] = min(until, horizon).strftime("%Y%m%dT%H%M%S")
    elif "COUNT" not in parts:
        parts["UNTIL"] = horizon.strftime("%Y%m%dT%H%M%S")
    text = ";".join(f"{k}={v}" for k, v in parts.items())
    # missing BY* parts come from dtstart (FREQ=MONTHLY alone → the start's day of month), as RFC 5545 says
    return rrulestr(text, dtstart=dtstart, cache=False)


def rule_of(defn: ScheduleDefinition):
    """The schedule's rule (dateutil rrule over naive local times); cached per rule text."""
    return _rule(defn.rrule, defn.start, defn.at)


def first_occurrence(defn: ScheduleDefinition) -> datetime | None:
    return rule_of(defn).after(datetime.min, inc=True)


def key_of(local: datetime) -> str:
    """An occurrence's name: its local wall time, minute precision (2027-01-01T08:00)."""
    return local.strftime("%Y-%m-%dT%H:%M")


def local_of(key: str) -> datetime:
    return datetime.strptime(key, "%Y-%m-%dT%H:%M")


def utc_of(defn: ScheduleDefinition, local: datetime) -> datetime:
    return local.replace(tzinfo=zone_of(defn.time_zone)).astimezone(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def make_at(defn: ScheduleDefinition, local: datetime) -> datetime:
    """When an occurrence at `local` is made: its UTC instant less the lead days."""
    return utc_of(defn, local) - timedelta(days=defn.lead_days)


def is_occurrence(defn: ScheduleDefinition, key: str) -> bool:
    try:
        local = local_of(key)
    except ValueError:
        return False
    found = rule_of(defn).after(local, inc=True)
    return found is not None and found == local


def parse_schedule(raw: Any) -> ScheduleDefinition:
    """Parse a schedule definition: DefinitionError with every problem's path in plain words."""
    if not isinstance(raw, dict):
        raise DefinitionError("schedule definition must be a JSON object", details=[{"path": "", "message": "not an object"}])
    from ..forms.definition import validated
    defn = validated(ScheduleDefinition, raw, "schedule definition")
    if first_occurrence(defn) is None:
        raise DefinitionError("schedule definition is invalid", details=[{
            "path": "rrule", "message": f"the rule has no occurrence on or after start (within {HORIZON_YEARS} years)"}])
    return defn
