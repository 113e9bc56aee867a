"""Records follow their definitions: an admin moves a form's records (all, those matching indexed
filters, or those resting in given states) to a newer form version and workflow version, optionally
mapping workflow states, as a restartable, paged job with progress.

Each record is validated against the target form version as it stands; one that would need a value
(a newly required field) or rests in a state the new workflow lacks (and the map does not place) is
reported and left as it is — never half-moved. A moved record is one conditional transaction: the
record (new versions, version + 1), its history entry (`migrate`), its tasks, timers and waits as the
engine plans them on entering its (mapped) state. A record already at the target versions is counted
`already` and not written, so a job restarted mid-page moves nobody twice. A dry run walks the same
records and writes nothing: the impact of a migration before it runs.
"""
from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from typing_extensions import TypedDict

from ..errors import AppError, Conflict, NotFound, ValidationFailed
from ..forms.definition import MAX_INDEXES
from ..ids import new_id
from ..storage import listing
from ..storage import migrations as store
from ..storage import records as record_store
from . import definitions
from .caller import Caller
from .clock import utc_now

PAGE = 50
INLINE_SECONDS = 20.0  # the POST runs the job this long (API Gateway: 29 s); the schedule goes on
MAX_REPORTED = 200  # records that need something, listed on the job (all are counted)


class MigrationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_version: int | None = Field(default=None, ge=1, description="form version (default: the published one)")
    workflow_version: int | None = Field(default=None, ge=1, description="workflow version (default: the published one)")
    filter: dict[str, str] = Field(default_factory=dict, max_length=MAX_INDEXES, description="indexed field → value")
    states: list[str] = Field(default_factory=list, max_length=50, description="only records resting in these states")
    state_map: dict[str, str] = Field(default_factory=dict, max_length=100, description="old state → new state")
    set: dict[str, str] = Field(default_factory=dict, max_length=50,
                                description="field → expression over the record: the value a record without one gets")
    notify: bool = Field(default=False, description="notify the assignees of the moved records' tasks "
                         "(off: a migration moves work, it is not new work; the tasks are in their inboxes all the same)")
    dry_run: bool = False


class MigrationJob(TypedDict):
    id: str
    form: str
    status: str  # running | done
    dry_run: bool
    to_version: int
    workflow_version: int | None
    filter: dict[str, str]
    states: list[str]
    state_map: dict[str, str]
    set: dict[str, str]
    notify: bool
    counts: dict[str, int]  # seen, moved, already, needs_values, needs_state, skipped, conflict
    by_state: dict[str, dict[str, int]]  # old state → {new state: records moved (or that would move)}
    problems: list[dict]  # [{record, number, state, kind, details}] (the first MAX_REPORTED)
    created_at: str
    created_by: str
    finished_at: str | None


COUNTS = ("seen", "moved", "already", "needs_values", "needs_state", "skipped", "conflict")


def start(caller: Caller, form_name: str, body: Any) -> MigrationJob:
    caller.require_admin("migrating records")
    try:
        request = MigrationRequest.model_validate(body if body is not None else {})
    except ValidationError as exc:
        from ..forms.definition import pydantic_problems
        raise ValidationFailed("migration request is invalid", details=pydantic_problems(exc, model=MigrationRequest)) from exc
    published_version, published = _published_form(caller.tenant, form_name)
    to_version = request.to_version or published_version
    _form_version(caller.tenant, form_name, to_version)
    wf_version, wf = _workflow(caller.tenant, form_name, request.workflow_version)
    problems = []
    for name in request.filter:
        if published.index_slot(name) is None:
            problems.append({"path": f"filter.{name}", "message": f"not indexed (one of: {', '.join(published.indexes) or 'none'})"})
    from ..workflow.engine import RESTING_TYPES
    for old, new in request.state_map.items():
        if wf is None:
            problems.append({"path": f"state_map.{old}", "message": f"form {form_name} has no workflow"})
        elif new not in wf.States:
            problems.append({"path": f"state_map.{old}", "message": f"no state '{new}' in workflow version {wf_version}"})
        elif wf.States[new].Type not in RESTING_TYPES:
            problems.append({"path": f"state_map.{old}", "message": f"'{new}' is an automatic state: map to a Task, Approval, Wait or end state"})
    target = _form_version(caller.tenant, form_name, to_version)
    from ..expressions import check_expression
    for name, source in request.set.items():
        if name not in target.fields_by_name:
            problems.append({"path": f"set.{name}", "message": f"form {form_name} version {to_version} has no field '{name}'"})
            continue
        try:
            check_expression(source, [f.name for f in target.fields], ("$user", "$now", "$today", "$id", "$number"))
        except AppError as exc:
            problems.append({"path": f"set.{name}", "message": exc.message})
    if problems:
        raise ValidationFailed("migration request does not fit the definitions", details=problems)
    job_id, now = new_id(), utc_now()
    body_out = {"dry_run": request.dry_run, "to_version": to_version, "workflow_version": wf_version,
                "filter": request.filter, "states": request.states, "state_map": request.state_map,
                "set": request.set, "notify": request.notify, "cursor": None, "counts": {k: 0 for k in COUNTS}, "by_state": {}, "problems": [],
                "created_by": caller.user_id, "finished_at": None}
    store.save_job(caller.tenant, job_id, form_name, "running", body_out, now, rev=None)
    advance(caller.tenant, job_id, INLINE_SECONDS)
    return get(caller, form_name, job_id)


def get(caller: Caller, form_name: str, job_id: str) -> MigrationJob:
    caller.require_admin("reading migrations")
    job = store.get_job(caller.tenant, job_id) if isinstance(job_id, str) and len(job_id) <= 40 else None
    if job is None or job["form"] != form_name:
        raise NotFound(f"no migration {job_id} of form {form_name}")
    return {k: v for k, v in job.items() if k not in ("cursor", "rev")}  # type: ignore[return-value]


def advance(tenant: str, job_id: str, budget_seconds: float) -> None:
    """Go on with a job, page by page, within the time budget; each page's progress stored under the
    job's revision (a lost race means another run advances it: stop)."""
    stop_at = time.monotonic() + budget_seconds
    while time.monotonic() < stop_at:
        job = store.get_job(tenant, job_id)
        if job is None or job["status"] != "running":
            return
        system = Caller(tenant, job["created_by"], frozenset({"admin"}), name="migration")
        _version, published = _published_form(tenant, job["form"])
        target = _form_version(tenant, job["form"], job["to_version"])
        wf = definitions.version_of(tenant, "workflow", job["form"], job["workflow_version"]) if job["workflow_version"] else None
        filters = sorted((published.index_slot(k), v) for k, v in job["filter"].items())
        primary, extra = (filters[0], filters[1:]) if filters else (None, [])
        page, cursor = listing.list_records(tenant, job["form"], published.storage.shards, primary=primary, extra=extra,
                                            limit=PAGE, cursor=job["cursor"])
        counts, by_state, problems = dict(job["counts"]), {k: dict(v) for k, v in job["by_state"].items()}, list(job["problems"])
        for rec in page:
            kind, detail = _one(system, job, rec, target, wf)
            counts["seen"] += 1
            counts[kind] += 1
            if kind in ("moved",) and detail:
                by_state.setdefault(detail[0], {}).setdefault(detail[1], 0)
                by_state[detail[0]][detail[1]] += 1
            elif kind in ("needs_values", "needs_state", "conflict") and len(problems) < MAX_REPORTED:
                problems.append({"record": rec.id, "number": rec.number, "state": (rec.workflow or {}).get("state"),
                                 "kind": kind, "details": detail})
        done = cursor is None
        body = {k: v for k, v in job.items() if k not in ("id", "form", "status", "rev", "created_at")}
        body.update({"cursor": cursor, "counts": counts, "by_state": by_state, "problems": problems,
                     "finished_at": utc_now() if done else None})
        if not store.save_job(tenant, job_id, job["form"], "done" if done else "running", body, job["created_at"], rev=job["rev"]):
            return
        if done:
            return


def _one(caller: Caller, job: dict, rec, target, wf) -> tuple[str, Any]:
    """Move one record (or, in a dry run, say what would happen): (kind, detail)."""
    from ..forms.engine import validate_record
    from ..workflow import Instance
    from ..workflow.engine import RESTING_TYPES, migrate
    from . import workflow as workflow_service
    inst = Instance.from_dict(rec.workflow) if rec.workflow else None
    if job["states"] and (inst is None or inst.state not in job["states"]):
        return "skipped", None
    if rec.form_version == job["to_version"] and (wf is None or inst is None or inst.version == job["workflow_version"]):
        return "already", None
    now = utc_now()
    try:
        validated = validate_record(target, _values_to_set(job.get("set") or {}, rec, caller, now), previous=rec.data,
                                    system=True, record=rec)
    except ValidationFailed as exc:
        return "needs_values", [d for d in exc.details or []][:10]
    outcome, to_state = None, None
    if inst is not None and wf is not None:
        to_state = job["state_map"].get(inst.state, inst.state)
        if to_state not in wf.States or wf.States[to_state].Type not in RESTING_TYPES:
            return "needs_state", [{"path": "state", "message": f"'{inst.state}' is not a resting state of workflow version "
                                    f"{job['workflow_version']}: map it (state_map)"}]
        variables = workflow_service.step_variables(caller, rec, now)
        try:
            outcome = migrate(wf, job["workflow_version"], inst, validated.data, to_state, now,
                              workflow_service.ServiceContext(caller.tenant, target), variables)
            validated = validate_record(target, {}, previous=outcome.data, system=True, record=rec)
        except ValidationFailed as exc:
            return "needs_values", [d for d in exc.details or []][:10]
    if job["dry_run"]:
        return "moved", (inst.state, to_state) if inst is not None else None
    new = record_store.StoredRecord(**{**rec.__dict__, "data": validated.data, "form_version": job["to_version"],
                                       "version": rec.version + 1, "updated_at": now, "updated_by": caller.user_id,
                                       "workflow": outcome.instance.to_dict() if outcome else rec.workflow})
    changed = sorted(k for k in set(rec.data) | set(new.data) if rec.data.get(k) != new.data.get(k))
    comment = f"migrated: form v{rec.form_version} → v{job['to_version']}"
    if inst is not None and outcome is not None:
        comment += f", workflow v{inst.version} → v{job['workflow_version']}"
    entry = workflow_service.history_entry("migrate", caller.user_id, from_state=inst.state if inst else None,
                                           outcome=outcome, changed=changed, comment=comment)
    plan = workflow_service.write_plan(caller.tenant, target, rec, new, entry, notify=bool(job.get("notify")))
    try:
        record_store.update_record(new, rec.version, plan)
    except Conflict:
        return "conflict", [{"path": "version", "message": "the record changed while it was moved: run the migration again"}]
    except AppError as exc:
        return "needs_values", [{"path": d.get("path", ""), "message": d.get("message", "")} for d in (exc.details or [])
                                if isinstance(d, dict)][:10] or [{"path": "", "message": exc.message}]
    return "moved", (inst.state, to_state) if inst is not None else None


def _values_to_set(spec: dict[str, str], rec, caller: Caller, now: str) -> dict:
    """The migration's `set` values for the fields this record has no value in."""
    if not spec:
        return {}
    from ..expressions import compile_expression
    from ..expressions.budget import expression_budget
    from . import workflow as workflow_service
    context = {**rec.data, **workflow_service.step_variables(caller, rec, now)}
    out = {}
    with expression_budget(fresh=True):
        for name, source in spec.items():
            if rec.data.get(name) in (None, "", []):
                try:
                    out[name] = compile_expression(source).evaluate(context)
                except AppError as exc:
                    raise ValidationFailed("a set value failed", details=[{"path": f"set.{name}", "message": exc.message}]) from exc
    return out


def continue_running(budget_seconds: float = 40.0) -> dict:
    """The schedule: go on with every running migration (a POST ran out of time, or its Lambda died)."""
    stop_at = time.monotonic() + budget_seconds
    advanced = 0
    for shard in range(store.SHARDS):
        for job in store.running_jobs(shard):
            left = stop_at - time.monotonic()
            if left <= 0:
                return {"advanced": advanced}
            advance(job["tenant"], job["id"], left)
            advanced += 1
    return {"advanced": advanced}


def _published_form(tenant: str, form_name: str):
    try:
        return definitions.published(tenant, "form", form_name)
    except NotFound as exc:
        raise NotFound(f"no form '{form_name}'", details=[{"path": "form", "message": "unknown form"}]) from exc


def _form_version(tenant: str, form_name: str, version: int):
    try:
        return definitions.version_of(tenant, "form", form_name, version)
    except NotFound as exc:
        raise ValidationFailed(f"form {form_name} has no version {version}",
                               details=[{"path": "to_version", "message": "no such version"}]) from exc


def _workflow(tenant: str, form_name: str, version: int | None):
    if version is None:
        found = definitions.published_or_none(tenant, "workflow", form_name)
        if found is None:
            return None, None
        return definitions.published(tenant, "workflow", form_name)
    try:
        return version, definitions.version_of(tenant, "workflow", form_name, version)
    except NotFound as exc:
        raise ValidationFailed(f"workflow {form_name} has no version {version}",
                               details=[{"path": "workflow_version", "message": "no such version"}]) from exc
