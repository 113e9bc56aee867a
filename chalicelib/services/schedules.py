"""Schedules: recurring work as data (the `schedule` definition kind, `chalicelib.schedules`).

A schedule's state item (storage.schedules) says how far it has got; the platform's one-minute
scheduled handler Queries the state items due by now (never a Scan) and runs each: the pure plan
(`schedules.plan_run`: due, missed by the policy, skipped or postponed by an admin) is stored with a
condition on the state's revision, then every queued occurrence's records are made, a page of
source records at a time, each page's progress stored the same way. Exactly once: a record's id is
a hash of (tenant, schedule, occurrence, source record), and the records table's
`attribute_not_exists` lets one create of it succeed, whatever runs at once, retries or catches up.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Any

from typing_extensions import TypedDict

from ..errors import AppError, Conflict, DefinitionError, NotFound, ValidationFailed
from ..schedules import plan as planning
from ..schedules.definition import (VALUE_VARIABLES, ScheduleDefinition, is_occurrence, iso, local_of, make_at,
                                    parse_iso, parse_schedule, utc_of)
from ..storage import schedules as store
from . import definitions
from .caller import Caller
from .clock import utc_now

log = logging.getLogger("aftersales.schedules")

KIND = "schedule"
PAGE = 100  # source records per page (one list Query per shard + one BatchGetItem)
MAX_LOG = 50
MAX_FAILURES = 50
MAX_OVERRIDES = 200
SAVE_ATTEMPTS = 5


# ------------------------------------------------------------------------------------------- upload

def parse_schedule_kind(raw: Any, previous: Any, tenant: str | None):
    """Parse; with a tenant, check it against the published forms it names (what it writes must be
    writable, what it reads must exist, every required field of the target must get a value)."""
    from ..expressions import check_expression
    defn = parse_schedule(raw)
    if tenant is None:
        return defn
    problems: list[dict] = []
    warnings: list[dict] = []
    target = definitions.published_or_none(tenant, "form", defn.form)
    source = definitions.published_or_none(tenant, "form", defn.for_each.form) if defn.for_each else None
    if target is None:
        problems.append({"path": "form", "message": f"no published form '{defn.form}'"})
    if defn.for_each and source is None:
        problems.append({"path": "for_each.form", "message": f"no published form '{defn.for_each.form}'"})
    known = [f.name for f in source.fields] if source is not None else []
    variables = (*VALUE_VARIABLES, "$source") if defn.for_each else VALUE_VARIABLES
    if target is not None:
        for name, expression in defn.values.items():
            field = target.fields_by_name.get(name)
            if field is None:
                problems.append({"path": f"values.{name}", "message": f"form {defn.form} has no field '{name}'"})
            elif field.computed_by_server:
                problems.append({"path": f"values.{name}", "message": f"'{name}' is worked out by the platform ({field.type})"})
            if isinstance(expression, str):
                problems += _expression_problems(check_expression, f"values.{name}", expression, known, variables)
        for field in target.fields:
            if field.required and field.default is None and not field.computed_by_server and field.name not in defn.values \
                    and not field.visible_if and not getattr(field, "fetch_from", None):
                problems.append({"path": "values", "message": f"required field '{field.name}' of {defn.form} gets no value"})
    if defn.for_each and source is not None:
        for name in defn.for_each.filter:
            if source.index_slot(name) is None:
                problems.append({"path": f"for_each.filter.{name}", "message": f"'{name}' is not among the indexes of "
                                 f"form {source.name} ({', '.join(source.indexes) or 'none'})"})
        if defn.for_each.where:
            problems += _expression_problems(check_expression, "for_each.where", defn.for_each.where, known,
                                             ("$now", "$today", "$source"))
        if not defn.for_each.filter and not defn.for_each.where:
            warnings.append({"path": "for_each", "message": f"every {source.name} record gets a record each occurrence"})
    if problems:
        raise DefinitionError("schedule does not fit the published forms it names", details=problems)
    return defn, warnings


def _expression_problems(check, path: str, source: str, known, variables) -> list[dict]:
    try:
        check(source, known, variables)
    except AppError as exc:
        return [{"path": path, "message": exc.message}]
    return []


def on_publish(tenant: str, name: str) -> None:
    """A published version: a new schedule starts after the occurrences made before now; a changed one
    keeps its progress and is due again by its new rule."""
    defn = _definition(tenant, name)
    now = datetime.now(timezone.utc)
    for _attempt in range(SAVE_ATTEMPTS):
        current = store.get_state(tenant, name)
        if current is None:
            state = planning.first_state(defn, now)
            if store.save_state(tenant, name, state, rev=None, next_at=_next_at(defn, state)):
                return
            continue
        state = current["state"]
        if store.save_state(tenant, name, state, rev=current["rev"],
                            next_at=_next_at(defn, state), ran_at=current["last_run_at"]):
            return
    raise Conflict("the schedule's state changed while it was published; publish again", code="write_contention")


def _next_at(defn: ScheduleDefinition, state: dict) -> str | None:
    if state.get("queue"):
        return utc_now()
    moment = planning.next_due(defn, state.get("done_through"), state.get("deferred") or {})
    return iso(moment) if moment is not None else None


def _definition(tenant: str, name: str) -> ScheduleDefinition:
    return definitions.published(tenant, KIND, name)[1]


# ------------------------------------------------------------------------------------------- runs

class RunResult(TypedDict):
    schedules: int
    made: int  # records made
    existed: int  # found made already (a retry, a concurrent run)
    failed: int  # refused by the target form (listed on the schedule's failures)
    missed: int  # occurrences skipped by the missed-runs policy
    skipped: int  # occurrences an admin skipped
    busy: int  # schedules left to the run that holds their lease


def run_due(now: str | None = None, budget_seconds: float = 40.0) -> RunResult:
    """The scheduled handler's body: every schedule due by `now`, within the time budget (the rest
    waits for the next minute). Safe to run twice at once and to retry."""
    now = now or utc_now()
    stop_at = time.monotonic() + budget_seconds
    total: RunResult = {"schedules": 0, "made": 0, "existed": 0, "failed": 0, "missed": 0, "skipped": 0, "busy": 0}
    for shard in range(store.SCHEDULE_SHARDS):
        start = None
        while time.monotonic() < stop_at:
            due, start = store.due_states(shard, now, start=start)
            for item in due:
                if time.monotonic() >= stop_at:
                    break
                try:
                    counts = run_one(item["tenant"], item["name"], now, stop_at)
                except AppError as exc:  # e.g. throttled: the state says where to go on next minute
                    log.warning("schedule %s of %s stopped: %s", item["name"], item["tenant"], exc.message)
                    continue
                total["schedules"] += 1
                for key in ("made", "existed", "failed", "missed", "skipped", "busy"):
                    total[key] += counts[key]
            if start is None:
                break
    return total


def run_one(tenant: str, name: str, now: str, stop_at: float) -> dict:
    """Plan, then make the queued occurrences' records, storing progress after each page. The run that
    stores the plan (or finds the queue without a live lease) holds a lease on it, renewed with every
    page; another run meanwhile leaves the schedule alone. The lease saves work, never correctness:
    a record's id is fixed, so two runs that both make it make it once."""
    import uuid
    counts = {"made": 0, "existed": 0, "failed": 0, "missed": 0, "skipped": 0, "busy": 0}
    now_at = parse_iso(now)
    me = uuid.uuid4().hex
    for _attempt in range(SAVE_ATTEMPTS * 4):
        current = store.get_state(tenant, name)
        if current is None:
            return counts
        defn = definitions.published_or_none(tenant, KIND, name)
        state, rev = current["state"], current["rev"]
        if defn is None:  # no published version any more: leave the index
            store.save_state(tenant, name, state, rev=rev, next_at=None, ran_at=now)
            return counts
        lease = state.get("lease") or {}
        if state.get("queue") and lease.get("owner") not in (None, me) and lease.get("until", "") > utc_now():
            counts["busy"] = 1  # another run is making these records now
            return counts
        if not state.get("queue"):
            decision = planning.plan_run(defn, state, now_at)
            if not decision.changed and decision.done_through == state.get("done_through"):
                next_at = iso(decision.next_at) if decision.next_at else None
                if next_at != current["next_at"]:
                    store.save_state(tenant, name, state, rev=rev, next_at=next_at, ran_at=now)
                return counts
            state = _leased(_applied(state, decision, now), me)
            if not store.save_state(tenant, name, state, rev=rev, next_at=now, ran_at=now):
                continue  # another run planned first: read its plan
            rev += 1
            counts["missed"] += sum(1 for e in decision.log_add if e["outcome"] == "missed")
            counts["skipped"] += sum(1 for e in decision.log_add if e["outcome"] == "skipped")
        elif lease.get("owner") != me:  # a queue nobody works (its run stopped or ran out of time): take it
            state = _leased(state, me)
            if not store.save_state(tenant, name, state, rev=rev, next_at=now, ran_at=now):
                continue
            rev += 1
        lost = False
        while state.get("queue"):
            if time.monotonic() >= stop_at:
                return counts
            page = _make_page(tenant, name, defn, state, now)
            for key in ("made", "existed", "failed"):
                counts[key] += page[key]
            state = page["state"]
            if state.get("queue"):
                state, next_at = _leased(state, me), now
            else:
                state, next_at = {k: v for k, v in state.items() if k != "lease"}, _next_at(defn, state)
            if not store.save_state(tenant, name, state, rev=rev, made_add=page["made"], next_at=next_at, ran_at=now):
                store.count_made(tenant, name, page["made"])
                lost = True  # another run moved on: what we made is made (ids are fixed); read where it is
                break
            rev += 1
        if not lost:
            return counts
    return counts


LEASE_SECONDS = 120  # longer than a page takes; a run that dies leaves the queue to the next run after it


def _leased(state: dict, owner: str) -> dict:
    from datetime import timedelta
    until = iso(datetime.now(timezone.utc) + timedelta(seconds=LEASE_SECONDS))
    return {**state, "lease": {"owner": owner, "until": until}}


def _applied(state: dict, decision: planning.Decision, now: str) -> dict:
    overrides = {k: v for k, v in (state.get("overrides") or {}).items() if k not in decision.overrides_used}
    entries = [{**entry, "at": now} for entry in decision.log_add]
    return {**state, "done_through": decision.done_through, "queue": [*state.get("queue", []), *decision.queue_add],
            "deferred": decision.deferred, "overrides": overrides,
            "log": ([*(state.get("log") or []), *entries])[-MAX_LOG:], "cursor": None}


def _system(tenant: str, name: str) -> Caller:
    return Caller(tenant, f"schedule:{name}", frozenset({"admin"}), name=f"schedule {name}")


SINGLE_PER_PAGE = 25  # occurrences of one record each made between two saves of the state


def _make_page(tenant: str, name: str, defn: ScheduleDefinition, state: dict, now: str) -> dict:
    """One page: the next source records of the queue's head occurrence, or (one record per occurrence)
    the next few occurrences; their records made (or found made) and the state after them."""
    totals = {"made": 0, "existed": 0, "failed": 0}
    for _ in range(1 if defn.for_each is not None else SINGLE_PER_PAGE):
        page = _make_head(tenant, name, defn, state, now)
        state = page["state"]
        for key in totals:
            totals[key] += page[key]
        if not state.get("queue"):
            break
    return {"state": state, **totals}


def _make_head(tenant: str, name: str, defn: ScheduleDefinition, state: dict, now: str) -> dict:
    from . import records
    caller = _system(tenant, name)
    head = dict(state["queue"][0])
    original = local_of(head["key"])
    effective = local_of(head["at"])
    base = {"$occurrence": effective.date().isoformat(), "$occurrence_at": iso(utc_of(defn, effective)),
            "$schedule": name, "$now": now, "$today": now[:10]}
    if defn.for_each is None:
        sources, cursor = [None], None
    else:
        params = {f"filter.{k}": str(v).lower() if isinstance(v, bool) else str(v) for k, v in defn.for_each.filter.items()}
        params["limit"] = str(PAGE)
        if state.get("cursor"):
            params["cursor"] = state["cursor"]
        page = records.list_records(caller, defn.for_each.form, params, titles=False)
        sources, cursor = page["items"], page["next_cursor"]
    made = existed = failed = 0
    failures = list(state.get("failures") or [])
    for source in sources:
        context = dict(base)
        if source is not None:
            context.update(source["data"])
            context["$source"] = {"id": source["id"], "number": source.get("number"), "form": defn.for_each.form}
            if defn.for_each.where and not _truthy(defn.for_each.where, context):
                continue
        record_id = planning.record_id_for(tenant, name, head["key"], source["id"] if source else None,
                                           make_at(defn, original))
        try:
            data = {field: _evaluate(value, context) if isinstance(value, str) else value
                    for field, value in defn.values.items()}
            records.create(caller, defn.form, {"data": data}, None, platform_id=record_id)
            made += 1
        except Conflict as exc:
            if exc.code != "record_id_taken":
                raise  # contention: the next run goes on from the stored cursor
            existed += 1
        except (ValidationFailed, DefinitionError, NotFound) as exc:
            failed += 1
            failures.append({"key": head["key"], "source": source["id"] if source else None, "code": exc.code or "invalid",
                             "message": _reason(exc), "at": now})
    head["made"] = head.get("made", 0) + made
    head["existed"] = head.get("existed", 0) + existed
    head["failed"] = head.get("failed", 0) + failed
    queue = list(state["queue"])
    new = {**state, "failures": failures[-MAX_FAILURES:]}
    if cursor is None:
        queue.pop(0)
        # records = made by this run or found made: the stored chain of pages covers each source once
        entry = {"key": head["key"], "outcome": "made", "records": head["made"] + head["existed"],
                 "failed": head["failed"], "at": now}
        if head["at"] != head["key"]:
            entry["postponed_to"] = head["at"]
        new["log"] = [*(state.get("log") or []), entry][-MAX_LOG:]
        new["cursor"] = None
    else:
        queue[0] = head
        new["cursor"] = cursor
    new["queue"] = queue
    return {"state": new, "made": made, "existed": existed, "failed": failed}


def _evaluate(source: str, context: dict) -> Any:
    from ..expressions import compile_expression
    from ..expressions.budget import expression_budget
    with expression_budget(fresh=True):
        return compile_expression(source).evaluate(context)


def _truthy(source: str, context: dict) -> bool:
    try:
        return _evaluate(source, context) is True
    except AppError:
        return False


def _reason(exc: AppError) -> str:
    details = exc.details if isinstance(exc.details, list) else []
    parts = [f"{d.get('path') or '-'}: {d.get('message')}" for d in details[:5] if isinstance(d, dict)]
    return (exc.message + (" (" + "; ".join(parts) + ")" if parts else ""))[:500]


# ------------------------------------------------------------------------------------------- views

class Occurrence(TypedDict):
    key: str  # the occurrence on the rule, local wall time
    at: str  # local time its records are for (differs when postponed)
    status: str  # queued | scheduled | skipped | postponed
    make_at: str  # UTC instant its records are made


class ScheduleView(TypedDict):
    name: str
    title: str
    form: str
    version: int
    enabled: bool
    rrule: str
    time_zone: str
    made: int
    next_at: str | None
    last_run_at: str | None
    upcoming: list[Occurrence]
    log: list[dict]
    failures: list[dict]


def _may_see(caller: Caller, tenant: str, defn: ScheduleDefinition) -> None:
    if "admin" in caller.roles:
        return
    form = definitions.published_or_none(tenant, "form", defn.form)
    if form is None or not (caller.roles & set(form.permissions.read)):
        raise NotFound(f"no schedule '{defn.name}'", details=[{"path": "name", "message": "unknown schedule"}])


def view(caller: Caller, name: str, count: int = 10) -> ScheduleView:
    version, defn = _published(caller.tenant, name)
    _may_see(caller, caller.tenant, defn)
    current = store.get_state(caller.tenant, name) or {"state": {}, "made": 0, "next_at": None, "last_run_at": None}
    state = current["state"]
    from ..locales import localize
    title = localize(defn, caller.language).title or name
    return {"name": name, "title": title, "form": defn.form, "version": version, "enabled": defn.enabled,
            "rrule": defn.rrule, "time_zone": defn.time_zone, "made": current["made"], "next_at": current["next_at"],
            "last_run_at": current["last_run_at"], "upcoming": planning.upcoming(defn, state, count) if defn.enabled else [],
            "log": list(reversed(state.get("log") or [])), "failures": list(reversed(state.get("failures") or []))}


def list_schedules(caller: Caller) -> dict:
    out = []
    for head in _heads(caller):
        if head["published"] is None:
            continue
        try:
            out.append(view(caller, head["name"], 3))
        except NotFound:
            continue
    return {"items": out}


def _heads(caller: Caller) -> list[dict]:
    from ..storage import definitions as def_store
    return [{"name": h.name, "published": h.published} for h in def_store.list_heads(caller.tenant, KIND)]


def _published(tenant: str, name: str) -> tuple[int, ScheduleDefinition]:
    try:
        return definitions.published(tenant, KIND, name)
    except NotFound as exc:
        raise NotFound(f"no schedule '{name}'", details=[{"path": "name", "message": "unknown schedule"}]) from exc


def decide(caller: Caller, name: str, key: str, body: Any) -> ScheduleView:
    """An admin's decision on a future occurrence: {"skip": true, "comment"} / {"postpone_to": local
    time, "comment"} / {"restore": true} (undo). 409 once its records are being or have been made."""
    caller.require_admin("deciding on a schedule's occurrences")
    _version, defn = _published(caller.tenant, name)
    if not isinstance(body, dict) or sum(1 for k in ("skip", "postpone_to", "restore") if body.get(k)) != 1:
        raise ValidationFailed("give one of skip: true, postpone_to: <local time>, restore: true",
                               details=[{"path": "body", "message": "one of skip, postpone_to, restore"}])
    unknown = set(body) - {"skip", "postpone_to", "restore", "comment"}
    if unknown:
        raise ValidationFailed("unknown keys in body", details=[{"path": k, "message": "unknown key"} for k in sorted(unknown)])
    if not is_occurrence(defn, key):
        raise NotFound(f"'{key}' is not an occurrence of schedule {name}",
                       details=[{"path": "occurrence", "message": "not on the rule (local time YYYY-MM-DDTHH:MM)"}])
    comment = body.get("comment")
    if comment is not None and (not isinstance(comment, str) or len(comment) > 500):
        raise ValidationFailed("comment is text of at most 500 characters", details=[{"path": "comment", "message": "too long or not text"}])
    to = body.get("postpone_to")
    if to is not None:
        try:
            later = local_of(to) if isinstance(to, str) else None
        except ValueError:
            later = None
        if later is None:
            raise ValidationFailed("postpone_to is a local time YYYY-MM-DDTHH:MM",
                                   details=[{"path": "postpone_to", "message": "not a local time YYYY-MM-DDTHH:MM"}])
        if later <= local_of(key):
            raise ValidationFailed("postpone_to must be later than the occurrence",
                                   details=[{"path": "postpone_to", "message": "not later than the occurrence"}])
    for _attempt in range(SAVE_ATTEMPTS):
        current = store.get_state(caller.tenant, name)
        if current is None:
            raise NotFound(f"schedule {name} has not started", details=[{"path": "name", "message": "no state yet"}])
        state = current["state"]
        done = state.get("done_through")
        queued = {q["key"] for q in state.get("queue") or []}
        deferred = dict(state.get("deferred") or {})
        overrides = dict(state.get("overrides") or {})
        passed = done is not None and local_of(key) <= local_of(done)
        if key in queued or (passed and key not in deferred):
            raise Conflict(f"occurrence {key} is already made or being made", code="occurrence_passed",
                           details=[{"path": "occurrence", "message": "already made, skipped or being made"}])
        who = {"by": caller.user_id, **({"comment": comment} if comment else {})}
        if passed:  # a postponed occurrence, waiting for its new time
            if body.get("skip"):
                del deferred[key]
                state = {**state, "log": [*(state.get("log") or []), {"key": key, "outcome": "skipped", **who,
                                                                        "at": utc_now()}][-MAX_LOG:]}
            elif to is not None:
                deferred[key] = to
            else:
                raise Conflict(f"occurrence {key} was postponed and has passed its own time; postpone it again or skip it",
                               code="occurrence_passed", details=[{"path": "restore", "message": "cannot restore"}])
        elif body.get("restore"):
            overrides.pop(key, None)
        else:
            if key not in overrides and len(overrides) >= MAX_OVERRIDES:
                raise ValidationFailed(f"at most {MAX_OVERRIDES} decisions on future occurrences",
                                       details=[{"path": "occurrence", "message": "too many decisions"}])
            overrides[key] = {"skip": True, **who} if body.get("skip") else {"to": to, **who}
        state = {**state, "deferred": deferred, "overrides": overrides}
        if store.save_state(caller.tenant, name, state, rev=current["rev"],
                            next_at=_next_at(defn, state), ran_at=current["last_run_at"]):
            return view(caller, name)
    raise Conflict("the schedule is running; try again", code="write_contention")


def run_now(caller: Caller, name: str) -> dict:
    """Admin: run this schedule now (what the minute's handler would do), within the request's time."""
    caller.require_admin("running a schedule")
    _published(caller.tenant, name)
    counts = run_one(caller.tenant, name, utc_now(), time.monotonic() + 20.0)
    return {"ran": counts, "schedule": view(caller, name)}

