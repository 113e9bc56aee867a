"""Storage side of offline sync: which operations were already applied (one BatchGetItem), which
fields changed since a version (one Query over the history items), conflict items, the records of a
user's open tasks (inbox Query) and records by id at least at a version (BatchGetItem, again
consistently for those that came back older); the user's change feed is storage.feed."""
from __future__ import annotations

import time

from .. import jsonutil
from ..config import get_settings
from . import keys
from .listing import get_records as _get_page
from .models import ConflictItem, HistoryItem, IdempotencyItem, RecordItem, TaskItem
from .records import SYNC_SCOPE, StoredRecord, _Transaction, from_item
from .workflow import inbox_pk

MAX_TASKS = 500  # a phone holds the user's open work, not their whole history


def known_operations(tenant: str, scoped_keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """{(scope, key): {request_hash, response}} for operations already applied."""
    wanted = {keys.idempotency_pk(tenant, scope, key): (scope, key) for scope, key in scoped_keys}
    found = {}
    for item in IdempotencyItem.batch_get([(pk, "K") for pk in wanted]):
        if item.expires_at >= time.time():
            found[wanted[item.pk]] = {"request_hash": item.request_hash, "response": jsonutil.loads(item.response)}
    return found


def operation(tenant: str, scope: str, key: str) -> dict | None:
    """One operation's idempotency item, read consistently: after a failed attempt, did a concurrent
    copy of the batch apply this operation meanwhile? {request_hash, response} or None."""
    try:
        item = IdempotencyItem.get(keys.idempotency_pk(tenant, scope, key), "K", consistent_read=True)
    except IdempotencyItem.DoesNotExist:
        return None
    if item.expires_at < time.time():
        return None
    return {"request_hash": item.request_hash, "response": jsonutil.loads(item.response)}


def fields_changed_since(tenant: str, record_id: str, base_version: int, current_version: int,
                         own: tuple[str, str] | None = None) -> set[str]:
    """Fields the history says changed after `base_version`; `own` = (user, device): updates that user
    sent from that device are left out (the device knew them)."""
    changed: set[str] = set()
    for item in HistoryItem.query(keys.record_pk(tenant, record_id),
                                  HistoryItem.sk.between(f"H#{base_version + 1:010d}", f"H#{current_version:010d}")):
        entry = jsonutil.loads(item.entry)
        if own is not None and entry.get("device") == own[1] and entry.get("actor") == own[0]:
            continue
        changed |= set(entry.get("changed_fields") or [])
    return changed


def conflict_put(tenant: str, record_id: str, op_key: str, entry: dict) -> tuple:
    item = ConflictItem(keys.record_pk(tenant, record_id), f"X#{op_key}", tenant=tenant, entry=jsonutil.dumps(entry))
    return ("put", item, None, "conflict")


def save_outcome(tenant: str, key: tuple[str, str], response: dict, extra: list[tuple]) -> dict | None:
    """An operation that changed no record (all its fields conflicted): its conflict items and its
    idempotency item in one transaction, so a replay finds it done. None when written; when a
    concurrent copy of the operation wrote first, nothing is written and its item comes back
    ({request_hash, response})."""
    tx = _Transaction()
    for op, item, condition, label in extra:
        tx.put(item, condition, label)
    tx.put(IdempotencyItem(keys.idempotency_pk(tenant, SYNC_SCOPE, key[0]), "K", request_hash=key[1], status_code=200,
                response=jsonutil.dumps(response), expires_at=int(time.time()) + get_settings().sync_op_ttl_seconds),
           IdempotencyItem.pk.does_not_exist(), "idempotency")
    failed = tx.commit()
    if "idempotency" not in failed:
        return None
    stored = failed["idempotency"]
    if stored is None:
        return operation(tenant, SYNC_SCOPE, key[0])
    return {"request_hash": stored.get("request_hash"), "response": jsonutil.loads(stored["response"])}


def list_conflicts(tenant: str, record_id: str, limit: int = 50) -> list[dict]:
    items = ConflictItem.query(keys.record_pk(tenant, record_id), ConflictItem.sk.startswith("X#"), limit=limit)
    return [jsonutil.loads(i.entry) for i in items]


def open_task_records(tenant: str, assignee: str) -> list[dict]:
    return [{"record_id": t.record_id, "form": t.form, "state": t.state}
            for t in TaskItem.inbox.query(inbox_pk(tenant, assignee), limit=MAX_TASKS)]


def get_records(tenant: str, ids: list[str]) -> list[StoredRecord]:
    out: list[StoredRecord] = []
    for start in range(0, len(ids), 100):  # BatchGetItem takes 100 keys
        out += _get_page(tenant, ids[start:start + 100])
    return out


def records_at_least(tenant: str, wanted: dict[str, int | None]) -> list[StoredRecord]:
    """The records with these ids that exist and are not deleted, in id order, each at least at the
    version wanted (a feed entry names the version its change wrote; None: unknown). One eventually
    consistent BatchGetItem; only a record that comes back older (or absent) is read again consistently."""
    ids = sorted(wanted)

    def batch(chosen: list[str], consistent: bool) -> dict:
        found = {}
        for start in range(0, len(chosen), 100):
            keys_ = [(keys.record_pk(tenant, i), "R") for i in chosen[start:start + 100]]
            found.update({item.pk.rsplit("#", 1)[1]: item for item in RecordItem.batch_get(keys_, consistent_read=consistent)})
        return found
    found = batch(ids, False)
    stale = [i for i in ids if i not in found or wanted[i] is None or int(found[i].version) < wanted[i]]
    if stale:
        found.update(batch(stale, True))
    return [from_item(found[i]) for i in ids if i in found and not found[i].deleted]
