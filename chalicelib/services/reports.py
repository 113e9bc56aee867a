"""Reports and dashboards: definition kinds, stream maintenance, backfill, and the read side.

Write side: the records table's stream (NEW_AND_OLD_IMAGES) → `process_stream` → for each changed
record and each report version the tenant maintains (the registry: serving + building), the
record's new contribution is applied exactly once — for the whole batch, one BatchGetItem and one
TransactWriteItems while they fit DynamoDB's limits (storage.reports.read_states, apply_changes).
Backfill: a new report version is registered as `building` (so the stream maintains it from then on),
then a job pages the form's list index and applies every record's contribution with its version (a
newer stream write wins; the job never double-counts); when done the version starts serving.
Retirement: a version that stops serving (replaced by a finished backfill) or stops building (superseded
by a newer publish) moves to the registry's `retiring` map and gets a retirement job; after a grace
period (no stream batch or backfill page that read the old registry is still running) the schedule
deletes its group items, then every record's state for it (paging the form's list index like the
backfill), saving its position per page; then the version leaves the registry.
Read side: a view reads only the serving version's group items (one Query), never records.
"""
from __future__ import annotations

import time
from typing import Any

from ..errors import AppError, BadRequest, Conflict, DefinitionError, Forbidden, NotFound
from ..forms.access import Access
from ..locales import localize
from ..reports.contribution import contribution as record_contribution
from ..reports import parse_dashboard, parse_report
from ..reports.dashboard import DashboardDefinition, vega_lite
from ..reports.definition import ReportDefinition, grouped_fields
from ..reports.maintenance import GONE
from ..reports.rows import finish, merge_groups, to_csv
from ..storage import reports as store
from . import definitions
from .caller import Caller
from .clock import utc_now

PAGE = 100
RETIRE_PAGE = 100
# A stream batch or backfill page that read the registry before a version stopped being maintained may
# still write to it for as long as a Lambda runs (29 s): retirement starts well after that.
RETIRE_GRACE_SECONDS = 300.0


# --- definition kinds --------------------------------------------------------------------------------------

def parse_report_kind(raw: Any, previous: Any, tenant: str | None) -> ReportDefinition:
    """At upload the report is checked against its form's published version (fields, sub-table,
    expressions, and that row rules of the form's `report` roles can be applied to the groups)."""
    form = None
    if tenant is not None:
        name = raw.get("form") if isinstance(raw, dict) else None
        try:
            form = definitions.published(tenant, "form", name)[1]
        except NotFound as exc:
            raise DefinitionError(f"form '{name}' must be published before a report on it",
                                  details=[{"path": "form", "message": "no published form of this name"}]) from exc
    report = parse_report(raw, form)
    if previous is not None and previous.form != report.form:
        raise DefinitionError("a report keeps its form", details=[{"path": "form", "message": f"was '{previous.form}'"}])
    return report


def parse_dashboard_kind(raw: Any, previous: Any, tenant: str | None) -> DashboardDefinition:
    reports = None
    if tenant is not None and isinstance(raw, dict):
        reports = {}
        for chart in raw.get("charts") or []:
            name = chart.get("report") if isinstance(chart, dict) else None
            try:
                reports[name] = definitions.published(tenant, "report", name)[1]
            except NotFound:
                pass
    return parse_dashboard(raw, reports)


# --- stream maintenance ------------------------------------------------------------------------------------

def _value(attr: dict | None) -> Any:
    if not attr:
        return None
    if "S" in attr:
        return attr["S"]
    if "N" in attr:
        return int(attr["N"]) if attr["N"].lstrip("-").isdigit() else float(attr["N"])
    if "BOOL" in attr:
        return attr["BOOL"]
    return None


def _record_view(image: dict | None, record_id: str | None = None) -> dict | None:
    """A record item's stream image → what the engine reads ({data, state, deleted, ...})."""
    if not image:
        return None
    from .. import jsonutil
    workflow = _value(image.get("workflow"))
    return {"data": jsonutil.loads(_value(image.get("data")) or "{}"), "deleted": bool(_value(image.get("deleted"))),
            "workflow": jsonutil.loads(workflow) if workflow else None,
            "created_at": _value(image.get("created_at")), "updated_at": _value(image.get("updated_at")),
            "id": record_id, "number": _value(image.get("number"))}


def process_stream(records: list[dict]) -> dict:
    """One stream batch. Only record items (sk 'R') matter; within a batch only each record's newest
    image is applied (older ones would be skipped by their version anyway). A batch costs two requests
    whatever it holds, as long as it fits the limits: one BatchGetItem (the registries and every
    (record, report version) contribution state; one more per 100 keys) and one TransactWriteItems with
    every state update and every group delta, merged per group item (one more per 100 items; see
    storage.reports.apply_changes). It applies each delta exactly once under redelivery, concurrent
    copies of the batch and a racing backfill: each state update is conditioned on the state read."""
    latest: dict[tuple[str, str], tuple[int, str, dict | None]] = {}
    for raw in records:
        ddb = raw.get("dynamodb") or {}
        keys_ = ddb.get("Keys") or {}
        if _value(keys_.get("sk")) != "R":
            continue
        pk = _value(keys_.get("pk")) or ""
        new, old = ddb.get("NewImage"), ddb.get("OldImage")
        image = new or old or {}
        tenant, form = _value(image.get("tenant")), _value(image.get("form"))
        if not tenant or not form or "#R#" not in pk:
            continue
        version = int(_value(new.get("version"))) if new else GONE
        key = (tenant, pk.rsplit("#R#", 1)[1])
        if key not in latest or latest[key][0] < version:
            latest[key] = (version, form, _record_view(new, key[1]) if new else None)
    by_tenant: dict[str, list] = {}
    for (tenant, record_id), (version, form, view) in latest.items():
        by_tenant.setdefault(tenant, []).append((record_id, version, form, view))
    if not by_tenant:
        return {"records": 0, "applied": 0, "skipped": 0}

    def wanted(tenant: str, targets: list) -> list[store.StateKey]:
        return [(tenant, rid, name, rv) for rid, _v, form, _view in by_tenant[tenant]
                for name, rv, report in targets if report.form == form]

    # One BatchGetItem: every tenant's registry (consistent: see backfill) with the states of the report
    # versions it listed when this container last read it; a registry that changed since (a version
    # published or retired) costs one more BatchGetItem for the states it adds.
    tenants = sorted(by_tenant)
    guessed = [k for t in tenants for k in wanted(t, _targets(t, _seen_registries.get(t)))]
    states, registries = store.read_states(guessed, tenants)
    changes = []
    for tenant in tenants:
        registry = registries[tenant][0]
        _remember_registry(tenant, registry)
        targets = _targets(tenant, registry)
        by_version = {(name, rv): report for name, rv, report in targets}
        for _t, record_id, name, rv in wanted(tenant, targets):
            changes.append((tenant, record_id, name, rv, by_version[(name, rv)]))
    missing = [(t, rid, name, rv) for t, rid, name, rv, _r in changes if (t, rid, name, rv) not in states]
    if missing:
        states.update(store.read_states(missing)[0])
    rows = {(tenant, rid): (version, view) for tenant, items in by_tenant.items() for rid, version, _f, view in items}
    batch = []
    for tenant, record_id, name, rv, report in changes:
        version, view = rows[(tenant, record_id)]
        batch.append(store.Change(tenant, record_id, name, rv, version, contribution_of(report, view),
                                  final=view is None or bool(view.get("deleted"))))
    written = store.apply_changes(batch, states) if batch else {}
    applied = sum(1 for n in written.values() if n)
    return {"records": len(latest), "applied": applied, "skipped": len(written) - applied}


_seen_registries: dict[str, dict] = {}  # tenant → its registry as this container last read it


def _remember_registry(tenant: str, registry: dict) -> None:
    if tenant not in _seen_registries and len(_seen_registries) > 1000:  # bounded: a warm Lambda serves many tenants
        _seen_registries.clear()
    _seen_registries[tenant] = registry


def _targets(tenant: str, registry: dict | None) -> list[tuple[str, int, ReportDefinition]]:
    """(report, version, definition) of every version the registry maintains (serving and building)."""
    targets = []
    for name, entry in sorted((registry or {}).items()):
        for report_version in sorted({entry.get("serving"), entry.get("building")} - {None}):
            try:
                report = definitions.version_of(tenant, "report", name, report_version)
            except NotFound:
                continue
            targets.append((name, report_version, report))
    return targets


def contribution_of(report: ReportDefinition, view: dict | None):
    """record_contribution with an expression budget of its own per record (stream batches and backfill
    pages hold many): a record whose expressions run out of it counts in no group (logged), instead of
    stopping the batch (a stream batch that always fails would block its shard)."""
    import logging
    from ..errors import ExpressionBudgetExceeded
    from ..expressions.budget import expression_budget
    try:
        with expression_budget(fresh=True):
            return record_contribution(report, view)
    except ExpressionBudgetExceeded as exc:
        logging.getLogger("aftersales.reports").error("report %s: a record counts in no group: %s", report.name, exc.message)
        return {}


# --- backfill --------------------------------------------------------------------------------------------------

def _registry_update(tenant: str, change) -> dict:
    for _attempt in range(10):
        registry, rev = store.get_registry(tenant)
        updated = change({k: dict(v) for k, v in registry.items()})
        if updated == registry:
            return registry
        try:
            store.put_registry(tenant, updated, rev)
            return updated
        except Conflict:
            continue
    raise Conflict("report registry is busy; retry", code="registry_conflict")


def start_backfill(tenant: str, name: str) -> dict:
    """Register the published version as `building` and create its job (idempotent)."""
    version, report = definitions.published(tenant, "report", name)
    form = definitions.published(tenant, "form", report.form)[1]

    def change(registry: dict) -> dict:
        entry = registry.get(name, {"form": report.form, "serving": None, "building": None})
        if str(version) in (entry.get("retiring") or {}):
            raise Conflict(f"version {version} of report '{name}' is being retired; it is built again once that "
                           "has finished", code="report_retiring")
        if entry.get("serving") != version and entry.get("building") != version:
            if entry.get("building") is not None:  # superseded before it finished
                entry["retiring"] = {**(entry.get("retiring") or {}), str(entry["building"]): utc_now()}
            entry["building"] = version
        registry[name] = entry
        return registry

    registry = _registry_update(tenant, change)
    _queue_retirements(tenant, name, registry[name])
    if registry[name].get("serving") == version:
        return {"report": name, "version": version, "status": "done", "serving": version}
    job = store.get_job(tenant, name, version)
    if job is None:
        job = {"status": "running", "positions": {str(s): "" for s in range(form.storage.shards)}, "processed": 0,
               "applied": 0, "started_at": utc_now(), "updated_at": utc_now(), "finished_at": None}
        try:
            store.put_job(tenant, name, version, job, None)
        except Conflict:
            job = store.get_job(tenant, name, version)
    return _job_view(name, version, job, registry[name])


def on_publish(tenant: str, name: str) -> None:
    """A new version of a report that already serves starts building at once (the scheduled job
    carries it on; the old version serves until it is done). A report never built yet is built on
    first view instead."""
    registry, _ = store.get_registry(tenant)
    if name in registry:
        start_backfill(tenant, name)


def advance_backfill(tenant: str, name: str, version: int, budget_seconds: float = 10.0) -> dict:
    """Process pages of the form's records until done or the budget is spent; progress is saved
    after every page (conditioned on the job's revision, so two workers never both advance it)."""
    report = definitions.version_of(tenant, "report", name, version)
    stop_at = time.monotonic() + budget_seconds
    job = store.get_job(tenant, name, version)
    if job is None:
        raise NotFound(f"no backfill of report '{name}' version {version}")
    while job["status"] == "running":
        entry = store.get_registry(tenant)[0].get(name) or {}
        if version not in (entry.get("building"), entry.get("serving")):  # superseded: stop writing to it
            job = {**job, "status": "superseded", "finished_at": utc_now(), "updated_at": utc_now()}
            store.put_job(tenant, name, version, job, job["rev"])
            _queue_retirements(tenant, name, entry)
            break
        shard = next((s for s, p in sorted(job["positions"].items()) if p is not None), None)
        if shard is None:
            _finish_backfill(tenant, name, version)
            job = {**job, "status": "done", "finished_at": utc_now()}
            store.put_job(tenant, name, version, job, job["rev"])
            job = store.get_job(tenant, name, version)
            break
        if time.monotonic() > stop_at:
            break
        ids, next_position = store.page_record_ids(tenant, report.form, int(shard), job["positions"][shard] or None, PAGE)
        records = [r for r in store.get_records_consistent(tenant, ids) if r.form == report.form]
        states = store.get_states(tenant, [(r.id, name, version) for r in records])
        applied = 0
        for rec in records:
            applied += bool(store.apply_contribution(tenant, rec.id, name, version, rec.version,
                                                     contribution_of(report, stored_view(rec)), states.get((rec.id, name, version)),
                                                     known=True, final=rec.deleted))
        positions = {**job["positions"], shard: next_position}
        updated = {**job, "positions": positions, "processed": job["processed"] + len(records),
                   "applied": job.get("applied", 0) + applied, "updated_at": utc_now()}
        store.put_job(tenant, name, version, updated, job["rev"])
        job = {**updated, "rev": job["rev"] + 1}
    registry, _ = store.get_registry(tenant)
    return _job_view(name, version, job, registry.get(name, {}))


def stored_view(rec) -> dict:
    """A stored record → what the engine reads (as _record_view makes it from a stream image)."""
    return {"data": rec.data, "deleted": rec.deleted, "workflow": rec.workflow, "created_at": rec.created_at,
            "updated_at": rec.updated_at, "id": rec.id, "number": rec.number}


def maintained_over(tenant: str, form: str) -> list[tuple[str, int, ReportDefinition]]:
    """(report, version, definition) per report over `form` whose aggregates the stream keeps: the version
    views read (serving), else the one being built (what views will read). A report never built yet has
    no numbers to change (its first view builds it from the records as they are then): not listed. Costs
    one consistent GetItem (the registry) and each version's definition from the definitions cache (one
    GetItem each when the process has not read it yet)."""
    registry, _rev = store.get_registry(tenant)
    out = []
    for name, entry in sorted(registry.items()):
        version = entry.get("serving") or entry.get("building")
        if entry.get("form") != form or version is None:
            continue
        try:
            out.append((name, version, definitions.version_of(tenant, "report", name, version)))
        except NotFound:
            continue
    return out


def _finish_backfill(tenant: str, name: str, version: int) -> None:
    def change(registry: dict) -> dict:
        entry = registry.get(name)
        if entry is not None and entry.get("building") == version:
            old = entry.get("serving")
            entry["serving"], entry["building"] = version, None
            if old is not None and old != version:
                entry["retiring"] = {**(entry.get("retiring") or {}), str(old): utc_now()}
        return registry
    registry = _registry_update(tenant, change)
    _queue_retirements(tenant, name, registry.get(name) or {})


# --- retirement of versions no longer maintained --------------------------------------------------------------

def _queue_retirements(tenant: str, name: str, entry: dict) -> None:
    """Make sure every version in the entry's `retiring` map has its job (idempotent: called again after
    a crash by whichever path touches the registry next — a finishing or superseded backfill)."""
    retiring = entry.get("retiring") or {}
    if not retiring:
        return
    try:
        shards = definitions.published(tenant, "form", entry["form"])[1].storage.shards
    except (NotFound, KeyError):
        shards = 1
    for version, queued_at in retiring.items():
        body = {"status": "waiting", "form": entry.get("form"), "queued_at": queued_at, "phase": "groups",
                "not_before": int(time.time() + RETIRE_GRACE_SECONDS),
                "positions": {str(s): "" for s in range(shards)}, "groups_deleted": 0, "states_deleted": 0,
                "started_at": None, "updated_at": utc_now()}
        try:
            store.put_retirement(tenant, name, int(version), body, None)
        except Conflict:
            existing = store.get_retirement(tenant, name, int(version))
            if existing is not None and existing.get("queued_at") != queued_at:  # left from an earlier retirement
                try:
                    store.put_retirement(tenant, name, int(version), body, existing["rev"])
                except Conflict:
                    pass


def advance_retirement(tenant: str, name: str, version: int, budget_seconds: float = 10.0) -> dict:
    """Delete a retired version's group items, then its contribution states (pages of the form's list
    index, as the backfill reads them), saving progress after every page; when done, its backfill job,
    its place in the registry and the retirement job go. Acts only while the registry lists the
    version as retiring (never on the serving or building version); restartable at any point."""
    stop_at = time.monotonic() + budget_seconds
    job = store.get_retirement(tenant, name, version)
    if job is None:
        return {"version": version, "status": "gone"}
    entry = store.get_registry(tenant)[0].get(name) or {}
    queued_at = (entry.get("retiring") or {}).get(str(version))
    if queued_at is None or version in (entry.get("serving"), entry.get("building")):
        store.delete_retirement(tenant, name, version, job["rev"])  # finished before, or never applicable
        return {"version": version, "status": "dropped"}
    if queued_at != job.get("queued_at"):
        _queue_retirements(tenant, name, {**entry, "retiring": {str(version): queued_at}})  # stale job: reset
        return {"version": version, "status": "reset"}
    if time.time() < job.get("not_before", 0):
        return _retirement_view(version, job)
    if job["status"] == "waiting":
        job = store.put_retirement(tenant, name, version, {**job, "status": "running", "started_at": utc_now()}, job["rev"])
    while True:  # at least one page per call, then as many as the budget allows
        if job["phase"] == "groups":
            keys_ = store.group_keys(tenant, name, version, RETIRE_PAGE)
            changes = {"groups_deleted": job["groups_deleted"] + store.delete_keys(keys_)} if keys_ else {"phase": "states"}
        elif job["phase"] == "states":
            shard = next((s for s, p in sorted(job["positions"].items()) if p is not None), None)
            if shard is None:
                changes = {"phase": "cleanup"}
            else:
                ids, position = store.page_record_ids(tenant, job["form"], int(shard), job["positions"][shard] or None, RETIRE_PAGE)
                changes = {"states_deleted": job["states_deleted"] + store.delete_states(tenant, name, version, ids),
                           "positions": {**job["positions"], shard: position}}
        else:
            return _finish_retirement(tenant, name, version, job)
        job = store.put_retirement(tenant, name, version, {**job, **changes, "updated_at": utc_now()}, job["rev"])
        if time.monotonic() > stop_at:
            return _retirement_view(version, job)


def _finish_retirement(tenant: str, name: str, version: int, job: dict) -> dict:
    store.delete_job(tenant, name, version)  # a later rebuild of this version (re-published) starts afresh

    def change(registry: dict) -> dict:
        entry = registry.get(name)
        if entry is not None and (entry.get("retiring") or {}).get(str(version)) == job["queued_at"]:
            entry["retiring"] = {v: q for v, q in entry["retiring"].items() if v != str(version)}
            if not entry["retiring"]:
                del entry["retiring"]
        return registry
    _registry_update(tenant, change)
    store.delete_retirement(tenant, name, version, job["rev"])
    try:  # re-published while it was being retired: build it again now
        if definitions.published(tenant, "report", name)[0] == version:
            start_backfill(tenant, name)
    except AppError:
        pass
    return {**_retirement_view(version, job), "status": "done", "finished_at": utc_now()}


def _iso(epoch: float | None) -> str | None:
    from datetime import datetime, timezone
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _retirement_view(version: int, job: dict | None) -> dict:
    if job is None:
        return {"version": version, "status": "queued"}
    positions = job.get("positions") or {}
    return {"version": version, "status": job.get("status"), "phase": job.get("phase"),
            "groups_deleted": job.get("groups_deleted", 0), "states_deleted": job.get("states_deleted", 0),
            "shards_done": sum(1 for p in positions.values() if p is None), "shards": len(positions),
            "queued_at": job.get("queued_at"), "not_before": _iso(job.get("not_before")),
            "started_at": job.get("started_at"), "updated_at": job.get("updated_at")}


def _job_view(name: str, version: int, job: dict | None, entry: dict) -> dict:
    job = job or {}
    positions = job.get("positions") or {}
    done_shards = sum(1 for p in positions.values() if p is None)
    return {"report": name, "version": version, "status": job.get("status", "done"),
            "serving": entry.get("serving"), "building": entry.get("building"),
            "processed": job.get("processed", 0), "applied": job.get("applied", 0),
            "shards_done": done_shards, "shards": len(positions),
            "started_at": job.get("started_at"), "updated_at": job.get("updated_at"), "finished_at": job.get("finished_at")}


def rebuild(caller: Caller, name: str, budget_seconds: float = 10.0) -> dict:
    """Admin: start (or continue) building the published version; the old one keeps serving."""
    caller.require_admin("rebuilding reports")
    started = start_backfill(caller.tenant, name)
    if started["status"] == "done":
        return started
    return advance_backfill(caller.tenant, name, started["version"], budget_seconds)


def status(caller: Caller, name: str) -> dict:
    version, report = _readable_report(caller, name)
    _allow(caller, report)  # the form's report roles only
    registry, _ = store.get_registry(caller.tenant)
    entry = registry.get(name, {})
    target = entry.get("building") or entry.get("serving") or version
    retiring = [_retirement_view(int(v), store.get_retirement(caller.tenant, name, int(v)))
                for v in sorted(entry.get("retiring") or {}, key=int)]
    return {**_job_view(name, target, store.get_job(caller.tenant, name, target), entry), "published": version,
            "retiring": retiring}


def run_backfills(budget_seconds: float = 20.0) -> dict:
    """Scheduled: advance every running backfill, then every due retirement, within the time budget (the
    function times out at 29 s); while retirements are due, backfills get at most 3/4 of the budget.
    {"advanced": backfills advanced[, "retiring": retirements advanced, "retired": retirements finished]}."""
    stop_at = time.monotonic() + budget_seconds
    due = store.due_retirements(time.time())
    backfill_stop = stop_at - (budget_seconds / 4 if due else 0)
    advanced = retired = retiring = 0
    for tenant, name, version in store.running_jobs():
        left = backfill_stop - time.monotonic()
        if left <= 0:
            break
        try:
            advance_backfill(tenant, name, version, left)
            advanced += 1
        except AppError:
            continue  # another worker holds it, or the definition is gone: next run
    if not due:
        due = store.due_retirements(time.time())  # a backfill that just finished may have queued one
    for tenant, name, version in due:
        left = stop_at - time.monotonic()
        if left <= 0:
            break
        try:
            result = advance_retirement(tenant, name, version, left)
        except AppError:
            continue  # another worker holds it, or the database is busy: next run
        retiring += 1
        retired += result.get("status") == "done"
    return {"advanced": advanced, **({"retiring": retiring, "retired": retired} if retiring else {})}


# --- read side -------------------------------------------------------------------------------------------------

def _readable_report(caller: Caller, name: str) -> tuple[int, ReportDefinition]:
    version, report = definitions.published(caller.tenant, "report", name)
    return version, report


def _allow(caller: Caller, report: ReportDefinition):
    """The group filter for the caller: union over their roles with the form's `report` grant of
    each role's row rule, evaluated on the group's field values; a role whose rule needs a field the
    groups do not carry, or whose hidden fields the report uses, does not count."""
    from ..expressions import compile_expression
    form = definitions.published(caller.tenant, "form", report.form)[1]
    access = Access(form, caller.roles, caller.variables(utc_now()))
    roles = access.roles_for("report")
    if not roles:
        raise Forbidden(f"your roles may not run reports on form '{report.form}'", code="forbidden",
                        details=[{"path": "", "message": f"needs one of: {', '.join(sorted(form.permissions.report))}"}])
    used = set()
    for _path, source in report.expressions():
        used |= compile_expression(source).field_roots
    have = grouped_fields(report)
    usable, reasons = [], []
    for role in roles:
        grant = form.permissions.fields.get(role)
        hidden = used & form.hidden_closure(grant.hidden) if grant and role != "admin" else set()
        rule = form.permissions.rows.get(role) if role != "admin" else None
        missing = compile_expression(rule).field_roots - have if rule else set()
        if hidden:
            reasons.append(f"role '{role}' may not see {sorted(hidden)}")
        elif missing:
            reasons.append(f"role '{role}' row rule needs {sorted(missing)}, which this report does not group by")
        else:
            usable.append(role)
    if not usable:
        raise Forbidden("this report cannot be shown under your roles' permissions", code="report_not_permitted",
                        details=[{"path": "", "message": r} for r in reasons])
    if any(form.permissions.rows.get(r) is None or r == "admin" for r in usable):
        return None  # some role sees every row
    restricted = Access(form, frozenset(usable), caller.variables(utc_now()))
    return lambda values: bool(restricted.admitting_roles("report", values))


def _serving(caller: Caller, name: str, version: int) -> int:
    registry, _ = store.get_registry(caller.tenant)
    entry = registry.get(name) or {}
    if entry.get("serving") is not None:
        return entry["serving"]
    started = start_backfill(caller.tenant, name)  # first use: build it now (small forms finish at once)
    if started["status"] != "done":
        started = advance_backfill(caller.tenant, name, started["version"], 5.0)
    if started.get("serving") is None:
        raise Conflict(f"report '{name}' is being built; try again shortly", code="report_building", details=[started])
    return started["serving"]


def _rows(caller: Caller, name: str, params: dict[str, str], limit: int | None = None) -> dict:
    published, report_published = _readable_report(caller, name)
    version = _serving(caller, name, published)
    report = report_published if version == published else definitions.version_of(caller.tenant, "report", name, version)
    allow = _allow(caller, report)
    groups, items_read = store.read_groups(caller.tenant, name, version)
    where = {k[4:]: v for k, v in params.items() if k.startswith("dim.")}
    unknown = [k for k in where if k not in {d.name for d in report.dimensions}]
    if unknown:
        raise BadRequest("filter on a dimension of the report", details=[{"path": f"query.dim.{k}", "message": "not a dimension"} for k in unknown])
    rows = finish(report, merge_groups(report, groups, allow), limit=limit, where=where)
    form = definitions.published(caller.tenant, "form", report.form)[1]
    titles = _add_titles(caller, report, form, rows)
    return {"report": name, "title": report.text("title", caller.language), "version": version, "published": published,
            "dimensions": [d.name for d in report.dimensions], "measures": [m.name for m in report.measures],
            "titles": titles, "rows": rows, "groups_read": items_read, "_report": report, "_form": form}


MAX_TITLES = 500  # distinct linked values resolved per dimension and view


def _dimension_field(report: ReportDefinition, form: Any, dim) -> Any:
    """The form field a plain, unbucketed dimension reads (a sub-table line's own field first), or None."""
    from ..reports.definition import is_name
    if dim.bucket is not None or not is_name(dim.field):
        return None
    if report.rows is not None:
        table = form.fields_by_name.get(report.rows)
        line = next((f for f in getattr(table, "fields", None) or [] if f.name == dim.field), None)
        if line is not None:
            return line
    return form.fields_by_name.get(dim.field)


def _title_column(report: ReportDefinition, name: str, rows: list[dict]) -> str:
    taken = {d.name for d in report.dimensions} | {m.name for m in report.measures} | {k for r in rows for k in r}
    column = f"{name}_title"
    while column in taken:
        column += "_"
    return column


def _add_titles(caller: Caller, report: ReportDefinition, form: Any, rows: list[dict]) -> dict[str, str]:
    """Rows of a dimension over a lookup (or user) field carry the linked record's title (the member's
    name) in a column of their own, `<dimension>_title`; the dimension keeps the id (filters and drill-down
    use it). A record the caller may not read, or whose title field is hidden from them, is shown by its id.
    A select field's dimension is titled by its options' labels, a `$state` one by the workflow's state
    labels, both in the caller's language. Returns {dimension: title column}."""
    out: dict[str, str] = {}
    for dim in report.dimensions:
        field = _dimension_field(report, form, dim)
        if dim.field.strip() == "$state" or (field is not None and field.type == "select"):
            named = _state_labels(caller, report.form) if field is None else \
                {o.value: o.text("label", caller.language) or o.value for o in field.options}
            if not any(isinstance(r.get(dim.name), str) and named.get(r[dim.name], r[dim.name]) != r[dim.name] for r in rows):
                continue  # labels that are the values themselves add nothing
        elif field is None or field.type not in ("lookup", "user"):
            continue
        else:
            values = list(dict.fromkeys(r.get(dim.name) for r in rows if isinstance(r.get(dim.name), str)))[:MAX_TITLES]
            if not values:
                continue
            named = _record_titles(caller, field.form, values) if field.type == "lookup" else _member_names(caller, values)
        column = _title_column(report, dim.name, rows)
        for row in rows:
            value = row.get(dim.name)
            row[column] = named.get(value, value) if isinstance(value, str) else value
        out[dim.name] = column
    return out


def _state_labels(caller: Caller, form_name: str) -> dict[str, str]:
    try:
        _version, wf = definitions.published(caller.tenant, "workflow", form_name)
    except NotFound:
        return {}
    return {n: wf.state_label(n, caller.language) for n in wf.States}


def _record_titles(caller: Caller, form_name: str, ids: list[str]) -> dict[str, str]:
    from ..ids import is_valid_id
    from .records import access_for
    try:
        ref_form = definitions.published(caller.tenant, "form", form_name)[1]
    except NotFound:
        return {}
    access = access_for(caller, ref_form)
    if not access.can("read"):
        return {}
    wanted = [i for i in ids if is_valid_id(i)]
    found = {r.id: r for r in store.get_records(caller.tenant, wanted)} if wanted else {}
    titles: dict[str, str] = {}
    for record_id in ids:
        rec = found.get(record_id)
        if rec is None or rec.deleted or rec.form != form_name or not access.row_visible(rec.data):
            continue
        shown = access.mask(rec.data)
        title = shown.get(ref_form.title_field) if ref_form.title_field else None
        titles[record_id] = str(title) if title not in (None, "") else (rec.number or record_id)
    return _distinct(titles, {r.id: r.number for r in found.values()})


def _member_names(caller: Caller, user_ids: list[str]) -> dict[str, str]:
    from ..storage import members as member_store
    names = {}
    for user_id in user_ids[:100]:  # one GetItem each: a chart shows tens, not thousands, of people
        member = member_store.get_member(caller.tenant, user_id)
        if member is not None and member.display_name:
            names[user_id] = member.display_name
    return _distinct(names, {})


def _distinct(titles: dict[str, str], numbers: dict[str, str | None]) -> dict[str, str]:
    """Two values with the same title would be drawn as one legend entry: those get their number (or id)."""
    seen: dict[str, int] = {}
    for title in titles.values():
        seen[title] = seen.get(title, 0) + 1
    return {value: (f"{title} ({numbers.get(value) or value})" if seen[title] > 1 else title)
            for value, title in titles.items()}


def _limit(params: dict[str, str]) -> int | None:
    raw = params.get("limit")
    if raw is None:
        return None
    from ..errors import parse_count
    value = parse_count(raw, "query.limit", minimum=1)
    if value > 1000:
        raise BadRequest("limit is at most 1000", details=[{"path": "query.limit", "message": "out of range"}])
    return value


def run(caller: Caller, name: str, params: dict[str, str]) -> dict:
    out = _rows(caller, name, params, _limit(params))
    out.pop("_report")
    out.pop("_form")
    return out


def export_csv(caller: Caller, name: str, params: dict[str, str]) -> str:
    out = _rows(caller, name, params, _limit(params))
    return to_csv(out["_report"], out["rows"])


PREVIEW_RECORDS = 500  # a draft's preview reads at most this many of the form's newest records
PREVIEW_ROWS = 200


def preview(caller: Caller, name: str, body: Any) -> dict:
    """A draft report computed as the author builds it, stored nowhere: `definition` (the draft, with
    the upload's checks against the published form — a bad one is the upload's 422) over the form's
    newest records, at most PREVIEW_RECORDS of them (one Query per shard and one BatchGetItem per page
    of 100: about 5 RCU per 100 records of 2 KB), and with `chart` ({type, x, y, color}) its Vega-Lite
    spec as a dashboard would draw it. `records_read` and `complete` say what the figures cover."""
    import json

    from pydantic import ValidationError

    from .. import jsonutil
    from ..reports.contribution import merge_into
    from ..reports.dashboard import Chart
    from ..storage import listing
    caller.require_admin("previewing reports")
    if not isinstance(body, dict) or not isinstance(body.get("definition"), dict):
        raise BadRequest("send {\"definition\": <the draft report>, \"chart\"?: {type, x, y, color}}",
                         details=[{"path": "definition", "message": "an object is required"}])
    unknown = sorted(set(body) - {"definition", "chart"})
    if unknown:
        raise BadRequest(f"unknown keys: {', '.join(unknown)}", details=[{"path": k, "message": "not accepted"} for k in unknown])
    report = parse_report_kind({**body["definition"], "name": name}, None, caller.tenant)
    chart = None
    if body.get("chart") is not None:
        try:
            chart = Chart.model_validate({"id": "preview", "report": name, **body["chart"]})
        except (ValidationError, TypeError) as exc:
            from ..forms.definition import pydantic_problems
            problems = pydantic_problems(exc, "chart") if isinstance(exc, ValidationError) else [{"path": "chart", "message": "must be an object"}]
            raise BadRequest("the chart is invalid", code="invalid_chart", details=problems) from exc
    form = definitions.published(caller.tenant, "form", report.form)[1]
    records, cursor = [], None
    while len(records) < PREVIEW_RECORDS:
        page, cursor = listing.list_records(caller.tenant, report.form, form.storage.shards, primary=None, extra=[],
                                            limit=min(100, PREVIEW_RECORDS - len(records)), cursor=cursor)
        records += page
        if cursor is None:
            break
    total: dict = {}
    for rec in records:
        merge_into(total, record_contribution(report, stored_view(rec)))
    groups = [(json.loads(key), parts) for key, parts in total.items()]
    rows = finish(report, merge_groups(report, groups, _allow(caller, report)), limit=PREVIEW_ROWS)
    titles = _add_titles(caller, report, form, rows)
    shown = localize(report, caller.language)
    out = {"report": name, "dimensions": [d.name for d in report.dimensions], "measures": [m.name for m in report.measures],
           "titles": titles, "rows": rows, "records_read": len(records), "complete": cursor is None,
           "bound": PREVIEW_RECORDS, **_chart_fields(shown, form, titles)}
    if chart is not None:
        out["vega_lite"] = vega_lite(chart, shown, rows[: chart.limit] if chart.limit else rows, titles)
    return jsonutil.to_plain(out)


def list_reports(caller: Caller, kind: str) -> dict:
    from ..storage import definitions as definition_store
    items = []
    for head in definition_store.list_heads(caller.tenant, kind):
        if head.published:
            items.append({"name": head.name, "published": head.published})
    return {"items": items}


def dashboard(caller: Caller, name: str) -> dict:
    """Every chart of the dashboard: rows and a Vega-Lite spec; each report is read once."""
    version, board = definitions.published(caller.tenant, "dashboard", name)
    board = localize(board, caller.language)
    results: dict[str, dict | AppError] = {}
    charts = []
    for chart in board.charts:
        if chart.report not in results:
            try:
                results[chart.report] = _rows(caller, chart.report, {})
            except (Forbidden, NotFound, Conflict) as exc:
                results[chart.report] = exc
        result = results[chart.report]
        entry = {"id": chart.id, "type": chart.type, "title": chart.title, "report": chart.report,
                 "x": chart.x, "y": chart.y, "color": chart.color, "layout": chart.layout.model_dump()}
        if isinstance(result, AppError):
            entry["error"] = result.to_body()["error"]
        else:
            rows = result["rows"][: chart.limit] if chart.limit else result["rows"]
            report = localize(result["_report"], caller.language)
            entry.update({"description": report.description, **_chart_fields(report, result["_form"], result["titles"]),
                          "rows": rows, "vega_lite": vega_lite(chart, report, rows, result["titles"])})
        charts.append(entry)
    read = sum(r["groups_read"] for r in results.values() if isinstance(r, dict))
    return {"dashboard": name, "title": board.title, "description": board.description, "version": version,
            "columns": board.grid_columns, "charts": charts, "groups_read": read,
            "groups_read_by_report": {n: r["groups_read"] for n, r in results.items() if isinstance(r, dict)}}


def chart_spec(caller: Caller, name: str, chart_id: str) -> dict:
    _version, board = definitions.published(caller.tenant, "dashboard", name)
    chart = next((c for c in board.charts if c.id == chart_id), None)
    if chart is None:
        raise NotFound(f"dashboard '{name}' has no chart '{chart_id}'")
    result = _rows(caller, chart.report, {})
    rows = result["rows"][: chart.limit] if chart.limit else result["rows"]
    return vega_lite(localize(chart, caller.language), localize(result["_report"], caller.language), rows, result["titles"])


def _chart_fields(report: ReportDefinition, form: Any, titles: dict[str, str]) -> dict:
    """What the console needs besides the spec: the report's form, and per dimension its label, time bucket,
    the column with its display title, and `filter` — the indexed form field it equals (a plain, unbucketed
    top-level field in the form's `indexes`), so a click on a mark opens `/forms/<form>/?filter.<field>=value`."""
    dims = []
    for dim in report.dimensions:
        field = _dimension_field(report, form, dim)
        top_level = field is not None and form.fields_by_name.get(dim.field) is field
        dims.append({"name": dim.name, "label": dim.label or dim.name, "bucket": dim.bucket, "title": titles.get(dim.name),
                     "filter": dim.field if top_level and dim.field in form.indexes else None})
    return {"form": report.form, "dimensions": dims,
            "measures": [{"name": m.name, "label": m.label or m.name, "op": m.op} for m in report.measures]}
