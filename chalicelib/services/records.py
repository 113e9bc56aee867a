"""Record use cases: create, get, update, soft-delete, list. Routes call these; they call the form
engine (pure) and the storage layer, and decide nothing about HTTP."""
from __future__ import annotations

import hashlib
import re
from typing import Any

from typing_extensions import NotRequired, TypedDict  # pydantic reads TypedDicts from typing_extensions on 3.11

from .. import jsonutil
from ..errors import BadRequest, Conflict, NotFound, ValidationFailed, parse_count
from ..forms.definition import FormDefinition
from ..forms.access import Access
from ..forms.engine import validate_record
from ..ids import is_valid_id, new_id
from ..storage import listing
from ..storage import records as store
from ..storage import workflow as wf_store
from . import definitions, workflow
from .caller import Caller
from .clock import utc_now

MAX_PAGE = 100


# What the record routes answer. These types are the service's return types and the OpenAPI document's
# response schemas (api.openapi builds them with pydantic's TypeAdapter): one description, no copy.
class Timer(TypedDict):
    name: str
    due_at: str


class WorkflowView(TypedDict):
    workflow: str
    version: int
    state: str
    status: str
    entered_at: str
    assignees: list[str]
    timers: list[Timer]
    approval: dict[str, Any] | None
    error: dict[str, Any] | None


class RecordOut(TypedDict):
    """A record as the caller may see it: `data` without the fields their role hides."""
    id: str
    form: str
    form_version: int
    version: int
    number: str | None
    data: dict[str, Any]
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    deleted: bool
    workflow: WorkflowView | None


class RecordRef(TypedDict):
    """What a creator is told of a new record their row rule does not let them read."""
    id: str
    form: str
    version: int
    number: str | None


class RecordPage(TypedDict):
    items: list[RecordOut]
    next_cursor: str | None
    titles: NotRequired[dict[str, str]]  # {record id: title} of the records the page's lookups name


class RecordChanged(RecordOut):
    """A PATCH's answer: the record as the caller may now see it and which of its fields changed."""
    changed_fields: list[str]


class RecordChangedRef(TypedDict):
    """A PATCH's answer when the change moved the record out of the caller's row rule."""
    id: str
    version: int
    changed_fields: list[str]


class Deleted(TypedDict):
    id: str
    deleted: bool
    version: int


MAX_LIST_ROUNDS = 5  # pages read to fill one page when row rules hide records (then a cursor comes back)
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{8,128}$")


def _form(tenant: str, form_name: str) -> tuple[int, FormDefinition]:
    return definitions.published(tenant, "form", form_name)


def access_for(caller: Caller, form: FormDefinition) -> Access:
    """Row rules and field grants of the PUBLISHED form apply, so permission changes act at once."""
    return Access(form, caller.roles, caller.variables(utc_now()))


def render_for(access: Access, rec: store.StoredRecord) -> RecordOut:
    """The record as this caller may see it: hidden fields are absent."""
    body = render(rec)
    body["data"] = access.mask(body["data"])
    return body


def render(rec: store.StoredRecord) -> RecordOut:
    return jsonutil.to_plain({
        "id": rec.id, "form": rec.form, "form_version": rec.form_version, "version": rec.version,
        "number": rec.number, "data": rec.data, "created_at": rec.created_at, "created_by": rec.created_by,
        "updated_at": rec.updated_at, "updated_by": rec.updated_by, "deleted": rec.deleted,
        "workflow": _workflow_view(rec.workflow)})


def _workflow_view(instance: dict | None) -> WorkflowView | None:
    if not instance:
        return None
    return {"workflow": instance["workflow"], "version": instance["version"], "state": instance["state"],
            "status": instance["status"], "entered_at": instance["entered_at"],
            "assignees": [t["assignee"] for t in instance.get("tasks", [])],
            "timers": [{"name": t["name"], "due_at": t["due_at"]} for t in instance.get("timers", [])],
            "approval": instance.get("approval"), "error": instance.get("error")}


def record_plan(form: FormDefinition, data: dict, tenant: str) -> store.WritePlan:
    return store.WritePlan(shards=form.storage.shards,
                           index_values={i + 1: data.get(name) for i, name in enumerate(form.indexes)})


def number_formatter(form: FormDefinition, now: str):
    field = form.auto_number_field
    if field is None:
        return None
    fmt = field.format
    period = ("Y" + now[:4] if "{YYYY}" in fmt or "{YY}" in fmt else "") + ("M" + now[5:7] if "{MM}" in fmt else "")
    period = period or "all"
    width = int(re.search(r"\{seq:(\d+)\}", fmt).group(1))

    def format_number(seq: int) -> str:
        return (fmt.replace("{YYYY}", now[:4]).replace("{YY}", now[2:4]).replace("{MM}", now[5:7])
                .replace(f"{{seq:{width}}}", str(seq).zfill(width)))

    return period, format_number, field.name


def create(caller: Caller, form_name: str, body: Any, idempotency_key: str | None,
           *, record_id: str | None = None, idempotency_scope: str | None = None,
           platform_id: str | None = None) -> tuple[RecordOut | RecordRef, bool]:
    """`platform_id`: an id the platform chose, stored as is (a schedule's occurrence: the same id on
    every run, so a second create is refused as `record_id_taken`). `record_id`: a ULID the client
    made (offline sync: later operations of the same batch can name the record before the server has
    seen it). The record is stored under `client_record_id` of it
    (bound to tenant + caller), so no client can aim at someone else's record; its time part must be
    near server time. `idempotency_scope`: the key space of `idempotency_key` (the form's when None)."""
    version, form = _form(caller.tenant, form_name)
    caller.require_any(form.permissions.create, f"creating {form_name} records")
    data = _data_of(body)
    access = access_for(caller, form)
    access.require_writable(data, None)

    def shown(r: store.StoredRecord) -> RecordOut | RecordRef:
        # what the creator may see of the new record (stored as the Idempotency-Key response too)
        if not access.row_visible(r.data):
            return {"id": r.id, "form": r.form, "version": r.version, "number": r.number}
        return render_for(access, r)
    if idempotency_key is not None and not IDEMPOTENCY_KEY.match(idempotency_key):
        raise BadRequest("Idempotency-Key must be 8-128 characters of letters, digits and _.:-",
                         details=[{"path": "headers.Idempotency-Key", "message": "malformed"}])
    now = utc_now()
    if record_id is not None and not is_valid_id(record_id):
        raise ValidationFailed("record_id must be a ULID (26 characters of Crockford base32)",
                               details=[{"path": "record_id", "message": "invalid id"}])
    # the id is known before the values are computed ($id); the number is drawn as it is stored ($number null)
    identity = {"id": platform_id or (client_record_id(caller, record_id) if record_id else new_id()), "number": None}
    with access.hiding(None, data):  # errors name only fields the creator may see (or sent)
        validated = validate_record(form, data, variables=caller.variables(now), record=identity)
        from .fieldwork import guard_managed
        guard_managed(caller.tenant, form_name, data)  # after validation: bad input is reported field by field first
        validated = _with_fetched(caller.tenant, form, data, validated, None, identity)
        outcome, _wf = workflow.start_for_create(caller, form, validated.data, now, record_id=identity["id"])
        final = validate_record(form, {}, previous=outcome.data, system=True, record=identity) if outcome else validated
    rec = store.StoredRecord(tenant=caller.tenant, id=identity["id"],
                             form=form_name, form_version=version, version=1,
                             data=final.data, created_at=now, created_by=caller.user_id, updated_at=now,
                             updated_by=caller.user_id, workflow=outcome.instance.to_dict() if outcome else None)
    plan = record_plan(form, final.data, caller.tenant)
    plan.unique_claims = dict(final.unique_values)
    creates = outcome.creates if outcome else []
    linked = {c["id"] for c in creates if c.get("id")}  # a CreateRecord's IdField: made in this transaction
    plan.references = [r for r in final.references if r.target not in linked]
    entry = workflow.history_entry("create", caller.user_id, from_state=None, outcome=outcome,
                                   changed=sorted(final.data))

    def _extra(r: store.StoredRecord) -> list[tuple]:
        # built per attempt: the auto-number is known only then
        effect_ops, made = effects.step_effects(r.tenant, None, r, entry)  # outbox mail + notifications
        return [wf_store.history_put(r.tenant, r.form, r.id, 1, r.created_at, {**entry, "notifications": made}, r.data),
                *wf_store.workflow_changes(r.tenant, r.form, r.id, r.number, None, r.workflow),
                *workflow.related_creates(r.tenant, creates, r), *effect_ops]
    from . import effects
    plan.extra_for = _extra
    numbering = number_formatter(form, now)
    if numbering:
        period, format_number, field_name = numbering
        plan.counter = (period, format_number)

        number_slot = form.index_slot(field_name)

        def _render(r: store.StoredRecord) -> dict:
            r.data[field_name] = r.number
            if number_slot:  # known only now: index it with the number it got
                plan.index_values[number_slot] = r.number
            return shown(r)
    else:
        _render = shown
    if idempotency_key:
        # The key is bound to this caller and body: a reuse with another body is an error, not a replay.
        plan.idempotency = (idempotency_key, create_request_hash(caller.user_id, form_name, data, record_id))
        plan.idempotency_scope = idempotency_scope
    return store.create_record(rec, plan, _render)


def form_schema(caller: Caller, form: FormDefinition, version: int) -> dict:
    """The form's JSON Schema as this caller may see it: fields hidden from all their roles (and
    annotations naming them) are left out."""
    caller.require_any(form.permissions.read, f"reading the {form.name} form")
    from ..forms.schema import form_json_schema
    access = access_for(caller, form)
    from ..locales import localize
    schema = form_json_schema(localize(form, caller.language), version, hidden=frozenset(access.hidden_everywhere()))
    # for renderers: what this caller may set on a create, and what only the field-service routes write
    creatable = access.creatable_fields() if access.can("create") else set()
    from .fieldwork import managed_fields_of
    managed = managed_fields_of(caller.tenant, form.name)
    for name, prop in schema["properties"].items():
        if name in managed:
            prop["x-managed"] = True
        if name not in creatable:
            prop["x-creatable"] = False
    return schema


CLIENT_ID_FUTURE_SECONDS = 600  # a phone's clock may run a little ahead


def client_record_id(caller: Caller, client_id: str) -> str:
    """The id a record made with a client-chosen ULID gets: the client's time part (checked to lie
    between now - SYNC_OP_TTL_SECONDS and now + 10 min, so no id sorts to the top of every list for
    ever) + 80 bits of HMAC(tenant, user, client id). The answer never depends on records of others:
    only this caller's own earlier create can hold it. Deterministic, so sync maps later operations."""
    import hmac
    import time

    from ..config import get_settings, server_secret
    from ..ids import _ALPHABET
    settings = get_settings()
    now_ms = time.time() * 1000
    id_ms = 0
    for char in client_id[:10]:  # a ULID's first 10 characters: milliseconds since 1970
        id_ms = id_ms * 32 + _ALPHABET.index(char)
    if not now_ms - settings.sync_op_ttl_seconds * 1000 <= id_ms <= now_ms + CLIENT_ID_FUTURE_SECONDS * 1000:
        raise ValidationFailed("record_id must be a ULID made now: its time part is too far from server time",
                               code="record_id_out_of_range",
                               details=[{"path": "record_id", "message": "time part outside now - op TTL .. now + 10 min"}])
    digest = hmac.new(server_secret("cursor").encode(), f"record-id\x00{caller.tenant}\x00{caller.user_id}\x00{client_id}".encode(),
                      hashlib.sha256).digest()
    rand = int.from_bytes(digest[:10], "big")
    return client_id[:10] + "".join(_ALPHABET[(rand >> (5 * i)) & 31] for i in reversed(range(16)))


def _with_fetched(tenant: str, form, written: dict, validated, previous: dict | None, record):
    """`validated` with the values of fields that follow a changed lookup (services.lookups) copied in."""
    from .lookups import fetched
    copied = fetched(tenant, form, written, validated.data, previous)
    if not copied:
        return validated
    merged = validate_record(form, copied, previous=validated.data, system=True, record=record, previous_checked=True)
    merged.changed_fields = sorted(set(validated.changed_fields) | set(merged.changed_fields))
    return merged


def create_request_hash(user_id: str, form_name: str, data: dict, record_id: str | None = None) -> str:
    """What an Idempotency-Key of a create is bound to: its caller and body (and a client-chosen id)."""
    bound = [user_id, form_name, data] + ([record_id] if record_id is not None else [])
    return hashlib.sha256(jsonutil.dumps(bound, canonical=True).encode()).hexdigest()


def get(caller: Caller, form_name: str, record_id: str) -> RecordOut:
    _version, form = _form(caller.tenant, form_name)
    caller.require_any(form.permissions.read, f"reading {form_name} records")
    access = access_for(caller, form)
    return render_for(access, load_visible(access, caller.tenant, form_name, record_id))


def load_visible(access: Access, tenant: str, form_name: str, record_id: str, *, consistent: bool = False,
                 action: str = "read") -> store.StoredRecord:
    """The record if a row rule of the caller admits it; else 404, exactly as if it did not exist."""
    rec = read_record(tenant, form_name, record_id, consistent=consistent)
    if not access.row_visible(rec.data):
        raise NotFound(f"{form_name} record {record_id} does not exist")
    if action != "read" and not access.admitting_roles(action, rec.data):
        from ..errors import Forbidden
        raise Forbidden(f"your roles do not allow {action} on this record", code="forbidden")
    return rec


def read_record(tenant: str, form_name: str, record_id: str, *, consistent: bool = False) -> store.StoredRecord:
    rec = store.get_record(tenant, record_id, consistent=consistent) if is_valid_id(record_id) else None
    if rec is None or rec.form != form_name or rec.deleted:
        raise NotFound(f"{form_name} record {record_id} does not exist")
    return rec


def update(caller: Caller, form_name: str, record_id: str, body: Any, if_match: str | None,
           *, op: tuple[str, str] | None = None, op_response: dict | None = None, extra: list[tuple] = (),
           device: str | None = None) -> RecordChanged | RecordChangedRef:
    """`op` (offline sync) makes the write idempotent: a replay writes nothing and gets `op_response`
    (or this call's answer) back. `extra` items move in the same transaction (e.g. sync's conflicts)."""
    _published, published_form = _form(caller.tenant, form_name)
    caller.require_any(published_form.permissions.update, f"updating {form_name} records")
    data = _data_of(body, ("data", "version", "comment"))
    expected = _expected_version(body, if_match)
    access = access_for(caller, published_form)
    can_read = access.can("read")
    rec = read_record(caller.tenant, form_name, record_id, consistent=True)
    if can_read and not access.row_visible(rec.data) or not access.admitting_roles("update", rec.data):
        raise NotFound(f"{form_name} record {record_id} does not exist")
    if rec.version != expected:
        details = {"current_version": rec.version}
        if can_read:  # the current record only for those who may read it, as they may see it
            details["current"] = render_for(access, rec)
        raise Conflict("record was changed by someone else", code="version_conflict", details=details)
    access.require_writable(data, rec.data)
    from .fieldwork import guard_managed
    guard_managed(caller.tenant, form_name, data)
    # A record keeps the form version it was made with.
    form = definitions.version_of(caller.tenant, "form", form_name, rec.form_version)
    comment = _comment_of(body)
    now = utc_now()
    with access.hiding(rec.data, data):  # errors name only fields this caller may see (or sent)
        # rec.data is what validate_record returned for this version (a record keeps its form version):
        # only what the patch changes, and what depends on it, is checked again
        validated = validate_record(form, data, previous=rec.data, variables=caller.variables(now), record=rec,
                                    previous_checked=True)
        correction = False
        if rec.workflow:  # the state's edit rules judge what this write changes (an unchanged echo is no edit)
            inst, wf = workflow.running(caller.tenant, rec)
            changes = {k: data[k] for k in data if k in set(validated.changed_fields)}
            correction = workflow.check_editable(caller, wf, inst, changes, record_data=rec.data, comment=comment)
        validated = _with_fetched(caller.tenant, form, data, validated, rec.data, rec)  # the platform's copy, not the caller's edit
    new = store.StoredRecord(**{**rec.__dict__, "data": validated.data, "version": rec.version + 1,
                                "updated_at": now, "updated_by": caller.user_id})
    if rec.workflow:
        from ..workflow.engine import rearm_deadlines
        rearmed = rearm_deadlines(wf, inst, rec.data, validated.data, rec.created_at, now)
        if rearmed is not None:  # e.g. priority raised in Review: SLA deadlines move with it
            new.workflow = rearmed.to_dict()
    entry = workflow.history_entry("update", caller.user_id, changed=validated.changed_fields, comment=comment)
    if device:  # an offline device's update (sync): its later updates from the same base are not conflicts with it
        entry["device"] = device
    if correction:
        entry["correction"] = True  # changed after the workflow finished, under the end state's edit rules
    plan = workflow.plan_for(caller.tenant, form, rec, new, entry)
    plan.extra += list(extra)
    if not can_read or not access.row_visible(new.data):
        result = {"id": new.id, "version": new.version, "changed_fields": validated.changed_fields}
    else:
        visible = access.visible_fields(new.data)
        result = render_for(access, new) | {"changed_fields": [f for f in validated.changed_fields if f in visible]}
    if op:
        plan.idempotency, plan.idempotency_scope, plan.idempotent_response = op, store.SYNC_SCOPE, op_response or result
    return store.update_record(new, expected, plan) or result


def reference_diff(form: FormDefinition, old: dict, new: dict) -> list:
    """References in `new` that `old` did not already have (those were checked when written)."""
    before = set(validate_record_refs(form, old))
    return [r for r in validate_record(form, {}, previous=new, system=True, previous_checked=True).references
            if r not in before]


def unique_diff(form: FormDefinition, old: dict, new: dict) -> tuple[dict, dict]:
    """(claims, releases) of unique values between two versions of a record's data."""
    before = {f.name: f.unique_key(old.get(f.name)) for f in form.fields if f.unique and old.get(f.name) is not None}
    after = {f.name: f.unique_key(new.get(f.name)) for f in form.fields if f.unique and new.get(f.name) is not None}
    return ({k: v for k, v in after.items() if before.get(k) != v}, {k: v for k, v in before.items() if after.get(k) != v})


def validate_record_refs(form: FormDefinition, data: dict):
    """References a stored record already had (they were checked when written)."""
    try:
        return validate_record(form, {}, previous=data, system=True, previous_checked=True).references
    except ValidationFailed:
        return []  # an old record that no longer validates: check every reference again


def delete(caller: Caller, form_name: str, record_id: str, if_match: str | None, version_param: str | None) -> Deleted:
    _published, form = _form(caller.tenant, form_name)
    caller.require_any(form.permissions.delete, f"deleting {form_name} records")
    expected = _expected_version({"version": _int_or_none(version_param, "query.version")} if version_param else {}, if_match)
    rec = load_visible(access_for(caller, form), caller.tenant, form_name, record_id, consistent=True, action="delete")
    form = definitions.version_of(caller.tenant, "form", form_name, rec.form_version)
    now = utc_now()
    gone = store.StoredRecord(**{**rec.__dict__, "deleted": True, "version": rec.version + 1, "updated_at": now,
                                 "updated_by": caller.user_id})
    if rec.workflow:  # a finished workflow keeps its outcome; a running one is cancelled
        status = "cancelled" if rec.workflow.get("status") == "running" else rec.workflow.get("status")
        gone.workflow = {**rec.workflow, "tasks": [], "timers": [], "waits": [], "status": status}
    plan = record_plan(form, rec.data, caller.tenant)
    # Releasing unique values lets a new record reuse them; the old record keeps its data for audit.
    plan.unique_releases = {f.name: f.unique_key(rec.data[f.name]) for f in form.fields
                            if f.unique and rec.data.get(f.name) is not None}
    plan.extra = [wf_store.history_put(caller.tenant, form_name, record_id, gone.version, now,
                                       workflow.history_entry("delete", caller.user_id)),
                  *wf_store.workflow_changes(caller.tenant, form_name, record_id, rec.number, rec.workflow, gone.workflow)]
    store.update_record(gone, expected, plan)
    return {"id": record_id, "deleted": True, "version": gone.version}


def list_records(caller: Caller, form_name: str, params: dict[str, str], *, titles: bool = True) -> RecordPage:
    """A page of records the caller may see; `titles`: with the names of the records its lookups point to."""
    _version, form = _form(caller.tenant, form_name)
    caller.require_any(form.permissions.read, f"reading {form_name} records")
    limit = _int_or_none(params.get("limit"), "query.limit")
    limit = 25 if limit is None else limit
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}", details=[{"path": "query.limit", "message": "out of range"}])
    access = access_for(caller, form)
    hidden = access.hidden_everywhere()
    filters: list[tuple[int, Any]] = []
    for key, raw in params.items():
        if key in ("limit", "cursor"):
            continue
        if not key.startswith("filter."):
            raise BadRequest(f"unknown query parameter '{key}'", details=[{"path": f"query.{key}", "message": "use filter.<field>, limit or cursor"}])
        name = key[len("filter."):]
        slot = form.index_slot(name) if name not in hidden else None  # no probing hidden fields by filtering
        if slot is None:
            raise BadRequest(f"field '{name}' is not indexed; filter on one of: {', '.join(form.indexes) or 'none'}",
                             code="filter_not_indexed", details=[{"path": f"query.{key}", "message": "not an indexed field"}])
        filters.append((slot, _filter_value(form.field(name), raw, key)))
    filters.sort()
    primary, extra = (filters[0], filters[1:]) if filters else (None, [])
    cursor, visible = params.get("cursor"), []
    for _round in range(MAX_LIST_ROUNDS):  # row rules drop records: keep reading, within bounds
        items, cursor = listing.list_records(caller.tenant, form_name, form.storage.shards, primary=primary, extra=extra,
                                             limit=limit - len(visible), cursor=cursor)
        visible += [render_for(access, r) for r in items if access.row_visible(r.data)]
        if len(visible) >= limit or cursor is None:
            break
    return {"items": visible, "next_cursor": cursor, **({"titles": lookup_titles(caller, form, visible)} if titles else {})}


def lookup_titles(caller: Caller, form: FormDefinition, rendered: list[dict]) -> dict[str, str]:
    """{record id: title} of the records the page's lookup fields name, for a list to show names, not
    ids — only records the caller may read (their form's read grant and row rules), one BatchGetItem
    per 100 ids. The title is the linked form's `title_field` (or its number)."""
    wanted: dict[str, set[str]] = {}
    for f in form.fields:
        if f.type == "lookup":
            ids = {r["data"][f.name] for r in rendered if isinstance(r["data"].get(f.name), str) and is_valid_id(r["data"][f.name])}
            if ids:
                wanted.setdefault(f.form, set()).update(ids)
    titles: dict[str, str] = {}
    for target_name, ids in wanted.items():
        try:
            _v, target = _form(caller.tenant, target_name)
        except NotFound:
            continue
        target_access = access_for(caller, target)
        if not target_access.can("read"):
            continue
        ordered = sorted(ids)
        for start in range(0, len(ordered), 100):
            for rec in listing.get_records(caller.tenant, ordered[start:start + 100]):
                if rec.form != target_name or not target_access.row_visible(rec.data):
                    continue
                shown = target_access.mask(rec.data)
                title = shown.get(target.title_field) if target.title_field else None
                titles[rec.id] = str(title if title not in (None, "") else rec.number or rec.id)
    return titles


def _filter_value(field, raw: str, path: str) -> Any:
    from decimal import Decimal, InvalidOperation
    if field.type in ("number", "money", "rating"):
        try:
            number = Decimal(raw) if len(raw) <= 40 else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or abs(number.adjusted()) > 20:
            raise BadRequest(f"{path} must be a number", details=[{"path": f"query.{path}", "message": "not a number"}])
        return number
    if field.type == "checkbox":
        if raw not in ("true", "false"):
            raise BadRequest(f"{path} must be true or false", details=[{"path": f"query.{path}", "message": "not a boolean"}])
        return raw == "true"
    return raw


def _comment_of(body: Any) -> str:
    """An update's optional comment (kept in its history entry; required by some edit rules)."""
    comment = body.get("comment", "") if isinstance(body, dict) else ""
    if comment is None:
        return ""
    if not isinstance(comment, str) or len(comment) > 2000:
        raise ValidationFailed("comment must be text of at most 2000 characters", details=[{"path": "comment", "message": "invalid"}])
    return comment.strip()


def _data_of(body: Any, allowed: tuple[str, ...] = ("data", "version")) -> dict:
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise ValidationFailed("body must be an object with a 'data' object", details=[{"path": "data", "message": "expected object"}])
    unknown = set(body) - set(allowed)
    if unknown:
        raise ValidationFailed("unknown keys in body", details=[{"path": k, "message": "unknown key"} for k in sorted(unknown)])
    return body["data"]


def _expected_version(body: Any, if_match: str | None) -> int:
    value = body.get("version") if isinstance(body, dict) else None
    if if_match is not None:
        value = _int_or_none(if_match.removeprefix("W/").strip('"'), "headers.If-Match")
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationFailed("the record version you changed is required (body 'version' or If-Match header)",
                               code="version_required", details=[{"path": "version", "message": "required positive integer"}])
    return value


def _int_or_none(raw: str | None, path: str) -> int | None:
    return None if raw is None else parse_count(raw, path)
