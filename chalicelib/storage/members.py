"""Tenant members (users). A user field on a record must name an active member."""
from __future__ import annotations

import json
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist

from . import keys
from .models import MemberItem, RosterItem


@dataclass(frozen=True)
class Member:
    tenant: str
    user_id: str
    display_name: str
    email: str | None
    roles: list[str]
    active: bool
    attributes: dict | None = None


def roster_entry(active: bool, roles: list[str]) -> str:
    return ("1|" if active else "0|") + ",".join(sorted(set(roles)))


def parse_roster_entry(entry: str) -> tuple[bool, frozenset[str]]:
    active, _, roles = str(entry).partition("|")
    return active == "1", frozenset(r for r in roles.split(",") if r)


def _ensure_roster(tenant: str) -> None:
    """The roster item exists before a member is set in it (an update of entries.<user> needs the map)."""
    from .models import save_if
    save_if(RosterItem(keys.roster_pk(tenant), "R", entries={}), RosterItem.pk.does_not_exist())


def put_member(member: Member, by: str = "", at: str = "") -> None:
    """The member, its roster entry and (when `by` is given) an audit entry of the change, in one
    transaction: the roster never disagrees with the member items."""
    from pynamodb.transactions import TransactWrite

    from .definitions import audit_item
    item = MemberItem(keys.member_pk(member.tenant, member.user_id), "M", tenant=member.tenant, user_id=member.user_id,
               display_name=member.display_name, email=member.email, roles=list(member.roles),
               active=member.active, attributes=json.dumps(member.attributes) if member.attributes else None)
    _ensure_roster(member.tenant)
    with TransactWrite(connection=MemberItem._get_connection().connection) as tx:
        tx.save(item)
        tx.update(RosterItem(keys.roster_pk(member.tenant), "R"),
                  actions=[RosterItem.entries[member.user_id].set(roster_entry(member.active, member.roles))],
                  condition=RosterItem.pk.exists())
        if by:
            tx.save(audit_item(member.tenant, at, by, f"member roles={','.join(member.roles)} active={member.active}",
                               "member", member.user_id, None))


def get_roster(tenant: str) -> dict[str, tuple[bool, frozenset[str]]]:
    """{user_id: (active, roles)} of every registered member (one eventually consistent GetItem)."""
    try:
        item = RosterItem.get(keys.roster_pk(tenant), "R", attributes_to_get=["entries"])
    except DoesNotExist:
        return {}
    raw = item.entries.as_dict() if hasattr(item.entries, "as_dict") else dict(item.entries or {})
    return {str(user): parse_roster_entry(entry) for user, entry in raw.items()}


def get_member(tenant: str, user_id: str) -> Member | None:
    try:
        item = MemberItem.get(keys.member_pk(tenant, user_id), "M")
    except DoesNotExist:
        return None
    return Member(item.tenant, item.user_id, item.display_name, item.email, list(item.roles or []), bool(item.active),
                  json.loads(item.attributes) if item.attributes else None)


def list_members(tenant: str) -> list[Member]:
    """Every registered member (the roster names them; their items come in BatchGetItem pages of 100)."""
    users = sorted(get_roster(tenant))
    found: dict[str, MemberItem] = {}
    for start in range(0, len(users), 100):
        for item in MemberItem.batch_get([(keys.member_pk(tenant, u), "M") for u in users[start:start + 100]]):
            found[item.user_id] = item
    return [Member(i.tenant, i.user_id, i.display_name, i.email, list(i.roles or []), bool(i.active),
                   json.loads(i.attributes) if i.attributes else None) for u in users if (i := found.get(u)) is not None]
