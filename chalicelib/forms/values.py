"""Checking and normalising one field value. Pure functions; JSON Schema export mirrors these rules."""
from __future__ import annotations

import functools
import re
from datetime import date, datetime, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import partial
from typing import Any, Callable

from ..expressions.patterns import tokens
from .fields import DATE_PATTERN, MAX_DURATION_SECONDS, MAX_SIGNIFICANT_DIGITS

# Sources are ECMA-262 regexes (exported as JSON Schema `pattern`); the engine runs them through
# ecma_regex() so that `$` means end of text there too ("a@b.co\n" is not an e-mail address).
# [0-9] rather than \d: Python's \d also matches other scripts' digits, ECMA's does not.
# RFC 3339 date-time (seconds required, offset required), the same rule as JSON Schema "date-time".
DATETIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
PHONE_PATTERN = r"^\+?[0-9][0-9 \-]{4,19}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
URL_PATTERN = r"^https?://[^\s]+$"
USER_ID_PATTERN = r"^[A-Za-z0-9_.@:\-]{1,128}$"
RECORD_ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
UPLOAD_KEY_PATTERN = r"^[A-Za-z0-9!_.*'()/\-]{1,512}$"
CONTENT_TYPE_PATTERN = r"^[a-z0-9.+\-]+/[a-z0-9.+\-]+$"
MAX_UPLOAD_NAME = 255
MAX_COMPUTED_TEXT = 10_000


def ecma_source(source: str) -> str:
    """Python spelling of an ECMA-262 regex: an unescaped `$` outside a class becomes \\Z (Python's
    `$` also matches before a trailing newline, ECMA's only at the end)."""
    return "".join("\\Z" if syntax and text == "$" else text for _, text, syntax in tokens(source))


@functools.lru_cache(maxsize=512)
def ecma_regex(source: str) -> re.Pattern[str]:
    return re.compile(ecma_source(source))


DATE_RE = ecma_regex(DATE_PATTERN)
DATETIME_RE = ecma_regex(DATETIME_PATTERN)
TIME_RE = ecma_regex(TIME_PATTERN)
PHONE_RE = ecma_regex(PHONE_PATTERN)
EMAIL_RE = ecma_regex(EMAIL_PATTERN)
URL_RE = ecma_regex(URL_PATTERN)
USER_ID_RE = ecma_regex(USER_ID_PATTERN)
RECORD_ID_RE = ecma_regex(RECORD_ID_PATTERN)
UPLOAD_KEY_RE = ecma_regex(UPLOAD_KEY_PATTERN)
CONTENT_TYPE_RE = ecma_regex(CONTENT_TYPE_PATTERN)
UTC_SECONDS_RE = re.compile(r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")  # as normalize_datetime stores it
SHA256_RE = re.compile(r"[0-9a-f]{64}")
FIELD_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,62}")


class Invalid(Exception):
    """A value broke a rule; message is user-facing."""


def is_number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool) or isinstance(value, float)


def number_bound(scale: int) -> Decimal:
    return Decimal(10) ** (MAX_SIGNIFICANT_DIGITS - scale)


def check_number(value: Any, scale: int, minimum: Decimal | None, maximum: Decimal | None) -> Decimal:
    return number_check(scale, minimum, maximum)(value)


def check_duration(value: Any, minimum: int | None, maximum: int | None) -> int:
    if isinstance(value, Decimal):
        # Bound before int(): int(Decimal("1e999999999")) would build a billion-digit integer.
        if not value.is_finite() or value.copy_abs() > MAX_DURATION_SECONDS or value != value.to_integral_value():
            raise Invalid(f"must be a whole number of seconds up to {MAX_DURATION_SECONDS}")
    elif not isinstance(value, int) or isinstance(value, bool):
        raise Invalid("must be a whole number of seconds")
    seconds = int(value)
    if abs(seconds) > MAX_DURATION_SECONDS:
        raise Invalid(f"must be a whole number of seconds up to {MAX_DURATION_SECONDS}")
    if minimum is not None and seconds < minimum:
        raise Invalid(f"must be at least {minimum} seconds")
    if maximum is not None and seconds > maximum:
        raise Invalid(f"must be at most {maximum} seconds")
    return seconds


def parse_date(value: Any) -> date:
    if not isinstance(value, str) or not DATE_RE.fullmatch(value):
        raise Invalid("must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid("must be a valid calendar date") from exc


def normalize_datetime(value: Any) -> str:
    if value.__class__ is str and UTC_SECONDS_RE.fullmatch(value):  # already as stored: only the calendar to check
        try:
            datetime.fromisoformat(value[:-1])
        except ValueError as exc:
            raise Invalid("must be a valid date-time") from exc
        return value
    if not isinstance(value, str) or not DATETIME_RE.fullmatch(value):
        raise Invalid("must be an RFC 3339 date-time with seconds and offset, e.g. 2026-11-25T09:30:00Z")
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError as exc:
        raise Invalid("must be a valid date-time") from exc
    # Stored in UTC so strings sort and compare as instants.
    try:
        utc = moment.astimezone(timezone.utc)
    except OverflowError as exc:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise Invalid("must be a date-time between years 0001 and 9999 in UTC") from exc
    # isoformat()'s text without microseconds or offset, years before 1000 padded to four digits as it does
    # (glibc's strftime %Y did not: '1-01-01T…'), formatted directly: isoformat() costs twice as much
    text = "%04d-%02d-%02dT%02d:%02d:%02d" % (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second)
    return text + (f".{moment.microsecond:06d}".rstrip("0") if moment.microsecond else "") + "Z"


SIGNATURE_KEYS = {"signed_sha256", "signed_fields", "signed_at", "signed_by", "signed_mac"}  # set when a signature upload is confirmed
ATTACHMENT_KEYS = {"key", "name", "content_type", "size", "sha256"}


def attachment_check(accept: list[str], max_bytes: int, *, signature: bool = False) -> Check:
    """An attachment object {key, content_type, size[, name, sha256]} (and a signature's signed_* keys)."""
    allowed, accepted = frozenset(ATTACHMENT_KEYS | (SIGNATURE_KEYS if signature else set())), frozenset(accept)
    # accepted types that are well-formed content types themselves: one of them needs no pattern match
    wellformed = frozenset(t for t in accept if isinstance(t, str) and CONTENT_TYPE_RE.fullmatch(t))
    refused = f"({', '.join(accept)})"
    bad_size = f"attachment size must be an integer from 0 to {max_bytes}"
    key_match, type_match = UPLOAD_KEY_RE.fullmatch, CONTENT_TYPE_RE.fullmatch

    def attachment(value: Any) -> dict:
        if value.__class__ is not dict and not isinstance(value, dict):
            raise Invalid("must be an attachment object {key, content_type, size}")
        if not allowed.issuperset(value):
            raise Invalid(f"unknown attachment keys: {', '.join(sorted(set(value) - allowed))}")
        get = value.get
        key, ctype, size = get("key"), get("content_type"), get("size")
        if key.__class__ is not str and not isinstance(key, str) or not key_match(key):
            raise Invalid("attachment key is missing or malformed")
        if ctype.__class__ is str and ctype in wellformed:
            pass  # well-formed and accepted
        else:
            if not isinstance(ctype, str) or not type_match(ctype):
                raise Invalid("attachment content_type is missing or malformed")
            if accepted and ctype not in accepted:
                raise Invalid(f"content type {ctype} is not accepted {refused}")
        if size.__class__ is not int and (not isinstance(size, int) or isinstance(size, bool)) or not 0 <= size <= max_bytes:
            raise Invalid(bad_size)
        name = value.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > MAX_UPLOAD_NAME):
            raise Invalid(f"attachment name must be text of at most {MAX_UPLOAD_NAME} characters")
        sha = value.get("sha256")
        if sha is not None and (not isinstance(sha, str) or not SHA256_RE.fullmatch(sha)):
            raise Invalid("attachment sha256 must be 64 lowercase hex characters")
        if signature:
            _check_signature_keys(value)
        return dict(value)
    return attachment


def _check_signature_keys(value: dict) -> None:
    signed = value.get("signed_sha256")
    if signed is not None and (not isinstance(signed, str) or not SHA256_RE.fullmatch(signed)):
        raise Invalid("attachment signed_sha256 must be 64 lowercase hex characters")
    mac = value.get("signed_mac")
    if mac is not None and (not isinstance(mac, str) or not SHA256_RE.fullmatch(mac)):
        raise Invalid("attachment signed_mac must be 64 lowercase hex characters")
    names = value.get("signed_fields")
    if names is not None and (not isinstance(names, list) or len(names) > 50 or
                              any(not isinstance(n, str) or not FIELD_NAME_RE.fullmatch(n) for n in names)):
        raise Invalid("attachment signed_fields must be a list of at most 50 field names")
    at = value.get("signed_at")
    if at is not None and (not isinstance(at, str) or not DATETIME_RE.fullmatch(at)):
        raise Invalid("attachment signed_at must be an RFC 3339 date-time")
    by = value.get("signed_by")
    if by is not None and (not isinstance(by, str) or not USER_ID_RE.fullmatch(by)):
        raise Invalid("attachment signed_by must be a user id")


def check_value(field, value: Any) -> Any:
    """Validate a non-null value of a non-subtable field; return its normalised form or raise Invalid."""
    return value_check(field)(value)


Check = Callable[[Any], Any]


def value_check(field) -> Check:
    """check_value for one field, its settings read once: value -> normalised value, or raise Invalid."""
    t = field.type
    if t in ("text", "textarea"):
        return _text_check(field)
    if t in ("number", "money", "percent"):
        return number_check(field.scale, field.minimum, field.maximum)
    if t == "date":
        return _date_check(field.minimum, field.maximum)
    if t == "datetime":
        return normalize_datetime
    if t == "time":
        return _string_check(TIME_RE, "must be a time HH:MM or HH:MM:SS", 8)
    if t == "duration":
        return _duration_check(field.minimum, field.maximum)
    if t == "select":
        return _select_check([o.value for o in field.options])
    if t == "multiselect":
        return _multiselect_check([o.value for o in field.options], field.min_items, field.max_items)
    if t == "checkbox":
        return _checkbox
    if t == "rating":
        return number_check(0, Decimal(1), Decimal(field.max))
    if t == "phone":
        return _string_check(PHONE_RE, "must be a phone number (digits, spaces, dashes, optional +)", 20)
    if t == "email":
        return _string_check(EMAIL_RE, "must be an e-mail address", 254)
    if t == "url":
        return _string_check(URL_RE, "must be an http(s) URL", 2048)
    if t == "geolocation":
        return _geolocation_check()
    if t in ("image", "file"):
        return _attachment_check(field.accept, field.max_size_mb * 1024 * 1024, field.multiple, field.max_files)
    if t == "signature":
        return attachment_check(field.accept, 5 * 1024 * 1024, signature=True)
    if t == "user":
        return _string_check(USER_ID_RE, "must be a user id", 128)
    if t == "lookup":
        return _string_check(RECORD_ID_RE, f"must be the id of a {field.form} record", 26)
    return partial(_refuse, f"{t} fields are set by the server")


def value_settle(field) -> Check | None:
    """What value_check(field) returns for a value it already returned (a stored value, also after the
    store's JSON round trip: an integral Decimal comes back as an int, trailing zeros dropped), without
    checking it again: the incremental update (forms.engine) takes such values as valid. Each is
    check(value) for every value check accepted; anything else is unspecified. None: the value itself."""
    t = field.type
    if t in ("number", "money", "percent", "rating"):
        return settle_number
    if t == "geolocation":
        return _settle_geolocation
    if t in ("image", "file"):
        return _settle_attachments if field.multiple else _settle_attachment
    if t == "signature":
        return _settle_attachment
    return None  # text, dates, times, options, checkbox, duration, phone, e-mail, url, user, lookup: as stored


def settle_number(value: Any) -> Any:
    # number_check: an int becomes its Decimal; a Decimal it returned is returned again as it is
    # (scale 0: already quantized to exponent 0; the JSON round trip makes it an int)
    return Decimal(value) if value.__class__ is int else value


def _settle_geolocation(value: dict) -> dict:
    lat, lng = value["lat"], value["lng"]
    out = {"lat": Decimal(lat) if lat.__class__ is int else lat, "lng": Decimal(lng) if lng.__class__ is int else lng}
    if "accuracy" in value:
        accuracy = value["accuracy"]
        out["accuracy"] = Decimal(accuracy) if accuracy.__class__ is int else accuracy
    return out


def _settle_attachment(value: dict) -> dict:
    return dict(value)


def _settle_attachments(value: list) -> list:
    return [dict(v) for v in value]


def _refuse(message: str, value: Any) -> Any:
    raise Invalid(message)


def _text_check(field) -> Check:
    max_length, too_long = field.max_length, f"must be at most {field.max_length} characters"
    if field.type == "textarea":
        def textarea(value: Any) -> str:
            if not isinstance(value, str):
                raise Invalid("must be text")
            if len(value) > max_length:
                raise Invalid(too_long)
            return value
        return textarea
    min_length, too_short = field.min_length, f"must be at least {field.min_length} characters"
    search = ecma_regex(field.pattern).search if field.pattern else None  # JSON Schema semantics
    unmatched = f"must match the pattern {field.pattern}"

    def text(value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid("must be text")
        length = len(value)
        if length > max_length:
            raise Invalid(too_long)
        if length < min_length:
            raise Invalid(too_short)
        if search is not None and not search(value):
            raise Invalid(unmatched)
        return value
    return text


def number_check(scale: int, minimum: Decimal | None, maximum: Decimal | None) -> Check:
    """A number of `scale` decimal places, within the 15-digit bound and [minimum, maximum]: exact Decimal
    comparisons, so no rounding can let a value through."""
    bound = number_bound(scale)
    low, step = -bound, Decimal(1).scaleb(-scale)
    out_of_range = f"must be between -{bound} and {bound} (exclusive)"
    too_precise = "must be a whole number" if scale == 0 else f"must have at most {scale} decimal places"
    too_low, too_high = f"must be at least {minimum}", f"must be at most {maximum}"
    # The same bounds for a whole number, as integers (an int compares with an int several times faster than
    # with a Decimal): the bound, the least whole number >= minimum and the greatest <= maximum. None for
    # limits too large to turn into integers cheaply: then the Decimal comparisons.
    whole = bound == bound.to_integral_value() and all(
        limit is None or isinstance(limit, Decimal) and limit.is_finite() and limit.adjusted() < 30
        for limit in (minimum, maximum))
    whole_bound = int(bound) if whole else 0
    whole_min = None if not whole or minimum is None else int(minimum.to_integral_value(rounding=ROUND_CEILING))
    whole_max = None if not whole or maximum is None else int(maximum.to_integral_value(rounding=ROUND_FLOOR))

    def number(value: Any) -> Decimal:
        if value.__class__ is Decimal:
            # The usual number, written with exactly `scale` decimals (a finite Decimal of that exponent):
            # only the range applies, and it is returned as it is (quantize would give it back unchanged).
            if value.same_quantum(step) and low < value < bound:
                if minimum is not None and value < minimum:
                    raise Invalid(too_low)
                if maximum is not None and value > maximum:
                    raise Invalid(too_high)
                return value
            number = value
        elif value.__class__ is int:  # exact and whole: only the range applies
            if whole:
                if not -whole_bound < value < whole_bound:
                    raise Invalid(out_of_range)
                if whole_min is not None and value < whole_min:
                    raise Invalid(too_low)
                if whole_max is not None and value > whole_max:
                    raise Invalid(too_high)
                return Decimal(value)
            if not low < value < bound:
                raise Invalid(out_of_range)
            if minimum is not None and value < minimum:
                raise Invalid(too_low)
            if maximum is not None and value > maximum:
                raise Invalid(too_high)
            return Decimal(value)
        elif not is_number(value):
            raise Invalid("must be a number")
        else:
            number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            raise Invalid("must be a finite number")
        if not low < number < bound:  # exact comparison, whatever the exponent
            raise Invalid(out_of_range)
        # adjusted() is exact; normalize() would round to the context (1E-999999999 underflows to 0).
        # Past both checks the quantize below has at most 15 digits, so it cannot fail.
        if number and (number.adjusted() < -scale or number != number.quantize(step)):
            raise Invalid(too_precise)
        if minimum is not None and number < minimum:
            raise Invalid(too_low)
        if maximum is not None and number > maximum:
            raise Invalid(too_high)
        return number.quantize(step) if scale == 0 else number
    return number


def _date_check(minimum: str | None, maximum: str | None) -> Check:
    first = date.fromisoformat(minimum) if minimum else None
    last = date.fromisoformat(maximum) if maximum else None

    def day(value: Any) -> str:
        parsed = parse_date(value)
        if first is not None and parsed < first:
            raise Invalid(f"must be on or after {minimum}")
        if last is not None and parsed > last:
            raise Invalid(f"must be on or before {maximum}")
        return value
    return day


def _string_check(pattern: re.Pattern, message: str, max_length: int) -> Check:
    fullmatch = pattern.fullmatch

    def string(value: Any) -> str:
        if value.__class__ is not str and not isinstance(value, str) or len(value) > max_length or not fullmatch(value):
            raise Invalid(message)
        return value
    return string


def _duration_check(minimum: int | None, maximum: int | None) -> Check:
    def duration(value: Any) -> int:
        if value.__class__ is int and -MAX_DURATION_SECONDS <= value <= MAX_DURATION_SECONDS and (
                minimum is None or value >= minimum) and (maximum is None or value <= maximum):
            return value  # check_duration's answer for a whole number of seconds within every bound
        return check_duration(value, minimum, maximum)
    return duration


def _select_check(values: list[str]) -> Check:
    allowed, message = frozenset(values), "must be one of: " + ", ".join(values)

    def select(value: Any) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise Invalid(message)
        return value
    return select


def _multiselect_check(values: list[str], min_items: int, max_items: int | None) -> Check:
    allowed = frozenset(values)
    unknown = "every item must be one of: " + ", ".join(values)
    count = f"must have between {min_items} and {max_items or len(allowed)} items"

    def multiselect(value: Any) -> list:
        if not isinstance(value, list):
            raise Invalid("must be a list of options")
        if any(not isinstance(v, str) or v not in allowed for v in value):
            raise Invalid(unknown)
        if len(set(value)) != len(value):
            raise Invalid("items must not repeat")
        if len(value) < min_items or (max_items is not None and len(value) > max_items):
            raise Invalid(count)
        return value
    return multiselect


def _checkbox(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid("must be true or false")
    return value


def _geolocation_check() -> Check:
    lat, lng = number_check(8, Decimal(-90), Decimal(90)), number_check(8, Decimal(-180), Decimal(180))
    accuracy = number_check(2, Decimal(0), None)

    def geolocation(value: Any) -> dict:
        # exactly lat and lng, or lat, lng and accuracy
        if value.__class__ is not dict and not isinstance(value, dict) or "lat" not in value or "lng" not in value or not (
                len(value) == 2 or len(value) == 3 and "accuracy" in value):
            raise Invalid("must be an object {lat, lng[, accuracy]}")
        if len(value) == 2:
            return {"lat": lat(value["lat"]), "lng": lng(value["lng"])}
        return {"lat": lat(value["lat"]), "lng": lng(value["lng"]), "accuracy": accuracy(value["accuracy"])}
    return geolocation


def _attachment_check(accept: list[str], max_bytes: int, multiple: bool, max_files: int) -> Check:
    one = attachment_check(accept, max_bytes)
    if not multiple:
        return one
    too_many = f"must be a list of at most {max_files} attachments"

    def attachments(value: Any) -> list:
        if not isinstance(value, list) or len(value) > max_files:
            raise Invalid(too_many)
        return [one(v) for v in value]
    return attachments


def default_problem(field, value: Any) -> str | None:
    try:
        check_value(field, value)
    except Invalid as exc:
        return f"default {exc}"
    return None


def computed_result(result: str, scale: int, value: Any) -> Any:
    """Clean what a computed field's expression returned for its result type (not "boolean",
    which the engine decides); None when it is not a value of that type."""
    if result == "number":
        if not isinstance(value, Decimal) or not value.is_finite() or value.copy_abs() >= number_bound(scale):
            return None  # unknown, like any other value the field cannot hold
        return value.quantize(Decimal(1).scaleb(-scale))  # <= 15 digits after the bound check
    if result == "date":
        try:
            return value if parse_date(value) else None
        except Invalid:
            pass
        try:
            return normalize_datetime(value)[:10]  # a date-time counts as its UTC date
        except Invalid:
            return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, Decimal)):
        text = format(value, "f") if isinstance(value, Decimal) else str(value)  # never 1E+2
    elif isinstance(value, str):
        text = value
    else:
        return None  # lists and objects have no single text form
    return text[:MAX_COMPUTED_TEXT]
