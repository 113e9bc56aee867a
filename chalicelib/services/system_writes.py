"""Writes the platform makes on a record by itself (mail results, survey answers, opt-outs): the
record (version + 1), its history entry and any extra items in ONE transaction, retried when a
user's change got there first. Only fields the record's own form version has are written."""
from __future__ import annotations

from typing import Callable

from ..errors import Conflict, NotFound
from ..forms.engine import validate_record
from ..storage import records as record_store
from . import definitions
from .clock import utc_now

MAX_ATTEMPTS = 5


def load(tenant: str, record_id: str, form_name: str | None = None):
    from ..ids import is_valid_id
    rec = record_store.get_record(tenant, record_id, consistent=True) if is_valid_id(record_id or "") else None
    if rec is None or rec.deleted or (form_name and rec.form != form_name):
        raise NotFound("the record does not exist", details=[{"path": "record", "message": "not found"}])
    return rec


def write(tenant: str, record_id: str, build: Callable, *, actor: str, form_name: str | None = None,
          idempotency: tuple[str, str, str] | None = None) -> dict:
    """`build(rec, form, now)` → (patch, entry fields, extra ops) or None to write nothing. Retried on a
    version conflict with the record re-read (build must not have side effects outside DynamoDB).
    `idempotency` = (scope, key, request hash): the write carries the storage layer's idempotency item
    (`T#<t>#K#<scope>#<key>`, TTL as any key), so a replay of the same event writes nothing and returns
    {"written": False, "replayed": True}. Scopes start with "_" (no form name does)."""
    from . import workflow
    for _attempt in range(MAX_ATTEMPTS):
        rec = load(tenant, record_id, form_name)
        form = definitions.version_of(tenant, "form", rec.form, rec.form_version)
        now = utc_now()
        built = build(rec, form, now)
        if built is None:
            return {"written": False}
        patch, entry_fields, extra = built
        patch = {k: v for k, v in patch.items() if form.field(k) is not None}
        data = validate_record(form, patch, previous=rec.data, system=True, record=rec).data
        new = record_store.StoredRecord(**{**rec.__dict__, "data": data, "version": rec.version + 1,
                                           "updated_at": now, "updated_by": actor})
        changed = sorted(k for k in set(rec.data) | set(data) if rec.data.get(k) != data.get(k))
        entry = {**workflow.history_entry(entry_fields.pop("kind", "update"), actor, changed=changed), **entry_fields}
        plan = workflow.plan_for(tenant, form, rec, new, entry)
        plan.extra += extra
        if idempotency:
            plan.idempotency_scope, key, request_hash = idempotency
            plan.idempotency, plan.idempotent_response = (key, request_hash), {"written": True}
        try:
            if record_store.update_record(new, rec.version, plan) is not None:
                return {"written": False, "replayed": True}
        except Conflict as exc:
            if exc.code == "version_conflict":
                continue
            raise
        return {"written": True, "version": new.version}
    raise Conflict("the record keeps changing; retry", code="write_contention")
