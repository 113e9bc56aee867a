"""JSON Schema (draft 2020-12) of a form version, for any front-end form renderer.

It states the same static rules as values.py / engine.py, so a record valid under one is valid
under the other. Rules that depend on other fields (visible_if, required_if, readonly_if) are
carried as x- annotations: the engine evaluates them, a renderer may too.
"""
from __future__ import annotations

from decimal import Decimal

from .definition import FormDefinition
from .fields import DATE_PATTERN, MAX_DURATION_SECONDS
from .values import (CONTENT_TYPE_PATTERN, DATETIME_PATTERN, EMAIL_PATTERN, MAX_UPLOAD_NAME, PHONE_PATTERN,
                     RECORD_ID_PATTERN, TIME_PATTERN, UPLOAD_KEY_PATTERN, URL_PATTERN, USER_ID_PATTERN, number_bound)

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _number(scale: int, minimum, maximum) -> dict:
    bound = number_bound(scale)
    schema: dict = {"type": "integer"} if scale == 0 else {"type": "number", "multipleOf": Decimal(1).scaleb(-scale)}
    schema["exclusiveMinimum"], schema["exclusiveMaximum"] = -bound, bound
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def _attachment(accept: list[str], max_bytes: int) -> dict:
    ctype: dict = {"type": "string", "pattern": CONTENT_TYPE_PATTERN}
    if accept:
        ctype = {"enum": list(accept)}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["key", "content_type", "size"],
        "properties": {
            "key": {"type": "string", "pattern": UPLOAD_KEY_PATTERN},
            "name": {"type": "string", "maxLength": MAX_UPLOAD_NAME},
            "content_type": ctype,
            "size": {"type": "integer", "minimum": 0, "maximum": max_bytes},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        },
    }


def field_schema(f) -> dict:
    t = f.type
    if t in ("text", "textarea"):
        s: dict = {"type": "string", "maxLength": f.max_length}
        min_length = max(getattr(f, "min_length", 0), _required_minimum(f))
        if min_length:
            s["minLength"] = min_length
        if t == "text":
            if f.pattern:
                s["pattern"] = f.pattern
        else:
            s["x-multiline"] = True
    elif t in ("number", "money", "percent"):
        s = _number(f.scale, f.minimum, f.maximum)
        if t == "money":
            s["x-currency"] = f.currency
    elif t == "date":
        s = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
        if f.minimum:
            s["x-minimum"] = f.minimum
        if f.maximum:
            s["x-maximum"] = f.maximum
    elif t == "datetime":
        s = {"type": "string", "format": "date-time", "pattern": DATETIME_PATTERN}
    elif t == "time":
        s = {"type": "string", "pattern": TIME_PATTERN}
    elif t == "duration":
        s = {"type": "integer", "x-unit": "seconds",
             "minimum": -MAX_DURATION_SECONDS if f.minimum is None else f.minimum,
             "maximum": MAX_DURATION_SECONDS if f.maximum is None else f.maximum}
    elif t == "select":
        s = {"enum": [o.value for o in f.options], "x-options": _options(f)}
    elif t == "multiselect":
        s = {"type": "array", "items": {"enum": [o.value for o in f.options]}, "uniqueItems": True,
             "minItems": max(f.min_items, _required_minimum(f)), "x-options": _options(f)}
        if f.max_items is not None:
            s["maxItems"] = f.max_items
    elif t == "checkbox":
        s = {"type": "boolean"}
    elif t == "rating":
        s = {"type": "integer", "minimum": 1, "maximum": f.max}
    elif t == "phone":
        s = {"type": "string", "maxLength": 20, "pattern": PHONE_PATTERN}
    elif t == "email":
        s = {"type": "string", "maxLength": 254, "pattern": EMAIL_PATTERN}
    elif t == "url":
        s = {"type": "string", "maxLength": 2048, "pattern": URL_PATTERN}
    elif t == "geolocation":
        s = {"type": "object", "additionalProperties": False, "required": ["lat", "lng"], "properties": {
            "lat": _number(8, Decimal(-90), Decimal(90)), "lng": _number(8, Decimal(-180), Decimal(180)),
            "accuracy": _number(2, Decimal(0), None)}}
    elif t in ("image", "file"):
        one = _attachment(f.accept, f.max_size_mb * 1024 * 1024)
        s = {"type": "array", "items": one, "minItems": _required_minimum(f), "maxItems": f.max_files} if f.multiple else one
        if t == "image" and f.max_edge_px:
            s["x-max-edge"] = f.max_edge_px
    elif t == "signature":
        s = _attachment(f.accept, 5 * 1024 * 1024)
        s["properties"].update({  # set by the server when the signature upload is confirmed
            "signed_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$", "readOnly": True},
            "signed_mac": {"type": "string", "pattern": "^[0-9a-f]{64}$", "readOnly": True},
            "signed_fields": {"type": "array", "maxItems": 50, "readOnly": True,
                              "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"}},
            "signed_at": {"type": "string", "format": "date-time", "pattern": DATETIME_PATTERN, "readOnly": True},
            "signed_by": {"type": "string", "maxLength": 128, "pattern": USER_ID_PATTERN, "readOnly": True}})
        if f.signs:
            s["x-signs"] = list(f.signs)
    elif t == "user":
        s = {"type": "string", "maxLength": 128, "pattern": USER_ID_PATTERN, "x-reference": "member"}
        if f.role:
            s["x-role"] = f.role
    elif t == "lookup":
        s = {"type": "string", "pattern": RECORD_ID_PATTERN, "x-reference": f"form:{f.form}"}
    elif t == "subtable":
        s = {"type": "array", "minItems": max(f.min_rows, _required_minimum(f)), "maxItems": f.max_rows,
             "items": _object_schema(f.fields)}
    else:  # computed, auto_number: set by the server, whatever a client sends is ignored
        s = {"readOnly": True}
        if t == "computed":
            s["x-expression"] = f.expression
            if f.result == "number":
                s["x-scale"] = f.scale  # digits a renderer shows (sums of `total` columns too)
        else:
            s["x-format"] = f.format
    s["x-type"] = t
    if f.label:
        s["title"] = f.label
    if f.description:
        s["description"] = f.description
    if f.default is not None:
        s["default"] = f.default
    for attr in ("visible_if", "required_if", "readonly_if"):
        if getattr(f, attr):
            s[f"x-{attr.replace('_', '-')}"] = getattr(f, attr)
    if getattr(f, "total", False):
        s["x-total"] = True  # a sub-table column summed at the foot of its table
    if f.read_only:
        s["x-read-only"] = True  # immutable after create; JSON Schema readOnly would mean "server-set"
    if getattr(f, "platform_written", False):
        s["readOnly"] = True  # server-set: a client's create or update must leave it out (422 otherwise)
    return s


def _options(f) -> list[dict]:
    return [{"value": o.value, "label": o.label} for o in f.options]  # translations: see locales.localize


def _nullable(f, schema: dict) -> dict:
    if f.computed_by_server or _statically_required(f):
        return schema
    return {"anyOf": [schema, {"type": "null"}], **{k: v for k, v in schema.items() if k.startswith("x-") or k in ("title", "description", "default", "readOnly")}}


def _required_minimum(f) -> int:
    """The engine counts "" and [] as missing, so a statically required value has length >= 1."""
    return 1 if _statically_required(f) else 0


def _statically_required(f) -> bool:
    """Required in every situation, hence in the schema's `required` list."""
    return f.required and not f.visible_if


def _object_schema(fields) -> dict:
    props = {f.name: _nullable(f, field_schema(f)) for f in fields}
    required = [f.name for f in fields if _statically_required(f) and f.default is None and not f.computed_by_server]
    schema = {"type": "object", "additionalProperties": False, "properties": props}
    if required:
        schema["required"] = required
    return schema


def form_json_schema(form: FormDefinition, version: int, tenant_base_url: str = "urn:aftersales",
                     hidden: frozenset[str] | set[str] = frozenset()) -> dict:
    """The form's JSON Schema; `hidden`: top-level fields the reader may never see — they are left out,
    and so is every annotation of another field that names one (its condition is still enforced by
    the server: `x-server-condition` says one was left out)."""
    fields = [f for f in form.fields if f.name not in hidden]
    schema = {
        "$schema": DIALECT,
        "$id": f"{tenant_base_url}:forms:{form.name}:v{version}",
        "title": form.title,
        **_object_schema(fields),
        "x-form": form.name,
        "x-version": version,
        "x-indexes": [i for i in form.indexes if i not in hidden],
    }
    if hidden:
        _drop_hidden_annotations(schema["properties"], set(hidden))
    if form.description:
        schema["description"] = form.description
    return schema


_ANNOTATIONS_WITH_EXPRESSIONS = ("x-expression", "x-visible-if", "x-required-if", "x-readonly-if")


def _drop_hidden_annotations(node, hidden: set[str]) -> None:
    """Remove, anywhere under `node`, expression annotations that name a hidden field."""
    from ..expressions import compile_expression
    if isinstance(node, list):
        for item in node:
            _drop_hidden_annotations(item, hidden)
        return
    if not isinstance(node, dict):
        return
    for key in _ANNOTATIONS_WITH_EXPRESSIONS:
        source = node.get(key)
        if isinstance(source, str) and compile_expression(source).field_roots & hidden:
            del node[key]
            node["x-server-condition"] = True
    for value in node.values():
        if isinstance(value, (dict, list)):
            _drop_hidden_annotations(value, hidden)
