"""Record writes. Each create/update/delete is ONE TransactWriteItems: the record, its unique-value
claims, the auto-number counter, reference existence checks and the idempotency key move together."""
from __future__ import annotations

import copy
import random
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from .. import jsonutil
from ..errors import BadRequest, Conflict, PayloadTooLarge, ServiceUnavailable, ValidationFailed
from . import keys
from . import feed as feed_store
from .models import CounterItem, FeedItem, IdempotencyItem, IndexEntryItem, MemberItem, RecordItem, TaskItem, UniqueItem

MAX_TRANSACTION_ITEMS = 100
MAX_RECORD_BYTES = 350 * 1024  # DynamoDB items hold 400 KB; the rest is keys, workflow state and headroom
SYNC_SCOPE = "_sync"  # idempotency keys of offline operations; no form name starts with "_"
SYNC_KEY_PREFIX = "sync."  # creates from offline sync use the form's key space with this prefix
MAX_CREATE_ATTEMPTS = 30  # transaction conflicts (another write holds an item of ours) are retried with backoff


@dataclass
class StoredRecord:
    tenant: str
    id: str
    form: str
    form_version: int
    version: int
    data: dict
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    number: str | None = None
    deleted: bool = False
    workflow: dict | None = None  # workflow.Instance as a dict
    # the IndexEntryItem keys the stored item holds (slots past the GSIs): an update deletes those its
    # new values no longer name; carried by `StoredRecord(**{**old.__dict__, ...})`, set after each write
    index_entries: frozenset = frozenset()


@dataclass
class WritePlan:
    """What a write must do besides the record itself (computed by the service from the form)."""

    shards: int = 1
    index_values: dict[int, Any] = field(default_factory=dict)  # slot → value
    unique_claims: dict[str, Any] = field(default_factory=dict)  # field → value to claim
    unique_releases: dict[str, Any] = field(default_factory=dict)  # field → value to release
    references: list = field(default_factory=list)  # forms.engine.Reference
    counter: tuple[str, Callable[[int], str]] | None = None  # (period, format(seq) → number)
    idempotency: tuple[str, str] | None = None  # (key, request hash)
    idempotency_scope: str | None = None  # key namespace; the form's name when None
    idempotent_response: dict | None = None  # for updates: the answer a replay of this key gets back
    # Items written with the record (history, tasks, timers): (op "put"|"delete", item, condition, label)
    extra: list[tuple] = field(default_factory=list)
    # Built after numbering, when the extra items need the final record (e.g. its number)
    extra_for: Callable[["StoredRecord"], list[tuple]] | None = None


def _to_item(rec: StoredRecord, plan: WritePlan) -> RecordItem:
    """The record's item; `xix` names the index entries it must have (see _entry_ops)."""
    data_text = jsonutil.dumps(rec.data)
    if len(data_text.encode("utf-8")) > MAX_RECORD_BYTES:
        raise PayloadTooLarge(f"record data is larger than {MAX_RECORD_BYTES // 1024} KB once computed fields are added",
                              code="record_too_large", details=[{"path": "data", "message": "too large to store"}])
    item = RecordItem(keys.record_pk(rec.tenant, rec.id), "R", tenant=rec.tenant, form=rec.form,
                      form_version=rec.form_version, version=rec.version, number=rec.number,
                      data=data_text, created_at=rec.created_at, created_by=rec.created_by,
                      updated_at=rec.updated_at, updated_by=rec.updated_by, deleted=rec.deleted,
                      workflow=jsonutil.dumps(rec.workflow) if rec.workflow else None)
    if not rec.deleted:  # soft-deleted records leave every list index (sparse GSIs)
        shard = keys.shard_of(rec.id, plan.shards)
        item.lsk = rec.id
        item.gsi1pk = keys.form_list_pk(rec.tenant, rec.form, shard)
        entries = set()
        for slot, value in plan.index_values.items():
            if value is None:
                continue
            if slot <= keys.GSI_SLOTS:
                setattr(item, f"ix{slot}pk", keys.field_list_pk(rec.tenant, rec.form, slot, value, shard))
            else:
                entries.add(keys.entry_list_pk(rec.tenant, rec.form, slot, value, shard))
        item.xix = entries or None
    return item


def _entry_ops(rec: StoredRecord, item: RecordItem) -> list[tuple]:
    """Index entries to put (values new to the record) and delete (values it no longer has): only
    what changed, so an update that leaves indexed values alone writes no entry."""
    now, before = set(item.xix or ()), set(rec.index_entries)
    return ([("put", IndexEntryItem(pk, rec.id), None, f"index:{pk}") for pk in sorted(now - before)]
            + [("delete", IndexEntryItem(pk, rec.id), None, f"unindex:{pk}") for pk in sorted(before - now)])


def _add_entries(tx: "_Transaction", ops: list[tuple]) -> None:
    for op, entry, condition, label in ops:
        (tx.put if op == "put" else tx.delete)(entry, condition, label)


def from_item(item: RecordItem) -> StoredRecord:
    return StoredRecord(tenant=item.tenant, id=item.pk.rsplit("#", 1)[1], form=item.form,
                        form_version=int(item.form_version), version=int(item.version), data=jsonutil.loads(item.data),
                        created_at=item.created_at, created_by=item.created_by, updated_at=item.updated_at,
                        updated_by=item.updated_by, number=item.number, deleted=bool(item.deleted),
                        workflow=jsonutil.loads(item.workflow) if item.workflow else None,
                        index_entries=frozenset(item.xix or ()))


# Within one unit of work (an offline-sync operation), a record read consistently is read once: the
# operation checks the version and the use case it calls loads the same record microseconds later.
_read_once: ContextVar[dict | None] = ContextVar("read_once", default=None)


@contextmanager
def reading_once():
    token = _read_once.set({})
    try:
        yield
    finally:
        _read_once.reset(token)


def get_record(tenant: str, record_id: str, *, consistent: bool = False) -> StoredRecord | None:
    cache = _read_once.get()
    if cache is not None and (tenant, record_id) in cache:
        return copy.deepcopy(cache[(tenant, record_id)])
    try:
        rec = from_item(RecordItem.get(keys.record_pk(tenant, record_id), "R", consistent_read=consistent))
    except DoesNotExist:
        return None
    if cache is not None and consistent:
        cache[(tenant, record_id)] = copy.deepcopy(rec)
    return rec


def create_record(rec: StoredRecord, plan: WritePlan, render: Callable[[StoredRecord], dict]) -> tuple[dict, bool]:
    """Write a new record. Returns (response body, replayed): replayed=True when the Idempotency-Key was
    already used, in which case nothing new is written and the first response comes back.

    An auto-number is taken first, with one atomic ADD on the form's counter item (UpdateItem, outside
    the record's transaction), so concurrent creators never contend on the counter: each gets the next
    number in one request. The record transaction is retried with that same number when DynamoDB
    reports a conflict on another item. When the create is refused (a replayed key, a unique value or
    a reference, throttling) the number is handed back if nobody took a later one; otherwise it stays
    a gap. A failure whose outcome is unknown (network) never hands it back."""
    counter_key, seq, done, outcome_unknown = None, None, False, False
    if plan.counter:
        counter_key = keys.counter_pk(rec.tenant, rec.form, plan.counter[0])
        seq = _take_number(counter_key)
        rec.number = plan.counter[1](seq)
    try:
        body = render(rec)
        for attempt in range(MAX_CREATE_ATTEMPTS):
            if attempt:
                _backoff(attempt)
            tx = _Transaction()
            item = _to_item(rec, plan)
            tx.put(item, RecordItem.pk.does_not_exist(), "record")
            _add_entries(tx, _entry_ops(rec, item))
            _add_unique_claims(tx, rec, plan)
            _add_reference_checks(tx, rec, plan.references)
            _add_extra(tx, plan, rec)
            if plan.idempotency:
                key, request_hash = plan.idempotency
                tx.put(IdempotencyItem(keys.idempotency_pk(rec.tenant, plan.idempotency_scope or rec.form, key), "K", request_hash=request_hash,
                                       status_code=201, response=jsonutil.dumps(body), expires_at=_expiry(rec.created_at, plan)),
                       IdempotencyItem.pk.does_not_exist(), "idempotency")
            try:
                failed = tx.commit()
            except Conflict as exc:
                if exc.code == "transaction_conflict":
                    continue  # another transaction held one of our items; nothing was written
                raise
            except (ServiceUnavailable, BadRequest, ValidationFailed):
                raise  # cancelled or refused before sending: nothing was written
            except Exception:
                outcome_unknown = True  # the transaction may have been applied: keep the number used
                raise
            if not failed:
                done = True
                rec.index_entries = frozenset(item.xix or ())
                return body, False
            if "idempotency" in failed:
                stored = failed["idempotency"]
                if stored is None:
                    stored = IdempotencyItem.get(keys.idempotency_pk(rec.tenant, plan.idempotency_scope or rec.form, plan.idempotency[0]), "K")
                    stored = {"request_hash": stored.request_hash, "response": stored.response}
                if stored["request_hash"] != plan.idempotency[1]:
                    raise ValidationFailed("Idempotency-Key was already used with a different request",
                                           code="idempotency_key_reused",
                                           details=[{"path": "headers.Idempotency-Key", "message": "reused with a different body"}])
                return jsonutil.loads(stored["response"]), True
            if "record" in failed:  # only a client-chosen id can already exist
                raise Conflict(f"record id {rec.id} is already taken", code="record_id_taken",
                               details=[{"path": "record_id", "message": "already used"}])
            _raise_for_claims_and_references(failed, plan)
            raise ServiceUnavailable("record could not be written; retry")  # pragma: no cover
        raise ServiceUnavailable("too many concurrent writes to the same data; retry", code="write_contention")
    finally:
        if counter_key and not done and not outcome_unknown:
            _give_back_number(counter_key, seq)


def update_record(rec: StoredRecord, expected_version: int, plan: WritePlan) -> dict | None:
    """Replace the record if it is still at expected_version (optimistic lock). With
    plan.idempotency, a key already used writes nothing and returns the first response (else None)."""
    cache = _read_once.get()
    if cache is not None:  # a read after this write must see it (or the conflict), never the old copy
        cache.pop((rec.tenant, rec.id), None)
    tx = _Transaction()
    if plan.idempotency:
        key, request_hash = plan.idempotency
        tx.put(IdempotencyItem(keys.idempotency_pk(rec.tenant, plan.idempotency_scope or rec.form, key), "K",
                               request_hash=request_hash, status_code=200,
                               response=jsonutil.dumps(plan.idempotent_response or {}), expires_at=_expiry(rec.updated_at, plan)),
               IdempotencyItem.pk.does_not_exist(), "idempotency")
    condition = (RecordItem.version == expected_version) & (RecordItem.deleted == False)  # noqa: E712
    item = _to_item(rec, plan)
    tx.put(item, condition, "record")
    _add_entries(tx, _entry_ops(rec, item))
    _add_unique_claims(tx, rec, plan)
    for field_name, value in plan.unique_releases.items():
        tx.delete(UniqueItem(keys.unique_pk(rec.tenant, rec.form, field_name, value), "U"),
                  UniqueItem.record_id == rec.id, f"release:{field_name}")
    _add_reference_checks(tx, rec, plan.references)
    _add_extra(tx, plan, rec)
    failed = tx.commit()
    if not failed:
        rec.index_entries = frozenset(item.xix or ())
        return None
    if "idempotency" in failed:
        return _replayed(failed["idempotency"], rec, plan)
    for label, old in failed.items():
        if hasattr(label, "raise_for"):  # e.g. a stock change: insufficient stock, with what is on hand
            label.raise_for(old)
    if "record" in failed:
        current = failed["record"]
        raise Conflict("record was changed by someone else", code="version_conflict", details={
            "current_version": int(current["version"]) if current and "version" in current else None,
            "deleted": bool(current.get("deleted")) if current else True})
    _raise_for_claims_and_references(failed, plan)
    raise Conflict("record could not be updated; retry", code="transaction_conflict",
                   details=[{"path": "", "message": f"condition failed on {label}"} for label in failed])


def _replayed(stored: dict | None, rec: StoredRecord, plan: WritePlan) -> dict:
    if stored is None:
        found = IdempotencyItem.get(keys.idempotency_pk(rec.tenant, plan.idempotency_scope or rec.form, plan.idempotency[0]), "K")
        stored = {"request_hash": found.request_hash, "response": found.response}
    if stored["request_hash"] != plan.idempotency[1]:
        raise ValidationFailed("the operation id was already used with a different request", code="idempotency_key_reused",
                               details=[{"path": "op_id", "message": "reused with a different body"}])
    return jsonutil.loads(stored["response"])


def _add_extra(tx: "_Transaction", plan: WritePlan, rec: StoredRecord) -> None:
    ops = plan.extra + (plan.extra_for(rec) if plan.extra_for else [])
    _add_feed(tx, rec, ops)
    for op, item, condition, label in ops:
        if op == "put":
            tx.put(item, condition, label)
        elif op == "update":
            tx.update(item[0], item[1], condition, label)
        elif op == "check":
            model, hash_key, range_key = item
            tx.check(model, hash_key, range_key, condition, label)
        elif op == "count":  # ("count", item, {attribute: delta}, {attribute: value}): merged per item
            tx.count(item, condition, label)
        else:
            tx.delete(item, condition, label)


_USER_TASK = "TASK#user:"


def _add_feed(tx: "_Transaction", rec: StoredRecord, ops: list[tuple]) -> None:
    """The sync feed entries of this change (storage.feed), one per (user, record): every task item of
    a user the change puts or deletes (task added, changed or removed: `storage.workflow.workflow_changes`
    writes every task item, and always into a record's transaction), and the record itself for each
    user holding a task on it after the change."""
    for op, item, _condition, _label in ops:
        if isinstance(item, TaskItem) and op in ("put", "delete") and item.sk.startswith(_USER_TASK):
            record_id = item.pk.rsplit("#", 1)[1]  # this record, or one a workflow step creates with it
            tx.feed(rec.tenant, item.sk[len(_USER_TASK):], record_id, "-" if op == "delete" else "+",
                    rec.version if record_id == rec.id else 1)
    for user in task_users(rec.workflow):
        tx.feed(rec.tenant, user, rec.id, "~", rec.version)


def task_users(workflow: dict | None) -> list[str]:
    """Users (not roles) holding an open task in a workflow instance."""
    return sorted({t["assignee"][5:] for t in (workflow or {}).get("tasks", [])
                   if str(t.get("assignee", "")).startswith("user:")})


def related_create_ops(rec: StoredRecord, plan: WritePlan) -> list[tuple]:
    """Extra ops that create another record in the same transaction (a workflow's CreateRecord):
    the record, its unique claims and its reference checks."""
    item = _to_item(rec, plan)
    ops: list[tuple] = [("put", item, RecordItem.pk.does_not_exist(), f"create:{rec.form}"), *_entry_ops(rec, item)]
    for field_name, value in plan.unique_claims.items():
        ops.append(("put", UniqueItem(keys.unique_pk(rec.tenant, rec.form, field_name, value), "U", record_id=rec.id),
                    UniqueItem.pk.does_not_exist(), f"related-unique:{rec.form}.{field_name}"))
    for ref in plan.references:
        if ref.kind == "user":
            condition = MemberItem.pk.exists() & (MemberItem.active == True)  # noqa: E712
            ops.append(("check", (MemberItem, keys.member_pk(rec.tenant, ref.target), "M"), condition, ref))
        else:
            condition = RecordItem.pk.exists() & (RecordItem.form == ref.form) & (RecordItem.deleted == False)  # noqa: E712
            ops.append(("check", (RecordItem, keys.record_pk(rec.tenant, ref.target), "R"), condition, ref))
    return ops


def _add_unique_claims(tx: "_Transaction", rec: StoredRecord, plan: WritePlan) -> None:
    for field_name, value in plan.unique_claims.items():
        tx.put(UniqueItem(keys.unique_pk(rec.tenant, rec.form, field_name, value), "U", record_id=rec.id),
               UniqueItem.pk.does_not_exist() | (UniqueItem.record_id == rec.id), f"unique:{field_name}")


def _add_reference_checks(tx: "_Transaction", rec: StoredRecord, references: list) -> None:
    # A transaction may touch an item once: references to the same target share one check.
    tenant = rec.tenant
    groups: dict[tuple[str, str], list] = {}
    for ref in references:
        if ref.kind == "record" and ref.target == rec.id:
            if ref.form != rec.form:  # the record itself, written in this transaction
                raise ValidationFailed("record refers to missing data", details=[
                    {"path": ref.path or "data", "message": f"{ref.form} record {ref.target} does not exist"}])
            continue
        groups.setdefault((ref.kind, ref.target), []).append(ref)
    for (kind, target), refs in groups.items():
        if kind == "user":
            condition = MemberItem.pk.exists() & (MemberItem.active == True)  # noqa: E712
            for role in sorted({r.role for r in refs if r.role}):
                condition &= MemberItem.roles.contains(role)
            tx.check(MemberItem, keys.member_pk(tenant, target), "M", condition, refs[0])
            continue
        forms = {r.form for r in refs}
        if len(forms) > 1:  # one id used for lookups of different forms: at most one can be right
            _raise_wrong_forms(tenant, target, refs)
        condition = RecordItem.pk.exists() & (RecordItem.form == refs[0].form) & (RecordItem.deleted == False)  # noqa: E712
        tx.check(RecordItem, keys.record_pk(tenant, target), "R", condition, refs[0])


def _raise_wrong_forms(tenant: str, target: str, refs: list) -> None:
    existing = get_record(tenant, target)
    actual = existing.form if existing and not existing.deleted else None
    raise ValidationFailed("record refers to missing data", details=[
        {"path": r.path or "data", "message": f"{r.form} record {target} does not exist"} for r in refs if r.form != actual])


def _raise_for_claims_and_references(failed: dict, plan: WritePlan) -> None:
    problems = []
    for label in failed:
        if isinstance(label, str) and label.startswith("related-unique:"):
            form_field = label.split(":", 1)[1]
            problems.append({"path": f"CreateRecord.data.{form_field.split('.', 1)[1]}",
                             "message": f"the {form_field.split('.', 1)[0]} record a workflow step creates repeats a unique value"})
        elif isinstance(label, str) and label.startswith("unique:"):
            name = label.split(":", 1)[1]
            problems.append({"path": f"data.{name}", "message": f"value {plan.unique_claims[name]!s} is already used by another record"})
        elif not isinstance(label, str):
            what = f"user {label.target} is not an active member" + (f" with role {label.role}" if label.role else "") \
                if label.kind == "user" else f"{label.form} record {label.target} does not exist"
            problems.append({"path": label.path or "data", "message": what})
    if problems:
        raise ValidationFailed("record refers to missing data or repeats a unique value", details=problems)


def _backoff(attempt: int) -> None:
    """Full jitter, capped: spreads retrying writers so the next round has fewer collisions."""
    time.sleep(random.uniform(0, min(0.25, 0.004 * 2 ** attempt)))


def _take_number(counter_key: str) -> int:
    """The next number of a counter: one UpdateItem ADD n 1 (creates the item at 1), new value returned."""
    counter = CounterItem(counter_key, "C")
    counter.update(actions=[CounterItem.n.add(1)])
    return int(counter.n)


def take_number(counter_key: str) -> int:
    """A number drawn outside a create (a workflow's CreateRecord into an auto-numbered form)."""
    return _take_number(counter_key)


def counter_key(tenant: str, form: str, period: str) -> str:
    return keys.counter_pk(tenant, form, period)


def _give_back_number(counter_key: str, seq: int) -> None:
    """Undo _take_number when the create wrote nothing and no later number was taken (no gap then)."""
    from pynamodb.exceptions import UpdateError
    try:
        CounterItem(counter_key, "C").update(actions=[CounterItem.n.add(-1)], condition=CounterItem.n == seq)
    except UpdateError:
        pass  # someone numbered after us (the number stays a gap) or DynamoDB is unavailable


def _expiry(created_at: str, plan: WritePlan | None = None) -> int:
    from datetime import datetime

    from ..config import get_settings
    moment = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    settings = get_settings()
    return int(moment.timestamp()) + (settings.sync_op_ttl_seconds if plan is not None and is_sync_key(plan)
                                      else settings.idempotency_ttl_seconds)


def is_sync_key(plan: WritePlan) -> bool:
    """Offline operations keep their idempotency items longer (a phone may replay its queue days later)."""
    return plan.idempotency_scope == SYNC_SCOPE or bool(plan.idempotency and plan.idempotency[0].startswith(SYNC_KEY_PREFIX))


class _Transaction:
    """TransactWrite that remembers a label per item, so a cancellation says which item failed and,
    with ReturnValuesOnConditionCheckFailure=ALL_OLD, what it held (no second read).

    DynamoDB refuses a transaction that touches one item twice (ValidationException), and one change
    can name an item twice: a workflow step creating a record that refers to the same customer as its
    source, or to the source itself. So checks of one item merge into one (conditions AND-ed), and a
    check of an item the transaction also writes becomes part of that write's condition."""

    def __init__(self) -> None:
        self._checks: dict[tuple, list] = {}  # item key → [model, hash, range, condition, labels]
        self._deletes: list = []
        self._puts: list = []
        self._updates: list = []
        self._counts: dict[tuple, list] = {}  # item key → [item, {attribute: delta}, {attribute: value}]
        self._feed: dict[tuple[str, str], dict[str, tuple[str, int]]] = {}  # (tenant, user) → {record id: (kind, version)}

    @staticmethod
    def _key_of(item) -> tuple:
        hash_attr, range_attr = item._hash_key_attribute(), item._range_key_attribute()
        return (item.Meta.table_name, getattr(item, hash_attr.attr_name),
                getattr(item, range_attr.attr_name) if range_attr is not None else None)

    def check(self, model, hash_key, range_key, condition, label) -> None:
        key = (model.Meta.table_name, hash_key, range_key)
        if key in self._checks:
            self._checks[key][3] = self._checks[key][3] & condition
            self._checks[key][4].append(label)
        else:
            self._checks[key] = [model, hash_key, range_key, condition, [label]]

    def delete(self, item, condition, label) -> None:
        self._deletes.append((self._key_of(item), item, condition, label))

    def put(self, item, condition, label) -> None:
        self._puts.append((self._key_of(item), item, condition, label))

    def update(self, item, actions, condition, label) -> None:
        self._updates.append((self._key_of(item), item, actions, condition, label))

    def count(self, item, adds: dict[str, int], sets: dict[str, str]) -> None:
        """ADD deltas to an item's counters (creating it), SET values (the latest wins); several counts
        of one item in one change become one write, and a write that nets to nothing is dropped."""
        key = self._key_of(item)
        merged = self._counts.setdefault(key, [item, {}, {}])
        for name, delta in adds.items():
            merged[1][name] = merged[1].get(name, 0) + delta
        for name, value in sets.items():
            merged[2][name] = max(value, merged[2].get(name) or value)

    def feed(self, tenant: str, user: str, record_id: str, kind: str, version: int) -> None:
        """A sync feed entry for `user` (storage.feed), numbered and written at commit; one per record."""
        entries = self._feed.setdefault((tenant, user), {})
        old = entries.get(record_id)
        entries[record_id] = (feed_store.merge_kind(old[0] if old else None, kind), max(version, old[1] if old else 0))

    def _feed_entries(self) -> list[tuple[str, str, list[int]]]:
        """Number the feed entries (one UpdateItem ADD per user, outside the transaction) and add their
        puts, each conditioned on its number being free (see storage.feed)."""
        taken = []
        at = feed_store.now_ms()
        for (tenant, user), records in sorted(self._feed.items()):
            seqs = feed_store.take(tenant, user, len(records))
            taken.append((tenant, user, seqs))
            for seq, (record_id, (kind, version)) in zip(seqs, sorted(records.items())):
                self.put(feed_store.entry(tenant, user, seq, record_id, kind, version, at), FeedItem.pk.does_not_exist(),
                         f"feed:{user}:{seq}")
        self._feed = {}
        return taken

    def _count_updates(self) -> None:
        for key, (item, adds, sets) in self._counts.items():
            attributes = type(item).get_attributes()
            actions = [attributes[n].add(d) for n, d in sorted(adds.items()) if d] + \
                      [attributes[n].set(v) for n, v in sorted(sets.items())]
            if actions:
                self._updates.append((key, item, actions, None, f"count:{key[1]}#{key[2]}"))
        self._counts = {}

    def _ordered(self) -> list[tuple[list, Callable]]:
        """(labels, add) in PynamoDB's wire order, each item once."""
        self._count_updates()
        checks = dict(self._checks)

        def folded(key, condition):
            merged = checks.pop(key, None)
            if merged is None:
                return condition, []
            return (merged[3] if condition is None else condition & merged[3]), merged[4]

        deletes, puts, updates = [], [], []
        for key, item, condition, label in self._puts:
            condition, more = folded(key, condition)
            puts.append(([label, *more], lambda tx, item=item, condition=condition:
                         tx.save(item, condition=condition, return_values="ALL_OLD")))
        for key, item, condition, label in self._deletes:
            condition, more = folded(key, condition)
            deletes.append(([label, *more], lambda tx, item=item, condition=condition: tx.delete(item, condition=condition)))
        for key, item, actions, condition, label in self._updates:
            condition, more = folded(key, condition)
            updates.append(([label, *more], lambda tx, item=item, actions=actions, condition=condition:
                             tx.update(item, actions, condition=condition, return_values="ALL_OLD")))
        check_ops = [(labels, lambda tx, m=model, h=hash_key, r=range_key, c=condition: tx.condition_check(m, h, r, condition=c))
                     for model, hash_key, range_key, condition, labels in checks.values()]
        return check_ops + deletes + puts + updates

    def commit(self) -> dict:
        """{} on success, else {label: old item as plain dict or None} for each item that failed its condition.
        Feed numbers taken for a change that was not written are filled with voids (storage.feed)."""
        taken = self._feed_entries() if self._feed else []
        try:
            failed = self._commit()
        except BaseException:
            for tenant, user, seqs in taken:  # conditional: an entry that did commit is never overwritten
                feed_store.void(tenant, user, seqs)
            raise
        if failed:
            for tenant, user, seqs in taken:
                feed_store.void(tenant, user, seqs)
        return failed

    def _commit(self) -> dict:
        ordered = self._ordered()
        if len(ordered) > MAX_TRANSACTION_ITEMS:
            raise ValidationFailed(f"change touches {len(ordered)} items; the limit is {MAX_TRANSACTION_ITEMS}",
                                   code="too_many_references")
        try:
            with TransactWrite(connection=RecordItem._get_connection().connection) as tx:
                for _labels, add in ordered:
                    add(tx)
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            failed = {}
            for (labels, _add), reason in zip(ordered, reasons):
                if reason is not None and reason.code == "ConditionalCheckFailed":
                    for label in labels:
                        failed[label] = _plain(reason.raw_item)
            if not failed:
                codes = {r.code for r in reasons if r is not None}
                if "TransactionConflict" in codes:
                    raise Conflict("another change to the same data is in progress; retry", code="transaction_conflict") from exc
                if codes & {"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"} or \
                        exc.cause_response_code in ("ThrottlingException", "ProvisionedThroughputExceededException"):
                    raise ServiceUnavailable("the database is busy; retry shortly", code="throttled") from exc
                if "ValidationError" in codes or exc.cause_response_code == "ValidationException":
                    raise BadRequest("the change cannot be stored as sent", code="unstorable",
                                     details=[{"path": "", "message": r.message or r.code} for r in reasons if r is not None]) from exc
                raise
            return failed
        return {}


def _plain(raw: dict | None) -> dict | None:
    if not raw:
        return None
    out = {}
    for name, typed in raw.items():
        (kind, value), = typed.items()
        out[name] = value if kind != "N" else float(value) if "." in value else int(value)
    return out
