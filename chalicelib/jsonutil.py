"""JSON with exact decimals: numbers parse to Decimal so money and precision checks are exact."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from .errors import BadRequest

MAX_DEPTH = 32


def loads(text: str | bytes) -> Any:
    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}", code="invalid_json") from exc
    _check_depth(value)
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _check_depth(value: Any) -> None:
    # Iterative, so hostile nesting cannot blow the interpreter stack. Also refuses lone UTF-16
    # surrogates ("\ud800"): valid JSON escapes, but not text, and not storable.
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest(f"JSON nested deeper than {MAX_DEPTH} levels", code="too_deep")
        if isinstance(node, dict):
            for key in node:
                _check_text(key)
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
        elif isinstance(node, str):
            _check_text(node)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRequest("JSON contains an unpaired UTF-16 surrogate", code="invalid_json",
                         details=[{"path": "", "message": "strings must be valid Unicode"}]) from exc


def to_plain(value: Any) -> Any:
    """Decimals → int or float for output (values are limited to 15 significant digits, so exact)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 10**15 else float(value)
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


def dumps(value: Any, *, canonical: bool = False) -> str:
    """canonical=True sorts keys (for hashes); otherwise key order is kept (definitions: button order)."""
    return json.dumps(to_plain(value), separators=(",", ":"), ensure_ascii=False, sort_keys=canonical)
