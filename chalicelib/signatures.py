"""What a signature signs: the SHA-256 of the canonical JSON of the signed field values, bound to the
signature's own upload key (which names tenant, form, record, field and upload). Pure; shared by the
upload service (which stores the hash when a signature upload is confirmed) and the expression
function signature_valid() (which recomputes it on the record's current data)."""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any, Iterable, Mapping


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 text as is, numbers as exact normalised decimals (5, 5.0
    and Decimal("5.00") are one value), so the same data always gives the same bytes."""
    if value is None or isinstance(value, (bool, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            raise ValueError("canonical JSON has no NaN or infinity")
        return format(number.normalize(), "f") if number else "0"
    if isinstance(value, Mapping):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{canonical_json(v)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical_json(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def signed_digest(key: str, fields: Iterable[str], data: Mapping[str, Any]) -> str:
    """Hex SHA-256 over {"key": <signature upload key>, "fields": {name: value or null}}."""
    payload = {"key": key, "fields": {name: data.get(name) for name in fields}}
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def is_valid(signature: Any, data: Mapping[str, Any]) -> bool:
    """True when `signature` is a confirmed signature attachment whose hash matches `data` now."""
    if not isinstance(signature, Mapping):
        return False
    key, digest, fields = signature.get("key"), signature.get("signed_sha256"), signature.get("signed_fields")
    if not isinstance(key, str) or not isinstance(digest, str) or not isinstance(fields, (list, tuple)):
        return False
    return signed_digest(key, [str(f) for f in fields], data) == digest


__all__ = ["canonical_json", "signed_digest", "is_valid"]
