"""Dispatch use cases: the workflow's automatic Dispatch step, the ranked candidates of one order
("why this engineer"), and batch dispatch of a backlog (one global assignment, applied order by
order through the workflow's own action, each with optimistic locking).

The policy is the published `dispatch_policy` named after the form (or the step's `Policy`); without
one, `DEFAULT_POLICY` applies with the step's `Exclude`/`SkillField`/`Form` as its field names.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from typing_extensions import NotRequired, TypedDict

from ..errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from ..storage import dispatch as store
from ..storage import listing
from . import definitions
from .caller import ADMIN_ROLE, Caller
from .clock import utc_now

# The engine (pydantic policy models) is imported where used: a cold start that serves a plain read
# does not build it.
if TYPE_CHECKING:
    from ..dispatch import DispatchPolicy, Engineer
    from ..forms.definition import FormDefinition

MAX_BATCH = 200  # orders per request: each assignment is one transaction, inside one API call


# What the dispatch routes answer: the functions' return types and the OpenAPI document's response schemas.
class PolicyRef(TypedDict):
    name: str
    version: int | None  # None: the built-in default policy


class CandidateOut(TypedDict):
    """One engineer the policy considered (dispatch.scoring.Candidate.to_dict) and its one-line summary."""
    user: str
    record_id: str | None
    name: str | None
    region: str | None
    rank: int | None
    eligible: bool
    cost: float | None
    parts: dict[str, Any]
    excluded: list[Any]
    load: float
    today: int  # orders assigned to them on the policy's working day
    capacity: float
    summary: str


class Candidates(TypedDict):
    record_id: str
    version: int
    policy: PolicyRef
    best: str | None
    reason: str | None
    summary: str
    candidates: list[CandidateOut]


class BatchResult(TypedDict):
    """One order's outcome: planned / assigned (engineer, cost, parts, then version, state), unassigned
    (reason, eligible_engineers), already_assigned, skipped, not_found, conflict or failed (error, message)."""
    record_id: str
    status: str
    engineer: NotRequired[str | None]
    cost: NotRequired[float]
    parts: NotRequired[dict[str, Any]]
    eligible_engineers: NotRequired[int]
    reason: NotRequired[str | None]
    state: NotRequired[str]
    version: NotRequired[int | None]
    error: NotRequired[str]
    message: NotRequired[str]
    details: NotRequired[Any]


class BatchPlan(TypedDict):
    form: str
    policy: PolicyRef
    dry_run: bool
    summary: dict[str, int]  # {status: how many orders}
    results: list[BatchResult]


def policy_for(tenant: str, form_name: str, spec: dict | None = None) -> tuple[int | None, DispatchPolicy]:
    """(version or None, policy) for dispatching records of `form_name`."""
    from ..dispatch import DEFAULT_POLICY, DispatchPolicy
    name = (spec or {}).get("Policy") or form_name
    try:
        return definitions.published(tenant, "dispatch_policy", name)
    except NotFound:
        pass
    spec = spec or {}
    order = {"excluded": spec["Exclude"]} if spec.get("Exclude") else {}
    if spec.get("SkillField"):
        order["skill"] = spec["SkillField"]
    engineer_form = spec.get("Form") or DEFAULT_POLICY.engineer_form
    return None, DispatchPolicy.model_validate({"name": form_name, "engineer_form": engineer_form, "order": order})


def roster(tenant: str, policy: DispatchPolicy, regions: list[str] | None, form_name: str) -> list[Engineer]:
    """Engineers of these regions (all when None), with their load on `form_name` and, while it is
    recent (policy), where they last checked in: travel starts there, not at home."""
    from ..dispatch import engineer_from_record
    try:
        _v, form = definitions.published(tenant, "form", policy.engineer_form)
    except NotFound:
        return []
    slot = form.index_slot(policy.engineer.region) if policy.engineer.region else None
    if regions is not None and slot is None:
        regions = None  # region not indexed: read the form (bounded), the region rule still filters
    records = store.engineers(tenant, form.name, form.storage.shards, slot, regions,
                              policy.rules.max_engineers_per_region)
    crew = [e for e in (engineer_from_record(policy, r.id, r.data) for r in records) if e is not None]
    return with_state(tenant, policy, form_name, crew)


def with_state(tenant: str, policy: DispatchPolicy, form_name: str, engineers: list[Engineer]) -> list[Engineer]:
    """Loads (counters kept with the tasks), today's orders and fresh check-ins: one BatchGetItem."""
    from dataclasses import replace
    from datetime import datetime, timedelta, timezone
    if not engineers:
        return engineers
    from ..dispatch.policy import work_day
    hours = policy.rules.last_checkin_hours
    since = None if hours is None else (datetime.now(timezone.utc) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S")
    day = work_day(policy, utc_now()) if policy.rules.capacity_per == "day" else None
    states = store.engineer_states(tenant, form_name, [e.user for e in engineers], since, day)
    out = []
    for e in engineers:
        state = states[e.user]
        changes = {"load": state.load, "last_assigned_at": state.last_assigned_at, "today": state.today}
        if state.location is not None:
            changes["location"] = state.location
        out.append(replace(e, **changes))
    return out


def ranked(tenant: str, form_name: str, data: dict, spec: dict | None = None) -> tuple[int | None, DispatchPolicy, list]:
    """(policy version, policy, candidates best first)."""
    from ..dispatch import rank
    from ..dispatch.rules import allowed_regions
    version, policy = policy_for(tenant, form_name, spec)
    regions = allowed_regions(policy, data)
    if regions == []:
        return version, policy, []
    return version, policy, rank(policy, data, roster(tenant, policy, regions, form_name), utc_now())


def auto_dispatch(tenant: str, form: FormDefinition, spec: dict, data: dict) -> tuple[str, int | None]:
    """The workflow's Dispatch step: (the best eligible engineer's user id, the daily capacity the
    assignment must still fit when it is written, or None), or StepError Dispatch.NoCandidate with the
    reason (the shipped workflow then asks the supervisor)."""
    from ..dispatch import why_none
    from ..dispatch.rules import allowed_regions
    from ..workflow import StepError
    _version, policy, candidates = ranked(tenant, form.name, data, spec)
    if candidates and candidates[0].eligible:
        return candidates[0].user, _guarded_capacity(policy, candidates[0].engineer)
    if policy.order.region and allowed_regions(policy, data) == []:
        raise StepError("Dispatch.NoCandidate", "the order has no region")
    raise StepError("Dispatch.NoCandidate", why_none(candidates))


def _guarded_capacity(policy: DispatchPolicy, engineer: Engineer) -> int | None:
    return engineer.capacity if policy.rules.respect_capacity and engineer.per_day else None


def assignment_changes(tenant: str, form: FormDefinition, record_id: str, old: dict | None, new: dict, now: str,
                       dispatched: dict[str, int] | None = None) -> list[tuple]:
    """WritePlan ops that keep each engineer's orders of the working day: when the order's assigned
    field (the form's dispatch policy) changes, the order joins the new engineer's day and leaves the
    old one's. `dispatched` = {user: capacity} chosen by dispatch in this change: that join is
    conditioned on the day not being full (exact under concurrent dispatchers); a person's own
    assignment is counted, not refused."""
    try:
        _v, policy = definitions.published(tenant, "dispatch_policy", form.name)
        field = policy.order.assigned
    except NotFound:  # the built-in policy's field name, without building the policy for every write
        policy, field = None, "assigned_engineer"
    if form.field(field) is None:
        return []
    before, after = (old or {}).get(field), new.get(field)
    if before == after:
        return []
    from ..dispatch.policy import work_day
    if policy is None:
        _v, policy = policy_for(tenant, form.name)
    gained = after if isinstance(after, str) and after else None
    lost = before if isinstance(before, str) and before else None
    capacity = (dispatched or {}).get(gained) if gained else None
    return store.assignment_ops(tenant, form.name, record_id, work_day(policy, now), gained, lost, capacity)


def _require_dispatcher(caller: Caller, policy: DispatchPolicy, form_name: str) -> None:
    if ADMIN_ROLE not in caller.roles and not caller.roles & set(policy.dispatchers):
        raise Forbidden(f"your roles do not allow dispatching {form_name} records", code="forbidden",
                        details=[{"path": "", "message": f"needs one of: {', '.join(sorted(policy.dispatchers)) or 'admin'}"}])


def candidates(caller: Caller, form_name: str, record_id: str) -> Candidates:
    """Every engineer the policy considers for this order: eligible ones ranked with their cost
    parts, the others with the rules that exclude them."""
    from ..dispatch import why_none
    from ..dispatch.rules import allowed_regions
    from .records import access_for, load_visible
    _fv, form = definitions.published(caller.tenant, "form", form_name)
    caller.require_any(form.permissions.read, f"reading {form_name} records")
    version, policy = policy_for(caller.tenant, form_name)
    _require_dispatcher(caller, policy, form_name)
    rec = load_visible(access_for(caller, form), caller.tenant, form_name, record_id)
    version, policy, found = ranked(caller.tenant, form_name, rec.data)
    from ..dispatch.summary import candidate_summary, localize_candidate, none_summary, note_in
    best = found[0] if found and found[0].eligible else None
    reason = None if best else (why_none(found) if allowed_regions(policy, rec.data) != [] else "the order has no region")
    listed = [c.to_dict() for c in found]
    for c in listed:
        c["summary"] = candidate_summary(c, caller.language)  # one line beside the cost parts
        localize_candidate(c, caller.language)
    reason = note_in(reason, caller.language) if reason else reason
    return {"record_id": rec.id, "version": rec.version, "policy": {"name": policy.name, "version": version},
            "best": best.user if best else None, "reason": reason,
            "summary": listed[0]["summary"] if best else none_summary(reason, caller.language),
            "candidates": listed}


def batch(caller: Caller, request: Any) -> BatchPlan:
    """Assign a backlog globally (min-cost, capacities respected), then take the policy's action on
    each order with the version read (optimistic locking). Safe to retry: an order already handed to
    an engineer is reported as such and left alone; a conflict is reported, the rest still applies.
    `request`: form, record_ids or filter (+ limit), dry_run (api.openapi.BatchDispatchRequest)."""
    from ..dispatch import plan
    from ..dispatch.rules import allowed_regions
    form_name = request.form
    _fv, form = definitions.published(caller.tenant, "form", form_name)
    caller.require_any(form.permissions.read, f"reading {form_name} records")
    version, policy = policy_for(caller.tenant, form_name)
    _require_dispatcher(caller, policy, form_name)
    from .records import access_for
    access = access_for(caller, form)
    results: dict[str, BatchResult] = {}
    records = _backlog(caller, form, request, access, results)
    pending = []
    for rec in records:
        state = _dispatchable(caller, policy, rec)
        if state is True:
            pending.append(rec)
        else:
            results[rec.id] = state
    now = utc_now()
    regions: set[str] | None = set()
    for rec in pending:
        allowed = allowed_regions(policy, rec.data)
        if allowed is None:
            regions = None
            break
        regions.update(allowed)
    crew: list[Engineer] = []
    if pending and (regions is None or regions):
        crew = roster(caller.tenant, policy, sorted(regions) if regions is not None else None, form_name)
    planned = plan(policy, [(r.id, r.data) for r in pending], crew, now)
    by_user = {e.user: e for e in crew}
    by_id = {r.id: r for r in pending}
    for p in planned:
        if p.engineer is None:
            results[p.order_id] = {"record_id": p.order_id, "status": "unassigned", "reason": p.reason,
                                   "eligible_engineers": p.eligible}
            continue
        outcome = {**p.to_dict(), "status": "planned" if request.dry_run else "assigned"}
        outcome.pop("assigned", None)
        if not request.dry_run:
            outcome.update(_apply(caller, form_name, policy, by_id[p.order_id], p.engineer,
                                  _guarded_capacity(policy, by_user[p.engineer]) if p.engineer in by_user else None))
        results[p.order_id] = outcome
    ordered = [results[i] for i in dict.fromkeys(request.record_ids or [r.id for r in records]) if i in results]
    from ..dispatch.summary import note_in
    for r in ordered:  # the reasons in the reader's language
        if r.get("reason"):
            r["reason"] = note_in(r["reason"], caller.language)
    counts: dict[str, int] = {}
    for r in ordered:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return {"form": form_name, "policy": {"name": policy.name, "version": version}, "dry_run": request.dry_run,
            "summary": counts, "results": ordered}


def _backlog(caller: Caller, form: FormDefinition, request, access, results: dict) -> list:
    """The orders named (BatchGetItem per 100) or those matching the filter (list index, newest
    first, at most `limit` read); only those the caller may see."""
    found = []
    if request.record_ids:
        from ..ids import is_valid_id
        ids = list(dict.fromkeys(request.record_ids))
        valid = [i for i in ids if is_valid_id(i)]
        fetched = {}
        for start in range(0, len(valid), 100):
            fetched.update({r.id: r for r in listing.get_records(caller.tenant, valid[start:start + 100])})
        for record_id in ids:
            rec = fetched.get(record_id)
            if rec is None or rec.form != form.name or not access.row_visible(rec.data):
                results[record_id] = {"record_id": record_id, "status": "not_found"}
            else:
                found.append(rec)
        return found
    filters = []
    hidden = access.hidden_everywhere()
    for name, value in sorted((request.filter or {}).items()):
        slot = form.index_slot(name) if name not in hidden else None
        if slot is None:
            raise ValidationFailed(f"field '{name}' is not indexed; filter on one of: {', '.join(form.indexes) or 'none'}",
                                   code="filter_not_indexed", details=[{"path": f"filter.{name}", "message": "not an indexed field"}])
        filters.append((slot, value))
    primary, extra = (filters[0], filters[1:]) if filters else (None, [])
    cursor, read = None, 0
    while read < request.limit:
        page, cursor = listing.list_records(caller.tenant, form.name, form.storage.shards, primary=primary, extra=extra,
                                            limit=min(100, request.limit - read), cursor=cursor)
        read += len(page)
        found += [r for r in page if access.row_visible(r.data)]
        if cursor is None:
            break
    return found


def _dispatchable(caller: Caller, policy: DispatchPolicy, rec) -> BatchResult | bool:
    """True when the caller can take the policy's action on the order now; else its result."""
    from ..forms.engine import record_variables
    from ..workflow import available_actions
    from .workflow import running
    assigned = rec.data.get(policy.order.assigned)
    if not rec.workflow:
        return {"record_id": rec.id, "status": "skipped", "reason": "the record has no workflow"}
    inst, wf = running(caller.tenant, rec)
    actions = available_actions(wf, inst, rec.data, caller.user_id, caller.roles, ADMIN_ROLE in caller.roles,
                                {**caller.variables(utc_now()), **record_variables(rec)})
    if any(a["action"] == policy.batch.action for a in actions):
        return True
    if assigned:
        return {"record_id": rec.id, "status": "already_assigned", "engineer": assigned, "state": inst.state}
    return {"record_id": rec.id, "status": "skipped", "state": inst.state,
            "reason": f"action '{policy.batch.action}' is not available to you in state {inst.state}"}


def _apply(caller: Caller, form_name: str, policy: DispatchPolicy, rec, engineer: str, capacity: int | None) -> dict:
    from .workflow import act
    body = {"version": rec.version, "data": {policy.order.assigned: engineer}, "comment": "batch dispatch"}
    try:
        result = act(caller, form_name, rec.id, policy.batch.action, body,
                     dispatched={engineer: capacity} if capacity is not None else None)
    except Conflict as exc:
        return {"status": "conflict", "error": exc.code, "message": exc.message}
    except AppError as exc:
        if exc.status >= 500:
            raise
        return {"status": "failed", "error": exc.code, "message": exc.message, "details": exc.details}
    return {"version": result["record"].get("version"), "state": result["transition"]["to"]}


__all__ = ["auto_dispatch", "assignment_changes", "candidates", "batch", "policy_for", "ranked", "MAX_BATCH"]
