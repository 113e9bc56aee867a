"""A dry run of a workflow action on a chosen record, for the workflow designer (issue 15): what the
engine would do if `action` were taken now on the record — run on the published workflow, a stored
version, or an unsaved draft — and nothing written.

It is the real step's own planning (services.workflow.plan_action: the action's data checked as a
write, then the pure engine's take_action; CreateRecord steps validated as the write would), so a
dry run cannot tell another story than the action route: what is refused there is a problem here
(with its JSON path), what is planned there is described here — the states passed through (a
Choice's matched rule, an Action's steps, a caught step error), where the record comes to rest, the
tasks and who they resolve to, the timers set and cleared, the values changed, and the effects the
write would fire (notifications, e-mail, events and signals, created records, outbound events and
the webhooks that would receive them). The record runs on the definition chosen as it rests now: its
state, tasks, approval votes and timers are the stored ones (a published version reaches records by
a migration, which re-plans the tasks of their state)."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from .. import jsonutil
from ..errors import AppError, BadRequest, Conflict, Forbidden, NotFound, ValidationFailed
from . import definitions
from .caller import Caller
from .clock import utc_now

MAX_MEMBERS_SHOWN = 20  # of the members a role task resolves to
MAX_WAITING_COUNTED = 25  # records a Signal would move, counted up to this


class DryRunRequest(BaseModel):
    """POST /workflows/{name}/dry-run. The workflow: `definition` (an unsaved draft, checked as POST
    /definitions/workflow/{name}/check checks it), or a stored `version`, or (neither) the published one."""
    model_config = ConfigDict(extra="forbid")
    record_id: str = Field(min_length=1, max_length=64, description="a record of the form the workflow runs on")
    action: str = Field(min_length=1, max_length=64, description="the action to try (approve/reject/delegate in an approval)")
    definition: dict[str, Any] | None = Field(default=None, description="a workflow draft, as the designer holds it")
    version: int | None = Field(default=None, ge=1, description="a stored version instead of the draft")
    data: dict[str, Any] | None = Field(default=None, description="values the action would carry, as on the action route")
    comment: str | None = Field(default=None, max_length=2000)
    delegate_to: str | None = Field(default=None, max_length=128)
    as_user: str | None = Field(default=None, min_length=1, max_length=128,
                                description="the member who takes the action (their stored roles); default: you")


class DryRunProblem(TypedDict):
    kind: str  # permission | state | required | data
    code: str
    path: str  # JSON path of what it concerns (data.<field>, comment, action, as_user …)
    message: str
    summary: str  # the refusal as the action route words it


class DryRunState(TypedDict):
    state: str
    label: str
    type: str
    json_path: str  # States.<name>
    choice: dict[str, Any] | None  # {rule: i | None (Default), next, matched, json_path}
    steps: list[dict[str, Any]]  # an Action's steps: {kind, text}
    caught: dict[str, Any] | None  # {error, cause, next}: a step failed and Catch (or the failure) took over


class DryRunTask(TypedDict):
    assignee: str  # user:<id> | role:<role>
    kind: str  # task | approval
    state: str
    due_at: str | None
    new: bool  # not a task the record has now
    members: list[str]  # who that is: the user (when active), or the active members holding the role
    members_more: int  # holders of the role beyond those listed


class DryRunTimer(TypedDict):
    name: str
    kind: str  # deadline | remind | sla | slaremind | wait
    label: str
    state: str  # "*" for the whole workflow
    due_at: str


class DryRunChange(TypedDict):
    field: str
    before: Any
    after: Any


class DryRunEffect(TypedDict):
    kind: str  # notification | email | event | signal | dispatch | create_record | outbound_event | unassigned
    text: str
    detail: dict[str, Any]


class DryRun(TypedDict):
    workflow: dict[str, Any]  # {name, version (None for a draft), draft}
    record: dict[str, Any]  # {id, number, version, state, status}: as stored, unchanged
    action: str
    actor: dict[str, Any]  # {user, roles}
    allowed: bool
    problems: list[DryRunProblem]
    start: dict[str, Any]  # {state, label, type}
    path: list[DryRunState]
    end: dict[str, Any] | None  # {state, label, type, status, error}
    tasks: list[DryRunTask]
    timers: dict[str, list[DryRunTimer]]  # set, cleared, kept
    changes: list[DryRunChange]
    effects: list[DryRunEffect]
    events: list[dict[str, Any]]
    written: bool  # always false


def _request(body: Any) -> DryRunRequest:
    from ..forms.definition import validated
    if not isinstance(body, dict):
        raise ValidationFailed("body must be an object", details=[{"path": "", "message": "expected object"}])
    request = validated(DryRunRequest, body, "the dry run's body", ValidationFailed)
    if request.definition is not None and request.version is not None:
        raise ValidationFailed("send a draft definition or a stored version, not both",
                               details=[{"path": "version", "message": "not with definition"}])
    if request.delegate_to is not None or request.as_user is not None:
        from ..forms.values import USER_ID_RE
        for key in ("delegate_to", "as_user"):
            value = getattr(request, key)
            if value is not None and not USER_ID_RE.fullmatch(value):
                raise ValidationFailed(f"{key} must be a user id", details=[{"path": key, "message": "expected a user id"}])
    return request


def dry_run(caller: Caller, name: str, body: Any) -> DryRun:
    """What taking `action` on the record would do on the chosen workflow; nothing is written. Who may:
    whoever may design workflows (the draft check's permission), on records they may read."""
    from .workflow import load_running
    caller.require_admin("dry-running workflows")
    request = _request(body)
    try:
        _version, published_form = definitions.published(caller.tenant, "form", name)
    except NotFound as exc:
        raise NotFound(f"no form '{name}': a workflow runs on the form of its name",
                       details=[{"path": "name", "message": "unknown form"}]) from exc
    rec, form, inst = load_running(caller, name, request.record_id)
    wf, version, draft = _workflow(caller, name, request)
    where = "the draft" if draft else f"version {version} of workflow {name}"
    _fits(rec, inst, wf, where)
    actor = _actor(caller, request.as_user)
    now = utc_now()
    problems: list[DryRunProblem] = []
    step = None
    try:
        _require_readable(actor, published_form, rec)
        from .workflow import plan_action, related_creates
        step = plan_action(actor, published_form, rec, form, inst, wf, request.action, patch=request.data or {},
                           comment=request.comment or "", delegate_to=request.delegate_to, now=now)
        related_creates(caller.tenant, step.outcome.creates, step.new, numbered=False)  # as the write validates them
        if request.action == "delegate" and request.delegate_to:
            _delegate_fits(caller.tenant, request.delegate_to, step.outcome.delegate_roles)
    except (Forbidden, Conflict, ValidationFailed, BadRequest) as exc:
        problems = _problems(exc)
        step = None
    start = {"state": inst.state, "label": wf.state_label(inst.state, caller.language), "type": wf.States[inst.state].Type}
    answer: DryRun = {
        "workflow": {"name": name, "version": version, "draft": draft},
        "record": {"id": rec.id, "number": rec.number, "version": rec.version, "state": inst.state, "status": inst.status},
        "action": request.action, "actor": {"user": actor.user_id, "roles": sorted(actor.roles)},
        "allowed": step is not None, "problems": problems, "start": start, "path": [], "end": None, "tasks": [],
        "timers": {"set": [], "cleared": [], "kept": []}, "changes": [], "effects": [], "events": [], "written": False}
    if step is None:
        return answer
    return {**answer, **_described(caller, actor, published_form, wf, rec, inst, step)}


def _workflow(caller: Caller, name: str, request: DryRunRequest):
    """(definition, stored version or None, whether it is a draft)."""
    if request.definition is not None:
        parsed, checked = definitions.checked_draft(caller, "workflow", name, request.definition, preview=False)
        if parsed is None:
            raise BadRequest("the draft has problems; a dry run needs a draft that passes the check",
                             code="draft_invalid", details=checked["problems"])
        return parsed, None, True
    if request.version is not None:
        try:
            return definitions.version_of(caller.tenant, "workflow", name, request.version), request.version, False
        except NotFound as exc:
            raise NotFound(f"workflow {name} has no version {request.version}",
                           details=[{"path": "version", "message": "no such version"}]) from exc
    version, wf = definitions.published(caller.tenant, "workflow", name)
    return wf, version, False


def _fits(rec, inst, wf, where: str) -> None:
    """The record can run on `wf` as it rests: its state is there, resting, and an approval it waits
    for is an approval there (a state that changed kind would need a migration to re-plan it)."""
    from ..workflow.definition import ApprovalState
    from ..workflow.engine import RESTING_TYPES
    label = rec.number or rec.id
    state = wf.States.get(inst.state)
    if state is None:
        raise Conflict(f"record {label} rests in state {inst.state}, which {where} does not have",
                       code="state_not_in_workflow",
                       details=[{"path": "record_id", "message": f"rests in {inst.state}, not a state of {where}",
                                 "state": inst.state}])
    if state.Type not in RESTING_TYPES:
        raise Conflict(f"record {label} rests in state {inst.state}, which is an automatic {state.Type} state in {where}",
                       code="state_not_resting",
                       details=[{"path": "record_id", "message": f"{inst.state} is a {state.Type} in {where}", "state": inst.state}])
    if isinstance(state, ApprovalState) and inst.status == "running" and not inst.approval:
        raise Conflict(f"record {label} rests in {inst.state} with no approval running, but {inst.state} is an "
                       f"Approval in {where}", code="state_kind_changed",
                       details=[{"path": "record_id", "message": f"{inst.state} changed kind in {where}", "state": inst.state}])


def _actor(caller: Caller, user_id: str | None) -> Caller:
    """Who takes the action: the caller, or the member named (their stored roles and attributes, as
    GET …/access explains them; an inactive member holds none)."""
    if not user_id or user_id == caller.user_id:
        return caller
    from ..storage import members as member_store
    member = member_store.get_member(caller.tenant, user_id)
    if member is None:
        raise ValidationFailed(f"{user_id} is not a member of this tenant", code="unknown_member",
                               details=[{"path": "as_user", "message": "not a member"}])
    return Caller(tenant=caller.tenant, user_id=user_id, roles=frozenset(member.roles) if member.active else frozenset(),
                  name=member.display_name, attributes=tuple(sorted((member.attributes or {}).items())),
                  language=caller.language)


def _require_readable(actor: Caller, published_form, rec) -> None:
    """The acting member must be able to read the record (the action route's first check)."""
    from .records import access_for
    if not actor.has_any(published_form.permissions.read) or not access_for(actor, published_form).row_visible(rec.data):
        raise Forbidden(f"{actor.user_id} may not read this record, so cannot act on it", code="cannot_read",
                        details=[{"path": "as_user", "message": "the form's read grant or a row rule does not admit them"}])


def _delegate_fits(tenant: str, user_id: str, roles: list[str]) -> None:
    """What the delegation's write checks in its transaction (the member item): the new approver is an
    active member, holding one of `roles` when the rule names its approvers by role; refused in the
    same words."""
    from ..storage import members as member_store
    member = member_store.get_member(tenant, user_id)
    if member is None or not member.active or (roles and not set(roles) & set(member.roles)):
        what = f"user {user_id} is not an active member" + (f" with role {roles[0]}" if roles else "")
        raise ValidationFailed("record refers to missing data or repeats a unique value",
                               details=[{"path": "delegate_to", "message": what}])


def _problems(exc: AppError) -> list[DryRunProblem]:
    kind = {403: "permission", 409: "state"}.get(exc.status)
    if kind is None:
        kind = "required" if exc.code in ("action_requires_fields", "comment_required") or any(
            isinstance(d, dict) and d.get("path") == "comment" for d in exc.details or []) else "data"
    details = [d for d in exc.details if isinstance(d, dict)] if isinstance(exc.details, list) else []
    return [{"kind": kind, "code": exc.code or type(exc).__name__, "path": str(d.get("path") or ""),
             "message": str(d.get("message") or exc.message), "summary": exc.message}
            for d in details or [{"path": "", "message": exc.message}]]


def _described(caller: Caller, actor: Caller, published_form, wf, rec, inst, step) -> dict:
    from .effects import planned_notifications
    from .records import access_for
    language = caller.language
    outcome, new = step.outcome, step.new
    path = [_state_passed(wf, t, language) for t in outcome.trace]
    end_state = outcome.instance.state
    end = {"state": end_state, "label": wf.state_label(end_state, language) if end_state in wf.States else end_state,
           "type": wf.States[end_state].Type if end_state in wf.States else "", "status": outcome.instance.status,
           "error": outcome.instance.error}
    before_tasks = {(t.assignee, t.state, t.created_at) for t in inst.tasks}
    roster = _roster(caller.tenant)
    tasks = [{"assignee": t.assignee, "kind": t.kind, "state": t.state, "due_at": t.due_at,
              "new": (t.assignee, t.state, t.created_at) not in before_tasks, **_members(t.assignee, roster)}
             for t in outcome.instance.tasks]
    old_timers = {(t.name, t.armed_at): t for t in inst.timers}
    new_timers = {(t.name, t.armed_at): t for t in outcome.instance.timers}
    timers = {"set": [_timer(wf, t, language) for k, t in new_timers.items() if k not in old_timers],
              "cleared": [_timer(wf, t, language) for k, t in old_timers.items() if k not in new_timers],
              "kept": [_timer(wf, t, language) for k, t in new_timers.items() if k in old_timers]}
    # values: only fields both the designer and the acting member may see
    visible = access_for(caller, published_form).visible_fields(new.data) & access_for(actor, published_form).visible_fields(new.data)
    changes = [{"field": f, "before": jsonutil.to_plain(rec.data.get(f)), "after": jsonutil.to_plain(new.data.get(f))}
               for f in step.changed if f in visible]
    effects = _effects(caller.tenant, rec, new, step.entry, outcome, planned_notifications(rec, new, step.entry), visible)
    events = [e for e in outcome.events if e.get("field") is None or e.get("field") in visible]
    return {"path": path, "end": end, "tasks": tasks, "timers": timers, "changes": changes, "effects": effects,
            "events": jsonutil.to_plain(events)}


def _state_passed(wf, trace: dict, language: str) -> DryRunState:
    from ..workflow.choice import describe_rule
    name = trace["state"]
    state = wf.States[name]
    out: DryRunState = {"state": name, "label": wf.state_label(name, language), "type": trace["type"],
                        "json_path": f"States.{name}", "choice": None, "steps": [], "caught": trace.get("caught")}
    chosen = trace.get("choice")
    if chosen is not None:
        i = chosen["rule"]
        out["choice"] = {"rule": i, "next": chosen["next"],
                         "matched": describe_rule(state.Choices[i]) if i is not None else None,
                         "json_path": f"States.{name}.Choices[{i}]" if i is not None else f"States.{name}.Default"}
    if state.Type == "Action":
        out["steps"] = [_step_text(s) for s in state.Steps]
    return out


def _step_text(step) -> dict:
    """An Action's step in the definition's own words: its kind, and what it names."""
    if hasattr(step, "SetFields"):
        return {"kind": "SetFields", "text": ", ".join(f"{k} = {v}" for k, v in step.SetFields.items())}
    if hasattr(step, "Dispatch"):
        return {"kind": "Dispatch", "text": step.Dispatch.get("Field", "assigned_engineer")}
    if hasattr(step, "EmitEvent"):
        return {"kind": "EmitEvent", "text": step.EmitEvent}
    if hasattr(step, "Signal"):
        return {"kind": "Signal", "text": " ".join(filter(None, [step.Signal.Event, step.Signal.Form, step.Signal.Key]))}
    if hasattr(step, "SendEmail"):
        return {"kind": "SendEmail", "text": f"{step.SendEmail.get('Template')} → {step.SendEmail.get('ToField')}"}
    if hasattr(step, "CreateRecord"):
        return {"kind": "CreateRecord", "text": str(step.CreateRecord.get("Form"))}
    return {"kind": type(step).__name__, "text": ""}


def _roster(tenant: str) -> dict:
    from .identity import roster
    return roster(tenant)


def _members(assignee: str, roster: dict) -> dict:
    kind, _, who = assignee.partition(":")
    if kind == "user":
        entry = roster.get(who)
        return {"members": [who] if entry is None or entry[0] else [], "members_more": 0}
    holders = sorted(u for u, (active, roles) in roster.items() if active and who in roles)
    return {"members": holders[:MAX_MEMBERS_SHOWN], "members_more": max(0, len(holders) - MAX_MEMBERS_SHOWN)}


def _timer(wf, timer, language: str) -> DryRunTimer:
    kind, _, deadline = timer.name.partition(":")
    label = deadline or timer.name
    if deadline:
        pool = wf.Deadlines if kind in ("sla", "slaremind") else getattr(wf.States.get(timer.state), "Deadlines", [])
        found = next((d for d in pool if d.Name == deadline), None)
        label = (found.text("Label", language) or deadline) if found is not None else deadline
    return {"name": timer.name, "kind": kind, "label": label, "state": timer.state, "due_at": timer.due_at}


def _effects(tenant: str, old, new, entry: dict, outcome, notes: list[dict], visible: set[str]) -> list[DryRunEffect]:
    out: list[DryRunEffect] = []
    for note in notes:
        out.append({"kind": "notification", "text": f"{note['kind']} → {note['to']}: {note['title']}", "detail": note})
    for mail in outcome.emails:
        out.append({"kind": "email", "text": f"e-mail '{mail.get('template')}' to {mail.get('to')}",
                    "detail": jsonutil.to_plain(dict(mail))})
    for event in outcome.events:
        kind = event.get("type")
        if event.get("custom"):
            out.append({"kind": "event", "text": f"event {kind}", "detail": dict(event)})
        elif kind == "workflow.signal":
            waiting = _waiting(tenant, event)
            where = f" of form {event['form']}" if event.get("form") else ""
            out.append({"kind": "signal", "text": f"signal {event['event']} (key {event['key']}) to the records{where} "
                                                  f"waiting for it: {waiting}{'+' if waiting >= MAX_WAITING_COUNTED else ''} now",
                        "detail": {**event, "waiting": waiting}})
        elif kind == "workflow.dispatched" and event.get("field") in visible:
            out.append({"kind": "dispatch", "text": f"dispatch picks {event.get('user')} for {event.get('field')}",
                        "detail": dict(event)})
        elif kind == "workflow.unassigned":
            out.append({"kind": "unassigned", "text": f"{event.get('state')} would have nobody assigned", "detail": dict(event)})
    for made in outcome.creates:
        out.append({"kind": "create_record", "text": f"a new {made['form']} record",
                    "detail": {"form": made["form"], "data": jsonutil.to_plain(made.get("data") or {})}})
    from ..integration import envelope
    event_type = envelope.event_type(entry)
    hooks = _webhooks(tenant, event_type, new.form)
    out.append({"kind": "outbound_event", "text": f"outbound event {event_type} (the event queue"
                                                  f"{f' and {len(hooks)} webhook(s)' if hooks else ''})",
                "detail": {"type": event_type, "webhooks": hooks}})
    return out


def _waiting(tenant: str, event: dict) -> int:
    from ..storage import workflow as store
    found = store.waiting_for(tenant, event["event"], event["key"], limit=MAX_WAITING_COUNTED)
    return len([w for w in found if not event.get("form") or w["form"] == event["form"]])


def _webhooks(tenant: str, event_type: str, form: str) -> list[str]:
    """The active webhooks whose subscription the step's event matches (their ids)."""
    from ..integration import envelope
    from ..storage import webhooks as hook_store
    probe = {"type": event_type, "form": form}
    return [h.id for h in hook_store.list_webhooks(tenant) if h.active and envelope.matches(probe, h.types, h.forms)]


__all__ = ["DryRun", "DryRunRequest", "dry_run"]
