"""Members: admins register the users of their tenant (user fields must name one)."""
from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict  # pydantic reads TypedDicts from typing_extensions on 3.11

from pydantic import BaseModel, ConfigDict, Field

from ..errors import NotFound, ValidationFailed
from ..forms.definition import validated
from ..forms.values import USER_ID_PATTERN, USER_ID_RE
from ..storage import members as store
from .caller import Caller
from .clock import utc_now


class MemberOut(TypedDict):
    user_id: str
    display_name: str
    email: str | None
    roles: list[str]
    active: bool
    attributes: dict[str, str]


class MemberList(TypedDict):
    items: list[MemberOut]


class MemberIn(BaseModel):
    """The body of PUT /members/{user_id} (the OpenAPI document's schema of it, too)."""
    model_config = ConfigDict(extra="forbid")
    display_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254)
    roles: list[str] = Field(default_factory=list, max_length=20)
    active: bool = True
    # mirrors the user's custom:* token claims (e.g. region), so an admin can ask what they may do
    attributes: dict[str, str] = Field(default_factory=dict, max_length=20)


def put(caller: Caller, user_id: str, body: Any) -> MemberOut:
    caller.require_admin("managing members")
    if not USER_ID_RE.fullmatch(user_id):
        raise ValidationFailed("user id is malformed", details=[{"path": "user_id", "message": f"must match {USER_ID_PATTERN}"}])
    member = validated(MemberIn, body, "member", ValidationFailed)
    before = store.get_member(caller.tenant, user_id)
    store.put_member(store.Member(caller.tenant, user_id, member.display_name, member.email, member.roles, member.active,
                                  member.attributes or None), by=caller.user_id, at=utc_now())
    from .identity import forget
    forget(caller.tenant)  # this container sees the change at once; others within MEMBER_CACHE_SECONDS
    if before is None or sorted(before.roles) != sorted(member.roles) or before.active != member.active:
        from ..storage.notifications import sync_subscriptions  # role e-mail copies follow the roles
        sync_subscriptions(caller.tenant, user_id, list(before.roles) if before else [], member.roles, member.active)
    return {"user_id": user_id, **member.model_dump()}


def get(caller: Caller, user_id: str) -> MemberOut:
    if user_id != caller.user_id:
        caller.require_admin("reading other members")
    member = store.get_member(caller.tenant, user_id)
    if member is None:
        raise NotFound(f"member {user_id} does not exist")
    return {"user_id": member.user_id, "display_name": member.display_name, "email": member.email,
            "roles": member.roles, "active": member.active, "attributes": member.attributes or {}}


def list_all(caller: Caller) -> MemberList:
    caller.require_admin("listing members")
    return {"items": [{"user_id": m.user_id, "display_name": m.display_name, "email": m.email, "roles": m.roles,
                       "active": m.active, "attributes": m.attributes or {}} for m in store.list_members(caller.tenant)]}
