"""The form engine as it was before validate_record ran a compiled plan (chalicelib/forms/engine.py):
validate_record walking the field models on every call and check_value dispatching on the field type
per value. Kept as the reference its differential test (test_form_engine_compiled.py) compares with.
Not used by the app."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import partial
from typing import Any

from chalicelib.errors import AppError, ValidationFailed
from chalicelib.expressions import compile_expression
from chalicelib.forms.definition import FormDefinition, computed_order
from chalicelib.forms.engine import Reference, ValidatedRecord
from chalicelib.forms.values import (CONTENT_TYPE_RE, DATETIME_RE, EMAIL_RE, MAX_COMPUTED_TEXT, MAX_UPLOAD_NAME, PHONE_RE,
                                     RECORD_ID_RE, TIME_RE, UPLOAD_KEY_RE, URL_RE, USER_ID_RE, Invalid, check_duration,
                                     ecma_regex, is_number, number_bound, parse_date)


def _truthy(value: Any) -> bool:
    return value not in (None, False, "", [], {}) and value != 0


def _missing(value: Any) -> bool:
    # `required` means "has a value": an empty text or list satisfies it no more than null does.
    return value is None or value == "" or value == []


def _condition(source: str | None, context: dict, default: bool) -> bool:
    if not source:
        return default
    try:
        return _truthy(compile_expression(source).evaluate(context))
    except AppError:
        # A condition that cannot be evaluated on this data (e.g. type mismatch) counts as not met.
        return False


def validate_record(form: FormDefinition, patch: Any, *, previous: dict | None = None,
                    variables: dict | None = None, system: bool = False,
                    server_written: frozenset[str] | tuple[str, ...] = ()) -> ValidatedRecord:
    """Create when previous is None, else a partial update: keys in patch replace, null clears.
    system=True is the workflow writing (SetFields): read-only rules, which guard users, do not apply.
    Server-owned fields (and signatures) are refused from anyone else, except those named in
    `server_written` (the platform's own write in a user's request, e.g. a confirmed signature upload);
    an update echoing a server-owned value unchanged is harmless and ignored."""
    if not isinstance(patch, dict):
        raise ValidationFailed("record data must be an object", details=[{"path": "data", "message": "expected object"}])
    variables = variables or {}
    problems: list[dict] = []
    by_name = form.fields_by_name
    merged: dict[str, Any] = dict(previous or {})
    for key, value in patch.items():
        f = by_name.get(key)
        if f is None:
            problems.append({"path": f"data.{key}", "message": "unknown field"})
        elif f.computed_by_server:
            continue  # set by the server; a client echoing it back is harmless
        elif not system and f.platform_written and key not in server_written:
            if value is None and (previous or {}).get(key) is None or previous is not None and value == previous.get(key):
                continue  # nothing supplied: an echo of the stored value (or of nothing)
            problems.append({"path": f"data.{key}", "message": "is set by the platform and cannot be written"})
        elif value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if previous is None:
        for f in form.fields:
            if f.name not in merged and f.default is not None and f.name not in patch:
                merged[f.name] = f.default

    out: dict[str, Any] = {k: v for k, v in merged.items() if k in by_name and by_name[k].computed_by_server}
    references: list[Reference] = []
    # Conditions see computed values as of this input (not absent on create nor stale on update);
    # the stored ones are computed again below from the checked values.
    preview = dict(merged)
    _apply_computed(form, preview, variables)
    context = {**preview, **variables}
    before = {**(previous or {}), **variables}
    for f in form.fields:
        if f.computed_by_server or not _condition(f.visible_if, context, True):
            continue  # hidden fields keep no value and are never required
        path, value = f"data.{f.name}", merged.get(f.name)
        guarded = previous is not None and not system and f.name in patch  # read-only rules apply
        locked = guarded and (f.read_only or _condition(f.readonly_if, before, False))
        if f.type == "subtable":
            normalize = partial(_check_rows, f, path=path, parent=context, before=before, problems=problems,
                                references=references, old_rows=previous.get(f.name) if guarded else None)
        else:
            normalize = partial(check_value, f)
        required = _missing(value) and (f.required or _condition(f.required_if, context, False))
        checked = _checked(value, normalize, path, problems, locked=locked, old=(previous or {}).get(f.name), required=required)
        if checked is not _NOTHING:
            out[f.name] = checked
            _collect_reference(f, checked, references, path)

    if problems:
        raise ValidationFailed("record is invalid", details=problems)
    _apply_computed(form, out, variables)
    unique = {f.name: f.unique_key(out[f.name]) for f in form.fields if f.unique and out.get(f.name) is not None}
    changed = sorted(k for k in set(out) | set(previous or {}) if not _equal((previous or {}).get(k), out.get(k)))
    return ValidatedRecord(data=out, references=_dedupe(references), unique_values=unique, changed_fields=changed)


_NOTHING = object()


def _checked(value: Any, normalize, path: str, problems: list, *, locked: bool, old: Any, required: bool) -> Any:
    """One visible field's normalised value, or _NOTHING when it stores none (or broke a rule)."""
    normalized, message = None, None
    if value is not None:
        try:
            normalized = normalize(value)
        except Invalid as exc:
            message = str(exc)
    # Normalised values are compared: the same instant in another offset is not a change.
    if locked and (message or not _equal(old, normalized)):
        problems.append({"path": path, "message": "is read-only"})
    elif message:
        problems.append({"path": path, "message": message})
    elif required:
        problems.append({"path": path, "message": "is required"})
    elif value is not None:
        return normalized
    return _NOTHING


def _check_rows(f, rows: Any, *, path: str, parent: dict, before: dict, old_rows: Any, problems: list, references: list):
    """Rows have no ids: on an update row i is matched with previous row i, so a read-only row
    field may not change at an existing position; rows beyond the previous count are new."""
    if not isinstance(rows, list):
        raise Invalid("must be a list of rows")
    if not f.min_rows <= len(rows) <= f.max_rows:
        raise Invalid(f"must have between {f.min_rows} and {f.max_rows} rows")
    old_rows = old_rows if isinstance(old_rows, list) else []
    out_rows = []
    row_names = {rf.name for rf in f.fields}
    for i, row in enumerate(rows):
        row_path = f"{path}[{i}]"
        if not isinstance(row, dict):
            problems.append({"path": row_path, "message": "must be an object"})
            continue
        for key in set(row) - row_names:
            problems.append({"path": f"{row_path}.{key}", "message": "unknown field"})
        clean = {k: v for k, v in row.items() if k in row_names and v is not None}
        for rf in f.fields:
            if rf.name not in clean and rf.default is not None and not rf.computed_by_server:
                clean[rf.name] = rf.default
        context = {**parent, **clean}
        for rf in f.fields:  # row conditions see the row's computed values too
            if rf.type == "computed":
                context[rf.name] = _computed_value(rf, context)
        old = old_rows[i] if i < len(old_rows) and isinstance(old_rows[i], dict) else None
        out_row: dict[str, Any] = {}
        for rf in f.fields:
            if rf.computed_by_server or not _condition(rf.visible_if, context, True):
                continue
            value, field_path = clean.get(rf.name), f"{row_path}.{rf.name}"
            locked = old is not None and (rf.read_only or _condition(rf.readonly_if, {**before, **old}, False))
            required = _missing(value) and (rf.required or _condition(rf.required_if, context, False))
            checked = _checked(value, partial(check_value, rf), field_path, problems,
                               locked=locked, old=(old or {}).get(rf.name), required=required)
            if checked is not _NOTHING:
                out_row[rf.name] = checked
                _collect_reference(rf, checked, references, field_path)
        for rf in f.fields:
            if rf.type == "computed":
                out_row[rf.name] = _computed_value(rf, {**parent, **out_row})
        out_rows.append(out_row)
    return out_rows


def _collect_reference(f, value: Any, references: list, path: str) -> None:
    if f.type == "user":
        references.append(Reference("user", value, role=f.role, path=path))
    elif f.type == "lookup":
        references.append(Reference("record", value, form=f.form, path=path))


def _apply_computed(form: FormDefinition, data: dict, variables: dict) -> None:
    for f in computed_order(form):
        value = _computed_value(f, {**data, **variables})
        if value is None:
            data.pop(f.name, None)
        else:
            data[f.name] = value


def _computed_value(f, context: dict) -> Any:
    try:
        value = compile_expression(f.expression).evaluate(context)
    except AppError:
        return None  # e.g. a division by zero on this data: the value is simply unknown
    if value is None:
        return None
    if f.result == "boolean":
        return _truthy(value)
    return computed_result(f.result, f.scale, value)


def _equal(a: Any, b: Any) -> bool:
    return a == b and type(a) is type(b) or (isinstance(a, (int, Decimal)) and isinstance(b, (int, Decimal)) and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def _dedupe(references: list[Reference]) -> list[Reference]:
    seen, out = set(), []
    for ref in references:
        if ref not in seen:  # path does not take part in equality
            seen.add(ref)
            out.append(ref)
    return out


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


def check_string(value: Any, pattern: re.Pattern, message: str, max_length: int) -> str:
    if not isinstance(value, str) or len(value) > max_length or not pattern.fullmatch(value):
        raise Invalid(message)
    return value


def normalize_datetime(value: Any) -> str:
    if not isinstance(value, str) or not DATETIME_RE.fullmatch(value):
        raise Invalid("must be an RFC 3339 date-time with seconds and offset, e.g. 2026-11-25T09:30:00Z")
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError as exc:
        raise Invalid("must be a valid date-time") from exc
    # Stored in UTC so strings sort and compare as instants.
    try:
        utc = moment.astimezone(timezone.utc)
    except OverflowError as exc:  # fixed after the plan was written: a 422, not a 500
        raise Invalid("must be a date-time between years 0001 and 9999 in UTC") from exc
    return utc.replace(tzinfo=None, microsecond=0).isoformat() + (
        f".{moment.microsecond:06d}".rstrip("0") if moment.microsecond else "") + "Z"


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
