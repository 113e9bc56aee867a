"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with the webhook's secret.

Headers sent: `X-Aftersales-Event-Id`, `X-Aftersales-Timestamp` (Unix seconds) and
`X-Aftersales-Signature: v1=<hex>`. A receiver recomputes the HMAC and rejects timestamps older
than a few minutes (replay). Same scheme as Stripe/Slack, so common libraries verify it.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def headers(secret: str, timestamp: int, body: bytes, event_id: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "User-Agent": "aftersales-webhooks/1",
            "X-Aftersales-Event-Id": event_id, "X-Aftersales-Timestamp": str(timestamp),
            "X-Aftersales-Signature": sign(secret, timestamp, body)}


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: int,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does (also used by the tests)."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


def backoff_seconds(attempt: int, base: int = 30, cap: int = 6 * 3600) -> int:
    """Delay before retry number `attempt` (1-based): 30 s, 60 s, 2 min, ... capped."""
    return min(cap, base * 2 ** max(0, attempt - 1))
