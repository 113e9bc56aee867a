"""pydantic validation errors in plain words, for the people who write definitions: "is required",
"unknown key (allowed: a, b)", "must be a number" instead of pydantic's "Field required", "Extra inputs
are not permitted", "Input should be a valid number". Pure; the paths stay the callers' own."""
from __future__ import annotations

import functools
from typing import Any

_TYPES = {
    "missing": "is required",
    "string_type": "must be text", "string_unicode": "must be text",
    "int_type": "must be a whole number", "int_parsing": "must be a whole number", "int_from_float": "must be a whole number",
    "float_type": "must be a number", "float_parsing": "must be a number", "decimal_type": "must be a number",
    "decimal_parsing": "must be a number", "finite_number": "must be a finite number",
    "bool_type": "must be true or false", "bool_parsing": "must be true or false",
    "list_type": "must be a list", "tuple_type": "must be a list", "set_type": "must be a list",
    "frozen_set_type": "must be a list", "iterable_type": "must be a list",
    "dict_type": "must be an object", "model_type": "must be an object", "model_attributes_type": "must be an object",
    "dataclass_type": "must be an object", "mapping_type": "must be an object",
    "none_required": "must be null", "date_type": "must be a date (YYYY-MM-DD)", "date_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)", "datetime_type": "must be a date and time (RFC 3339)",
    "datetime_parsing": "must be a date and time (RFC 3339)", "datetime_from_date_parsing": "must be a date and time (RFC 3339)",
    "time_type": "must be a time (HH:MM)", "time_parsing": "must be a time (HH:MM)",
    "url_type": "must be a URL", "url_parsing": "must be a URL", "url_scheme": "must be a URL",
    "uuid_type": "must be a UUID", "uuid_parsing": "must be a UUID",
}


def _words(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def message(err: dict, model: Any = None) -> str:
    """One error of `ValidationError.errors()` in plain words. `model` (the validated pydantic model)
    lets an unknown key's message list the keys allowed there."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind in _TYPES:
        return _TYPES[kind]
    if kind == "extra_forbidden":
        allowed = allowed_keys(model, tuple(err.get("loc", ())[:-1])) if model is not None else None
        return f"unknown key (allowed: {', '.join(allowed)})" if allowed else "unknown key"
    if kind in ("literal_error", "enum"):
        return f"must be one of {ctx.get('expected')}"
    if kind == "union_tag_invalid":
        return f"unknown {ctx.get('discriminator')}: '{ctx.get('tag')}' (one of {ctx.get('expected_tags')})"
    if kind == "union_tag_not_found":
        return f"needs {ctx.get('discriminator')}"
    if kind in ("string_too_short", "string_too_long"):
        n = ctx.get("min_length", ctx.get("max_length"))
        if kind == "string_too_short":
            return "must not be empty" if n == 1 else f"must have at least {n} characters"
        return f"must have at most {n} characters"
    if kind in ("too_short", "too_long"):
        n = ctx.get("min_length", ctx.get("max_length"))
        what = "item" if n == 1 else "items"
        if kind == "too_short":
            return "must not be empty" if n == 1 else f"must have at least {n} {what}"
        return f"must have at most {n} {what}"
    if kind == "string_pattern_mismatch":
        return f"must match the pattern {ctx.get('pattern')}"
    bounds = {"greater_than": "must be greater than {gt}", "greater_than_equal": "must be at least {ge}",
              "less_than": "must be less than {lt}", "less_than_equal": "must be at most {le}",
              "multiple_of": "must be a multiple of {multiple_of}"}
    if kind in bounds:
        return bounds[kind].format(**{k: _words(v) for k, v in ctx.items()})
    text = str(err.get("msg", ""))
    for prefix in ("Value error, ", "Assertion failed, "):  # a validator's own words
        text = text.removeprefix(prefix)
    return text.replace("Input should be", "must be").replace("input should be", "must be")


def allowed_keys(model: Any, loc: tuple) -> list[str] | None:
    """The keys the object at `loc` (a pydantic loc, with union tags) may have, from the model's JSON
    Schema; None where the walk is unsure."""
    try:
        root = _schema(model)
    except Exception:  # noqa: BLE001 - a model without a JSON Schema only loses the hint
        return None
    found = {tuple(sorted(node["properties"])) for node in _walk(root, root, list(loc)) if "properties" in node}
    return list(found.pop()) if len(found) == 1 else None


@functools.lru_cache(maxsize=64)
def _schema(model: Any) -> dict:
    return model.model_json_schema()


def _resolve(root: dict, node: dict) -> dict:
    for _ in range(32):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not ref or not ref.startswith("#/$defs/"):
            return node
        node = root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
    return node


def _tag_matches(root: dict, node: dict, tag: Any) -> bool:
    node = _resolve(root, node)
    if node.get("title") == tag:
        return True
    return any(isinstance(p, dict) and (p.get("const") == tag or p.get("enum") == [tag])
               for p in (node.get("properties") or {}).values())


def _walk(root: dict, node: dict, loc: list):
    node = _resolve(root, node)
    alternatives = node.get("anyOf") or node.get("oneOf")
    if alternatives:
        alternatives = [a for a in alternatives if _resolve(root, a).get("type") != "null"]
        if loc and isinstance(loc[0], str) and len(alternatives) > 1:
            mapping = (node.get("discriminator") or {}).get("mapping") or {}
            if loc[0] in mapping:
                yield from _walk(root, {"$ref": mapping[loc[0]]}, loc[1:])
                return
            tagged = [a for a in alternatives if _tag_matches(root, a, loc[0])]
            if not tagged:  # a step kind keyed by its own name: {"SetFields": {...}}
                tagged = [a for a in alternatives if loc[0] in (_resolve(root, a).get("properties") or {})]
                tagged = tagged if len(tagged) < len(alternatives) else []
            if tagged:
                for a in tagged:
                    yield from _walk(root, a, loc[1:])
                return
        for a in alternatives:
            yield from _walk(root, a, loc)
        return
    if "allOf" in node and len(node["allOf"]) == 1:
        yield from _walk(root, node["allOf"][0], loc)
        return
    if not loc:
        yield node
        return
    part, rest = loc[0], loc[1:]
    if isinstance(part, int):
        if isinstance(node.get("items"), dict):
            yield from _walk(root, node["items"], rest)
        return
    properties = node.get("properties") or {}
    if part in properties:
        yield from _walk(root, properties[part], rest)
    elif isinstance(node.get("additionalProperties"), dict):
        yield from _walk(root, node["additionalProperties"], rest)


def problems(exc: Any, path_of, model: Any = None) -> list[dict]:
    """[{"path": path_of(loc), "message": plain words}] of a pydantic ValidationError."""
    return [{"path": path_of(tuple(err["loc"])), "message": message(err, model)} for err in exc.errors(include_url=False)]


__all__ = ["message", "allowed_keys", "problems"]
