"""Fields that follow a lookup (`fetch_from: "<lookup>.<field>"`, as Frappe's fetch_from): when a
write sets or changes the lookup, the platform copies the looked-up record's field in — unless the
same write sets the field itself. One read per changed lookup (several fields from one lookup share
it); a target that is missing or of another form copies nothing (the write's reference check then
refuses it with the lookup's path)."""
from __future__ import annotations

from typing import Any

from ..forms.definition import FormDefinition
from ..storage import records as record_store

# what a field of the looked-up form may be copied into: the same type, or text for any scalar
_SCALARS = {"text", "textarea", "number", "money", "percent", "date", "datetime", "time", "duration", "select",
            "checkbox", "rating", "phone", "email", "url", "lookup", "user", "auto_number"}


def fetched(tenant: str, form: FormDefinition, written: dict, data: dict, previous: dict | None) -> dict[str, Any]:
    """{field: value} to copy in after a write: `written` = what the caller sent, `data` = the record's
    data after it, `previous` = before it (None: a create)."""
    out: dict[str, Any] = {}
    loaded: dict[str, Any] = {}
    by_name = {f.name: f for f in form.fields}
    for f in form.fields:
        if not f.fetch_from or f.name in written:
            continue
        lookup, source = f.fetch_from.split(".", 1)
        if lookup not in written:
            continue
        target = data.get(lookup)
        if previous is not None and previous.get(lookup) == target:
            continue
        if not target:
            out[f.name] = None  # the lookup was cleared: so is what it brought
            continue
        if target not in loaded:
            rec = record_store.get_record(tenant, target)
            loaded[target] = rec if rec is not None and not rec.deleted and rec.form == by_name[lookup].form else None
        rec = loaded[target]
        if rec is not None:
            value = rec.data.get(source)
            if f.type in ("text", "textarea") and value is not None and not isinstance(value, str):
                value = ("true" if value else "false") if isinstance(value, bool) else str(value)
            out[f.name] = value
    return out


def fetch_problems(form: FormDefinition, published_form) -> list[dict]:
    """Upload check of a form's fetch_from fields against the looked-up forms (published_form(name) →
    FormDefinition or None): the field must exist there and fit this one."""
    problems = []
    by_name = {f.name: f for f in form.fields}
    for i, f in enumerate(form.fields):
        if not f.fetch_from:
            continue
        lookup, source = f.fetch_from.split(".", 1)
        lookup_field = by_name.get(lookup)
        if lookup_field is None or lookup_field.type != "lookup":
            continue  # refused by the form's own checks
        other = published_form(lookup_field.form)
        path = f"fields[{i}].fetch_from"
        if other is None:
            problems.append({"path": path, "message": f"form '{lookup_field.form}' is not published: nothing to fetch from"})
            continue
        theirs = next((g for g in other.fields if g.name == source), None)
        if theirs is None:
            problems.append({"path": path, "message": f"form '{lookup_field.form}' has no field '{source}'"})
            continue
        their_type = {"boolean": "checkbox"}.get(theirs.result, theirs.result) if theirs.type == "computed" else theirs.type
        fits = their_type == f.type or f.type in ("text", "textarea") and their_type in _SCALARS or \
            their_type == "auto_number" and f.type == "text"
        if not fits:
            problems.append({"path": path, "message": f"{lookup_field.form}.{source} is a {their_type} field; it cannot "
                             f"be copied into this {f.type} field"})
        elif f.type in ("select", "multiselect") and their_type == f.type:
            missing = sorted({o.value for o in theirs.options} - {o.value for o in f.options})
            if missing:
                problems.append({"path": path, "message": f"{lookup_field.form}.{source} has options this field lacks: "
                                 f"{', '.join(missing)}"})
        elif f.type == "lookup" and getattr(theirs, "form", None) != f.form:
            problems.append({"path": path, "message": f"{lookup_field.form}.{source} looks up {theirs.form}, this field {f.form}"})
    return problems
