""""What can user X do on record Y, and why": the access model and the workflow evaluated for one
member (their stored roles and attributes), role by role, for an administrator."""
from __future__ import annotations

from ..errors import NotFound
from ..forms.access import Access
from ..storage import members as member_store
from . import definitions
from .caller import ADMIN_ROLE, Caller
from .clock import utc_now


def explain(caller: Caller, form_name: str, record_id: str, user_id: str | None) -> dict:
    from .records import read_record
    caller.require_admin("explaining permissions")
    if not user_id:
        from ..errors import BadRequest
        raise BadRequest("name the member to explain with ?user=<id>", details=[{"path": "query.user", "message": "is required"}])
    member = member_store.get_member(caller.tenant, user_id)
    if member is None:
        raise NotFound(f"member {user_id} does not exist")
    _version, form = definitions.published(caller.tenant, "form", form_name)
    rec = read_record(caller.tenant, form_name, record_id)
    subject = Caller(tenant=caller.tenant, user_id=user_id, roles=frozenset(member.roles) if member.active else frozenset(),
                     attributes=tuple(sorted((member.attributes or {}).items())))
    access = Access(form, subject.roles, subject.variables(utc_now()))
    perms = form.permissions
    per_role = []
    for role in sorted(subject.roles | ({"*"} if any("*" in getattr(perms, a) for a in ("read", "update", "delete")) else set())):
        grants = [a.rstrip("_") for a in ("create", "read", "update", "delete", "export", "import_", "report", "share")
                  if role in getattr(perms, a) or role == ADMIN_ROLE]
        rule = perms.rows.get(role)
        grant = perms.fields.get(role)
        per_role.append({"role": role, "grants": grants, "row_rule": rule,
                         "row_admits": access.admits(role, rec.data) if grants else False,
                         "hidden": sorted(form.hidden_closure(grant.hidden)) if grant else [], "readonly": list(grant.readonly) if grant else []})
    result = {"user": user_id, "active": member.active, "roles": sorted(subject.roles),
              "attributes": member.attributes or {}, "record": record_id,
              "can": {a: bool(access.admitting_roles(a, rec.data)) for a in ("read", "update", "delete")},
              "visible_fields": sorted(access.visible_fields(rec.data)),
              "writable_fields": sorted(access.writable_fields(rec.data)), "per_role": per_role,
              "why": "each role is checked on its own (grants, row rule, field grants); the results are combined"}
    if rec.workflow:
        from ..workflow import available_actions
        from ..forms.engine import record_variables
        from .workflow import editable_now, running
        inst, wf = running(caller.tenant, rec)
        keys = {f"user:{user_id}"} | {f"role:{r}" for r in subject.roles}
        result["workflow"] = {"state": inst.state, "status": inst.status,
                              "assignees": [t.assignee for t in inst.tasks],
                              "is_assignee": any(t.assignee in keys for t in inst.tasks),
                              "actions": [a["action"] for a in available_actions(
                                  wf, inst, rec.data, user_id, subject.roles, ADMIN_ROLE in subject.roles,
                                  {**subject.variables(utc_now()), **record_variables(rec)})] if result["can"]["read"] else [],
                              # what the state's edit rules let them change now (PATCH, uploads, parts, sync)
                              "editable": editable_now(subject, wf, inst, rec.data, access.writable_fields(rec.data))
                              if result["can"]["update"] else {"fields": [], "comment_required": []}}
    return result
