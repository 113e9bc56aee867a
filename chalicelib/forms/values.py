"""Checking and normalising one field value. Pure functions; JSON Schema export mirrors these rules."""
from __future__ import annotations

import functools
import re
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

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


class Invalid(Exception):
    """A value broke a rule; message is user-facing."""


def is_number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool) or isinstance(value, float)


def number_bound(scale: int) -> Decimal:
    return Decimal(10) ** (MAX_SIGNIFICANT_DIGITS - scale)


def check_number(value: Any, scale: int, minimum: Decimal | None, maximum: Decimal | None) -> Decimal:
    if not is_number(value):
        raise Invalid("must be a number")
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise Invalid("must be a finite number")
    bound = number_bound(scale)
    if not -bound < number < bound:  # exact comparison, whatever the exponent
        raise Invalid(f"must be between -{bound} and {bound} (exclusive)")
    # adjusted() is exact; normalize() would round to the context (1E-999999999 underflows to 0).
    # Past both checks the quantize below has at most 15 digits, so it cannot fail.
    step = Decimal(1).scaleb(-scale)
    if number and (number.adjusted() < -scale or number != number.quantize(step)):
        raise Invalid("must be a whole number" if scale == 0 else f"must have at most {scale} decimal places")
    if minimum is not None and number < minimum:
        raise Invalid(f"must be at least {minimum}")
    if maximum is not None and number > maximum:
        raise Invalid(f"must be at most {maximum}")
    return number.quantize(step) if scale == 0 else number


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
    if not isinstance(value, str) or not DATETIME_RE.fullmatch(value):
        raise Invalid("must be an RFC 3339 date-time with seconds and offset, e.g. 2026-11-25T09:30:00Z")
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError as exc:
        raise Invalid("must be a valid date-time") from exc
    # Stored in UTC so strings sort and compare as instants.
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{moment.microsecond:06d}".rstrip("0") if moment.microsecond else "") + "Z"


def check_string(value: Any, pattern: re.Pattern, message: str, max_length: int) -> str:
    if not isinstance(value, str) or len(value) > max_length or not pattern.fullmatch(value):
        raise Invalid(message)
    return value


SIGNATURE_KEYS = {"signed_sha256", "signed_fields", "signed_at", "signed_by", "signed_mac"}  # set when a signature upload is confirmed


def check_attachment(value: Any, accept: list[str], max_bytes: int, *, signature: bool = False) -> dict:
    if not isinstance(value, dict):
        raise Invalid("must be an attachment object {key, content_type, size}")
    unknown = set(value) - {"key", "name", "content_type", "size", "sha256"} - (SIGNATURE_KEYS if signature else set())
    if unknown:
        raise Invalid(f"unknown attachment keys: {', '.join(sorted(unknown))}")
    key, ctype, size = value.get("key"), value.get("content_type"), value.get("size")
    if not isinstance(key, str) or not UPLOAD_KEY_RE.fullmatch(key):
        raise Invalid("attachment key is missing or malformed")
    if not isinstance(ctype, str) or not CONTENT_TYPE_RE.fullmatch(ctype):
        raise Invalid("attachment content_type is missing or malformed")
    if accept and ctype not in accept:
        raise Invalid(f"content type {ctype} is not accepted ({', '.join(accept)})")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= max_bytes:
        raise Invalid(f"attachment size must be an integer from 0 to {max_bytes}")
    name = value.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_UPLOAD_NAME):
        raise Invalid(f"attachment name must be text of at most {MAX_UPLOAD_NAME} characters")
    sha = value.get("sha256")
    if sha is not None and (not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha)):
        raise Invalid("attachment sha256 must be 64 lowercase hex characters")
    if signature:
        _check_signature_keys(value)
    return dict(value)


def _check_signature_keys(value: dict) -> None:
    signed = value.get("signed_sha256")
    if signed is not None and (not isinstance(signed, str) or not re.fullmatch(r"[0-9a-f]{64}", signed)):
        raise Invalid("attachment signed_sha256 must be 64 lowercase hex characters")
    mac = value.get("signed_mac")
    if mac is not None and (not isinstance(mac, str) or not re.fullmatch(r"[0-9a-f]{64}", mac)):
        raise Invalid("attachment signed_mac must be 64 lowercase hex characters")
    names = value.get("signed_fields")
    if names is not None and (not isinstance(names, list) or len(names) > 50 or
                              any(not isinstance(n, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", n) for n in names)):
        raise Invalid("attachment signed_fields must be a list of at most 50 field names")
    at = value.get("signed_at")
    if at is not None and (not isinstance(at, str) or not DATETIME_RE.fullmatch(at)):
        raise Invalid("attachment signed_at must be an RFC 3339 date-time")
    by = value.get("signed_by")
    if by is not None and (not isinstance(by, str) or not USER_ID_RE.fullmatch(by)):
        raise Invalid("attachment signed_by must be a user id")


def check_value(field, value: Any) -> Any:
    """Validate a non-null value of a non-subtable field; return its normalised form or raise Invalid."""
    t = field.type
    if t in ("text", "textarea"):
        if not isinstance(value, str):
            raise Invalid("must be text")
        if len(value) > field.max_length:
            raise Invalid(f"must be at most {field.max_length} characters")
        if t == "text":
            if len(value) < field.min_length:
                raise Invalid(f"must be at least {field.min_length} characters")
            if field.pattern and not ecma_regex(field.pattern).search(value):  # JSON Schema semantics
                raise Invalid(f"must match the pattern {field.pattern}")
        return value
    if t in ("number", "money", "percent"):
        return check_number(value, field.scale, field.minimum, field.maximum)
    if t == "date":
        parsed = parse_date(value)
        if field.minimum and parsed < date.fromisoformat(field.minimum):
            raise Invalid(f"must be on or after {field.minimum}")
        if field.maximum and parsed > date.fromisoformat(field.maximum):
            raise Invalid(f"must be on or before {field.maximum}")
        return value
    if t == "datetime":
        return normalize_datetime(value)
    if t == "time":
        return check_string(value, TIME_RE, "must be a time HH:MM or HH:MM:SS", 8)
    if t == "duration":
        return check_duration(value, field.minimum, field.maximum)
    if t == "select":
        if not isinstance(value, str) or value not in {o.value for o in field.options}:
            raise Invalid("must be one of: " + ", ".join(o.value for o in field.options))
        return value
    if t == "multiselect":
        if not isinstance(value, list):
            raise Invalid("must be a list of options")
        allowed = {o.value for o in field.options}
        if any(not isinstance(v, str) or v not in allowed for v in value):
            raise Invalid("every item must be one of: " + ", ".join(o.value for o in field.options))
        if len(set(value)) != len(value):
            raise Invalid("items must not repeat")
        if len(value) < field.min_items or (field.max_items is not None and len(value) > field.max_items):
            raise Invalid(f"must have between {field.min_items} and {field.max_items or len(allowed)} items")
        return value
    if t == "checkbox":
        if not isinstance(value, bool):
            raise Invalid("must be true or false")
        return value
    if t == "rating":
        number = check_number(value, 0, Decimal(1), Decimal(field.max))
        return number
    if t == "phone":
        return check_string(value, PHONE_RE, "must be a phone number (digits, spaces, dashes, optional +)", 20)
    if t == "email":
        return check_string(value, EMAIL_RE, "must be an e-mail address", 254)
    if t == "url":
        return check_string(value, URL_RE, "must be an http(s) URL", 2048)
    if t == "geolocation":
        if not isinstance(value, dict) or set(value) - {"lat", "lng", "accuracy"} or not {"lat", "lng"} <= set(value):
            raise Invalid("must be an object {lat, lng[, accuracy]}")
        out = {"lat": check_number(value["lat"], 8, Decimal(-90), Decimal(90)),
               "lng": check_number(value["lng"], 8, Decimal(-180), Decimal(180))}
        if "accuracy" in value:
            out["accuracy"] = check_number(value["accuracy"], 2, Decimal(0), None)
        return out
    if t in ("image", "file"):
        max_bytes = field.max_size_mb * 1024 * 1024
        if field.multiple:
            if not isinstance(value, list) or len(value) > field.max_files:
                raise Invalid(f"must be a list of at most {field.max_files} attachments")
            return [check_attachment(v, field.accept, max_bytes) for v in value]
        return check_attachment(value, field.accept, max_bytes)
    if t == "signature":
        return check_attachment(value, field.accept, 5 * 1024 * 1024, signature=True)
    if t == "user":
        return check_string(value, USER_ID_RE, "must be a user id", 128)
    if t == "lookup":
        return check_string(value, RECORD_ID_RE, f"must be the id of a {field.form} record", 26)
    raise Invalid(f"{t} fields are set by the server")


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
