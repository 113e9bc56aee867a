"""Workflow use cases: start on create, list/take actions (or dry-run them), history, the task
inbox, diagram data, and firing due timers. Every step is ONE transaction with the record."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from typing_extensions import NotRequired, TypedDict

from ..errors import AppError, BadRequest, Conflict, NotFound, ValidationFailed
from ..forms.definition import FormDefinition
from ..forms.engine import record_variables, validate_record
from ..storage import listing
from ..storage import records as record_store
from ..storage import workflow as store
# The workflow engine (chalicelib.workflow: ~30 ms of pydantic classes) is imported where used, so a
# cold start that serves a plain read does not pay for it.
from . import definitions
from .caller import ADMIN_ROLE, Caller
from .clock import utc_now
from .workflow_context import ServiceContext

from . import records as _records  # the module (it imports this one): its RecordOut is read when a schema is built

if TYPE_CHECKING:  # annotations only: the engine itself is imported where used (cold start)
    from ..workflow import Instance, Outcome, WorkflowDefinition

log = logging.getLogger("aftersales.workflow")
MAX_INBOX_PAGE = 100


# What the workflow routes answer: these are the functions' return types and the OpenAPI document's
# response schemas (api.openapi builds them with pydantic's TypeAdapter).
class ActionOffer(TypedDict):
    action: str
    label: str
    next: str
    requires: list[str]  # fields that must have a value after the action (the caller's visible ones)
    missing: list[str]  # of those, the ones empty now
    comment_required: bool
    editable: list[str]


class EditableNow(TypedDict):
    fields: list[str]
    comment_required: list[str]


class ActionList(TypedDict):
    record_id: str
    version: int
    state: str
    status: str
    assignees: list[str]
    actions: list[ActionOffer]
    editable: EditableNow


class RecordVersion(TypedDict):
    """The record after a step that moved it out of the caller's row rule."""
    id: str
    version: int


Transition = TypedDict("Transition", {"from": str, "to": str, "path": list[str], "events": list[dict[str, Any]]})


class ActionTaken(TypedDict):
    record: _records.RecordOut | RecordVersion
    transition: Transition
    dry_run: NotRequired[bool]


class Task(TypedDict):
    record_id: str
    form: str
    number: str | None
    state: str
    kind: str
    assignee: str  # "user:<id>" or "role:<role>"
    created_at: str
    due_at: str | None


class TaskPage(TypedDict):
    items: list[Task]
    next_cursor: str | None


def published_workflow(tenant: str, form_name: str) -> tuple[int, WorkflowDefinition] | None:
    """The workflow that new records of this form start (workflow name = form name), if any."""
    try:
        return definitions.published(tenant, "workflow", form_name)
    except NotFound:
        return None


def actor_variables(caller_or_none: Caller | None, now: str) -> dict:
    if caller_or_none is None:
        return {"$user": {"id": "system", "roles": [], "name": "scheduler"}, "$now": now, "$today": now[:10]}
    return caller_or_none.variables(now)


def start_for_create(caller: Caller, form: FormDefinition, data: dict, now: str, *, record_id: str | None = None):
    """(outcome, workflow) for a new record, or (None, None) when the form has no workflow.
    `record_id`: the new record's id, its `$id` ($number is null until the record is stored)."""
    found = published_workflow(caller.tenant, form.name)
    if found is None:
        return None, None
    from ..workflow import start
    version, wf = found
    variables = {**actor_variables(caller, now), **record_variables({"id": record_id})}
    outcome = start(wf, version, data, now, ServiceContext(caller.tenant, form), variables)
    return outcome, wf


def history_entry(kind: str, actor: str, *, action: str | None = None, from_state: str | None = None,
                  outcome=None, changed: list[str] | None = None, comment: str = "") -> dict:
    entry: dict[str, Any] = {"kind": kind, "actor": actor, "changed_fields": changed or []}
    if action:
        entry["action"] = action
    if comment:
        entry["comment"] = comment
    if outcome is not None:
        entry.update({"from": from_state, "to": outcome.instance.state, "path": outcome.path,
                      "status": outcome.instance.status, "events": outcome.events,
                      "notifications": outcome.notifications, "emails": outcome.emails})
    return entry


def _load(caller: Caller, form_name: str, record_id: str):
    rec, form, inst = load_running(caller, form_name, record_id)
    return rec, form, inst, definitions.version_of(caller.tenant, "workflow", inst.workflow, inst.version)


def load_running(caller: Caller, form_name: str, record_id: str):
    """(record, its form version, its workflow instance) of a record the caller may read (404 as if
    it did not exist otherwise, or when it has no workflow); read consistently."""
    from ..workflow import Instance
    from .records import access_for, load_visible
    _published, published_form = definitions.published(caller.tenant, "form", form_name)
    rec = load_visible(access_for(caller, published_form), caller.tenant, form_name, record_id, consistent=True)
    if not rec.workflow:
        raise NotFound(f"{form_name} record {record_id} has no workflow")
    form = definitions.version_of(caller.tenant, "form", form_name, rec.form_version)
    return rec, form, Instance.from_dict(rec.workflow)


def running(tenant: str, rec):
    """(instance, workflow definition version) of a record that has a workflow; no read if cached."""
    from ..workflow import Instance
    inst = Instance.from_dict(rec.workflow)
    return inst, definitions.version_of(tenant, "workflow", inst.workflow, inst.version)


def list_actions(caller: Caller, form_name: str, record_id: str) -> ActionList:
    from ..workflow import available_actions
    _published, published_form = definitions.published(caller.tenant, "form", form_name)
    caller.require_any(published_form.permissions.read, f"reading {form_name} records")
    rec, form, inst, wf = _load(caller, form_name, record_id)
    now = utc_now()
    actions = available_actions(wf, inst, rec.data, caller.user_id, caller.roles, ADMIN_ROLE in caller.roles,
                                {**caller.variables(now), **record_variables(rec)}, language=caller.language)
    from .records import access_for
    visible = access_for(caller, published_form).visible_fields(rec.data)
    for a in actions:  # an action's field lists name only fields this caller may see
        for key in ("requires", "missing", "editable"):
            a[key] = [f for f in a.get(key) or [] if f in visible]
    return {"record_id": record_id, "version": rec.version, "state": inst.state, "status": inst.status,
            "assignees": [t.assignee for t in inst.tasks], "actions": actions,
            "editable": editable_now(caller, wf, inst, rec.data, visible)}


CAPACITY_RETRIES = 2  # a Dispatch step whose engineer's day filled meanwhile dispatches again


def act(caller: Caller, form_name: str, record_id: str, action: str, body: Any, *, dry_run: bool = False,
        op: tuple[str, str] | None = None, dispatched: dict[str, int] | None = None) -> ActionTaken:
    """Take a workflow action. `dispatched` = {engineer: daily capacity} when the caller (batch
    dispatch) chose the engineer in `body.data`: the assignment must still fit that day when written."""
    for attempt in range(CAPACITY_RETRIES + 1):
        try:
            return _act(caller, form_name, record_id, action, body, dry_run=dry_run, op=op, dispatched=dispatched)
        except Conflict as exc:  # nothing was written: the step re-ranks with the day's new counts
            if exc.code != "capacity_reached" or dispatched or attempt == CAPACITY_RETRIES:
                raise
    raise AssertionError("unreachable")


def _act(caller: Caller, form_name: str, record_id: str, action: str, body: Any, *, dry_run: bool,
         op: tuple[str, str] | None, dispatched: dict[str, int] | None) -> ActionTaken:
    _published, published_form = definitions.published(caller.tenant, "form", form_name)
    caller.require_any(published_form.permissions.read, f"reading {form_name} records")
    if not isinstance(body, dict):
        raise ValidationFailed("body must be an object", details=[{"path": "", "message": "expected object"}])
    unknown = set(body) - {"version", "data", "comment", "delegate_to"}
    if unknown:
        raise ValidationFailed("unknown keys in body", details=[{"path": k, "message": "unknown key"} for k in sorted(unknown)])
    expected = body.get("version")
    if not isinstance(expected, int) or isinstance(expected, bool):
        raise ValidationFailed("the record version you acted on is required", code="version_required",
                               details=[{"path": "version", "message": "required integer"}])
    if body.get("data") is not None and not isinstance(body.get("data"), dict):
        raise ValidationFailed("data must be an object of field values", details=[{"path": "data", "message": "expected object"}])
    delegate_to = body.get("delegate_to")
    if delegate_to is not None:
        from ..forms.values import USER_ID_RE
        if not isinstance(delegate_to, str) or not USER_ID_RE.fullmatch(delegate_to):
            raise ValidationFailed("delegate_to must be a user id", details=[{"path": "delegate_to", "message": "expected a user id"}])
    comment = body.get("comment") or ""
    if not isinstance(comment, str) or len(comment) > 2000:
        raise ValidationFailed("comment must be text of at most 2000 characters", details=[{"path": "comment", "message": "invalid"}])
    rec, form, inst, wf = _load(caller, form_name, record_id)
    if rec.version != expected:
        raise Conflict("record was changed by someone else", code="version_conflict",
                       details={"current_version": rec.version, "state": inst.state})
    step = plan_action(caller, published_form, rec, form, inst, wf, action, patch=body.get("data") or {},
                       comment=comment, delegate_to=delegate_to, now=utc_now())
    outcome, new, entry, ctx, result = step.outcome, step.new, step.entry, step.ctx, step.result
    if dry_run:
        related_creates(caller.tenant, outcome.creates, new, numbered=False)  # validated as the real step would be
        return {**result, "dry_run": True}
    plan = plan_for(caller.tenant, form, rec, new, entry, creates=outcome.creates,
                     dispatched={**ctx.dispatched, **(dispatched or {})})
    if action == "delegate" and delegate_to:
        # the new approver must be an active member: checked in the same transaction
        from ..forms.engine import Reference
        from ..storage import keys as storage_keys
        from ..storage.models import MemberItem
        condition = MemberItem.pk.exists() & (MemberItem.active == True)  # noqa: E712
        if outcome.delegate_roles:  # the rule names them by role: they must hold it (separation of duties)
            held = None
            for role in outcome.delegate_roles:
                held = MemberItem.roles.contains(role) if held is None else held | MemberItem.roles.contains(role)
            condition = condition & held
        plan.extra.append(("check", (MemberItem, storage_keys.member_pk(caller.tenant, delegate_to), "M"), condition,
                           Reference("user", delegate_to, role=outcome.delegate_roles[0] if outcome.delegate_roles else None,
                                     path="delegate_to")))
    if op:  # offline sync: applied once however often the operation is replayed
        plan.idempotency, plan.idempotency_scope, plan.idempotent_response = op, record_store.SYNC_SCOPE, result
    return record_store.update_record(new, expected, plan) or result


@dataclass
class PlannedStep:
    """What an action on a record would do, nothing written: the engine's outcome, the record after it
    (and which fields changed), its history entry, the engine's context (who dispatch chose) and the
    answer the action route gives."""
    outcome: Outcome
    new: record_store.StoredRecord
    changed: list[str]
    entry: dict
    ctx: ServiceContext
    result: dict


def plan_action(caller: Caller, published_form: FormDefinition, rec, form: FormDefinition, inst: Instance,
                wf: WorkflowDefinition, action: str, *, patch: dict, comment: str, delegate_to: str | None,
                now: str) -> PlannedStep:
    """The step `caller` takes with `action` on `rec` (resting in `inst` of `wf`), planned: the action's
    data checked as a write of the caller's (field grants, managed fields, the form, the state's edit
    rules), then the pure engine's take_action. Raises what the action route answers (403 not yours,
    409 not available now, 422 required fields or bad data); writes nothing. The action route writes
    the plan; a dry run (services.workflow_dry_run, possibly on a draft `wf`) describes it."""
    from ..workflow import take_action
    from .records import access_for, render_for
    variables = {**caller.variables(now), **record_variables(rec)}
    data = rec.data
    if patch:
        access_for(caller, published_form).require_writable(patch, rec.data)
        from .fieldwork import guard_managed
        guard_managed(caller.tenant, rec.form, patch)
        with access_for(caller, published_form).hiding(rec.data, patch):
            # rec.data was validated by this version (form = the record's version): an incremental check
            validated = validate_record(form, patch, previous=rec.data, variables=variables, previous_checked=True)
        # the state's edit rules judge what the action's data changes (an unchanged echo is no edit)
        check_editable(caller, wf, inst, {k: patch[k] for k in patch if k in set(validated.changed_fields)},
                       record_data=rec.data, comment=comment)
        data = validated.data
    ctx = ServiceContext(caller.tenant, form)
    with access_for(caller, published_form).hiding(rec.data, patch):  # e.g. "missing: <hidden field>" stays unnamed
        outcome = take_action(wf, inst, data, action, user_id=caller.user_id, roles=caller.roles,
                              is_admin=ADMIN_ROLE in caller.roles, now=now, ctx=ctx, variables=variables,
                              comment=comment, delegate_to=delegate_to)
    new, changed = next_record(rec, form, outcome, now, caller.user_id)
    entry = history_entry("action", caller.user_id, action=action, from_state=inst.state, outcome=outcome,
                          changed=changed, comment=comment)
    access = access_for(caller, published_form)
    shown = render_for(access, new) if access.row_visible(new.data) else {"id": new.id, "version": new.version}
    result = {"record": shown, "transition": {"from": inst.state, "to": outcome.instance.state,
                                              "path": outcome.path, "events": outcome.events}}
    return PlannedStep(outcome, new, changed, entry, ctx, result)


def next_record(rec, form: FormDefinition, outcome, now: str, actor: str):
    """The record after a workflow step: data re-validated (computed fields follow SetFields),
    version + 1, the new instance; plus the names of the fields that changed."""
    validated = validate_record(form, {}, previous=outcome.data, system=True, record=rec)
    new = record_store.StoredRecord(**{**rec.__dict__, "data": validated.data, "version": rec.version + 1,
                                       "updated_at": now, "updated_by": actor, "workflow": outcome.instance.to_dict()})
    changed = sorted(k for k in set(rec.data) | set(new.data) if rec.data.get(k) != new.data.get(k))
    return new, changed


def plan_for(tenant: str, form: FormDefinition, old, new, entry: dict, fired: tuple[str, str] | None = None,
             creates: list[dict] | None = None, dispatched: dict[str, int] | None = None, notify: bool = True):
    """The transaction of a record moved from `old` to `new` (a workflow step, or another service's write
    of a running record: an upload, a survey answer, a migration): the record, its history entry, its
    tasks/timers/waits and (`notify`) their notices; `fired` the timer it consumes, `creates` the
    records a step makes, `dispatched` the load counters an automatic dispatch moves."""
    from .records import record_plan, reference_diff, unique_diff
    plan = record_plan(form, new.data, tenant)
    linked = {c["id"] for c in creates or [] if c.get("id")}  # an IdField names a record this transaction makes
    plan.references = [r for r in reference_diff(form, old.data, new.data) if r.target not in linked]
    plan.unique_claims, plan.unique_releases = unique_diff(form, old.data, new.data)
    from .dispatch import assignment_changes
    from .effects import step_effects
    # outbox mail + notifications, same transaction
    effect_ops, made = step_effects(tenant, old, new, entry) if notify else ([], [])
    plan.extra = [store.history_put(tenant, new.form, new.id, new.version, new.updated_at, {**entry, "notifications": made},
                                    new.data),
                  *store.workflow_changes(tenant, new.form, new.id, new.number, old.workflow, new.workflow, fired),
                  *related_creates(tenant, creates or [], new), *effect_ops,
                  *assignment_changes(tenant, form, new.id, old.data, new.data, new.updated_at, dispatched)]
    return plan


def step_variables(caller: Caller, rec, now: str) -> dict:
    """Expression variables of a step taken on `rec` by `caller` ($user, $now, $today, $id, $number)."""
    return {**actor_variables(caller, now), **record_variables(rec)}


MAX_CREATE_DEPTH = 3  # a created record's workflow may create records too, this many levels deep


def related_creates(tenant: str, creates: list[dict], source, depth: int = 1, *, numbered: bool = True) -> list[tuple]:
    """Records a workflow's CreateRecord steps make, validated by their own form and started on their
    own form's workflow, written in the same transaction as the step (a failed step leaves no orphan).
    An auto-numbered form's record draws its number here, before the transaction, as an API create
    does (a transaction that then fails leaves that number a gap); `numbered=False` (a dry run) draws none."""
    from ..ids import new_id
    from .records import number_formatter, record_plan
    ops: list[tuple] = []
    if creates and depth > MAX_CREATE_DEPTH:
        raise ValidationFailed(f"CreateRecord steps nest deeper than {MAX_CREATE_DEPTH} levels",
                               details=[{"path": "CreateRecord", "message": "too deep"}])
    for spec in creates:
        try:
            version, target = definitions.published(tenant, "form", spec["form"])
        except NotFound as exc:
            raise ValidationFailed(f"CreateRecord: form '{spec['form']}' does not exist",
                                   details=[{"path": "CreateRecord.Form", "message": "no published form"}]) from exc
        # $id of the new record (chosen by the step when its IdField keeps it); $number: none, as on an API create
        identity = {"id": spec.get("id") or new_id(), "number": None}
        try:
            validated = validate_record(target, spec["data"], system=True, record=identity)
        except ValidationFailed as exc:
            raise ValidationFailed(f"CreateRecord: the new {spec['form']} record is invalid",
                                   details=[{**d, "path": f"CreateRecord.{d['path']}"} for d in exc.details or []]) from exc
        now = source.updated_at
        outcome, nested = None, []
        found = published_workflow(tenant, spec["form"])
        if found is not None:  # the new record starts its own form's workflow, as an API create would
            from ..workflow import start
            wf_version, wf = found
            outcome = start(wf, wf_version, validated.data, now, ServiceContext(tenant, target),
                            {**actor_variables(None, now), **record_variables(identity)})
            validated = validate_record(target, {}, previous=outcome.data, system=True, record=identity)
            nested = outcome.creates
        data = validated.data
        numbering = number_formatter(target, now)
        if numbering and numbered:
            period, format_number, field_name = numbering
            identity["number"] = format_number(record_store.take_number(record_store.counter_key(tenant, spec["form"], period)))
            data = {**data, field_name: identity["number"]}
        rec = record_store.StoredRecord(tenant=tenant, id=identity["id"], form=spec["form"], form_version=version, version=1,
                                       data=data, created_at=now, created_by="workflow",
                                       updated_at=now, updated_by="workflow", number=identity["number"],
                                       workflow=outcome.instance.to_dict() if outcome else None)
        plan = record_plan(target, data, tenant)
        plan.unique_claims, plan.references = dict(validated.unique_values), validated.references
        ops += record_store.related_create_ops(rec, plan)
        ops.append(store.history_put(tenant, rec.form, rec.id, 1, rec.created_at,
                                     history_entry("create", "workflow", from_state=None, outcome=outcome,
                                                   changed=sorted(rec.data), comment=f"created by {source.form} {source.id}"),
                                     rec.data))
        ops += store.workflow_changes(tenant, rec.form, rec.id, rec.number, None, rec.workflow)
        ops += related_creates(tenant, nested, rec, depth + 1)
    return ops


def check_editable(caller: Caller, wf: WorkflowDefinition, inst: Instance, patch: dict, *,
                   record_data: dict | None = None, comment: str | None = None) -> bool:
    """What may change, and by whom, in the state the record rests in — in EVERY state, running or
    finished: the state's edit rules (a Task's `Editable` = its assignees may edit those fields; any
    resting state's `Edits` name fields for its assignees, roles or the users in user fields). A state
    that names nothing allows nothing; automatic states and stopped workflows allow nothing. Admins
    get only what a rule grants the admin role (e.g. a correction of a closed order, with a comment).
    Returns True when the write is a correction outside a running workflow (history marks it)."""
    from ..errors import Forbidden
    if not patch:
        return False
    task_keys = {t.assignee for t in inst.tasks} if inst.status == "running" else set()
    mine = {f"user:{caller.user_id}"} | {f"role:{r}" for r in caller.roles}
    usable = _usable_edit_rules(caller, wf, inst, record_data or {})
    if not usable and task_keys & mine:  # an assignee, but this state lets them edit none of these
        raise Forbidden(f"these fields are not editable in state {inst.state}", code="field_not_editable",
                        details=[{"path": f"data.{f}", "message": f"not editable in {inst.state}"} for f in sorted(patch)])
    if not usable:
        if task_keys:
            raise_forbidden(f"only the assignees of {inst.state} may edit this record now")
        raise Forbidden(f"nothing on this record can be edited by you in state {inst.state}"
                        + ("" if inst.status == "running" else f" (the workflow has {inst.status})"),
                        code="record_locked", details=[{"path": f"data.{f}", "message": f"not editable in {inst.state}"}
                                                       for f in sorted(patch)])
    locked = sorted(f for f in patch if not any(f in r.Fields for r in usable))
    if locked:
        raise Forbidden(f"these fields are not editable in state {inst.state}", code="field_not_editable",
                        details=[{"path": f"data.{f}", "message": f"not editable in {inst.state}"} for f in locked])
    needs_comment = [f for f in patch if all(r.CommentRequired for r in usable if f in r.Fields)]
    if needs_comment and not (comment or "").strip():
        raise ValidationFailed(f"changing {', '.join(sorted(needs_comment))} in state {inst.state} needs a comment",
                               code="comment_required", details=[{"path": "comment", "message": "is required for this change"}])
    return inst.status != "running"


def _usable_edit_rules(caller: Caller, wf: WorkflowDefinition, inst: Instance, data: dict) -> list:
    """The edit rules of the record's state that admit this caller."""
    state = wf.States.get(inst.state)
    rules = list(getattr(state, "edit_rules", [])) if state is not None else []
    task_keys = {t.assignee for t in inst.tasks} if inst.status == "running" else set()
    mine = {f"user:{caller.user_id}"} | {f"role:{r}" for r in caller.roles}
    return [r for r in rules if r.Assignees and task_keys & mine or r.Roles and set(r.Roles) & set(caller.roles)
            or r.UserFields and any(data.get(f) == caller.user_id for f in r.UserFields)]


def editable_now(caller: Caller, wf: WorkflowDefinition, inst: Instance, data: dict, visible: set[str]) -> EditableNow:
    """What the caller may edit in the record's state (for clients drawing the form): fields, and
    those whose change needs a comment. Hidden fields are left out."""
    usable = _usable_edit_rules(caller, wf, inst, data)
    fields = {f for r in usable for f in r.Fields if f in visible}
    needs = {f for f in fields if all(r.CommentRequired for r in usable if f in r.Fields)}
    return {"fields": sorted(fields), "comment_required": sorted(needs)}


def raise_forbidden(message: str) -> None:
    from ..errors import Forbidden
    raise Forbidden(message, code="not_assignee")


def history(caller: Caller, form_name: str, record_id: str, after: str | None) -> dict:
    from ..errors import parse_count
    from .records import access_for, load_visible
    _published, form = definitions.published(caller.tenant, "form", form_name)
    caller.require_any(form.permissions.read, f"reading {form_name} records")
    access = access_for(caller, form)
    rec = load_visible(access, caller.tenant, form_name, record_id)
    after_seq = parse_count(after, "query.after") if after else None
    entries = store.list_history(caller.tenant, record_id, limit=100, after=after_seq)
    visible = access.visible_fields(rec.data)
    return {"items": [_masked_entry(e, visible) for e in entries],
            "next_after": entries[-1]["seq"] if len(entries) == 100 else None}


def _masked_entry(entry: dict, visible: set[str]) -> dict:
    """History names fields and may carry values (e.g. who was dispatched): hidden fields stay hidden."""
    out = {**entry, "changed_fields": [f for f in entry.get("changed_fields", []) if f in visible]}
    if "values" in entry:
        out["values"] = {f: v for f, v in entry["values"].items() if f in visible}
    if "events" in entry:
        out["events"] = [e for e in entry["events"] if e.get("field") is None or e.get("field") in visible]
    return out


def inbox(caller: Caller, params: dict) -> TaskPage:
    from ..errors import parse_count
    limit = parse_count(params["limit"], "query.limit") if "limit" in params else 25
    if not 1 <= limit <= MAX_INBOX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_INBOX_PAGE}", details=[{"path": "query.limit", "message": "out of range"}])
    assignees = sorted({f"user:{caller.user_id}"} | {f"role:{r}" for r in caller.roles})
    query_id = f"inbox:{caller.tenant}:{','.join(assignees)}"
    positions = listing.decode_positions(params["cursor"], query_id, set(assignees)) if params.get("cursor") else {a: "" for a in assignees}
    fetched = {a: store.inbox_page(caller.tenant, a, pos or None, limit) for a, pos in positions.items() if pos is not None}
    merged = sorted(((t["_lsk"], a, t) for a, (items, _) in fetched.items() for t in items), key=lambda x: x[0])[:limit]
    taken: dict[str, list[str]] = {}
    for lsk, a, _t in merged:
        taken.setdefault(a, []).append(lsk)
    next_positions = dict(positions)
    for a, (items, more_after) in fetched.items():
        took = taken.get(a, [])
        if len(took) == len(items):
            next_positions[a] = more_after
        elif took:
            next_positions[a] = took[-1]
    # One entry per task: a record waiting for me and for my role shows both (each says its assignee),
    # which keeps pages exact — no task is skipped or repeated across pages.
    tasks = [{k: v for k, v in t.items() if k != "_lsk"} for _lsk, _a, t in merged]
    tasks = _visible_tasks(caller, tasks)
    more = any(p is not None for p in next_positions.values())
    return {"items": tasks, "next_cursor": listing.encode_positions(next_positions, query_id) if more else None}


def _visible_tasks(caller: Caller, tasks: list[Task]) -> list[Task]:
    """Row rules apply to the inbox too: a task on a record the caller may not read is not shown
    (one BatchGetItem for the page's records)."""
    from ..storage.listing import get_records
    from .records import access_for
    if not tasks or ADMIN_ROLE in caller.roles:
        return tasks
    records = {r.id: r for r in get_records(caller.tenant, list(dict.fromkeys(t["record_id"] for t in tasks)))}
    access_by_form: dict[str, Any] = {}
    shown = []
    for task in tasks:
        rec = records.get(task["record_id"])
        if rec is None:
            continue
        if rec.form not in access_by_form:
            try:
                access_by_form[rec.form] = access_for(caller, definitions.published(caller.tenant, "form", rec.form)[1])
            except NotFound:
                access_by_form[rec.form] = None
        access = access_by_form[rec.form]
        if access is not None and access.row_visible(rec.data):
            shown.append(task)
    return shown


def diagram(caller: Caller, name: str, version: int | None) -> dict:
    """States and transitions of a workflow: for admins, and for who may read the records it runs on
    (the form of the same name) — the console draws it on boards and record pages."""
    try:
        _v, form = definitions.published(caller.tenant, "form", name)
    except NotFound:
        form = None
    if ADMIN_ROLE not in caller.roles:
        caller.require_any(form.permissions.read if form is not None else (ADMIN_ROLE,), "viewing workflow diagrams")
    if version is None:
        version, wf = definitions.published(caller.tenant, "workflow", name)
    else:
        wf = definitions.version_of(caller.tenant, "workflow", name, version)
    from . import records
    hidden = records.access_for(caller, form).hidden_everywhere() if form is not None else set()
    return diagram_of(wf, name, version, caller.language, hidden)


def diagram_of(wf: WorkflowDefinition, name: str, version: int, language: str, hidden: set[str]) -> dict:
    """A workflow's states and transitions as the console draws them (also a designer's draft preview)."""
    return {"workflow": name, "version": version, "start": wf.StartAt,
            "states": [{"name": n, "label": wf.state_label(n, language), "type": s.Type, "comment": s.Comment,
                        **_state_rules(s, language, hidden)}
                       for n, s in wf.States.items()],
            "edges": [{"from": a, "to": b, "label": label, "text": _edge_text(wf, a, label, language)}
                      for a, b, label in wf.edges]}


def _state_rules(state, language: str, hidden: set[str]) -> dict:
    """What a resting state offers, as an offline device needs it to work on ahead of the server: its
    actions (label, next state, required fields, comment) and who may edit which fields there (fields
    the reader may not see left out). The server still decides when the work arrives."""
    out: dict[str, Any] = {}
    actions = getattr(state, "Actions", None)
    if actions:
        out["actions"] = [{"action": key, "label": a.text("Label", language) or key, "next": a.Next,
                           "requires": [f for f in a.Requires if f not in hidden], "comment_required": a.CommentRequired,
                           "conditional": a.Condition is not None} for key, a in actions.items()]
    rules = getattr(state, "edit_rules", None)
    if rules is not None:
        out["edits"] = [{"fields": [f for f in r.Fields if f not in hidden], "assignees": r.Assignees, "roles": r.Roles,
                         "user_fields": r.UserFields, "comment_required": r.CommentRequired} for r in rules]
    return out


def _edge_text(wf, source: str, label: str, language: str) -> str:
    """What a person reads on a diagram edge: the action's label, a deadline's label, else the edge's kind."""
    kind, _, key = label.partition(":")
    if kind == "action":
        return wf.States[source].Actions[key].text("Label", language) or key
    if kind in ("deadline", "sla"):
        deadlines = list(wf.Deadlines) if kind == "sla" else list(getattr(wf.States[source], "Deadlines", []))
        return next((d.text("Label", language) or d.Name for d in deadlines if d.Name == key), key)
    if kind == "event":
        return key  # the event's name (part_arrived)
    return label


def fire_due_timers(now: str | None = None, page_size: int = 100, budget_seconds: float = 45.0) -> dict:
    """Scheduled Lambda body: fire every due timer, page by page, within a time budget (what is left
    waits for the next minute's run). Safe to run twice at once and to retry: a timer is consumed
    only by the transaction that also moves its record (conditions on both)."""
    import time as _time
    from ..expressions.budget import expression_budget
    now = now or utc_now()
    stop_at = _time.monotonic() + budget_seconds
    fired = skipped = failed = 0
    for shard in range(store.TIMER_SHARDS):
        for due in _due_pages(shard, now, page_size, stop_at):
            try:
                with expression_budget(fresh=True):  # per timer: one bad record does not stop the run
                    done = _fire_one(due, now)
                fired += done
                skipped += not done
            except Conflict as exc:
                if exc.code in ("version_conflict", "transaction_conflict", "write_contention") or exc.code is None:
                    skipped += 1  # someone else moved the record or fired this timer first
                else:
                    failed += 1
                    _timer_incident(due, now, exc.code, _reason(exc))
            except AppError as exc:
                failed += 1
                _timer_incident(due, now, exc.code or type(exc).__name__, _reason(exc))
            except Exception as exc:  # noqa: BLE001 - one broken record must not stop the run, nor fail unseen
                failed += 1
                log.exception("timer %s on %s raised", due["name"], due["record_id"])
                _timer_incident(due, now, "internal_error", f"{type(exc).__name__}: {exc}")
    return {"fired": fired, "skipped": skipped, "failed": failed}


# A failed firing is an incident on the record: kept on the timer item (step, reason, since when, how
# often), retried later and later — never every minute forever, never silently — until it fires, an
# admin retries it or an admin dismisses it.
INCIDENT_BACKOFF_SECONDS = (60, 300, 900, 3600, 6 * 3600)


def _reason(exc: AppError) -> str:
    """The error's message and its details' paths (which field of which step): what the admin fixes."""
    details = exc.details if isinstance(exc.details, list) else []
    parts = [f"{d.get('path') or '-'}: {d.get('message')}" for d in details[:5] if isinstance(d, dict)]
    return exc.message + (" (" + "; ".join(parts) + ")" if parts else "")


def _timer_incident(due: dict, now: str, code: str, message: str) -> None:
    from datetime import datetime, timedelta
    failures = int(due.get("failures") or 0) + 1
    wait = INCIDENT_BACKOFF_SECONDS[min(failures, len(INCIDENT_BACKOFF_SECONDS)) - 1]
    moment = datetime.fromisoformat(now.replace("Z", "+00:00")) + timedelta(seconds=wait)
    next_try = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    log.error("timer %s on %s failed (%d time(s), next try %s): %s %s", due["name"], due["record_id"], failures,
              next_try, code, message)
    store.timer_failed(due["tenant"], due["record_id"], due["name"], due["armed_at"], now, next_try, code, message)


class Incident(TypedDict):
    source: str  # "timer"
    name: str  # the timer: "sla:<name>", "deadline:<name>", "wait:<state>"…
    state: str  # the state the record rests in
    due_at: str
    failures: int
    failed_since: str
    last_failed_at: str
    next_try_at: str
    error: dict


def incidents(caller: Caller, form_name: str, record_id: str) -> dict:
    """The record's open incidents (a timer whose step failed), for whoever may read the record."""
    rec, _form, inst, _wf = _load(caller, form_name, record_id)
    items: list[Incident] = [
        {"source": "timer", "name": t["name"], "state": inst.state, "due_at": t["due_at"], "failures": t["failures"],
         "failed_since": t["failed_since"], "last_failed_at": t["last_failed_at"], "next_try_at": t["next_try_at"],
         "error": t["error"]} for t in store.record_timers(caller.tenant, rec.id) if t["failures"]]
    return {"items": items}


def _incident_timer(caller: Caller, form_name: str, record_id: str, name: str):
    if ADMIN_ROLE not in caller.roles:
        from ..errors import Forbidden
        raise Forbidden("only an admin may retry or dismiss an incident", code="admin_only")
    rec, form, inst, wf = _load(caller, form_name, record_id)
    stored = next((t for t in store.record_timers(caller.tenant, rec.id) if t["name"] == name), None)
    if stored is None or not stored["failures"]:
        raise NotFound(f"no incident {name} on this record", details=[{"path": "name", "message": "no failed timer of that name"}])
    return rec, form, inst, wf, stored


def retry_incident(caller: Caller, form_name: str, record_id: str, name: str) -> dict:
    """Fire the failed timer now (an admin's retry): the step's outcome, or its error again (recorded)."""
    rec, _form, _inst, _wf, stored = _incident_timer(caller, form_name, record_id, name)
    now = utc_now()
    due = {"tenant": caller.tenant, "record_id": rec.id, "form": rec.form, "name": name, "due_at": stored["due_at"],
           "armed_at": stored["armed_at"], "failures": stored["failures"]}
    from ..expressions.budget import expression_budget
    try:
        with expression_budget(fresh=True):
            fired = _fire_one(due, now)
    except AppError as exc:
        if not (isinstance(exc, Conflict) and exc.code in ("version_conflict", "transaction_conflict")):
            _timer_incident(due, now, exc.code or type(exc).__name__, _reason(exc))
        raise
    return {"fired": fired, "record": _records.get(caller, form_name, record_id)}


def dismiss_incident(caller: Caller, form_name: str, record_id: str, name: str, body: Any) -> dict:
    """Move the record on without the failed timer: the timer is dropped (the record stays where it
    is, its other timers and tasks untouched), with the admin's comment in the history."""
    comment = (body or {}).get("comment") if isinstance(body, dict) else None
    if not isinstance(comment, str) or not comment.strip():
        raise ValidationFailed("dismissing an incident needs a comment", code="comment_required",
                               details=[{"path": "comment", "message": "is required"}])
    rec, form, inst, wf, stored = _incident_timer(caller, form_name, record_id, name)
    now = utc_now()
    workflow = dict(rec.workflow)
    workflow["timers"] = [t for t in workflow.get("timers", []) if t.get("name") != name]
    new = record_store.StoredRecord(**{**rec.__dict__, "version": rec.version + 1, "updated_at": now,
                                       "updated_by": caller.user_id, "workflow": workflow})
    entry = history_entry("incident", caller.user_id, comment=comment.strip())  # the timer: entry["incident"]["name"]
    entry["incident"] = {"name": name, "failures": stored["failures"], "error": stored["error"]}
    plan = plan_for(caller.tenant, form, rec, new, entry, fired=(name, stored["armed_at"]))
    record_store.update_record(new, rec.version, plan)
    return {"dismissed": name, "record": _records.get(caller, form_name, record_id)}


def _due_pages(shard: int, now: str, page_size: int, stop_at: float):
    import time as _time
    start = None
    while _time.monotonic() < stop_at:
        items, start = store.due_timers(shard, now, page_size, start)
        yield from items
        if start is None:
            return


def _fire_one(due: dict, now: str) -> bool:
    from ..workflow import Instance, fire_timer
    from .records import read_record as load_record
    try:
        rec = load_record(due["tenant"], due["form"], due["record_id"], consistent=True)
    except NotFound:
        rec = None
    inst = Instance.from_dict(rec.workflow) if rec and rec.workflow else None
    outcome = None
    if inst is not None:
        form = definitions.version_of(due["tenant"], "form", due["form"], rec.form_version)
        wf = definitions.version_of(due["tenant"], "workflow", inst.workflow, inst.version)
        live = next((t for t in inst.timers if t.name == due["name"] and t.armed_at == due["armed_at"]), None)
        if live is not None:
            ctx = ServiceContext(due["tenant"], form)
            outcome = fire_timer(wf, inst, rec.data, due["name"], now, ctx,
                                 {**actor_variables(None, now), **record_variables(rec)})
    if outcome is None:  # stale: the state was left or the record is gone; drop the leftover item
        from ..storage.models import TimerItem
        from ..storage import keys
        try:
            TimerItem(keys.record_pk(due["tenant"], due["record_id"]), f"TIMER#{due['name']}").delete(
                condition=TimerItem.armed_at == due["armed_at"])
        except Exception:  # already gone
            pass
        return False
    new, changed = next_record(rec, form, outcome, now, "system")
    entry = history_entry("timer", "system", action=due["name"], from_state=inst.state, outcome=outcome, changed=changed)
    plan = plan_for(due["tenant"], form, rec, new, entry, fired=(due["name"], due["armed_at"]), creates=outcome.creates,
                     dispatched=ctx.dispatched)
    record_store.update_record(new, rec.version, plan)
    return True


# ---- events that move records ------------------------------------------------------------------

EVENT_SCOPE = "_event"  # delivery markers (idempotency items); no form name starts with "_"
EVENT_MARK_SECONDS = 30 * 86400  # a redelivery within this long is a duplicate, later an unknown key


def event_delivery_id(event: str, key: str, payload: Any, given: Any = None) -> str:
    """The delivery's identity: the sender's id when it gives one, else a digest of what it sent."""
    import hashlib
    from .. import jsonutil
    if isinstance(given, str) and given.strip():
        return f"id.{hashlib.sha256(given.strip().encode()).hexdigest()[:40]}"
    body = jsonutil.dumps({"event": event, "key": key, "data": payload}, canonical=True)
    return f"sha.{hashlib.sha256(body.encode()).hexdigest()[:40]}"


def deliver_event(tenant: str, event: str, key: str, payload: dict, actor: str, delivery_id: str,
                  form_name: str | None = None) -> dict:
    """Move every record that waits for `event` with correlation `key` (a Wait state's Events), each
    in its own transaction with its waiting item and a delivery marker. Exactly once: a record takes
    the event only while it still waits for it at the version read; a redelivery finds nothing
    waiting and the marker, so it is a duplicate. {"delivered": [ids], "duplicate": bool}; NotFound
    when nothing waits and this delivery was never seen (an unknown correlation key)."""
    from ..storage.models import IdempotencyItem
    from ..storage import keys as storage_keys
    from ..workflow.engine import receive_event
    import time
    now = utc_now()
    marker = storage_keys.idempotency_pk(tenant, EVENT_SCOPE, delivery_id)
    delivered = []
    for waiting in store.waiting_for(tenant, event, key):
        if form_name is not None and waiting["form"] != form_name:
            continue
        rec = record_store.get_record(tenant, waiting["record_id"], consistent=True)
        if rec is None or rec.deleted or not rec.workflow:
            continue
        inst, wf = running(tenant, rec)
        form = definitions.version_of(tenant, "form", rec.form, rec.form_version)
        ctx = ServiceContext(tenant, form)
        outcome = receive_event(wf, inst, rec.data, event, key, payload, now, ctx,
                                {**actor_variables(None, now), **record_variables(rec)})
        if outcome is None:
            continue  # moved on meanwhile
        new, changed = next_record(rec, form, outcome, now, actor)
        entry = history_entry("event", actor, action=event, from_state=inst.state, outcome=outcome, changed=changed)
        plan = plan_for(tenant, form, rec, new, entry, creates=outcome.creates, dispatched=ctx.dispatched)
        plan.extra.append(("put", IdempotencyItem(marker, "K", request_hash=delivery_id, status_code=200,
                                                  response="{}", expires_at=int(time.time()) + EVENT_MARK_SECONDS),
                           None, "event-delivery"))
        record_store.update_record(new, rec.version, plan)  # Conflict (a concurrent copy moved it): SQS retries
        delivered.append(rec.id)
    if delivered:
        return {"delivered": delivered, "duplicate": False}
    try:
        IdempotencyItem.get(marker, "K", consistent_read=True)
        return {"delivered": [], "duplicate": True}
    except IdempotencyItem.DoesNotExist:
        where = f" of form {form_name}" if form_name else ""
        raise NotFound(f"no record{where} waits for event {event} with key {key}", code="no_waiting_record",
                       details=[{"path": "key", "message": "no record waits for this key"}]) from None


def receive_event_call(caller: Caller, form_name: str, event: str, body: Any) -> dict:
    """POST /forms/{form}/events/{event}: another system tells that something happened (admins and
    integration users). Body {key, data?, id?}."""
    from ..workflow.engine import event_key
    if ADMIN_ROLE not in caller.roles:
        from ..errors import Forbidden
        raise Forbidden("delivering events needs the admin role", code="forbidden")
    if not isinstance(body, dict) or set(body) - {"key", "data", "id"}:
        raise ValidationFailed("body must be {key, data?, id?}", details=[{"path": "", "message": "unexpected shape"}])
    key = event_key(body.get("key")) if not isinstance(body.get("key"), bool) else None
    if key is None:
        raise ValidationFailed("key is required", details=[{"path": "key", "message": "the correlation value, text or number"}])
    payload = body.get("data") or {}
    if not isinstance(payload, dict):
        raise ValidationFailed("data must be an object", details=[{"path": "data", "message": "expected object"}])
    import re
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", event):
        raise NotFound(f"unknown event '{event[:64]}'")
    definitions.published(caller.tenant, "form", form_name)  # NotFound for an unknown form
    return deliver_event(caller.tenant, event, key, payload, caller.user_id,
                         event_delivery_id(event, key, payload, body.get("id")), form_name=form_name)
