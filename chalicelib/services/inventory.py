"""Stock use cases: movements (receipt, adjustment, transfer), stock of a warehouse, a part's ledger.
Who may move or read a warehouse's stock is decided by the warehouse form's own permissions (update
to move, read to see, row rules included), so the tenant governs inventory with the same definitions
as everything else. Parts used on an order move stock through services.fieldwork."""
from __future__ import annotations

import hashlib
import time
from decimal import Decimal
from typing import Any

from .. import jsonutil
from ..errors import BadRequest, NotFound, ValidationFailed
from ..ids import is_valid_id, new_id
from ..storage import inventory as store
from . import definitions
from .caller import Caller
from .clock import utc_now
from .fieldwork import parse_quantity
from .records import access_for, load_visible

WAREHOUSE_FORM = "warehouse"
PART_FORM = "spare_part"
KINDS = ("receipt", "adjustment", "transfer")


def _warehouse(caller: Caller, warehouse_id: Any, action: str, path: str) -> None:
    """The warehouse record must exist and admit the caller for `action` (read or update)."""
    _v, form = definitions.published(caller.tenant, "form", WAREHOUSE_FORM)
    caller.require_any(getattr(form.permissions, action), f"{'moving' if action == 'update' else 'reading'} stock")
    if not is_valid_id(warehouse_id):
        raise ValidationFailed("no such warehouse", details=[{"path": path, "message": "expected a warehouse record id"}])
    try:
        load_visible(access_for(caller, form), caller.tenant, WAREHOUSE_FORM, warehouse_id, action=action)
    except NotFound as exc:
        raise ValidationFailed("no such warehouse", details=[{"path": path, "message": f"warehouse {warehouse_id} does not exist"}]) from exc


def move(caller: Caller, body: Any, idempotency_key: str | None) -> tuple[dict, bool]:
    """(movement, replayed). Transfers move both sides in one transaction."""
    if not isinstance(body, dict):
        raise ValidationFailed("body must be an object", details=[{"path": "", "message": "expected object"}])
    unknown = set(body) - {"kind", "warehouse", "to_warehouse", "part", "quantity", "reason"}
    if unknown:
        raise ValidationFailed("unknown keys in body", details=[{"path": k, "message": "unknown key"} for k in sorted(unknown)])
    kind = body.get("kind")
    if kind not in KINDS:
        raise ValidationFailed("kind must be one of " + ", ".join(KINDS), details=[{"path": "kind", "message": "invalid"}])
    reason = body.get("reason") or ""
    if not isinstance(reason, str) or len(reason) > 500 or (kind == "adjustment" and not reason.strip()):
        raise ValidationFailed("an adjustment needs a reason (at most 500 characters)", details=[{"path": "reason", "message": "required"}])
    raw = body.get("quantity")
    if kind == "adjustment" and isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool) and raw < 0:
        delta = -parse_quantity(-raw)
    else:
        delta = parse_quantity(raw)
    warehouse, part = body.get("warehouse"), body.get("part")
    _warehouse(caller, warehouse, "update", "warehouse")
    if not is_valid_id(part):
        raise ValidationFailed("no such part", details=[{"path": "part", "message": "expected a spare_part record id"}])
    now = utc_now()
    movement = {"kind": kind, "actor": caller.user_id, "reason": reason or None}
    if kind == "transfer":
        target = body.get("to_warehouse")
        _warehouse(caller, target, "update", "to_warehouse")
        if target == warehouse:
            raise ValidationFailed("a transfer needs two different warehouses", details=[{"path": "to_warehouse", "message": "same as warehouse"}])
        ops = store.stock_change_ops(caller.tenant, warehouse, part, -delta, now, new_id(), {**movement, "to": target}) + \
            store.stock_change_ops(caller.tenant, target, part, delta, now, new_id(), {**movement, "from": warehouse})
    else:
        ops = store.stock_change_ops(caller.tenant, warehouse, part, delta, now, new_id(), movement)
    response = jsonutil.to_plain({"kind": kind, "warehouse": warehouse, "to_warehouse": body.get("to_warehouse"),
                                  "part": part, "quantity": delta, "reason": reason or None, "at": now,
                                  "actor": caller.user_id})
    idempotency = None
    if idempotency_key is not None:
        from .records import IDEMPOTENCY_KEY
        if not IDEMPOTENCY_KEY.match(idempotency_key):
            raise BadRequest("Idempotency-Key must be 8-128 characters of letters, digits and _.:-",
                             details=[{"path": "headers.Idempotency-Key", "message": "malformed"}])
        digest = hashlib.sha256(jsonutil.dumps([caller.user_id, body], canonical=True).encode()).hexdigest()
        from ..config import get_settings
        expires = int(time.time()) + get_settings().idempotency_ttl_seconds
        idempotency = store.idempotency_op(caller.tenant, idempotency_key, digest, response, expires)
    try:
        store.apply_movement(ops, [store.part_exists_check(caller.tenant, PART_FORM, part)], idempotency)
    except store.MovementReplayed as replay:
        return replay.response, True
    return response, False


def stock(caller: Caller, warehouse: str) -> dict:
    _warehouse(caller, warehouse, "read", "query.warehouse")
    items = store.list_stock(caller.tenant, warehouse)
    for item in items:
        level = item["reorder_level"]
        item["below_reorder"] = level is not None and item["on_hand"] < level
    return jsonutil.to_plain({"warehouse": warehouse, "items": items})


def ledger(caller: Caller, warehouse: str, part: str, limit: int = 100) -> dict:
    _warehouse(caller, warehouse, "read", "query.warehouse")
    if not is_valid_id(part):
        raise BadRequest("part must be a record id", details=[{"path": "query.part", "message": "invalid"}])
    current = store.get_stock(caller.tenant, warehouse, part)
    return jsonutil.to_plain({"warehouse": warehouse, "part": part, "on_hand": current["on_hand"] if current else 0,
                              "items": _masked(caller, store.list_ledger(caller.tenant, warehouse, part, limit))})


def _masked(caller: Caller, entries: list[dict]) -> list[dict]:
    """Every movement stays (the ledger must still add up to what is on hand), but an entry naming a
    record the caller may not read (its form's read roles + row rules, as GET would decide) keeps
    only its kind, quantity, actor and time: `record` and `line_id` become null."""
    named = sorted({e["record"] for e in entries if e.get("record")})
    if not named:
        return entries
    access: dict[str, Any] = {}
    readable = set()
    for rec in store.named_records(caller.tenant, named):
        if rec.form not in access:
            try:
                access[rec.form] = access_for(caller, definitions.published(caller.tenant, "form", rec.form)[1])
            except NotFound:
                access[rec.form] = None
        rule = access[rec.form]
        if rule is not None and rule.can("read") and rule.row_visible(rec.data):
            readable.add(rec.id)
    for entry in entries:
        if entry.get("record") and entry["record"] not in readable:
            entry["record"] = entry["line_id"] = None
    return entries
