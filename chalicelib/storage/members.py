"""Tenant members (users). A user field on a record must name an active member."""
from __future__ import annotations

import json
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist

from . import keys
from .models import MemberItem


@dataclass(frozen=True)
class Member:
    tenant: str
    user_id: str
    display_name: str
    email: str | None
    roles: list[str]
    active: bool
    attributes: dict | None = None


def put_member(member: Member, by: str = "", at: str = "") -> None:
    """The member and (when `by` is given) an audit entry of the change, in one transaction."""
    from pynamodb.transactions import TransactWrite

    from .definitions import audit_item
    item = MemberItem(keys.member_pk(member.tenant, member.user_id), "M", tenant=member.tenant, user_id=member.user_id,
               display_name=member.display_name, email=member.email, roles=list(member.roles),
               active=member.active, attributes=json.dumps(member.attributes) if member.attributes else None)
    if not by:
        item.save()
        return
    with TransactWrite(connection=MemberItem._get_connection().connection) as tx:
        tx.save(item)
        tx.save(audit_item(member.tenant, at, by, f"member roles={','.join(member.roles)} active={member.active}",
                           "member", member.user_id, None))


def get_member(tenant: str, user_id: str) -> Member | None:
    try:
        item = MemberItem.get(keys.member_pk(tenant, user_id), "M")
    except DoesNotExist:
        return None
    return Member(item.tenant, item.user_id, item.display_name, item.email, list(item.roles or []), bool(item.active),
                  json.loads(item.attributes) if item.attributes else None)
