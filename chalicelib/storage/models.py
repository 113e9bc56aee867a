"""PynamoDB models. Two tables; every partition key starts with the tenant ("T#<tenant>#...").

Definitions table: one partition per tenant (definitions are few and small).
Records table: one partition per record and per auxiliary item (unique value, counter, member,
idempotency key), so load spreads over partitions whatever the tenant's size; list and filter
queries go through write-sharded GSIs (see docs/ARCHITECTURE.md).
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from ..config import get_settings



class _Base(Model):
    class Meta:
        abstract = True

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


def save_if(item: Model, condition) -> bool:
    """Put the item when the condition holds; False (not an error) when it does not."""
    from pynamodb.exceptions import PutError
    try:
        item.save(condition)
        return True
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


class DefinitionItem(_Base):
    """Immutable definition versions (sk '<kind>#<name>#v000001') and heads (sk '<kind>#<name>#head')."""

    class Meta:
        table_name = "definitions"

    kind = UnicodeAttribute()
    name = UnicodeAttribute()
    version = NumberAttribute(null=True)
    body = UnicodeAttribute(null=True)  # the validated definition JSON text
    checksum = UnicodeAttribute(null=True)
    latest = NumberAttribute(null=True)  # head only: newest version number
    published = NumberAttribute(null=True)  # head only: version in use for new records
    created_at = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)


LIST_KEY_ATTRIBUTES = ["gsi1pk", "ix1pk", "ix2pk", "ix3pk", "ix4pk"]


def _list_projection(own: str) -> IncludeProjection:
    """Only the list keys are projected: an update that changes no indexed value writes no index item
    (an ALL projection would copy every record write into all five indexes). Pages are then filled
    with one BatchGetItem; further filters run on the projected keys of the other slots."""
    return IncludeProjection([a for a in LIST_KEY_ATTRIBUTES if a != own])


class _ListIndex(GlobalSecondaryIndex):
    """All list indexes share the range key lsk (the record id, newest first)."""

    class Meta:
        abstract = True
        projection = AllProjection()

    lsk = UnicodeAttribute(range_key=True)


class ByForm(_ListIndex):
    class Meta:
        index_name = "by_form"
        projection = _list_projection("gsi1pk")

    gsi1pk = UnicodeAttribute(hash_key=True)


class ByIx1(_ListIndex):
    class Meta:
        index_name = "by_ix1"
        projection = _list_projection("ix1pk")

    ix1pk = UnicodeAttribute(hash_key=True)


class ByIx2(_ListIndex):
    class Meta:
        index_name = "by_ix2"
        projection = _list_projection("ix2pk")

    ix2pk = UnicodeAttribute(hash_key=True)


class ByIx3(_ListIndex):
    class Meta:
        index_name = "by_ix3"
        projection = _list_projection("ix3pk")

    ix3pk = UnicodeAttribute(hash_key=True)


class ByIx4(_ListIndex):
    class Meta:
        index_name = "by_ix4"
        projection = _list_projection("ix4pk")

    ix4pk = UnicodeAttribute(hash_key=True)


class ByOwner(GlobalSecondaryIndex):
    """Tasks by assignee (the inbox) and timers by due time: small items, fully projected."""

    class Meta:
        index_name = "by_owner"
        projection = AllProjection()

    opk = UnicodeAttribute(hash_key=True)
    lsk = UnicodeAttribute(range_key=True)


class RecordItem(_Base):
    """A form record: pk 'T#<t>#R#<id>', sk 'R'. Soft-deleted records drop their list keys."""

    class Meta:
        table_name = "records"

    tenant = UnicodeAttribute()
    form = UnicodeAttribute()
    form_version = NumberAttribute()
    version = NumberAttribute()
    number = UnicodeAttribute(null=True)
    data = UnicodeAttribute()  # JSON text: exact decimals, and no 400 KB surprises from map overhead
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()
    deleted = BooleanAttribute(default=False)
    workflow = UnicodeAttribute(null=True)  # JSON of workflow.Instance when a workflow runs on the record
    # List keys: 'T#<t>#F#<form>#S<shard>' and per indexed field 'T#<t>#F#<form>#I<slot>#<value>#S<shard>'.
    lsk = UnicodeAttribute(null=True)  # record id: time-ordered, shared range key of all list indexes
    gsi1pk = UnicodeAttribute(null=True)
    ix1pk = UnicodeAttribute(null=True)
    ix2pk = UnicodeAttribute(null=True)
    ix3pk = UnicodeAttribute(null=True)
    ix4pk = UnicodeAttribute(null=True)
    # The IndexEntryItem keys (slots past the GSIs) this record holds: written with the record, so an
    # update knows which entries to delete without reading them
    xix = UnicodeSetAttribute(null=True)

    by_form = ByForm()
    by_ix1 = ByIx1()
    by_ix2 = ByIx2()
    by_ix3 = ByIx3()
    by_ix4 = ByIx4()
    by_owner = ByOwner()  # declared here so the table is created with it; tasks/timers query it

    @classmethod
    def list_index(cls, slot: int | None):
        """slot None → the form-wide index; 1..4 → the indexed-field slot."""
        return (cls.by_form, cls.by_ix1, cls.by_ix2, cls.by_ix3, cls.by_ix4)[slot or 0]


class IndexEntryItem(_Base):
    """A list-index entry of an indexed field past the GSI slots (5th and later `indexes` field):
    pk 'T#<t>#IX#<form>#I<slot>#<value>#S<shard>', sk = the record id (time-ordered, so a Query
    newest-first lists the form's records with that value as a GSI would). Keys only; put and deleted
    in the record's own transaction (consistent, unlike a GSI), only when the value changes."""

    class Meta:
        table_name = "records"


class HistoryItem(_Base):
    """Audit entry: pk = the record's pk, sk 'H#<version:010d>' — one per record version, so no gaps."""

    class Meta:
        table_name = "records"

    tenant = UnicodeAttribute()
    record_id = UnicodeAttribute()
    form = UnicodeAttribute()
    at = UnicodeAttribute()
    entry = UnicodeAttribute()  # JSON: actor, kind, action, from, to, path, changed fields, events


class TaskItem(_Base):
    """An open task: pk = the record's pk, sk 'TASK#<assignee>'; inbox via the by_owner GSI
    (opk 'T#<t>#INBOX#<assignee>', lsk '<created_at>#<record id>')."""

    class Meta:
        table_name = "records"

    tenant = UnicodeAttribute()
    record_id = UnicodeAttribute()
    form = UnicodeAttribute()
    number = UnicodeAttribute(null=True)
    state = UnicodeAttribute()
    kind = UnicodeAttribute()
    assignee = UnicodeAttribute()
    created_at = UnicodeAttribute()
    due_at = UnicodeAttribute(null=True)
    opk = UnicodeAttribute()
    lsk = UnicodeAttribute()
    inbox = ByOwner()


class EventWaitItem(_Base):
    """A record waiting for an event: pk 'T#<t>#EVT#<event>#<sha256(key)[:40]>', sk 'R#<record id>'.
    Put and deleted in the record's own transaction as it enters and leaves the waiting state, so an
    event finds exactly the records that wait for it now with one Query."""

    class Meta:
        table_name = "records"

    tenant = UnicodeAttribute()
    record_id = UnicodeAttribute()
    form = UnicodeAttribute()
    state = UnicodeAttribute()
    event = UnicodeAttribute()
    key = UnicodeAttribute()


class TimerItem(_Base):
    """An armed timer: pk = the record's pk, sk 'TIMER#<name>'; due timers via the by_owner GSI
    (opk 'TIMERS#<shard>', lsk '<due_at>#<tenant>#<record id>#<name>') — a Query, never a Scan."""

    class Meta:
        table_name = "records"

    tenant = UnicodeAttribute()
    record_id = UnicodeAttribute()
    form = UnicodeAttribute()
    name = UnicodeAttribute()
    due_at = UnicodeAttribute()
    armed_at = UnicodeAttribute()
    opk = UnicodeAttribute()
    lsk = UnicodeAttribute()  # due_at, or after a failed firing the next try (the incident's back-off)
    due = ByOwner()
    # an incident: the timer's step failed (how often, since when, why); cleared by a successful firing,
    # which deletes the item
    failures = NumberAttribute(null=True)
    failed_since = UnicodeAttribute(null=True)
    last_failed_at = UnicodeAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    error_message = UnicodeAttribute(null=True)
    next_try_at = UnicodeAttribute(null=True)


class MemberItem(_Base):
    """A user of a tenant: pk 'T#<t>#M#<user>', sk 'M'. User fields are checked against these."""

    class Meta:
        table_name = "records"

    tenant = UnicodeAttribute()
    user_id = UnicodeAttribute()
    display_name = UnicodeAttribute(default="")
    email = UnicodeAttribute(null=True)
    roles = ListAttribute(of=UnicodeAttribute, default=list)
    active = BooleanAttribute(default=True)
    attributes = UnicodeAttribute(null=True)  # JSON {name: value}: what a token's custom:* claims carry


class RosterItem(_Base):
    """Every registered member of a tenant in one item: pk 'T#<t>#ROSTER', sk 'R', entries
    {user_id: "<1|0 active>|<role>,<role>"}. Written in the same transaction as the member item;
    read (cached) on every request so deactivation and role removal take effect within the cache
    time, at one GetItem per tenant per warm container per MEMBER_CACHE_SECONDS. ~40 bytes a member:
    the 400 KB item limit holds ~8,000 members per tenant (the stated design limit)."""

    class Meta:
        table_name = "records"

    entries = MapAttribute(default=dict)


class UniqueItem(_Base):
    """Claims a unique value: pk 'T#<t>#U#<form>#<field>#<value>', sk 'U'."""

    class Meta:
        table_name = "records"

    record_id = UnicodeAttribute()


class CounterItem(_Base):
    """Auto-number counter: pk 'T#<t>#C#<form>#<period>', sk 'C'."""

    class Meta:
        table_name = "records"

    n = NumberAttribute()


class IdempotencyItem(_Base):
    """First result of a request with an Idempotency-Key: pk 'T#<t>#K#<scope>#<key>', sk 'K'. TTL expires_at."""

    class Meta:
        table_name = "records"

    request_hash = UnicodeAttribute()
    status_code = NumberAttribute()
    response = UnicodeAttribute()
    expires_at = NumberAttribute()


class FeedItem(_Base):
    """A user's sync change feed: pk 'T#<t>#FEED#<user>'. sk 'HEAD': `n`, the last sequence number
    taken (an atomic ADD outside the change's transaction, never expires) and `at`, when. sk 'E#<seq:012d>': one
    entry per (change, record) the user may see on the phone, written in the change's own transaction
    (`r` record id, `v` its version after the change, `k` '+' task added / '-' task removed / '~' record
    changed / 'x' void: the change was not written), `at` epoch ms; TTL expires_at. See storage.feed."""

    class Meta:
        table_name = "records"

    n = NumberAttribute(null=True)
    r = UnicodeAttribute(null=True)
    v = NumberAttribute(null=True)
    k = UnicodeAttribute(null=True)
    at = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)


class PendingUploadItem(_Base):
    """An upload a caller declared (presigned POST issued): pk 'T#<t>#UP#<upload id>', sk 'UP'.
    status 'pending' until confirm attaches it ('attached', in the record's transaction). TTL expires_at."""

    class Meta:
        table_name = "records"

    tenant = UnicodeAttribute()
    form = UnicodeAttribute()
    record_id = UnicodeAttribute()
    field = UnicodeAttribute()
    key = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size = NumberAttribute()
    name = UnicodeAttribute(null=True)
    sha256 = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    status = UnicodeAttribute(default="pending")
    attached_version = NumberAttribute(null=True)  # the record version that attached it
    expires_at = NumberAttribute()


class StockItem(_Base):
    """Stock of one part in one warehouse: pk 'T#<t>#STK#<warehouse id>#<part id>', sk 'STK'.
    `on_hand` changes only by ADD with a condition (never below zero), in the same transaction as
    the ledger entry and the record line that caused it. Listed per warehouse via by_owner
    (opk 'T#<t>#STOCK#<warehouse id>', lsk = part id)."""

    class Meta:
        table_name = "records"

    tenant = UnicodeAttribute()
    warehouse = UnicodeAttribute()
    part = UnicodeAttribute()
    on_hand = NumberAttribute()
    reorder_level = NumberAttribute(null=True)
    updated_at = UnicodeAttribute()
    opk = UnicodeAttribute()
    lsk = UnicodeAttribute()
    by_warehouse = ByOwner()


class LedgerItem(_Base):
    """One stock movement: pk = its stock item's pk, sk 'L#<movement id>' (ULID, or derived from the
    caller's idempotency key, so a replay finds the movement already there)."""

    class Meta:
        table_name = "records"

    tenant = UnicodeAttribute()
    entry = UnicodeAttribute()  # JSON: kind, quantity (signed), balance_after, record, line, actor, at, reason


class EngineerItem(_Base):
    """What dispatch reads about an engineer (user), one partition 'T#<t>#ENG#<user>':
    - sk 'LOC': where they last checked in (lat, lng, at), written in the check-in's own transaction;
      dispatch measures travel from here while it is fresh, else from home;
    - sk 'LOAD#<form>': their open tasks on that form (`open`) and when they were last given one
      (`last_assigned_at`), moved by ADD in every transaction that adds or removes such a task
      (storage.workflow.workflow_changes), so dispatch reads loads with one BatchGetItem, not a Query
      per engineer. One model for both so that one BatchGetItem reads them together."""

    class Meta:
        table_name = "records"

    lat = NumberAttribute(null=True)
    lng = NumberAttribute(null=True)
    at = UnicodeAttribute(null=True)
    open = NumberAttribute(null=True)
    last_assigned_at = UnicodeAttribute(null=True)
    # sk 'DAY#<form>#<YYYY-MM-DD>': the orders assigned to them on that working day (a set of record
    # ids: re-assigning one order twice counts it once; taken back, it leaves); TTL expires_at
    ids = UnicodeSetAttribute(null=True)
    expires_at = NumberAttribute(null=True)


class ConflictItem(_Base):
    """A field an offline device changed that someone else had changed too: pk = the record's pk,
    sk 'X#<sync op key>'. Kept (no TTL) so neither value is lost; listed with the record's sync state."""

    class Meta:
        table_name = "records"

    tenant = UnicodeAttribute()
    entry = UnicodeAttribute()  # JSON: op id, user, device time, [{field, client_value, server_value}]


from .messaging_models import MESSAGING_MODELS  # noqa: E402  (outbox, notifications, survey answers)
from .integration_models import INTEGRATION_MODELS  # noqa: E402  (webhooks, deliveries, import jobs)
from .schedule_models import SCHEDULE_MODELS  # noqa: E402  (schedules' state)
from .job_models import JOB_MODELS  # noqa: E402  (record migrations)

RECORDS_TABLE_MODELS = (RecordItem, IndexEntryItem, HistoryItem, TaskItem, TimerItem, EventWaitItem, MemberItem, RosterItem, UniqueItem, CounterItem, IdempotencyItem,
                        PendingUploadItem, StockItem, LedgerItem, ConflictItem, EngineerItem, FeedItem, *MESSAGING_MODELS,
                        *INTEGRATION_MODELS, *SCHEDULE_MODELS, *JOB_MODELS)
ALL_MODELS = (DefinitionItem, *RECORDS_TABLE_MODELS)


def configure_models() -> None:
    """Point every model at this stage's tables and endpoint (called once per process, and by tests)."""
    settings = get_settings()
    for model in ALL_MODELS:
        model.Meta.table_name = settings.definitions_table if model is DefinitionItem else settings.records_table
        model.Meta.host = settings.ddb_endpoint
        model.Meta.region = settings.region
        model._connection = None  # drop a cached connection bound to the old table/endpoint
