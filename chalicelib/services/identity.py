"""The member item is the authority on who may act: a verified token is narrowed by it.

A token proves who the caller is; what they may do follows the tenant's member registry, so that
deactivating a member or removing a role takes effect within a stated bound, not at token expiry:

- the caller is a registered member who is inactive → 401 `member_inactive`;
- the token names roles the member does not hold → the caller gets only the intersection (a token
  can narrow, never widen, the registry);
- a user the registry does not know keeps the token's claims (Cognito users an admin has not
  registered; they cannot be named in user fields).

The registry is read as the tenant's roster (storage.members: one item), cached per warm container
for MEMBER_CACHE_SECONDS (default 30). Bound: a change is seen by every container within that time
plus DynamoDB's eventual consistency (≈1 s), stated as ≤ 60 s; the container that made the change
sees it at once. Cost: one GetItem per tenant per container per cache period (bench/identity.py)."""
from __future__ import annotations

import threading
import time
from dataclasses import replace

from ..errors import Unauthorized
from .caller import Caller

_cache: dict[str, tuple[float, dict]] = {}
_lock = threading.Lock()


def _cache_seconds() -> float:
    from ..config import get_settings
    return get_settings().member_cache_seconds


def roster(tenant: str) -> dict:
    now = time.monotonic()
    hit = _cache.get(tenant)
    if hit is not None and now - hit[0] < _cache_seconds():
        return hit[1]
    from ..storage.members import get_roster
    entries = get_roster(tenant)
    with _lock:
        _cache[tenant] = (now, entries)
    return entries


def forget(tenant: str | None = None) -> None:
    """Drop the cached roster (a member change in this container; tests between cases)."""
    with _lock:
        if tenant is None:
            _cache.clear()
        else:
            _cache.pop(tenant, None)


def effective(caller: Caller) -> Caller:
    """The caller as the member registry allows them now."""
    entry = roster(caller.tenant).get(caller.user_id)
    if entry is None:
        return caller
    active, roles = entry
    if not active:
        raise Unauthorized("this member has been deactivated in the tenant", code="member_inactive",
                           details=[{"path": "headers.Authorization", "message": f"member {caller.user_id} is inactive"}])
    allowed = caller.roles & roles
    return caller if allowed == caller.roles else replace(caller, roles=frozenset(allowed))


__all__ = ["effective", "roster", "forget"]
