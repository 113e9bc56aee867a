"""In-app notifications of the caller: their own feed plus their roles' feeds, newest first, with
the unread count; mark read (one, or all); which kinds also come by e-mail (the caller's preference,
for notifications to them and to their roles)."""
from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict

from ..errors import BadRequest, NotFound, ValidationFailed, parse_count
from ..storage import notifications as store
from .caller import Caller
from .effects import KINDS

MAX_ROLES = 10


# What the notification routes answer (the OpenAPI document's response schemas are built from these).
class Notification(TypedDict):
    id: str
    kind: str
    title: str
    form: str | None
    record_id: str | None  # None too when the caller may not open the record
    number: str | None
    state: str | None
    created_at: str
    read: bool
    audience: str  # "user:<id>" or "role:<role>": which feed told the caller


class NotificationPage(TypedDict):
    items: list[Notification]
    unread: int
    next_before: str | None


class MarkedRead(TypedDict):
    marked: int
    unread: int


class NotificationPreferencesOut(TypedDict):
    email: list[str]
    kinds: list[str]


def _targets(caller: Caller) -> list[str]:
    return [f"user:{caller.user_id}"] + [f"role:{r}" for r in _roles(caller)]


def list_notifications(caller: Caller, params: dict) -> NotificationPage:
    limit = parse_count(params["limit"], "query.limit") if "limit" in params else 25
    if not 1 <= limit <= store.MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {store.MAX_PAGE}", details=[{"path": "query.limit", "message": "out of range"}])
    before = params.get("before")
    if before is not None:
        from ..ids import is_valid_id
        if not is_valid_id(before):
            raise BadRequest("before must be a notification id", details=[{"path": "query.before", "message": "invalid id"}])
    unread_only = params.get("unread") in ("true", "1")
    state = store.state(caller.tenant, caller.user_id)
    receipts = _receipts(caller, state)
    merged: list[dict] = []
    for target in _targets(caller):
        merged += store.page(caller.tenant, target, limit, before, state["roles_seen"], unread_only and target.startswith("user:"),
                             receipts)
    if unread_only:
        merged = [n for n in merged if not n["read"]]
    merged.sort(key=lambda n: n["id"], reverse=True)
    items = _redact_unreadable(caller, merged[:limit])
    return {"items": items, "unread": unread_count(caller, state, receipts),
            "next_before": items[-1]["id"] if len(items) == limit else None}


def _redact_unreadable(caller: Caller, items: list[Notification]) -> list[Notification]:
    """Row rules hold here too: a role feed tells every holder of the role, but a notification about a
    record this member may not read (e.g. another engineer's order) says nothing about that record —
    the item stays (so unread counts and mark-read agree) without its record, number, state or title.
    One BatchGetItem per page."""
    from ..storage.listing import get_records
    from . import definitions
    from .caller import ADMIN_ROLE
    from .records import access_for
    ids = list(dict.fromkeys(n["record_id"] for n in items if n.get("record_id")))
    if not ids or ADMIN_ROLE in caller.roles:
        return items
    records = {r.id: r for r in get_records(caller.tenant, ids)}
    access: dict[str, Any] = {}
    out = []
    for n in items:
        rec = records.get(n.get("record_id") or "")
        readable = False
        if rec is not None and not rec.deleted:
            if rec.form not in access:
                try:
                    form = definitions.published(caller.tenant, "form", rec.form)[1]
                    access[rec.form] = access_for(caller, form) if caller.has_any(form.permissions.read) else None
                except NotFound:
                    access[rec.form] = None
            readable = access[rec.form] is not None and access[rec.form].row_visible(rec.data)
        if n.get("record_id") and not readable:
            n = {**n, "record_id": None, "number": None, "state": None, "title": "A notification about a record you may not open"}
        out.append(n)
    return out


def _roles(caller: Caller) -> list[str]:
    return sorted(caller.roles)[:MAX_ROLES]


def _receipts(caller: Caller, state: dict) -> set[str]:
    return store.role_receipts(caller.tenant, caller.user_id, state["roles_seen"]) if caller.roles else set()


def unread_count(caller: Caller, state: dict | None = None, receipts: set[str] | None = None) -> int:
    """Personal unread (a counter) + role-feed notifications newer than the member's mark that they
    have not read one by one (a notification sent to two of their roles counts once)."""
    state = state or store.state(caller.tenant, caller.user_id)
    receipts = _receipts(caller, state) if receipts is None else receipts
    role_ids: set[str] = set()
    for role in _roles(caller):
        role_ids |= store.role_ids(caller.tenant, role, state["roles_seen"])
    return state["unread"] + len(role_ids - receipts)


def mark_read(caller: Caller, body: Any) -> MarkedRead:
    """{"ids": [...]} marks those; {"all": true} marks every personal one and the roles' feeds."""
    if not isinstance(body, dict) or set(body) - {"ids", "all"}:
        raise ValidationFailed("send {\"ids\": [...]} or {\"all\": true}", details=[{"path": "", "message": "expected ids or all"}])
    ids = body.get("ids") or []
    from ..ids import is_valid_id
    if not isinstance(ids, list) or len(ids) > store.MAX_PAGE or not all(isinstance(i, str) and is_valid_id(i) for i in ids):
        raise ValidationFailed("ids must be a list of at most 100 notification ids", details=[{"path": "ids", "message": "invalid"}])
    if body.get("all") is not None and not isinstance(body.get("all"), bool):
        raise ValidationFailed("all must be true or false", details=[{"path": "all", "message": "expected boolean"}])
    marked = 0
    roles_seen = None
    for nid in dict.fromkeys(ids):
        if store.mark_read(caller.tenant, caller.user_id, nid):
            marked += 1
        elif not store.exists(caller.tenant, caller.user_id, nid):
            if not store.role_notification_exists(caller.tenant, _roles(caller), nid):
                raise NotFound(f"notification {nid} does not exist", details=[{"path": "ids", "message": nid}])
            roles_seen = roles_seen or store.state(caller.tenant, caller.user_id)["roles_seen"] or ""
            if nid > roles_seen and store.mark_role_read(caller.tenant, caller.user_id, nid):
                marked += 1
    if body.get("all"):
        for item in store.page(caller.tenant, f"user:{caller.user_id}", store.MAX_PAGE, None, None, unread_only=True):
            marked += store.mark_read(caller.tenant, caller.user_id, item["id"])
        newest = _newest_role_id(caller)
        if newest:
            store.set_roles_seen(caller.tenant, caller.user_id, newest)
    return {"marked": marked, "unread": unread_count(caller)}


def _newest_role_id(caller: Caller) -> str | None:
    newest = None
    for role in _roles(caller):
        top = store.page(caller.tenant, f"role:{role}", 1, None, None)
        if top and (newest is None or top[0]["id"] > newest):
            newest = top[0]["id"]
    return newest


def get_preferences(caller: Caller) -> NotificationPreferencesOut:
    return {"email": store.state(caller.tenant, caller.user_id)["email_kinds"], "kinds": list(KINDS)}


def set_preferences(caller: Caller, body: Any) -> NotificationPreferencesOut:
    if not isinstance(body, dict) or set(body) != {"email"} or not isinstance(body["email"], list):
        raise ValidationFailed("send {\"email\": [kinds]}", details=[{"path": "email", "message": "expected a list of kinds"}])
    unknown = [k for k in body["email"] if k not in KINDS]
    if unknown:
        raise ValidationFailed("unknown notification kinds", details=[
            {"path": f"email[{i}]", "message": f"one of {', '.join(KINDS)}"} for i, k in enumerate(body["email"]) if k not in KINDS])
    kinds = list(dict.fromkeys(body["email"]))
    from ..storage.members import get_member
    member = get_member(caller.tenant, caller.user_id)  # e-mail goes to the member's address, for the member's roles
    roles = list(member.roles) if member is not None and member.active else []
    store.set_email_kinds(caller.tenant, caller.user_id, kinds, roles)
    return {"email": kinds, "kinds": list(KINDS)}
