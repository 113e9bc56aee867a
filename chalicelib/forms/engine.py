"""Validate a record against a form version: defaults, visibility, required/read-only rules,
value checks, computed fields. Pure: returns what storage must check (references, unique values)."""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from functools import partial
from decimal import Decimal
from typing import Any

from ..errors import AppError, ValidationFailed
from ..expressions import compile_expression
from .definition import FormDefinition, computed_order
from .values import Invalid, check_value, computed_result


@dataclass(frozen=True)
class Reference:
    """A value that must exist when the record is written: a tenant member or a record of a form."""

    kind: str  # "user" | "record"
    target: str  # user id or record id
    form: str | None = None
    role: str | None = None
    path: str = dc_field(default="", compare=False)  # where it was found, for error messages


@dataclass
class ValidatedRecord:
    data: dict
    references: list[Reference] = dc_field(default_factory=list)
    unique_values: dict[str, Any] = dc_field(default_factory=dict)
    changed_fields: list[str] = dc_field(default_factory=list)


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
