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

The impact includes the reports whose numbers the move rebuilds (`reports`; chalicelib.reports.impact):
for every report over the form that the stream keeps (services.reports.maintained_over, read once when
the job starts), each moved record's contribution before and after — computed by the report engine from
the record as stored and as the move writes it — and what the definitions alone say (a field the target
form version removes or retypes, a state the target workflow drops that a report's `$state` test names).
"""
from __future__ import annotations

import copy
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import NotRequired, TypedDict

from ..errors import AppError, Conflict, NotFound, ValidationFailed
from ..forms.definition import MAX_INDEXES
from ..ids import new_id
from ..reports import impact as report_impact
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


class ReportWhy(TypedDict):
    """Why a report's numbers move: an input it reads and what the migration does to it — `state` (records
    move between workflow states; `states` counts them), `value` (a field, or `$updated_at`, whose value the
    move changes), `removed` / `retyped` (the target form version drops the field or changes its type:
    `types`), `state_named` (its `$state` tests compare with states the target workflow lacks: `names`)."""
    input: str  # a form field the report reads, or a record variable ($state, $updated_at)
    kind: str  # state | value | removed | retyped | state_named
    read_by: list[str]  # where the report reads it: filter, dimension:<name>, measure:<name>, scope, rows
    records: int  # walked records whose contribution changed with this input changed (0: from the definitions)
    states: NotRequired[dict[str, dict[str, int]]]  # state: old state → new state → those records
    types: NotRequired[dict[str, str | None]]  # retyped: {"from": old type, "to": new type}
    names: NotRequired[list[str]]  # state_named: the states its `$state` tests name that the new workflow lacks


# the dimension values of the group moved records counted in before and after (None: outside the report)
ReportMove = TypedDict("ReportMove", {"from": "list | None", "to": "list | None", "records": int})


class ReportImpact(TypedDict):
    """A report over the form whose numbers the migration rebuilds. The stream keeps a report as the sum of
    each record's contribution and re-applies a written record's contribution (new − old); these counts
    compare, per walked record, the report engine's contribution of the record as stored and as the move
    writes it (in a dry run: would write). Listed when some record's contribution changes, or when the
    definitions alone give a reason (`removed`, `retyped`, `state_named`; then `records` may be 0)."""
    report: str
    version: int  # the version whose aggregates the stream keeps (serving, else building)
    title: str  # in the caller's language
    titles: dict[str, str]  # in each language the platform speaks (a page that switches language)
    why: list[ReportWhy]
    records: int  # walked records (moved, or that a dry run would move) whose contribution to the report changes
    regrouped: int  # of those: counted in other groups (between groups, into or out of the report)
    remeasured: int  # of those: same groups, other measure values
    moves: list[ReportMove]  # most records first; the first MAX_MOVES distinct pairs of one-group records


class MigrationJob(TypedDict):
    """A record migration (or its dry run: the impact before publishing), as far as it has gone: the counts,
    where the records of each state go, the records that need something, the reports whose numbers it
    rebuilds, and what it read."""
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
    reports: list[ReportImpact]  # the reports whose numbers the move rebuilds (see chalicelib.reports.impact)
    reads: dict[str, int]  # item reads: records (listed), reports (the registry + each compared report version, once)
    created_at: str
    created_by: str
    finished_at: str | None


COUNTS = ("seen", "moved", "already", "needs_values", "needs_state", "skipped", "conflict")


def start(caller: Caller, form_name: str, body: Any) -> MigrationJob:
    caller.require_admin("migrating records")
    from ..forms.definition import validated
    request = validated(MigrationRequest, body if body is not None else {}, "migration request", ValidationFailed)
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
    body_out.update(_report_impacts(caller.tenant, form_name, target, wf, published_version,
                                    _published_version(caller.tenant, "workflow", form_name)))
    store.save_job(caller.tenant, job_id, form_name, "running", body_out, now, rev=None)
    advance(caller.tenant, job_id, INLINE_SECONDS)
    return get(caller, form_name, job_id)


def get(caller: Caller, form_name: str, job_id: str) -> MigrationJob:
    caller.require_admin("reading migrations")
    job = store.get_job(caller.tenant, job_id) if isinstance(job_id, str) and len(job_id) <= 40 else None
    if job is None or job["form"] != form_name:
        raise NotFound(f"no migration {job_id} of form {form_name}")
    out = {k: v for k, v in job.items() if k not in ("cursor", "rev", "checked", "report_reads")}
    impacts = [i for i in job.get("reports", []) if report_impact.affects(i)]
    out["reports"] = [report_impact.view(i, caller.language) for i in sorted(impacts, key=lambda i: (-i["records"], i["report"]))]
    out["reads"] = {"records": job["counts"]["seen"], "reports": job.get("report_reads", 0)}
    return out  # type: ignore[return-value]


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
        impacts, checked = copy.deepcopy(job.get("reports", [])), copy.deepcopy(job.get("checked", {"form": [], "workflow": []}))
        reports = _report_definitions(tenant, impacts)
        for rec in page:
            kind, detail, new = _one(system, job, rec, target, wf)
            counts["seen"] += 1
            counts[kind] += 1
            if kind in ("moved",) and detail:
                by_state.setdefault(detail[0], {}).setdefault(detail[1], 0)
                by_state[detail[0]][detail[1]] += 1
            elif kind in ("needs_values", "needs_state", "conflict") and len(problems) < MAX_REPORTED:
                problems.append({"record": rec.id, "number": rec.number, "state": (rec.workflow or {}).get("state"),
                                 "kind": kind, "details": detail})
            if reports and kind not in ("skipped", "already"):
                _check_versions(tenant, job["form"], reports, checked, target, wf, rec)
            if reports and new is not None:
                _count_reports(reports, rec, new)
        done = cursor is None
        body = {k: v for k, v in job.items() if k not in ("id", "form", "status", "rev", "created_at")}
        body.update({"cursor": cursor, "counts": counts, "by_state": by_state, "problems": problems,
                     "finished_at": utc_now() if done else None})
        if "reports" in job:
            body.update({"reports": impacts, "checked": checked})
        if not store.save_job(tenant, job_id, job["form"], "done" if done else "running", body, job["created_at"], rev=job["rev"]):
            return
        if done:
            return


def _one(caller: Caller, job: dict, rec, target, wf) -> tuple[str, Any, Any]:
    """Move one record (or, in a dry run, say what would happen): (kind, detail, the record as the move
    writes it — or would: in a dry run too — when it is moved, else None)."""
    from ..forms.engine import validate_record
    from ..workflow import Instance
    from ..workflow.engine import RESTING_TYPES, migrate
    from . import workflow as workflow_service
    inst = Instance.from_dict(rec.workflow) if rec.workflow else None
    if job["states"] and (inst is None or inst.state not in job["states"]):
        return "skipped", None, None
    if rec.form_version == job["to_version"] and (wf is None or inst is None or inst.version == job["workflow_version"]):
        return "already", None, None
    now = utc_now()
    try:
        validated = validate_record(target, _values_to_set(job.get("set") or {}, rec, caller, now), previous=rec.data,
                                    system=True, record=rec)
    except ValidationFailed as exc:
        return "needs_values", [d for d in exc.details or []][:10], None
    outcome, to_state = None, None
    if inst is not None and wf is not None:
        to_state = job["state_map"].get(inst.state, inst.state)
        if to_state not in wf.States or wf.States[to_state].Type not in RESTING_TYPES:
            return "needs_state", [{"path": "state", "message": f"'{inst.state}' is not a resting state of workflow version "
                                    f"{job['workflow_version']}: map it (state_map)"}], None
        variables = workflow_service.step_variables(caller, rec, now)
        try:
            outcome = migrate(wf, job["workflow_version"], inst, validated.data, to_state, now,
                              workflow_service.ServiceContext(caller.tenant, target), variables)
            validated = validate_record(target, {}, previous=outcome.data, system=True, record=rec)
        except ValidationFailed as exc:
            return "needs_values", [d for d in exc.details or []][:10], None
    new = record_store.StoredRecord(**{**rec.__dict__, "data": validated.data, "form_version": job["to_version"],
                                       "version": rec.version + 1, "updated_at": now, "updated_by": caller.user_id,
                                       "workflow": outcome.instance.to_dict() if outcome else rec.workflow})
    if job["dry_run"]:
        return "moved", (inst.state, to_state) if inst is not None else None, new
    changed = sorted(k for k in set(rec.data) | set(new.data) if rec.data.get(k) != new.data.get(k))
    comment = f"migrated: form v{rec.form_version} → v{job['to_version']}"
    if inst is not None and outcome is not None:
        comment += f", workflow v{inst.version} → v{job['workflow_version']}"
    entry = workflow_service.history_entry("migrate", caller.user_id, from_state=inst.state if inst else None,
                                           outcome=outcome, changed=changed, comment=comment)
    plan = workflow_service.plan_for(caller.tenant, target, rec, new, entry, notify=bool(job.get("notify")))
    try:
        record_store.update_record(new, rec.version, plan)
    except Conflict:
        return "conflict", [{"path": "version", "message": "the record changed while it was moved: run the migration again"}], None
    except AppError as exc:
        return "needs_values", [{"path": d.get("path", ""), "message": d.get("message", "")} for d in (exc.details or [])
                                if isinstance(d, dict)][:10] or [{"path": "", "message": exc.message}], None
    return "moved", (inst.state, to_state) if inst is not None else None, new


# --- the reports whose numbers the move rebuilds ----------------------------------------------------------------

def _report_impacts(tenant: str, form_name: str, target, wf, form_version: int, wf_version: int | None) -> dict:
    """The job's report part as it starts: one impact per report over the form that the stream keeps (one
    registry read and each report version's definition, counted in `report_reads`; later pages take the
    definitions from the process cache), with what the definitions say against the published versions."""
    from . import reports as report_service
    maintained = report_service.maintained_over(tenant, form_name)
    from ..locales import LANGUAGES
    impacts = [(report_impact.new_impact(name, version, {lang: report.text("title", lang) or name for lang in LANGUAGES}), report)
               for name, version, report in maintained]
    checked = {"form": [form_version], "workflow": [wf_version] if wf_version is not None else []}
    old_form = definitions.version_of(tenant, "form", form_name, form_version)
    old_wf = definitions.version_of(tenant, "workflow", form_name, wf_version) if wf_version is not None else None
    _static(impacts, old_form, target, old_wf, wf)
    return {"reports": [i for i, _r in impacts], "checked": checked, "report_reads": 1 + len(maintained)}


def _report_definitions(tenant: str, impacts: list[dict]) -> list[tuple[dict, Any]]:
    out = []
    for impact in impacts:
        try:
            out.append((impact, definitions.version_of(tenant, "report", impact["report"], impact["version"])))
        except NotFound:
            continue
    return out


def _field_types(form) -> dict[str | None, dict[str, str]]:
    """{None: top-level field → type, sub-table → its line field → type}."""
    out: dict[str | None, dict[str, str]] = {None: {f.name: f.type for f in form.fields}}
    for f in form.fields:
        if f.type == "subtable":
            out[f.name] = {line.name: line.type for line in f.fields}
    return out


def _static(reports: list[tuple[dict, Any]], old_form, target, old_wf, wf) -> None:
    """What the definitions alone say: fields a report reads that `target` removes or retypes (against
    `old_form`), states its `$state` tests name that `wf` lacks (against `old_wf`)."""
    if old_form is not None and target is not None and old_form is not target:
        before, after = _field_types(old_form), _field_types(target)
        for impact, report in reports:
            for name in report_impact.reads(report):
                scope = next((s for s in ((report.rows, None) if report.rows else (None,)) if name in before.get(s, {})), "-")
                if scope == "-":
                    continue  # a record variable, or a field the old version did not have either
                old_type, new_type = before[scope][name], after.get(scope, {}).get(name)
                if new_type is None:
                    report_impact.add_static(impact, report, "removed", name)
                elif new_type != old_type:
                    report_impact.add_static(impact, report, "retyped", name, types={"from": old_type, "to": new_type})
    if old_wf is not None and wf is not None and old_wf is not wf:
        gone = set(old_wf.States) - set(wf.States)
        for impact, report in reports:
            named = {n: places for n, places in report_impact.state_names(report).items() if n in gone}
            if named:
                places = list(dict.fromkeys(p for n in sorted(named) for p in named[n]))
                report_impact.add_static(impact, report, "state_named", "$state", names=sorted(named), read_by=places)


def _check_versions(tenant: str, form_name: str, reports: list, checked: dict, target, wf, rec) -> None:
    """A record on a form or workflow version the job has not compared yet: compare it (once per job)."""
    if rec.form_version not in checked["form"]:
        checked["form"].append(rec.form_version)
        try:
            _static(reports, definitions.version_of(tenant, "form", form_name, rec.form_version), target, None, None)
        except NotFound:
            pass
    version = (rec.workflow or {}).get("version")
    if wf is not None and version is not None and version not in checked["workflow"]:
        checked["workflow"].append(version)
        try:
            _static(reports, None, None, definitions.version_of(tenant, "workflow", form_name, version), wf)
        except NotFound:
            pass


def _count_reports(reports: list[tuple[dict, Any]], rec, new) -> None:
    """One moved record: each report's contribution of the record as stored and as the move writes it, by
    the report engine (what the stream will apply: new − old), and the inputs the move changes."""
    from . import reports as report_service
    old_view, new_view = report_service.stored_view(rec), report_service.stored_view(new)
    changed = {k for k in set(rec.data) | set(new.data) if rec.data.get(k) != new.data.get(k)}
    before, after = (rec.workflow or {}).get("state"), (new.workflow or {}).get("state")
    if before != after:
        changed.add("$state")
    if rec.updated_at != new.updated_at:
        changed.add("$updated_at")
    for impact, report in reports:
        report_impact.add_record(impact, report, report_service.contribution_of(report, old_view),
                                 report_service.contribution_of(report, new_view), changed,
                                 (before, after) if before != after else None)


def _published_version(tenant: str, kind: str, name: str) -> int | None:
    try:
        return definitions.published(tenant, kind, name)[0]
    except NotFound:
        return None


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
