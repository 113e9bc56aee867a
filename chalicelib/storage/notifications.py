"""In-app notifications: one feed per user ('T#<t>#N#user:<u>') and per role ('…#N#role:<r>').
Notification puts and the per-user unread counter (ADD) are extra ops of the workflow step's
transaction. Role feeds are shared: a member's unread count adds the role items newer than the
newest one they have seen (`roles_seen`), less those newer ones they marked read one by one (a
read receipt 'R#<id>' in their own feed)."""
from __future__ import annotations

import time

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from .messaging_models import NotificationItem, NotificationStateItem, RoleReadItem, RoleSubscriptionItem

KEEP_SECONDS = 90 * 24 * 3600
MAX_PAGE = 100


def feed_pk(tenant: str, target: str) -> str:
    return f"T#{tenant}#N#{target}"


def notification_put(tenant: str, target: str, notification_id: str, *, kind: str, title: str, created_at: str,
                     form: str | None, record_id: str | None, number: str | None, state: str | None) -> tuple:
    item = NotificationItem(feed_pk(tenant, target), f"N#{notification_id}", tenant=tenant, kind=kind, title=title,
                            form=form, record_id=record_id, number=number, state=state, created_at=created_at,
                            read=False, expires_at=int(time.time()) + KEEP_SECONDS)
    return ("put", item, None, f"notification:{target}:{notification_id}")


def unread_add_op(tenant: str, user_id: str, count: int) -> tuple:
    item = NotificationStateItem(feed_pk(tenant, f"user:{user_id}"), "NS")
    return ("update", (item, [NotificationStateItem.unread.add(count)]), None, f"notification-count:{user_id}")


def _as_dict(item: NotificationItem, target: str, roles_seen: str | None, receipts: set[str]) -> dict:
    nid = item.sk[2:]
    read = bool(item.read) if target.startswith("user:") else bool(roles_seen and nid <= roles_seen) or nid in receipts
    return {"id": nid, "kind": item.kind, "title": item.title, "form": item.form, "record_id": item.record_id,
            "number": item.number, "state": item.state, "created_at": item.created_at, "read": read,
            "audience": target}


def state(tenant: str, user_id: str) -> dict:
    try:
        item = NotificationStateItem.get(feed_pk(tenant, f"user:{user_id}"), "NS", consistent_read=True)
    except DoesNotExist:
        return {"unread": 0, "roles_seen": None, "email_kinds": []}
    return {"unread": max(0, int(item.unread or 0)), "roles_seen": item.roles_seen, "email_kinds": list(item.email_kinds or [])}


def email_kinds_of(tenant: str, user_ids: list[str]) -> dict[str, list[str]]:
    """Members' e-mail preferences, one BatchGetItem."""
    if not user_ids:
        return {}
    keys = [(feed_pk(tenant, f"user:{u}"), "NS") for u in dict.fromkeys(user_ids)]
    found = {}
    for item in NotificationStateItem.batch_get(keys, attributes_to_get=["pk", "email_kinds"]):
        found[item.pk.split("#N#user:", 1)[1]] = list(item.email_kinds or [])
    return found


def set_email_kinds(tenant: str, user_id: str, kinds: list[str], roles: list[str], old_roles: list[str] = ()) -> None:
    """The member's e-mail preference and their subscription in each of their roles, in one transaction."""
    with TransactWrite(connection=NotificationStateItem._get_connection().connection) as tx:
        tx.update(NotificationStateItem(feed_pk(tenant, f"user:{user_id}"), "NS"),
                  [NotificationStateItem.email_kinds.set(kinds)])
        _subscription_writes(tx, tenant, user_id, kinds, roles, old_roles)


def sync_subscriptions(tenant: str, user_id: str, old_roles: list[str], roles: list[str], active: bool) -> None:
    """After a member's roles or active flag changed: their role subscriptions follow (idempotent;
    a lost run is repaired by saving the member again, and the worker re-checks membership anyway)."""
    kinds = state(tenant, user_id)["email_kinds"] if active else []
    if not kinds and not old_roles:
        return
    with TransactWrite(connection=NotificationStateItem._get_connection().connection) as tx:
        _subscription_writes(tx, tenant, user_id, kinds, roles if active else [], old_roles)


def _subscription_writes(tx, tenant: str, user_id: str, kinds: list[str], roles, old_roles) -> None:
    for role in sorted(set(roles) | set(old_roles)):
        item = RoleSubscriptionItem(feed_pk(tenant, f"role:{role}"), f"SUB#{user_id}")
        if kinds and role in roles:
            item.user_id, item.kinds = user_id, list(kinds)
            tx.save(item)
        else:
            tx.delete(item)


def role_subscribers(tenant: str, role: str) -> dict[str, list[str]]:
    """user → kinds they want by e-mail from this role's feed (one Query; usually a few items)."""
    return {i.user_id: list(i.kinds or []) for i in RoleSubscriptionItem.query(
        feed_pk(tenant, f"role:{role}"), RoleSubscriptionItem.sk.startswith("SUB#"))}


def page(tenant: str, target: str, limit: int, before: str | None, roles_seen: str | None,
         unread_only: bool = False, receipts: set[str] | frozenset[str] = frozenset()) -> list[dict]:
    """Newest first; `before` = a notification id to continue after. `receipts`: role-feed ids the
    member read one by one (see `role_receipts`)."""
    condition = NotificationItem.sk < f"N#{before}" if before else NotificationItem.sk.startswith("N#")
    filter_condition = (NotificationItem.read == False) if unread_only and target.startswith("user:") else None  # noqa: E712
    items = NotificationItem.query(feed_pk(tenant, target), condition, filter_condition=filter_condition,
                                   scan_index_forward=False, limit=limit, page_size=limit)
    return [_as_dict(i, target, roles_seen, set(receipts)) for i in items]


def _newer_than(model, prefix: str, seen: str | None):
    # ids are ULIDs (0-9A-Z): "<prefix><seen>~" sorts after "<prefix><seen>" and before every newer id
    return model.sk.between(f"{prefix}{seen}~", f"{prefix}~") if seen else model.sk.startswith(prefix)


def role_ids(tenant: str, role: str, roles_seen: str | None) -> set[str]:
    """Ids of the role feed's notifications newer than the member's mark (at most MAX_PAGE)."""
    return {i.sk[2:] for i in NotificationItem.query(feed_pk(tenant, f"role:{role}"), _newer_than(NotificationItem, "N#", roles_seen),
                                                     limit=MAX_PAGE, attributes_to_get=["pk", "sk"])}


def role_receipts(tenant: str, user_id: str, roles_seen: str | None) -> set[str]:
    """Role-feed ids newer than the mark that the member read one by one (one Query, keys only)."""
    return {i.sk[2:] for i in RoleReadItem.query(feed_pk(tenant, f"user:{user_id}"), _newer_than(RoleReadItem, "R#", roles_seen),
                                                 limit=MAX_PAGE * 10, attributes_to_get=["pk", "sk"])}


def role_notification_exists(tenant: str, roles: list[str], notification_id: str) -> bool:
    """Whether one of these role feeds holds the notification (one BatchGetItem)."""
    keys = [(feed_pk(tenant, f"role:{r}"), f"N#{notification_id}") for r in roles]
    return any(True for _ in NotificationItem.batch_get(keys, attributes_to_get=["pk", "sk"])) if keys else False


def mark_role_read(tenant: str, user_id: str, notification_id: str) -> bool:
    """Record that the member read this role notification; False if they already had."""
    from pynamodb.exceptions import PutError
    receipt = RoleReadItem(feed_pk(tenant, f"user:{user_id}"), f"R#{notification_id}",
                           expires_at=int(time.time()) + KEEP_SECONDS)
    try:
        receipt.save(condition=RoleReadItem.pk.does_not_exist())
    except PutError:
        return False
    return True


def mark_read(tenant: str, user_id: str, notification_id: str) -> bool:
    """True if it was unread (read flag and counter move in one transaction); False if already read."""
    item = NotificationItem(feed_pk(tenant, f"user:{user_id}"), f"N#{notification_id}")
    counter = NotificationStateItem(feed_pk(tenant, f"user:{user_id}"), "NS")
    try:
        with TransactWrite(connection=NotificationItem._get_connection().connection) as tx:
            tx.update(item, [NotificationItem.read.set(True)],
                      condition=NotificationItem.pk.exists() & (NotificationItem.read == False))  # noqa: E712
            tx.update(counter, [NotificationStateItem.unread.add(-1)])
    except TransactWriteError:
        return False
    return True


def exists(tenant: str, user_id: str, notification_id: str) -> bool:
    try:
        NotificationItem.get(feed_pk(tenant, f"user:{user_id}"), f"N#{notification_id}", attributes_to_get=["pk"])
        return True
    except DoesNotExist:
        return False


def set_roles_seen(tenant: str, user_id: str, newest: str) -> None:
    counter = NotificationStateItem(feed_pk(tenant, f"user:{user_id}"), "NS")
    try:
        counter.update(actions=[NotificationStateItem.roles_seen.set(newest)],
                       condition=NotificationStateItem.roles_seen.does_not_exist() | (NotificationStateItem.roles_seen < newest))
    except UpdateError:
        pass  # a newer mark is already there
