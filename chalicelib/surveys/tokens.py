"""Survey link tokens: `<payload>.<mac>`, both base64url. The payload is compact JSON (tenant, form,
record, survey id, purpose, expiry); the MAC is HMAC-SHA256 over the payload text with the stage's
secret. A forged, altered or expired token is rejected here, before any database read; single use
is enforced by the service with a conditional write."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

MAX_TOKEN_CHARS = 1024
PURPOSES = ("survey",)


class TokenError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), b"survey-token:v1:" + payload.encode(), hashlib.sha256).digest())


def sign_token(secret: str, *, tenant: str, form: str, record_id: str, survey_id: str, expires_at: int,
               purpose: str = "survey") -> str:
    payload = _b64(json.dumps({"p": purpose, "t": tenant, "f": form, "r": record_id, "s": survey_id, "e": int(expires_at)},
                              separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_mac(secret, payload)}"


def verify_token(secret: str, token: str, now: int, purpose: str = "survey") -> dict:
    """The token's claims {tenant, form, record_id, survey_id, expires_at}, or TokenError."""
    if not isinstance(token, str) or not 10 < len(token) <= MAX_TOKEN_CHARS or token.count(".") != 1:
        raise TokenError("survey_token_invalid", "the survey link is not valid")
    payload, mac = token.split(".")
    if not hmac.compare_digest(_mac(secret, payload), mac):
        raise TokenError("survey_token_invalid", "the survey link is not valid")
    try:
        claims = json.loads(_unb64(payload))
    except ValueError as exc:  # pragma: no cover - only our own MAC'd payloads reach here
        raise TokenError("survey_token_invalid", "the survey link is not valid") from exc
    if claims.get("p") != purpose:
        raise TokenError("survey_token_invalid", "the survey link is not valid")
    if int(claims["e"]) <= now:
        raise TokenError("survey_token_expired", "the survey link has expired")
    return {"tenant": claims["t"], "form": claims["f"], "record_id": claims["r"], "survey_id": claims["s"],
            "expires_at": int(claims["e"])}
