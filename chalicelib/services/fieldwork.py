"""Field work on a record: on-site check-in/check-out and spare parts drawn from (and returned to)
stock. Each call is ONE transaction: the record (optimistic lock), its history entry, the workflow
step the tenant tied to it (e.g. check-in takes `arrive`), and for parts the stock change and its
ledger entry — so stock and the order never disagree, and a lost race changes nothing."""
from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from .. import jsonutil
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..forms.engine import record_variables, validate_record
from ..ids import is_valid_id, new_id
from ..storage import inventory as stock_store
from ..storage import listing
from ..storage import records as record_store
from . import definitions, workflow
from .caller import ADMIN_ROLE, Caller
from .clock import utc_now
from .records import access_for, load_visible, render_for

if TYPE_CHECKING:  # the settings models load on first use (Lambda cold start)
    from ..fieldservice.definition import FieldServiceDefinition


def settings_for(tenant: str, form_name: str) -> FieldServiceDefinition | None:
    try:
        return definitions.published(tenant, "field_service", form_name)[1]
    except NotFound:
        return None


def managed_fields_of(tenant: str, form_name: str) -> set[str]:
    """Fields only the field-service routes write (parts lines, visits), or none."""
    fs = settings_for(tenant, form_name)
    if fs is None:
        return set()
    from ..fieldservice.definition import managed_fields
    return set(managed_fields(fs))


def guard_managed(tenant: str, form_name: str, patch: dict) -> None:
    """Parts lines move stock and visits are measured: a plain edit may not write them."""
    fs = settings_for(tenant, form_name)
    if fs is None:
        return
    from ..fieldservice.definition import managed_fields
    managed = sorted(set(patch) & managed_fields(fs))
    if managed:
        raise Forbidden("these fields change only through the field-service API (check-in/out, parts)",
                        code="field_managed", details=[{"path": f"data.{f}", "message": "use the field-service routes"}
                                                       for f in managed])


def _settings(tenant: str, form_name: str, section: str) -> FieldServiceDefinition:
    fs = settings_for(tenant, form_name)
    if fs is None or getattr(fs, section) is None:
        raise NotFound(f"{form_name} has no field-service {section} settings",
                       details=[{"path": "form", "message": f"upload a field_service definition with '{section}'"}])
    return fs


def _body(body: Any, allowed: set[str]) -> dict:
    if not isinstance(body, dict):
        raise ValidationFailed("body must be an object", details=[{"path": "", "message": "expected object"}])
    unknown = set(body) - allowed
    if unknown:
        raise ValidationFailed("unknown keys in body", details=[{"path": k, "message": "unknown key"} for k in sorted(unknown)])
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValidationFailed("the record version you acted on is required", code="version_required",
                               details=[{"path": "version", "message": "required positive integer"}])
    return body


def _load(caller: Caller, form_name: str, record_id: str):
    _v, published_form = definitions.published(caller.tenant, "form", form_name)
    caller.require_any(published_form.permissions.read, f"reading {form_name} records")
    access = access_for(caller, published_form)
    rec = load_visible(access, caller.tenant, form_name, record_id, consistent=True)
    form = definitions.version_of(caller.tenant, "form", form_name, rec.form_version)
    return rec, form, access


def _require_engineer(caller: Caller, fs: FieldServiceDefinition, rec) -> None:
    if ADMIN_ROLE not in caller.roles and rec.data.get(fs.engineer_field) != caller.user_id:
        raise Forbidden(f"only the engineer in '{fs.engineer_field}' may do this", code="not_assigned_engineer")


def _require_checkin_state(caller: Caller, fs: FieldServiceDefinition, rec) -> None:
    """No visit on a closed order, nor before the workflow reaches a state the tenant allows it in
    (e.g. not before the engineer accepted). Check-out is always allowed: an open visit must end."""
    if not rec.workflow:
        return
    state, status = rec.workflow.get("state"), rec.workflow.get("status")
    if status != "running":
        raise Conflict(f"this order's workflow has ended ({status})", code="record_closed")
    allowed = fs.checkin.states
    if allowed is not None and state not in allowed and ADMIN_ROLE not in caller.roles:
        raise Conflict(f"no check-in while the order is in {state}", code="checkin_not_allowed_now",
                       details=[{"path": "", "message": f"allowed in: {', '.join(allowed)}"}])


def _require_version(rec, expected: int) -> None:
    if rec.version != expected:
        raise Conflict("record was changed by someone else", code="version_conflict",
                       details={"current_version": rec.version})


def commit(caller: Caller, rec, form, patch: dict, *, kind: str, action: str | None = None, extra: list[tuple] = (),
           op: tuple[str, str] | None = None, response: dict | None = None, comment: str = ""):
    """Write `patch` (system-validated) onto the record, take `action` when the workflow offers it to
    the caller now, and add `extra` items, all in one transaction. `op` = (key, hash) makes it
    idempotent (offline sync): a replay writes nothing and returns the first `response`.
    Returns (new record, transition or None, replayed response or None)."""
    now = utc_now()
    data = validate_record(form, patch, previous=rec.data, system=True, record=rec).data
    outcome, from_state = None, None
    if action and rec.workflow:
        from ..workflow import available_actions, take_action
        inst, wf = workflow.running(caller.tenant, rec)
        variables = {**caller.variables(now), **record_variables(rec)}
        offered = {a["action"] for a in available_actions(wf, inst, data, caller.user_id, caller.roles,
                                                           ADMIN_ROLE in caller.roles, variables)}
        if action in offered:
            from_state = inst.state
            outcome = take_action(wf, inst, data, action, user_id=caller.user_id, roles=caller.roles,
                                  is_admin=ADMIN_ROLE in caller.roles, now=now,
                                  ctx=workflow.ServiceContext(caller.tenant, form), variables=variables, comment=comment)
    if outcome is not None:
        new, changed = workflow.next_record(rec, form, outcome, now, caller.user_id)
    else:
        new = record_store.StoredRecord(**{**rec.__dict__, "data": data, "version": rec.version + 1,
                                           "updated_at": now, "updated_by": caller.user_id})
        changed = sorted(k for k in set(rec.data) | set(data) if rec.data.get(k) != data.get(k))
    entry = workflow.history_entry(kind, caller.user_id, action=action if outcome else None, from_state=from_state,
                                   outcome=outcome, changed=changed, comment=comment)
    plan = workflow.plan_for(caller.tenant, form, rec, new, entry, creates=outcome.creates if outcome else None)
    plan.extra += list(extra)
    transition = {"from": from_state, "to": outcome.instance.state, "path": outcome.path} if outcome else None
    if op:
        plan.idempotency, plan.idempotency_scope = op, record_store.SYNC_SCOPE
        plan.idempotent_response = response(new, transition) if callable(response) else response
    replayed = record_store.update_record(new, rec.version, plan)
    return new, transition, replayed


# ---- check-in / check-out -------------------------------------------------------------------

def checkin(caller: Caller, form_name: str, record_id: str, body: Any, *, op: tuple[str, str] | None = None) -> dict:
    from ..fieldservice.visits import check_in, event_time, parse_location
    body = _body(body, {"version", "location", "reason", "at"})
    fs = _settings(caller.tenant, form_name, "checkin")
    rec, form, access = _load(caller, form_name, record_id)
    _require_engineer(caller, fs, rec)
    _require_checkin_state(caller, fs, rec)
    _require_version(rec, body["version"])
    reason = body.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
        raise ValidationFailed("reason must be text of at most 500 characters", details=[{"path": "reason", "message": "invalid"}])
    at = event_time(body.get("at"), utc_now(), fs.checkin)
    location = parse_location(body.get("location"))
    patch, facts = check_in(fs.checkin, rec.data, location, at, reason)
    extra = []
    if fs.checkin.share_location:  # dispatch measures the next trip from here
        from ..storage.dispatch import last_location_put
        extra.append(last_location_put(caller.tenant, rec.data[fs.engineer_field], float(location["lat"]),
                                       float(location["lng"]), at))
    new, transition, replayed = commit(caller, rec, form, patch, kind="checkin", action=fs.checkin.on_action, op=op,
                                       extra=extra, response=lambda n, t: _visit_result(access, n, t, facts))
    return replayed or _visit_result(access, new, transition, facts)


def checkout(caller: Caller, form_name: str, record_id: str, body: Any, *, op: tuple[str, str] | None = None) -> dict:
    from ..fieldservice.visits import check_out, event_time
    body = _body(body, {"version", "at"})
    fs = _settings(caller.tenant, form_name, "checkin")
    rec, form, access = _load(caller, form_name, record_id)
    _require_engineer(caller, fs, rec)
    _require_version(rec, body["version"])
    at = event_time(body.get("at"), utc_now(), fs.checkin)
    patch, facts = check_out(fs.checkin, rec.data, at)
    new, transition, replayed = commit(caller, rec, form, patch, kind="checkout", action=fs.checkin.checkout_action, op=op,
                                       response=lambda n, t: _visit_result(access, n, t, facts))
    return replayed or _visit_result(access, new, transition, facts)


def _visit_result(access, new, transition, facts: dict) -> dict:
    return jsonutil.to_plain({"record": render_for(access, new), "transition": transition, **facts})


# ---- spare parts ----------------------------------------------------------------------------

def parse_quantity(raw: Any, path: str = "quantity") -> Decimal:
    try:
        value = Decimal(str(raw)) if isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value <= 0 or value > Decimal(10) ** 9 or value != round(value, 2):
        raise ValidationFailed(f"{path} must be a positive number with at most 2 decimals",
                               details=[{"path": path, "message": "invalid quantity"}])
    return value


def _van_of(tenant: str, fs: FieldServiceDefinition, user: str | None) -> str | None:
    van = fs.parts.van
    if van is None or not user:
        return None
    _v, form = definitions.published(tenant, "form", van.form)
    slot = form.index_slot(van.user_field)
    if slot is None:
        return None
    items, _ = listing.list_records(tenant, van.form, form.storage.shards, primary=(slot, user), extra=[], limit=1, cursor=None)
    return items[0].data.get(van.warehouse_field) if items else None


def requisition(caller: Caller, form_name: str, record_id: str, body: Any, *, op: tuple[str, str] | None = None) -> dict:
    """Add a parts line and take its quantity out of stock, in one transaction. The client's line_id
    makes a retry safe: a line already on the record is not drawn twice."""
    body = _body(body, {"version", "part", "quantity", "warehouse", "line_id"})
    fs = _settings(caller.tenant, form_name, "parts")
    parts, cols = fs.parts, fs.parts.columns
    rec, form, access = _load(caller, form_name, record_id)
    line_id = body.get("line_id") or new_id()
    if not isinstance(line_id, str) or not 8 <= len(line_id) <= 64 or not line_id.replace("-", "").replace("_", "").isalnum():
        raise ValidationFailed("line_id must be 8-64 letters, digits, - or _", details=[{"path": "line_id", "message": "invalid"}])
    rows = list(rec.data.get(parts.lines_field) or [])
    existing = next((r for r in rows if r.get(cols.line_id) == line_id), None)
    if existing is not None:  # a retry of a requisition that went through — if it is the same request
        if existing.get(cols.part) != body.get("part") or \
                (body.get("warehouse") and existing.get(cols.warehouse) != body.get("warehouse")):
            raise ValidationFailed("line_id is already used on this record for another part or warehouse",
                                   code="idempotency_key_reused", details=[{"path": "line_id", "message": "reused"}])
        return {"record": render_for(access, rec), "line_id": line_id, "replayed": True}
    _require_version(rec, body["version"])
    _require_line_editor(caller, form_name, rec, access, parts.lines_field)
    quantity = parse_quantity(body.get("quantity"))
    part_id = body.get("part")
    named = body.get("warehouse")
    # part and named warehouse in one BatchGetItem (deleted records drop out)
    wanted = [i for i in (part_id, named) if isinstance(i, str) and is_valid_id(i)]
    found = {r.id: r for r in listing.get_records(caller.tenant, list(dict.fromkeys(wanted)))}
    part = found.get(part_id) if isinstance(part_id, str) else None
    if part is None or part.form != parts.part_form:
        raise ValidationFailed("no such part", details=[{"path": "part", "message": f"{parts.part_form} record {part_id} does not exist"}])
    warehouse = named or _van_of(caller.tenant, fs, rec.data.get(fs.engineer_field))
    if not is_valid_id(warehouse):
        raise ValidationFailed("say which warehouse the part comes from (the engineer has no van stock)",
                               details=[{"path": "warehouse", "message": "required"}])
    _require_warehouse(caller, parts, warehouse, found.get(warehouse) if named else None)
    line = {cols.line_id: line_id, cols.part: part_id, cols.quantity: quantity, cols.warehouse: warehouse}
    if parts.price_field:
        line[cols.unit_price] = part.data.get(parts.price_field, 0)
    movement = {"kind": "issue", "record": record_id, "form": form_name, "line_id": line_id, "actor": caller.user_id}
    ops = stock_store.stock_change_ops(caller.tenant, warehouse, part_id, -quantity, utc_now(), new_id(), movement)
    new, _t, replayed = commit(caller, rec, form, {parts.lines_field: rows + [line]}, kind="parts_issue", extra=ops, op=op,
                               response=lambda n, t: {"record": render_for(access, n), "line_id": line_id})
    return replayed or {"record": render_for(access, new), "line_id": line_id}


def return_part(caller: Caller, form_name: str, record_id: str, line_id: str, body: Any,
                *, op: tuple[str, str] | None = None) -> dict:
    """Put (part of) a line's quantity back into the warehouse it came from."""
    body = _body(body, {"version", "quantity"})
    fs = _settings(caller.tenant, form_name, "parts")
    parts, cols = fs.parts, fs.parts.columns
    rec, form, access = _load(caller, form_name, record_id)
    rows = [dict(r) for r in rec.data.get(parts.lines_field) or []]
    index = next((i for i, r in enumerate(rows) if r.get(cols.line_id) == line_id), None)
    if index is None:
        raise NotFound(f"no parts line {line_id} on this record")
    _require_version(rec, body["version"])
    _require_line_editor(caller, form_name, rec, access, parts.lines_field)
    line = rows[index]
    on_line = Decimal(str(line[cols.quantity]))
    quantity = parse_quantity(body["quantity"]) if body.get("quantity") is not None else on_line
    if quantity > on_line:
        raise ValidationFailed(f"only {on_line} on this line", details=[{"path": "quantity", "message": "more than the line holds"}])
    if quantity == on_line:
        rows.pop(index)
    else:
        line[cols.quantity] = on_line - quantity
    movement = {"kind": "return", "record": record_id, "form": form_name, "line_id": line_id, "actor": caller.user_id}
    ops = stock_store.stock_change_ops(caller.tenant, line[cols.warehouse], line[cols.part], quantity, utc_now(), new_id(), movement)
    new, _t, replayed = commit(caller, rec, form, {parts.lines_field: rows}, kind="parts_return", extra=ops, op=op,
                               response=lambda n, t: {"record": render_for(access, n), "returned": quantity})
    return replayed or jsonutil.to_plain({"record": render_for(access, new), "returned": quantity})


def _require_line_editor(caller: Caller, form_name: str, rec, access, lines_field: str) -> None:
    """Who may draw parts is who may edit the lines now: update grant + row rule, field grants, and
    — while a workflow runs — the edit rules of the state it rests in (a task listing the lines as
    Editable, held by the caller). Not while an approval is pending, nor on a closed order."""
    if not access.admitting_roles("update", rec.data):
        raise Forbidden(f"your roles do not allow changing this {form_name} record", code="forbidden")
    access.require_writable({lines_field: None}, rec.data)
    if not rec.workflow:
        return
    inst, wf = workflow.running(caller.tenant, rec)
    if inst.status != "running":
        raise Forbidden(f"the order is closed ({inst.status}): its parts no longer change", code="record_closed")
    workflow.check_editable(caller, wf, inst, {lines_field: None}, record_data=rec.data)


def _require_warehouse(caller: Caller, parts, warehouse_id: str, found=None) -> None:
    """The warehouse exists; one that belongs to a person (a van's keeper) serves only them, or
    whoever the warehouse form lets update it (a supervisor). `found`: the record, when already read."""
    found = found or record_store.get_record(caller.tenant, warehouse_id)
    if found is None or found.deleted or found.form != parts.warehouse_form:
        raise ValidationFailed("no such warehouse", details=[{"path": "warehouse", "message": f"{parts.warehouse_form} "
                                                                                              f"record {warehouse_id} does not exist"}])
    keeper = found.data.get(parts.keeper_field) if parts.keeper_field else None
    if not keeper or keeper == caller.user_id or ADMIN_ROLE in caller.roles:
        return
    _v, form = definitions.published(caller.tenant, "form", parts.warehouse_form)
    if not access_for(caller, form).admitting_roles("update", found.data):
        raise Forbidden(f"warehouse {warehouse_id} belongs to {keeper}", code="not_your_warehouse",
                        details=[{"path": "warehouse", "message": "another person's stock"}])


def op_key(caller: Caller, op_id: str, payload: Any) -> tuple[str, str]:
    """Idempotency (key, request hash) of an offline operation: bound to the user and its content."""
    key = hashlib.sha256(f"{caller.user_id}\x00{op_id}".encode()).hexdigest()[:40]
    digest = hashlib.sha256(jsonutil.dumps([caller.user_id, payload], canonical=True).encode()).hexdigest()
    return key, digest
