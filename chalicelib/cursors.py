"""Opaque, signed page cursors shared by every paged route (record lists, the inbox, sync pull).

A cursor is base64url(JSON) + "." + HMAC-SHA256 (first 18 bytes) under the stage's cursor secret,
with a label per kind so one kind's cursor never opens another's. Opening checks, in this order,
before any query runs: a length cap, the signature (constant-time), then the shape — so a forged,
truncated or malformed cursor is a 400 `invalid_cursor`, never a 500 and never a query into
positions the API did not hand out. The secret is never a built-in default (config.server_secret)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from .errors import BadRequest

MAX_CURSOR_CHARS = 4096
MAX_POSITION_CHARS = 512


def _mac(label: str, payload: bytes) -> str:
    from .config import server_secret
    key = server_secret("cursor").encode()
    return base64.urlsafe_b64encode(hmac.new(key, label.encode() + b"\x00" + payload, hashlib.sha256).digest()[:18]).decode()


def seal(label: str, body: dict) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode())
    return f"{payload.decode()}.{_mac(label, payload)}"


def invalid(path: str, message: str = "not a cursor issued by this API") -> BadRequest:
    return BadRequest("cursor is invalid", code="invalid_cursor", details=[{"path": path, "message": message}])


def open_(label: str, cursor: Any, path: str) -> dict:
    """The body of a cursor this API sealed with `label`; 400 invalid_cursor for anything else."""
    if not isinstance(cursor, str) or not 0 < len(cursor) <= MAX_CURSOR_CHARS or not cursor.isascii():
        raise invalid(path)
    payload, dot, signature = cursor.partition(".")
    if not dot or not hmac.compare_digest(signature.encode(), _mac(label, payload.encode()).encode()):
        raise invalid(path)
    try:
        body = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid(path) from None
    if not isinstance(body, dict):
        raise invalid(path)
    return body


def positions(body: dict, allowed: set[str] | None, path: str) -> dict[str, str | None]:
    """A cursor's {partition: last key or None} map: every name allowed, every value a short string or None."""
    value = body.get("p")
    if not isinstance(value, dict) or not value or (allowed is not None and not set(value) <= allowed):
        raise invalid(path)
    for key, position in value.items():
        if position is not None and (not isinstance(position, str) or len(position) > MAX_POSITION_CHARS):
            raise invalid(path)
    return value


__all__ = ["seal", "open_", "positions", "invalid", "MAX_CURSOR_CHARS"]
