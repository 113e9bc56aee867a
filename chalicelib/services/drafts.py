"""What a designer needs besides storing versions (a draft's check is `definitions.check_draft`): one
expression checked against a form (and evaluated on sample values), and the changes between two
stored versions. Nothing here writes."""
from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict

from ..errors import AppError, BadRequest, NotFound, ValidationFailed
from .caller import Caller


class ExpressionChecked(TypedDict):
    valid: bool
    error: dict | None  # {message, position}
    fields: list[str]  # the form fields it reads
    variables: list[str]
    value: Any  # its value on `data`, when sample data was sent


VARIABLES = ("$user", "$now", "$today", "$state", "$id", "$number")


def check_expression(caller: Caller, form_name: str, body: Any) -> ExpressionChecked:
    """{"expression", "rows"?: a sub-table (the expression is one of its columns'), "data"?: sample values,
    "definition"?: a draft form definition} → whether it parses and names only known fields and variables
    (the first problem with its position), what it reads, and its value on the sample (within the
    platform's expression budget). The fields are the published form's, or the draft's when one is sent
    (a form never published is checked as it is drawn; the draft's own problems are its check's business:
    fields without a text name are simply not known here)."""
    from ..expressions import check_expression as check
    from ..expressions import compile_expression
    from ..expressions.budget import expression_budget
    from ..jsonutil import to_plain
    caller.require_admin("checking expressions")
    if not isinstance(body, dict) or not isinstance(body.get("expression"), str):
        raise BadRequest("send {\"expression\": \"...\"}", details=[{"path": "expression", "message": "required text"}])
    unknown = set(body) - {"expression", "rows", "data", "definition"}
    if unknown:
        raise ValidationFailed("unknown keys in body", details=[{"path": k, "message": "unknown key"} for k in sorted(unknown)])
    if body.get("definition") is not None:
        top, tables = _draft_fields(body["definition"])
    else:
        top, tables = _published_fields(caller, form_name)
    fields = top
    rows = body.get("rows")
    if rows is not None:
        columns = tables.get(rows) if isinstance(rows, str) else None
        if columns is None:
            raise ValidationFailed(f"'{rows}' is not a sub-table of {form_name}", details=[{"path": "rows", "message": "not a sub-table"}])
        fields = columns + fields  # a column's expression reads its row, then the record
    source = body["expression"]
    out: ExpressionChecked = {"valid": True, "error": None, "fields": [], "variables": [], "value": None}
    try:
        expression = check(source, fields, VARIABLES)
    except AppError as exc:
        return {**out, "valid": False, "error": {"message": exc.message, "position": getattr(exc, "position", None)}}
    out["fields"], out["variables"] = sorted(expression.field_roots), sorted(expression.variables)
    data = body.get("data")
    if isinstance(data, dict):
        context = {**data, **caller.variables(_now()), "$state": None, "$id": None, "$number": None}
        try:
            with expression_budget(fresh=True):
                out["value"] = to_plain(compile_expression(source).evaluate(context))
        except AppError as exc:
            return {**out, "valid": False, "error": {"message": exc.message, "position": getattr(exc, "position", None)}}
    return out


def _published_fields(caller: Caller, form_name: str) -> tuple[list[str], dict[str, list[str]]]:
    """The published form's field names, and each sub-table's column names."""
    from . import definitions
    try:
        _version, form = definitions.published(caller.tenant, "form", form_name)
    except NotFound as exc:
        raise NotFound(f"no form '{form_name}'", details=[{"path": "form", "message": "unknown form"}]) from exc
    tables = {f.name: [c.name for c in f.fields] for f in form.fields if f.type == "subtable"}
    return [f.name for f in form.fields], tables


def _draft_fields(raw: Any) -> tuple[list[str], dict[str, list[str]]]:
    """A draft form definition's field names and sub-table columns, read as far as the draft goes: an
    entry that is not an object with a text `name` is left out (the draft's check names it)."""
    if not isinstance(raw, dict):
        raise ValidationFailed("definition must be a form definition (a JSON object)",
                               details=[{"path": "definition", "message": "expected object"}])
    listed = raw.get("fields", [])
    if not isinstance(listed, list):
        raise ValidationFailed("definition.fields must be a list of fields",
                               details=[{"path": "definition.fields", "message": "expected list"}])

    def named(items: Any) -> list[dict]:
        return [f for f in items if isinstance(f, dict) and isinstance(f.get("name"), str)] if isinstance(items, list) else []

    top = named(listed)
    tables = {f["name"]: [c["name"] for c in named(f.get("fields"))] for f in top if f.get("type") == "subtable"}
    return [f["name"] for f in top], tables


def _now() -> str:
    from .clock import utc_now
    return utc_now()


def diff_versions(caller: Caller, kind: str, name: str, old: int, new: int) -> dict:
    """The changes from version `old` to `new`: [{op: add|remove|replace, path (JSON Pointer; list
    items with a `name` are matched by it, so a moved field is not a change of every later one), value?,
    old_value?}]."""
    from . import definitions
    before = definitions.get_version_body(caller, kind, name, old)
    after = definitions.get_version_body(caller, kind, name, new)
    return {"kind": kind, "name": name, "from": old, "to": new, "changes": _diff(_body(before), _body(after), "")}


def _body(answer: dict) -> Any:
    return answer["definition"]


def _pointer(part: Any) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def _diff(a: Any, b: Any, path: str) -> list[dict]:
    if a == b:
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[dict] = []
        for key in a:
            if key not in b:
                out.append({"op": "remove", "path": f"{path}/{_pointer(key)}", "old_value": a[key]})
        for key in b:
            if key not in a:
                out.append({"op": "add", "path": f"{path}/{_pointer(key)}", "value": b[key]})
            else:
                out += _diff(a[key], b[key], f"{path}/{_pointer(key)}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        named = all(isinstance(x, dict) and isinstance(x.get("name"), str) for x in a + b)
        if named and len({x["name"] for x in a}) == len(a) and len({x["name"] for x in b}) == len(b):
            old_at = {x["name"]: i for i, x in enumerate(a)}
            new_at = {x["name"]: i for i, x in enumerate(b)}
            out = [{"op": "remove", "path": f"{path}/{i}", "old_value": a[i]} for n, i in old_at.items() if n not in new_at]
            for n, j in new_at.items():
                if n not in old_at:
                    out.append({"op": "add", "path": f"{path}/{j}", "value": b[j]})
                else:
                    out += _diff(a[old_at[n]], b[j], f"{path}/{j}")
            return out
        if len(a) == len(b):
            return [change for i, (x, y) in enumerate(zip(a, b)) for change in _diff(x, y, f"{path}/{i}")]
    return [{"op": "replace", "path": path or "", "old_value": a, "value": b}]
