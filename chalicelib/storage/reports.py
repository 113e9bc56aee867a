"""Report aggregates: group items, per-(record, report version) contribution states, the tenant's
registry of maintained report versions and backfill jobs. Low-level requests (group items carry one
attribute per aggregate component, named by data), sent through PynamoDB's connection.

| item | pk | sk |
|---|---|---|
| group aggregate | `T#<t>#AGG#<report>#v<version>` | `G#<sha256(group key)[:32]>`: `g` (group key JSON) + components (ADD) |
| contribution state | `T#<t>#R#<record id>` | `RC#<report>#v<version>`: `v` record version, `p` step, `c` JSON; `expires_at` (TTL) once the record is deleted |
| registry | `T#<t>#RPT` | `REG`: `body` JSON {report: {form, serving, building, retiring: {version: queued_at}}}, `rev` |
| backfill job | `T#<t>#RPT#<report>` | `JOB#v<version>`: status, positions, processed, times |
| retirement job | `T#<t>#RPT#<report>` | `RET#v<version>`: phase, per-shard positions, counts, `not_before`; deleted when done |
"""
from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any, Iterator

from ..errors import Conflict, ServiceUnavailable
from ..reports.contribution import Contribution, from_json, to_json
from ..reports.maintenance import Step, Stored
from .models import RecordItem

MAX_ATTEMPTS = 8


def _connection():
    return RecordItem._get_connection().connection


def _table() -> str:
    return RecordItem.Meta.table_name


def _call(operation: str, request: dict) -> dict:
    return _connection()._make_api_call(operation, request)


def group_pk(tenant: str, report: str, version: int) -> str:
    return f"T#{tenant}#AGG#{report}#v{version}"


def group_sk(key: str) -> str:
    return "G#" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def state_key(tenant: str, record_id: str, report: str, version: int) -> dict:
    return {"pk": {"S": f"T#{tenant}#R#{record_id}"}, "sk": {"S": f"RC#{report}#v{version}"}}


def _number(value: Decimal) -> dict:
    return {"N": format(value.normalize(), "f") if value == value.to_integral_value() else str(value)}


# --- contribution states -------------------------------------------------------------------------------

def _stored_from(item: dict | None) -> Stored | None:
    if not item:
        return None
    return Stored(int(item["v"]["N"]), int(item.get("p", {"N": "0"})["N"]), from_json(item.get("c", {}).get("S")))


def get_states(tenant: str, wanted: list[tuple[str, str, int]]) -> dict[tuple[str, str, int], Stored | None]:
    """(record id, report, report version) → stored state; one consistent BatchGetItem per 100 keys."""
    states, _ = read_states([(tenant, r, n, v) for r, n, v in wanted])
    return {(r, n, v): s for (_t, r, n, v), s in states.items()}


StateKey = tuple[str, str, str, int]  # (tenant, record id, report, report version)


def read_states(wanted: list[StateKey], registries: list[str] = ()) -> tuple[dict[StateKey, Stored | None], dict[str, tuple[dict, int]]]:
    """The contribution states `wanted` (any tenants) and, in the same requests, the registries of the
    tenants `registries`: consistent BatchGetItem, 100 keys per request (a stream batch of many records
    and reports needs one more request per 100 keys). Returns ({key: state or None}, {tenant: (registry, rev)})."""
    states: dict[StateKey, Stored | None] = {}
    regs: dict[str, tuple[dict, int]] = {}
    by_key: dict[tuple[str, str], tuple] = {}
    for tenant in dict.fromkeys(registries):
        key = _registry_key(tenant)
        by_key[(key["pk"]["S"], key["sk"]["S"])] = ("registry", tenant)
        regs[tenant] = ({}, 0)
    for wanted_key in dict.fromkeys(wanted):
        key = state_key(*wanted_key)
        by_key[(key["pk"]["S"], key["sk"]["S"])] = ("state", wanted_key)
        states[wanted_key] = None
    keys_ = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in by_key]
    for i in range(0, len(keys_), 100):
        pending = {_table(): {"Keys": keys_[i:i + 100], "ConsistentRead": True}}
        for attempt in range(MAX_ATTEMPTS):
            response = _call("BatchGetItem", {"RequestItems": pending})
            for item in response.get("Responses", {}).get(_table(), []):
                kind, which = by_key[(item["pk"]["S"], item["sk"]["S"])]
                if kind == "registry":
                    regs[which] = (json.loads(item["body"]["S"]), int(item["rev"]["N"]))
                else:
                    states[which] = _stored_from(item)
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                break
            _backoff(attempt)
        if pending:
            raise ServiceUnavailable("the database is busy; the stream batch will be retried", code="throttled")
    return states, regs


def get_state(tenant: str, record_id: str, report: str, version: int) -> Stored | None:
    item = _call("GetItem", {"TableName": _table(), "Key": state_key(tenant, record_id, report, version),
                             "ConsistentRead": True}).get("Item")
    return _stored_from(item)


# The state of a deleted record (it adds nothing any more) expires by the table's TTL once no older
# stream record can arrive (streams keep records 24 h): a deleted record leaves no list key, so neither
# a version's retirement nor anything else would ever find its state again.
FINAL_STATE_TTL_SECONDS = 7 * 86400


def _state_put(tenant: str, record_id: str, report: str, version: int, step: Step, final: bool = False) -> dict:
    """The conditional Put of a step's contribution state: conditioned on the (version, step) the step
    starts from (or on there being no state), which is what makes every delta count exactly once."""
    key = state_key(tenant, record_id, report, version)
    state_item = {**key, "v": {"N": str(step.state.version)}, "p": {"N": str(step.state.step)},
                  "c": {"S": to_json(step.state.contribution)}, "tenant": {"S": tenant}}
    if final and step.state.step == 0 and not step.state.contribution:
        state_item["expires_at"] = {"N": str(int(time.time()) + FINAL_STATE_TTL_SECONDS)}
    if step.expected is None:
        condition = {"ConditionExpression": "attribute_not_exists(pk)"}
    else:
        condition = {"ConditionExpression": "v = :v AND p = :p",
                     "ExpressionAttributeValues": {":v": {"N": str(step.expected.version)}, ":p": {"N": str(step.expected.step)}}}
    return {"TableName": _table(), "Item": state_item, **condition}


def apply_step(tenant: str, record_id: str, report: str, version: int, step: Step, final: bool = False) -> bool:
    """One transaction (or one conditional put when no group changes). False: the state moved on.
    `final`: the record is deleted — its completed state gets `expires_at`."""
    put = _state_put(tenant, record_id, report, version, step, final)
    try:
        if not step.deltas:
            _call("PutItem", put)
            return True
        items = [{"Put": put}] + [{"Update": _group_update(tenant, report, version, group, parts)}
                                  for group, parts in sorted(step.deltas.items())]
        _call("TransactWriteItems", {"TransactItems": items})
        return True
    except Exception as exc:  # noqa: BLE001 — classified below
        code = _error_code(exc)
        reasons = [getattr(r, "code", None) for r in (getattr(exc, "cancellation_reasons", None) or []) if r is not None]
        if code == "ConditionalCheckFailedException" or "ConditionalCheckFailed" in reasons:
            return False
        if code in _TRANSIENT:
            raise Retry() from exc
        raise


_TRANSIENT = ("TransactionCanceledException", "TransactionConflictException", "ThrottlingException",
              "ProvisionedThroughputExceededException", "RequestLimitExceeded", "InternalServerError")


class Retry(Exception):
    """A transient failure (transaction conflict on a hot group item, throttling): try again."""


def _error_code(exc: Exception) -> str | None:
    response = getattr(exc, "response", None) or getattr(getattr(exc, "cause", None), "response", None) or {}
    return (response.get("Error") or {}).get("Code")


def _group_update(tenant: str, report: str, version: int, group: str, parts: dict[str, Decimal]) -> dict:
    names, values, adds = {"#g": "g"}, {":g": {"S": group}}, []
    for n, (component, amount) in enumerate(sorted(parts.items())):
        names[f"#a{n}"] = component
        values[f":a{n}"] = _number(amount)
        adds.append(f"#a{n} :a{n}")
    return {"TableName": _table(), "Key": {"pk": {"S": group_pk(tenant, report, version)}, "sk": {"S": group_sk(group)}},
            "UpdateExpression": "SET #g = if_not_exists(#g, :g) ADD " + ", ".join(adds),
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}


def apply_contribution(tenant: str, record_id: str, report: str, version: int, record_version: int,
                       new: Contribution, stored: Stored | None = None, *, known: bool = False, final: bool = False) -> int:
    """Bring the aggregates to `new` for this record (see reports.maintenance). Returns the number of
    transactions written (0: the stored state was as new or newer). `final`: the record is deleted."""
    from ..reports.maintenance import plan
    written = 0
    for attempt in range(MAX_ATTEMPTS * 4):
        if not known:
            stored = get_state(tenant, record_id, report, version)
        known = False
        steps = plan(stored, record_version, new)
        try:
            for step in steps:
                if not apply_step(tenant, record_id, report, version, step, final):
                    break
                written += 1
            else:
                return written
        except Retry:
            _backoff(attempt)
    raise ServiceUnavailable("report aggregates are busy; the stream batch will be retried", code="aggregate_contention")


@dataclass(frozen=True)
class Change:
    """Bring one (record, report version) to the contribution `new` of record version `record_version`."""

    tenant: str
    record_id: str
    report: str
    version: int
    record_version: int
    new: Contribution
    final: bool = False  # the record is deleted

    @property
    def key(self) -> StateKey:
        return (self.tenant, self.record_id, self.report, self.version)


MAX_TRANSACTION_ITEMS = 100  # TransactWriteItems
MAX_TRANSACTION_BYTES = 3_500_000  # of the 4 MB a transaction may carry, with room for attribute overhead


def _pack(units: list[tuple[Change, Step]]) -> list[tuple[list[tuple[Change, Step]], dict]]:
    """Units (one step of one state each; a state at most once) into transactions of at most 100 items:
    each unit's state Put plus its groups' updates, the deltas to one group item merged (summed per
    component, exactly) over the units of the transaction. A unit has at most 99 groups, so it always fits."""
    out: list[tuple[list, dict]] = []
    members: list = []
    groups: dict[tuple, dict[str, Decimal]] = {}
    size = 0
    for change, step in sorted(units, key=lambda u: u[0].key):
        unit_groups = [(change.tenant, change.report, change.version, g) for g in step.deltas]
        fresh = [g for g in unit_groups if g not in groups]
        unit_size = 300 + len(to_json(step.state.contribution)) + sum(200 + len(g[3]) + 40 * len(step.deltas[g[3]]) for g in unit_groups)
        if members and (len(members) + len(groups) + 1 + len(fresh) > MAX_TRANSACTION_ITEMS
                        or size + unit_size > MAX_TRANSACTION_BYTES):
            out.append((members, groups))
            members, groups, size = [], {}, 0
        members.append((change, step))
        size += unit_size
        with localcontext() as exact:
            exact.prec = 100  # a sum of deltas is exact (DynamoDB keeps 38 digits; the deltas have at most 28)
            for group, parts in step.deltas.items():
                target = groups.setdefault((change.tenant, change.report, change.version, group), {})
                for component, amount in parts.items():
                    target[component] = target.get(component, Decimal(0)) + amount
    if members:
        out.append((members, groups))
    return out


def _transaction_items(members: list[tuple[Change, Step]], groups: dict[tuple, dict[str, Decimal]]) -> list[dict]:
    """The state Puts first (so cancellation reason i < len(members) is members[i]'s), then the group updates."""
    items = [{"Put": _state_put(c.tenant, c.record_id, c.report, c.version, step, c.final)} for c, step in members]
    items += [{"Update": _group_update(tenant, report, version, group, parts)}
              for (tenant, report, version, group), parts in sorted(groups.items())]
    return items


def apply_changes(changes: list[Change], states: dict[StateKey, Stored | None]) -> dict[StateKey, int]:
    """Bring the aggregates to every change's new contribution (see reports.maintenance), for any number of
    records, reports and tenants, in as few TransactWriteItems as the limits allow — one for a stream
    batch whose changes fit in 100 items (states + distinct group items), else one per 100 items —
    each conditioned on every state it moves. `states`: the stored states as read (consistently).

    A transaction cancelled by a state's condition (someone else moved it: a concurrent copy of the batch,
    a backfill) wrote nothing: the states that failed are read again (one BatchGetItem) and the remaining
    work planned afresh; the others are sent again as they were. A state that needs several steps (a record
    changing more than 99 groups) takes one step per round. Returns {state key: transactions written}."""
    from ..reports.maintenance import plan
    stored = dict(states)
    written = {c.key: 0 for c in changes}
    pending = {c.key: c for c in changes}
    reread: set[StateKey] = set()
    failures = 0
    while True:
        if reread:
            stored.update(read_states(sorted(reread))[0])
            reread = set()
        units = []
        for key, change in list(pending.items()):
            current = stored.get(key)
            steps = plan(current, change.record_version, change.new)
            if not steps:
                del pending[key]
                continue
            units.append((change, steps[0]))
        if not units:
            return written
        progressed = busy = False
        for members, groups in _pack(units):
            try:
                _call("TransactWriteItems", {"TransactItems": _transaction_items(members, groups)})
            except Exception as exc:  # noqa: BLE001 — classified below
                code = _error_code(exc)
                reasons = list(getattr(exc, "cancellation_reasons", None) or [])
                failed = [members[i][0].key for i, r in enumerate(reasons[:len(members)])
                          if r is not None and getattr(r, "code", None) == "ConditionalCheckFailed"]
                if any(r is not None and getattr(r, "code", None) == "ValidationError" for r in reasons):
                    raise
                if code == "ConditionalCheckFailedException" or (code == "TransactionCanceledException" and not reasons):
                    failed = [c.key for c, _s in members]  # no reasons to tell which: read them all again
                if failed:
                    reread.update(failed)
                elif code in _TRANSIENT:
                    busy = True
                else:
                    raise
                continue
            for change, step in members:
                stored[change.key] = step.state
                written[change.key] += 1
            progressed = True
        if not progressed:
            failures += 1
            if failures >= MAX_ATTEMPTS * 4:
                raise ServiceUnavailable("report aggregates are busy; the stream batch will be retried",
                                         code="aggregate_contention")
            if busy and not reread:
                _backoff(failures)


def _backoff(attempt: int) -> None:
    time.sleep(min(0.5, 0.01 * (2 ** min(attempt, 6))) * random.random())


# --- reading group items ---------------------------------------------------------------------------------

def read_groups(tenant: str, report: str, version: int) -> tuple[list[tuple[list, dict[str, Decimal]]], int]:
    """Every group of one report version (Query on its partition, all pages) and the items read."""
    groups, start, count = [], None, 0
    while True:
        request = {"TableName": _table(), "KeyConditionExpression": "pk = :pk",
                   "ExpressionAttributeValues": {":pk": {"S": group_pk(tenant, report, version)}}}
        if start:
            request["ExclusiveStartKey"] = start
        response = _call("Query", request)
        for item in response.get("Items", []):
            count += 1
            parts = {name: Decimal(value["N"]) for name, value in item.items() if "N" in value}
            groups.append((json.loads(item["g"]["S"]), parts))
        start = response.get("LastEvaluatedKey")
        if not start:
            return groups, count


def put_groups(tenant: str, report: str, version: int, groups: Contribution) -> None:
    """Bulk load of whole group items (bench: seeding aggregates as a backfill would build them)."""
    items = []
    for key, parts in groups.items():
        item = {"pk": {"S": group_pk(tenant, report, version)}, "sk": {"S": group_sk(key)}, "g": {"S": key}}
        item.update({name: _number(amount) for name, amount in parts.items()})
        items.append({"PutRequest": {"Item": item}})
    batch_write(items)


def batch_write(requests: list[dict]) -> None:
    """BatchWriteItem, 25 per request, UnprocessedItems retried with backoff; raises ServiceUnavailable
    if some are still unprocessed (the caller keeps its position and the work is retried)."""
    for i in range(0, len(requests), 25):
        pending = {_table(): requests[i:i + 25]}
        for attempt in range(MAX_ATTEMPTS * 2):
            response = _call("BatchWriteItem", {"RequestItems": pending})
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                break
            _backoff(attempt)
        if pending:
            raise ServiceUnavailable("the database is busy; the work continues on the next run", code="throttled")


def state_items(tenant: str, report: str, version: int, states: dict[str, tuple[int, Contribution]]) -> list[dict]:
    """PutRequests of contribution states (bench bulk load)."""
    return [{"PutRequest": {"Item": {**state_key(tenant, rid, report, version), "v": {"N": str(v)}, "p": {"N": "0"},
                                     "c": {"S": to_json(c)}, "tenant": {"S": tenant}}}}
            for rid, (v, c) in states.items()]


# --- registry of maintained report versions, backfill jobs -----------------------------------------------

def _registry_key(tenant: str) -> dict:
    return {"pk": {"S": f"T#{tenant}#RPT"}, "sk": {"S": "REG"}}


def get_registry(tenant: str) -> tuple[dict[str, dict], int]:
    """{report: {"form", "serving", "building"}} and its revision (consistent read: a backfill that
    registers a version must be seen by every stream batch that starts after it)."""
    item = _call("GetItem", {"TableName": _table(), "Key": _registry_key(tenant), "ConsistentRead": True}).get("Item")
    if not item:
        return {}, 0
    return json.loads(item["body"]["S"]), int(item["rev"]["N"])


def put_registry(tenant: str, body: dict, expected_rev: int) -> None:
    condition = ({"ConditionExpression": "attribute_not_exists(pk)"} if expected_rev == 0 else
                 {"ConditionExpression": "rev = :r", "ExpressionAttributeValues": {":r": {"N": str(expected_rev)}}})
    try:
        _call("PutItem", {"TableName": _table(), "Item": {**_registry_key(tenant), "body": {"S": json.dumps(body, sort_keys=True)},
                                                           "rev": {"N": str(expected_rev + 1)}, "tenant": {"S": tenant}}, **condition})
    except Exception as exc:  # noqa: BLE001
        if _error_code(exc) == "ConditionalCheckFailedException":
            raise Conflict("report registry changed concurrently; retry", code="registry_conflict") from exc
        raise


def _job_key(tenant: str, report: str, version: int) -> dict:
    return {"pk": {"S": f"T#{tenant}#RPT#{report}"}, "sk": {"S": f"JOB#v{version}"}}


def get_job(tenant: str, report: str, version: int) -> dict | None:
    item = _call("GetItem", {"TableName": _table(), "Key": _job_key(tenant, report, version), "ConsistentRead": True}).get("Item")
    return json.loads(item["body"]["S"]) if item else None


def put_job(tenant: str, report: str, version: int, body: dict, expected_rev: int | None) -> None:
    """Conditioned on the revision read (two workers never both advance one job)."""
    condition = ({"ConditionExpression": "attribute_not_exists(pk)"} if expected_rev is None else
                 {"ConditionExpression": "rev = :r", "ExpressionAttributeValues": {":r": {"N": str(expected_rev)}}})
    body = {**body, "rev": (expected_rev or 0) + 1}
    item = {**_job_key(tenant, report, version), "body": {"S": json.dumps(body)}, "rev": {"N": str(body["rev"])},
            "tenant": {"S": tenant}}
    if body.get("status") == "running":  # listed for the scheduled runner while it has work left
        item.update({"opk": {"S": JOBS_KEY}, "lsk": {"S": f"{tenant}#{report}#v{version}"}})
    _put_job_item(item, condition, "the backfill job moved on concurrently", "backfill_conflict")


def _put_job_item(item: dict, condition: dict, message: str, code: str) -> None:
    """PutItem of a job item under its revision condition; a lost race is a Conflict."""
    try:
        _call("PutItem", {"TableName": _table(), "Item": item, **condition})
    except Exception as exc:  # noqa: BLE001
        if _error_code(exc) == "ConditionalCheckFailedException":
            raise Conflict(message, code=code) from exc
        raise


JOBS_KEY = "REPORTJOBS"


def running_jobs(limit: int = 100) -> list[tuple[str, str, int]]:
    """(tenant, report, version) of backfills with work left (by_owner, opk REPORTJOBS)."""
    response = _call("Query", {"TableName": _table(), "IndexName": "by_owner", "KeyConditionExpression": "opk = :o",
                               "ExpressionAttributeValues": {":o": {"S": JOBS_KEY}}, "Limit": limit})
    out = []
    for item in response.get("Items", []):
        tenant, report, version = item["lsk"]["S"].rsplit("#", 2)
        out.append((tenant, report, int(version[1:])))
    return out


def page_record_ids(tenant: str, form: str, shard: int, position: str | None, limit: int) -> tuple[list[str], str | None]:
    """One page of a form's record ids from its list index shard (by_form), oldest last."""
    from . import keys
    request: dict[str, Any] = {"TableName": _table(), "IndexName": "by_form", "KeyConditionExpression": "gsi1pk = :h",
                               "ExpressionAttributeValues": {":h": {"S": keys.form_list_pk(tenant, form, shard)}},
                               "ProjectionExpression": "lsk", "Limit": limit, "ScanIndexForward": False}
    if position:
        request["ExclusiveStartKey"] = {"gsi1pk": {"S": keys.form_list_pk(tenant, form, shard)}, "lsk": {"S": position},
                                        "pk": {"S": keys.record_pk(tenant, position)}, "sk": {"S": "R"}}
    response = _call("Query", request)
    ids = [item["lsk"]["S"] for item in response.get("Items", [])]
    last = response.get("LastEvaluatedKey")
    return ids, (last["lsk"]["S"] if last else None)


def get_records_consistent(tenant: str, ids: list[str]) -> Iterator:
    """Records by id with consistent reads (a backfill must see each record's latest version)."""
    from .records import from_item
    items = RecordItem.batch_get([(f"T#{tenant}#R#{i}", "R") for i in ids], consistent_read=True)
    for item in items:
        yield from_item(item)


def get_records(tenant: str, ids: list[str]) -> Iterator:
    """Records by id, eventually consistent (titles of linked records shown in a report view)."""
    from .records import from_item
    for item in RecordItem.batch_get([(f"T#{tenant}#R#{i}", "R") for i in dict.fromkeys(ids)]):
        yield from_item(item)


# --- retirement of versions that no longer serve ----------------------------------------------------------

RETIRE_KEY = "REPORTRETIRE"


def _retirement_key(tenant: str, report: str, version: int) -> dict:
    return {"pk": {"S": f"T#{tenant}#RPT#{report}"}, "sk": {"S": f"RET#v{version}"}}


def get_retirement(tenant: str, report: str, version: int) -> dict | None:
    item = _call("GetItem", {"TableName": _table(), "Key": _retirement_key(tenant, report, version),
                             "ConsistentRead": True}).get("Item")
    return json.loads(item["body"]["S"]) if item else None


def put_retirement(tenant: str, report: str, version: int, body: dict, expected_rev: int | None) -> dict:
    """Conditioned on the revision read (two workers never both save one job's progress). Listed on
    by_owner (opk REPORTRETIRE, lsk `<not_before epoch, 12 digits>#<tenant>#<report>#v<version>`) so the
    schedule finds only jobs that are due. Returns the body as stored (with its new `rev`)."""
    condition = ({"ConditionExpression": "attribute_not_exists(pk)"} if expected_rev is None else
                 {"ConditionExpression": "rev = :r", "ExpressionAttributeValues": {":r": {"N": str(expected_rev)}}})
    body = {**body, "rev": (expected_rev or 0) + 1}
    item = {**_retirement_key(tenant, report, version), "body": {"S": json.dumps(body)}, "rev": {"N": str(body["rev"])},
            "tenant": {"S": tenant}, "opk": {"S": RETIRE_KEY},
            "lsk": {"S": f"{int(body.get('not_before') or 0):012d}#{tenant}#{report}#v{version}"}}
    _put_job_item(item, condition, "the retirement job moved on concurrently", "retirement_conflict")
    return body


def delete_retirement(tenant: str, report: str, version: int, expected_rev: int | None = None) -> None:
    request = {"TableName": _table(), "Key": _retirement_key(tenant, report, version)}
    if expected_rev is not None:
        request.update({"ConditionExpression": "rev = :r", "ExpressionAttributeValues": {":r": {"N": str(expected_rev)}}})
    try:
        _call("DeleteItem", request)
    except Exception as exc:  # noqa: BLE001
        if _error_code(exc) == "ConditionalCheckFailedException":
            raise Conflict("the retirement job moved on concurrently", code="retirement_conflict") from exc
        raise


def delete_job(tenant: str, report: str, version: int) -> None:
    """The backfill job item of a retired version (a later rebuild of that version starts afresh)."""
    _call("DeleteItem", {"TableName": _table(), "Key": _job_key(tenant, report, version)})


def due_retirements(now: float, limit: int = 100) -> list[tuple[str, str, int]]:
    """(tenant, report, version) of retirement jobs whose grace period is over (by_owner, opk REPORTRETIRE)."""
    response = _call("Query", {"TableName": _table(), "IndexName": "by_owner",
                               "KeyConditionExpression": "opk = :o AND lsk < :upto",
                               "ExpressionAttributeValues": {":o": {"S": RETIRE_KEY}, ":upto": {"S": f"{int(now) + 1:012d}"}},
                               "Limit": limit})
    out = []
    for item in response.get("Items", []):
        tenant, report, version = item["lsk"]["S"].split("#", 1)[1].rsplit("#", 2)
        out.append((tenant, report, int(version[1:])))
    return out


def group_keys(tenant: str, report: str, version: int, limit: int) -> list[dict]:
    """Keys of up to `limit` group items of one report version (consistent: items deleted by an earlier
    page are not returned again, so no position is needed)."""
    response = _call("Query", {"TableName": _table(), "KeyConditionExpression": "pk = :pk",
                               "ExpressionAttributeValues": {":pk": {"S": group_pk(tenant, report, version)}},
                               "ProjectionExpression": "pk, sk", "ConsistentRead": True, "Limit": limit})
    return [{"pk": item["pk"], "sk": item["sk"]} for item in response.get("Items", [])]


def delete_keys(keys_: list[dict]) -> int:
    """Delete these keys (see batch_write: raises if the database keeps refusing some)."""
    batch_write([{"DeleteRequest": {"Key": k}} for k in keys_])
    return len(keys_)


def delete_states(tenant: str, report: str, version: int, record_ids: list[str]) -> int:
    """Delete the `RC#<report>#v<version>` state of each record (a missing one is a no-op)."""
    return delete_keys([state_key(tenant, rid, report, version) for rid in record_ids])
