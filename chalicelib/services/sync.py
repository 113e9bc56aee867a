"""Offline sync: a phone that worked offline sends its queued operations in one `POST /sync`.

- Each operation carries a client `op_id`; its idempotency item (TTL) is written in the SAME
  transaction as its change, so an operation applies once however often the batch is replayed,
  in whatever chunks. Known ids are found up front with one BatchGetItem per 100 operations.
- Updates merge per field against the version the device started from (`base_version`): fields
  nobody else changed since are applied; a field changed on both sides to different values is a
  conflict, reported with both values and kept on the record (a conflict item), never dropped.
- Workflow actions, check-in/out and parts use the record's current version: they are checked
  against the current state, not the device's stale copy.
- The response carries per-operation results and what the user should pull since their cursor (a
  position in their change feed, storage.feed): the records of their open tasks changed since, and
  those no longer theirs.
"""
from __future__ import annotations

import random
import re
import time
from typing import Any, Callable

from typing_extensions import NotRequired, TypedDict

from .. import cursors, jsonutil
from ..errors import AppError, BadRequest, Conflict, NotFound, ValidationFailed
from ..forms.fields import NAME_PATTERN
from ..ids import is_valid_id
from ..storage import feed as feed_store
from ..storage import records as record_store
from ..storage import sync as store
from . import definitions, fieldwork, records, workflow
from .caller import Caller
from .clock import utc_now

_FORM_NAME = re.compile(NAME_PATTERN)
_DEVICE = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_OPERATIONS = 100
MAX_RACE_RETRIES = 3  # a concurrent change between our read and write: merge again
OP_TYPES = ("create", "update", "action", "checkin", "checkout", "parts", "return_part", "attach")
_OP_KEYS = {"op_id", "type", "form", "record_id", "base_version", "data", "action", "comment", "location", "reason",
            "at", "device_time", "part", "quantity", "warehouse", "line_id", "upload_id"}


# POST /sync's answer: the functions' return types and the OpenAPI document's response schema.
class OpResult(TypedDict):
    """One operation's outcome: applied (result: id, version and the step's extras), conflict
    (conflicts, merged) or rejected (http_status, error); `replayed`: applied by an earlier copy."""
    op_id: str
    status: str
    result: NotRequired[dict[str, Any]]
    replayed: NotRequired[bool]
    conflicts: NotRequired[list[Any]]
    merged: NotRequired[list[str]]
    http_status: NotRequired[int]
    error: NotRequired[dict[str, Any]]


class Changes(TypedDict):
    records: list[records.RecordOut]  # the caller's task records changed since the cursor
    assigned: list[str]  # full: every record the caller holds; else those of `records`
    unassigned: list[str]  # ids that changed since the cursor and are no longer the caller's
    full: bool  # a full resync (no cursor, an old or expired one): `assigned` is the whole set


class Pulled(TypedDict):
    changes: Changes
    cursor: str


class SyncAnswer(Pulled):
    results: list[OpResult]


def sync(caller: Caller, body: Any) -> SyncAnswer:
    if not isinstance(body, dict) or set(body) - {"operations", "cursor", "device_id"}:
        raise ValidationFailed("body must be {operations, cursor?, device_id?}", details=[{"path": "", "message": "unexpected shape"}])
    device = body.get("device_id")
    if device is not None and (not isinstance(device, str) or not _DEVICE.fullmatch(device)):
        raise ValidationFailed("device_id must be 8-64 letters, digits, '-' or '_'",
                               details=[{"path": "device_id", "message": "invalid"}])
    ops = body.get("operations") or []
    if not isinstance(ops, list) or len(ops) > MAX_OPERATIONS:
        raise ValidationFailed(f"operations must be a list of at most {MAX_OPERATIONS}", details=[{"path": "operations", "message": "invalid"}])
    checked = [_check_op(op, i) for i, op in enumerate(ops)]
    ids = [op["op_id"] for op in checked]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("op_id repeats within the batch", details=[{"path": "operations", "message": "op_id must be unique"}])
    keyed = [(op, _op_key(caller, op)) for op in checked]
    legacy = [_legacy_scope(op, key) for op, key in keyed if op["type"] == "create"]
    done = store.known_operations(caller.tenant, [_scope(op, key) for op, key in keyed] + legacy)
    results = []
    made: dict[str, str] = {}  # client-chosen id of a create in this batch -> the id its record has
    for op, key in keyed:
        named = _named(op, made)
        if op["type"] == "create":  # bound to the data as stored: references to earlier creates mapped
            key = _op_key(caller, named)
        stored = done.get(_scope(op, key))
        if stored is None and op["type"] == "create":
            old = done.get(_legacy_scope(op, key))  # applied before creates moved to the per-user space
            stored = old if old is not None and old["request_hash"] == key[1] else None
        result = _replay(op, key, stored) if stored is not None else _apply(caller, named, key, device)
        if op["type"] == "create" and op.get("record_id"):
            made_id = (result.get("result") or {}).get("id") if result["status"] == "applied" else None
            made[op["record_id"]] = made_id or _would_be_id(caller, op["record_id"])
        results.append(result)
    replay_only = bool(results) and all(r.get("replayed") for r in results)
    return {"results": results, **pull(caller, body.get("cursor"), ids, replay_only)}


def _would_be_id(caller: Caller, client_id: str) -> str:
    """Where later operations naming a rejected create's id point: the id it would have had (so they
    fail as "no such record", never land on another record that happens to have the client's id)."""
    try:
        return records.client_record_id(caller, client_id)
    except AppError:
        return client_id  # its time part was refused: nothing was made, a later op names a plain id


def _named(op: dict, made: dict[str, str]) -> dict:
    """The operation with the client-chosen ids of earlier creates in the batch replaced by the ids
    their records got (record_id, and references in data/part/warehouse). The create itself keeps its
    client id: records.create maps it."""
    if not made:
        return op

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            return made.get(value, value)
        if isinstance(value, list):
            return [swap(v) for v in value]
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        return value
    keep = {"op_id", "type", "form"} | ({"record_id"} if op["type"] == "create" else set())
    return {k: v if k in keep else swap(v) for k, v in op.items()}


def _replay(op: dict, key: tuple[str, str], stored: dict) -> dict:
    """The answer a replay of an already-applied operation gets: the same whether the replay came
    after the first copy (found up front) or raced it (found after a failed attempt)."""
    if stored["request_hash"] != key[1]:
        return _rejected(op, ValidationFailed("op_id was already used with a different operation",
                                              code="idempotency_key_reused"))
    if op["type"] == "update":  # stored as the merge outcome itself (status, conflicts, merged)
        return {**stored["response"], "replayed": True}
    return {"op_id": op["op_id"], "status": "applied", "replayed": True, "result": _summary(stored["response"])}


def _check_op(op: Any, index: int) -> dict:
    path = f"operations[{index}]"
    if not isinstance(op, dict):
        raise ValidationFailed("each operation is an object", details=[{"path": path, "message": "expected object"}])
    unknown = set(op) - _OP_KEYS
    if unknown:
        raise ValidationFailed("unknown keys in operation", details=[{"path": f"{path}.{k}", "message": "unknown key"} for k in sorted(unknown)])
    op_id = op.get("op_id")
    if not isinstance(op_id, str) or not 8 <= len(op_id) <= 128:
        raise ValidationFailed("op_id must be 8-128 characters", details=[{"path": f"{path}.op_id", "message": "required"}])
    if op.get("type") not in OP_TYPES:
        raise ValidationFailed(f"type must be one of {', '.join(OP_TYPES)}", details=[{"path": f"{path}.type", "message": "invalid"}])
    if not isinstance(op.get("form"), str) or not _FORM_NAME.fullmatch(op["form"]):
        raise ValidationFailed("form must be a form name", details=[{"path": f"{path}.form", "message": "required form name"}])
    if not is_valid_id(op.get("record_id")) and (op["type"] != "create" or op.get("record_id") is not None):
        raise ValidationFailed("record_id is required", details=[{"path": f"{path}.record_id", "message": "required record id"}])
    return op


def _op_key(caller: Caller, op: dict) -> tuple[str, str]:
    key, digest = fieldwork.op_key(caller, op["op_id"], op)
    if op["type"] == "create":  # creates go through the records API's own idempotency check
        digest = records.create_request_hash(caller.user_id, op["form"], op.get("data") or {}, op.get("record_id"))
    return key, digest


def _scope(op: dict, key: tuple[str, str]) -> tuple[str, str]:
    """(idempotency scope, key): every operation, creates included, in the per-user sync space
    (`T#<t>#K#_sync#<sha(user, op id)>`): no other member can claim a phone's operation id."""
    return record_store.SYNC_SCOPE, key[0]


def _legacy_scope(op: dict, key: tuple[str, str]) -> tuple[str, str]:
    """Where creates kept their key before (the form's Idempotency-Key space, which any member can
    write through the header): read only, and trusted only when its hash is this caller's request."""
    return op["form"], f"{record_store.SYNC_KEY_PREFIX}{key[0]}"


def _rejected(op: dict, exc: AppError) -> dict:
    return {"op_id": op["op_id"], "status": "rejected", "http_status": exc.status, "error": exc.to_body()["error"]}


_RACE_CODES = ("version_conflict", "transaction_conflict")


def _apply(caller: Caller, op: dict, key: tuple[str, str], device: str | None = None) -> dict:
    """Apply one operation. A failure is final only if the operation's idempotency item is still
    absent afterwards: a concurrent copy of the batch (a phone retrying while its first request runs,
    two tabs) that applied it first moved the record, so our attempt failed (version conflict, an
    action no longer offered, a line already drawn...) — the answer is then the replay of that first
    result, exactly as a sequential replay gets it."""
    for attempt in range(MAX_RACE_RETRIES):
        try:
            with record_store.reading_once():  # a retry reads afresh
                result = _apply_once(caller, op, key, device)
            if result.pop("_raced", False):
                return _settled(caller, op, key) or result
            return result
        except AppError as exc:
            settled = _settled(caller, op, key)
            if settled is not None:
                return settled
            if isinstance(exc, Conflict) and exc.code in _RACE_CODES and attempt + 1 < MAX_RACE_RETRIES:
                if exc.code == "transaction_conflict":
                    time.sleep(random.uniform(0, 0.05 * 2 ** attempt))
                continue  # someone wrote between our read and our write: read again and re-apply
            return _rejected(op, exc)
    raise AssertionError("unreachable")  # pragma: no cover


def _settled(caller: Caller, op: dict, key: tuple[str, str]) -> dict | None:
    stored = store.operation(caller.tenant, *_scope(op, key))
    return _replay(op, key, stored) if stored is not None else None


def _apply_once(caller: Caller, op: dict, key: tuple[str, str], device: str | None) -> dict:
    kind = op["type"]
    if kind == "create":
        body, replayed = records.create(caller, op["form"], {"data": op.get("data") or {}}, key[0],
                                        record_id=op.get("record_id"), idempotency_scope=record_store.SYNC_SCOPE)
        return {"op_id": op["op_id"], "status": "applied", "result": {"id": body["id"], "version": body["version"]},
                **({"replayed": True} if replayed else {})}
    if kind == "update":
        return _merge_update(caller, op, key, device)
    result = _HANDLERS[kind](caller, op, key)
    # a parts line already on the record: drawn by a concurrent copy of this op (or by another request)
    return {"op_id": op["op_id"], "status": "applied", "result": _summary(result),
            **({"_raced": True} if result.get("replayed") else {})}


def _summary(result: dict) -> dict:
    record = result.get("record") or result
    out = {"id": record.get("id"), "version": record.get("version")}
    for name in ("transition", "distance_m", "flagged", "line_id", "returned", "on_site_seconds"):
        if result.get(name) is not None:
            out[name] = result[name]
    return jsonutil.to_plain(out)


def _current_version(caller: Caller, op: dict) -> int:
    rec = record_store.get_record(caller.tenant, op["record_id"], consistent=True)
    if rec is None or rec.deleted or rec.form != op["form"]:
        raise NotFound(f"{op['form']} record {op['record_id']} does not exist")
    return rec.version


def _action(caller, op, key):
    body = {"version": _current_version(caller, op), "comment": op.get("comment") or ""}
    if op.get("data"):
        body["data"] = op["data"]
    if not isinstance(op.get("action"), str):
        raise ValidationFailed("action is required", details=[{"path": "action", "message": "required"}])
    return workflow.act(caller, op["form"], op["record_id"], op["action"], body, op=key)


def _pick(op: dict, *names: str) -> dict:
    return {n: op[n] for n in names if op.get(n) is not None}


_HANDLERS: dict[str, Callable] = {
    "action": _action,
    "checkin": lambda c, op, key: fieldwork.checkin(c, op["form"], op["record_id"], {
        "version": _current_version(c, op), **_pick(op, "location", "reason", "at")}, op=key),
    "checkout": lambda c, op, key: fieldwork.checkout(c, op["form"], op["record_id"], {
        "version": _current_version(c, op), **_pick(op, "at")}, op=key),
    "parts": lambda c, op, key: fieldwork.requisition(c, op["form"], op["record_id"], {
        "version": _current_version(c, op), **_pick(op, "part", "quantity", "warehouse", "line_id")}, op=key),
    "return_part": lambda c, op, key: fieldwork.return_part(c, op["form"], op["record_id"], str(op.get("line_id")), {
        "version": _current_version(c, op), **_pick(op, "quantity")}, op=key),
    "attach": lambda c, op, key: _attach(c, op, key),
}


def _attach(caller: Caller, op: dict, key):
    from . import uploads  # confirming an upload is idempotent by itself (the same upload attaches once)
    return uploads.confirm(caller, op["form"], op["record_id"], str(op.get("upload_id")),
                           {"version": _current_version(caller, op)})


def _merge_update(caller: Caller, op: dict, key: tuple[str, str], device: str | None = None) -> dict:
    """Apply the fields nobody else changed since `base_version`; keep the rest as conflicts. The
    caller must be allowed to make every change they send, exactly as a PATCH now would be. Changes
    this same device made since (the same user's earlier updates sent with its `device_id`: a report
    saved twice offline) are its own, not a conflict; the same user on another device is someone else."""
    from ..forms.engine import validate_record
    base = op.get("base_version")
    data = op.get("data")
    if not isinstance(base, int) or isinstance(base, bool) or base < 1:
        raise ValidationFailed("base_version (the version the device changed) is required",
                               details=[{"path": "base_version", "message": "required"}])
    if not isinstance(data, dict) or not data:
        raise ValidationFailed("data must be an object of the fields changed", details=[{"path": "data", "message": "required"}])
    _v, published_form = definitions.published(caller.tenant, "form", op["form"])
    caller.require_any(published_form.permissions.update, f"updating {op['form']} records")
    access = records.access_for(caller, published_form)
    rec = record_store.get_record(caller.tenant, op["record_id"], consistent=True)
    if rec is None or rec.deleted or rec.form != op["form"] or not access.admitting_roles("update", rec.data) \
            or (access.can("read") and not access.row_visible(rec.data)):
        raise NotFound(f"{op['form']} record {op['record_id']} does not exist")
    if base > rec.version:
        raise ValidationFailed(f"base_version {base} is newer than the record (version {rec.version})",
                               details=[{"path": "base_version", "message": "not a version this record has had"}])
    access.require_writable(data, rec.data)
    fieldwork.guard_managed(caller.tenant, rec.form, data)
    if rec.workflow:
        inst, wf = workflow.running(caller.tenant, rec)
        workflow.check_editable(caller, wf, inst, data, record_data=rec.data, comment=op.get("comment"))
    changed_since = store.fields_changed_since(caller.tenant, rec.id, base, rec.version, own=(caller.user_id, device) if device else None) \
        if rec.version > base else set()
    form = definitions.version_of(caller.tenant, "form", rec.form, rec.form_version)
    visible = access.visible_fields(rec.data)
    # compare like with like: the device's values as the form engine would store them
    # rec.data was validated by this version (form = the record's version): an incremental check
    mine = validate_record(form, data, previous=rec.data, system=True, record=rec, previous_checked=True).data
    apply, conflicts = {}, []

    def conflict(name: str, value: Any, reason: str | None = None) -> dict:
        entry = {"field": name, "client_value": value}
        if name in visible:  # never the value of a field the caller may not see
            entry["server_value"] = rec.data.get(name)
        if reason:
            entry["reason"] = reason
        return entry

    for name, value in data.items():
        if name not in changed_since:
            apply[name] = value
        elif jsonutil.dumps(mine.get(name), canonical=True) != jsonutil.dumps(rec.data.get(name), canonical=True):
            conflicts.append(conflict(name, value))
    if apply:  # a value the record's current state no longer keeps (e.g. visible_if now false) is not dropped
        kept = validate_record(form, apply, previous=rec.data, system=True, record=rec, previous_checked=True).data
        for name in [n for n, v in apply.items() if v is not None and kept.get(n) is None]:
            conflicts.append(conflict(name, apply.pop(name), "not stored: the record's current values hide this field"))
    extra = []
    if conflicts:
        entry = {"op_id": op["op_id"], "user": caller.user_id, "device_time": op.get("device_time"),
                 "base_version": base, "server_version": rec.version, "at": utc_now(), "conflicts": conflicts}
        extra.append(store.conflict_put(caller.tenant, rec.id, key[0], entry))
    status = "conflict" if conflicts else "applied"
    if not apply:  # nothing merges: keep the conflict (and the op's id) without touching the record
        result = jsonutil.to_plain({"op_id": op["op_id"], "status": status, "conflicts": conflicts,
                                    "result": {"id": rec.id, "version": rec.version}})
        first = store.save_outcome(caller.tenant, key, result, extra)
        return result if first is None else _replay(op, key, first)  # a concurrent copy saved first
    outcome = jsonutil.to_plain({"op_id": op["op_id"], "status": status, "conflicts": conflicts, "merged": sorted(apply),
                                 "result": {"id": rec.id, "version": rec.version + 1}})
    written = records.update(caller, op["form"], op["record_id"], {"version": rec.version, "data": apply}, None,
                             op=key, op_response=outcome, extra=extra, device=device)
    if written.get("op_id") == op["op_id"] and "status" in written:  # the stored outcome: a concurrent copy applied it
        return {**written, "replayed": True}
    return outcome


# ---- pull ----------------------------------------------------------------------------------
#
# The cursor is a position in the user's change feed (storage.feed): the last entry number read,
# the numbers not yet visible then (holes: changes in flight, looked up again until they appear or
# settle), the time of the pull, and a digest of the caller's roles and attributes (what a record's
# visibility depends on besides the record). A pull is one Query of the entries after that position
# (+ one BatchGetItem of the holes, if any) and one BatchGetItem of the records they name (read again
# consistently only if one comes back older than the version its entry names), each re-checked: still the user's task and readable → `records`, else → `unassigned`. Its reads
# follow what changed, not how many open tasks the user has. A cursor of the old format (versions),
# none, one older than the feed's TTL or one issued under other roles gets a full resync: every open
# task's record, as before.

MAX_FEED_ENTRIES = 2000  # more changes than this since the cursor: a full resync reads less
MAX_HOLES = 50  # numbers in flight the cursor keeps (the cursor stays under cursors.MAX_CURSOR_CHARS)
RECENT_LIMIT = 2000  # a full resync looks at most this far back for changes in flight


class _Feed(TypedDict):
    n: int
    h: list[list[int]]
    a: int
    r: str
    o: NotRequired[str]


def _identity(caller: Caller) -> str:
    import hashlib
    text = jsonutil.dumps([sorted(caller.roles), sorted(caller.attributes)], canonical=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _batch_digest(op_ids: list[str]) -> str:
    import hashlib
    return hashlib.sha256("\x00".join(sorted(op_ids)).encode()).hexdigest()[:16]


def _encode_cursor(caller: Caller, position: int, holes: list[list[int]], at: int, batch: str | None = None) -> str:
    body: dict[str, Any] = {"t": caller.tenant, "u": caller.user_id, "n": position, "h": holes, "a": at, "r": _identity(caller)}
    if batch:
        body["o"] = batch
    return cursors.seal("sync", body)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _decode_cursor(caller: Caller, cursor: str) -> tuple[str, Any]:
    """("versions", {record id: version}) for a cursor of the old format, ("feed", body) for a feed position."""
    body = cursors.open_("sync", cursor, "cursor")
    if "v" in body:
        versions = body.get("v")
        if not isinstance(versions, dict) or not all(isinstance(v, int) and not isinstance(v, bool) for v in versions.values()):
            raise cursors.invalid("cursor", "not a sync cursor of this API")
        parsed: Any = ("versions", {str(k): v for k, v in versions.items()})
    else:
        holes = body.get("h")
        if not (_is_int(body.get("n")) and _is_int(body.get("a")) and isinstance(body.get("r"), str)
                and isinstance(holes, list) and len(holes) <= MAX_HOLES
                and all(isinstance(h, list) and len(h) == 2 and _is_int(h[0]) and _is_int(h[1]) for h in holes)
                and isinstance(body.get("o", ""), str)):
            raise cursors.invalid("cursor", "not a sync cursor of this API")
        parsed = ("feed", body)
    if body.get("t") != caller.tenant or body.get("u") != caller.user_id:
        raise BadRequest("cursor belongs to another user", code="invalid_cursor", details=[{"path": "cursor", "message": "not yours"}])
    return parsed


class _Reader:
    """Decides, per record, whether the caller holds it: an open task of theirs on the record (read
    from the record itself) and a published form whose rules let them read it."""

    def __init__(self, caller: Caller) -> None:
        self.caller, self.forms = caller, {}

    def access(self, rec) -> Any:
        if f"user:{self.caller.user_id}" not in {t.get("assignee") for t in (rec.workflow or {}).get("tasks", [])}:
            return None
        if rec.form not in self.forms:
            try:
                self.forms[rec.form] = records.access_for(self.caller, definitions.published(self.caller.tenant, "form", rec.form)[1])
            except NotFound:
                self.forms[rec.form] = None
        access = self.forms[rec.form]
        if access is None or not access.can("read") or not access.row_visible(rec.data):
            return None
        return access


def pull(caller: Caller, cursor: str | None, batch: list[str] | None = None, replay_only: bool = False) -> Pulled:
    """What changed for this user since `cursor`. `batch`: the op ids of the call (its digest goes into
    the cursor handed back); `replay_only`: every operation of the call was already applied — when the
    cursor is the one this very batch's answer carried, the client has seen all of it: nothing is read
    and the same cursor comes back (what changed meanwhile comes with the next sync, nothing is lost)."""
    now = feed_store.now_ms()
    kind, body = _decode_cursor(caller, cursor) if cursor else ("none", None)
    digest = _batch_digest(batch) if batch else None
    if kind == "feed" and body["r"] == _identity(caller) and now - body["a"] < (feed_store.FEED_TTL_SECONDS - 86400) * 1000:
        if replay_only and digest and body.get("o") == digest:
            return {"changes": {"records": [], "assigned": [], "unassigned": [], "full": False}, "cursor": cursor}
        return _incremental(caller, body, now, digest)
    return _full(caller, body if kind == "versions" else None, now, digest)


def _wanted(entries: list[dict], into: dict[str, int | None] | None = None) -> dict[str, int | None]:
    """{record id: the newest version the entries name} (None: an entry without one, read consistently)."""
    wanted = dict(into or {})
    for e in entries:
        if e["kind"] == feed_store.VOID:
            continue
        have = wanted.get(e["record_id"], 0)
        wanted[e["record_id"]] = None if have is None or e["version"] is None else max(have, e["version"])
    return wanted


def _incremental(caller: Caller, body: dict, now: int, digest: str | None) -> Pulled:
    tenant, user = caller.tenant, caller.user_id
    position = body["n"]
    entries, complete = feed_store.after(tenant, user, position, MAX_FEED_ENTRIES)
    if not complete:  # a lot changed: read every open task once, and still say what left among these
        return _full(caller, None, now, digest, also=_wanted(entries))
    holes = body["h"]
    found = feed_store.entries(tenant, user, [s for s, _ in holes])
    seen = {e["seq"] for e in entries} | {e["seq"] for e in found}
    top = max([position, *(e["seq"] for e in entries)])
    settle = feed_store.SETTLE_SECONDS * 1000
    keep = [[s, t] for s, t in holes if s not in seen and now - t < settle]
    keep += [[s, now] for s in range(position + 1, top) if s not in seen]
    wanted = _wanted([*entries, *found])
    reader, changed, assigned = _Reader(caller), [], []
    for rec in store.records_at_least(tenant, wanted):  # each at least at the version its entry names
        access = reader.access(rec)
        if access is not None:
            assigned.append(rec.id)
            changed.append(records.render_for(access, rec))
    return {"changes": {"records": changed, "assigned": assigned, "unassigned": sorted(set(wanted) - set(assigned)), "full": False},
            "cursor": _encode_cursor(caller, top, sorted(keep)[-MAX_HOLES:], now, digest)}


def _full(caller: Caller, seen: dict[str, int] | None, now: int, digest: str | None,
          also: dict[str, int | None] | None = None) -> Pulled:
    """Every open task's record (changed ones only for an old-format cursor, which names versions).
    The feed position is taken first, then the entries of the last SETTLE_SECONDS are looked at: numbers
    not yet visible become holes, and their records are read too, each at least at the version its
    entry names (the inbox index may lag them)."""
    tenant, user = caller.tenant, caller.user_id
    head, taken_at = feed_store.head(tenant, user)
    since = now - feed_store.SETTLE_SECONDS * 1000
    recent, floor = feed_store.recent(tenant, user, head, since, RECENT_LIMIT) if taken_at >= since else ([], head)
    visible = {e["seq"] for e in recent}
    holes = [[s, now] for s in range(max(floor, head - MAX_HOLES) + 1, head + 1) if s not in visible]
    inbox = {t["record_id"]: 0 for t in store.open_task_records(tenant, f"user:{user}")}
    wanted = _wanted(recent, _wanted([{"record_id": i, "version": v, "kind": "~"} for i, v in (also or {}).items()], inbox))
    reader, changed, versions = _Reader(caller), [], {}
    for rec in store.records_at_least(tenant, wanted):
        access = reader.access(rec)
        if access is None:
            continue
        versions[rec.id] = rec.version
        if seen is None or seen.get(rec.id) != rec.version:
            changed.append(records.render_for(access, rec))
    gone = (set(seen or ()) | set(also or ())) - set(versions)
    return {"changes": {"records": changed, "assigned": sorted(versions), "unassigned": sorted(gone), "full": True},
            "cursor": _encode_cursor(caller, head, holes, now, digest)}


def conflicts(caller: Caller, form_name: str, record_id: str) -> dict:
    """Values offline devices sent that lost to someone else's change: kept for a person to settle."""
    _v, form = definitions.published(caller.tenant, "form", form_name)
    caller.require_any(form.permissions.read, f"reading {form_name} records")
    access = records.access_for(caller, form)
    records.load_visible(access, caller.tenant, form_name, record_id)
    hidden = access.hidden_everywhere()
    items = store.list_conflicts(caller.tenant, record_id)
    for item in items:  # a value of a field the caller may not see stays hidden here too
        item["conflicts"] = [c for c in item["conflicts"] if c["field"] not in hidden]
    return {"items": items}
