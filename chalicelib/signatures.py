"""What a signature signs: the SHA-256 of the canonical JSON of the signed field values, bound to the
signature's own upload key (which names tenant, form, record, field and upload). Shared by the
upload service (which stores the hash when a signature upload is confirmed) and the expression
function signature_valid() (which recomputes it on the record's current data).

The hash alone proves integrity, not origin (anyone can compute it), so a confirmed signature also
carries `signed_mac`: an HMAC-SHA256, with a server-side key, over the key, the hash, who confirmed
it and when. Only the upload-confirm path, after it verified the object in S3, can make one; a value
written any other way (or copied, or altered) fails `is_valid`. The key is derived from the stage's
generated survey secret (`SURVEY_SECRET`, a Secrets Manager secret on deployed stages) with a label of
its own, so no new secret has to be deployed; rotating that secret invalidates stored signatures."""
from __future__ import annotations

import hashlib
import hmac
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


_BINDING_LABEL = b"aftersales/signature-binding/v1"


def _binding_key() -> bytes:
    from .config import server_secret  # the stage's secret, never a default; read lazily (pure callers never reach here without one)
    return hmac.new(server_secret("survey").encode("utf-8"), _BINDING_LABEL, hashlib.sha256).digest()


def signature_mac(key: str, digest: str, signed_fields: Iterable[str], signed_at: str, signed_by: str) -> str:
    """The server's seal on a confirmed signature: HMAC-SHA256 over what it binds."""
    payload = canonical_json({"key": key, "digest": digest, "fields": list(signed_fields), "at": signed_at, "by": signed_by})
    return hmac.new(_binding_key(), payload.encode("utf-8"), hashlib.sha256).hexdigest()


def is_valid(signature: Any, data: Mapping[str, Any]) -> bool:
    """True when `signature` is a signature attachment the server confirmed (its seal checks) and
    whose hash matches `data` now."""
    if not isinstance(signature, Mapping):
        return False
    key, digest, fields = signature.get("key"), signature.get("signed_sha256"), signature.get("signed_fields")
    mac, at, by = signature.get("signed_mac"), signature.get("signed_at"), signature.get("signed_by")
    if not all(isinstance(v, str) for v in (key, digest, mac, at, by)) or not isinstance(fields, (list, tuple)):
        return False
    names = [str(f) for f in fields]
    if not hmac.compare_digest(signature_mac(key, digest, names, at, by), mac):
        return False
    return hmac.compare_digest(signed_digest(key, names, data), digest)


__all__ = ["canonical_json", "signed_digest", "signature_mac", "is_valid"]
