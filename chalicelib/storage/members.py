"""Tenant members (users). A user field on a record must name an active member."""
from __future__ import annotations

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


def put_member(member: Member) -> None:
    MemberItem(keys.member_pk(member.tenant, member.user_id), "M", tenant=member.tenant, user_id=member.user_id,
               display_name=member.display_name, email=member.email, roles=list(member.roles),
               active=member.active).save()


def get_member(tenant: str, user_id: str) -> Member | None:
    try:
        item = MemberItem.get(keys.member_pk(tenant, user_id), "M")
    except DoesNotExist:
        return None
    return Member(item.tenant, item.user_id, item.display_name, item.email, list(item.roles or []), bool(item.active))
