"""Inbound messages from other systems (SQS) → record creates/updates through tenant mapping
definitions. One message = one record transaction, so nothing partial is ever written.

Message body: {"tenant": "<tenant>", "mapping": "<integration_mapping name>", "data": {...payload}}.

- Duplicates (the same message delivered 3 times) write once: creates carry an idempotency key
  derived from the mapping and the external id (the records API's Idempotency-Key mechanism); an
  upsert of a record that already holds the mapped values writes nothing; a `create` mapping with a
  `key_field` (a unique field holding the external id) dedupes for as long as the record keeps the
  value, past the idempotency window: the create's unique claim finds it. An `update` mapping changes
  only records that hold the key: an unknown key is a dead letter naming it, never a create.
- Malformed or unmappable messages (bad JSON, unknown tenant/mapping, a payload that fails the
  mapping or the form's validation) go to the dead-letter queue with the reason and are not retried.
- Anything else (throttling, a lost race) is reported in `batchItemFailures`, so SQS redelivers only
  that message; the queue's redrive policy dead-letters it after its maxReceiveCount.
"""
from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from .. import jsonutil
from ..config import get_settings
from ..errors import AppError, Conflict, ServiceUnavailable
from ..storage import inbound as store
from ..storage import queues
from . import definitions, records
from .caller import Caller

log = logging.getLogger("aftersales.inbound")
TENANT = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
KIND = "integration_mapping"


class DeadLetter(Exception):
    def __init__(self, reason: str, details: Any = None) -> None:
        super().__init__(reason)
        self.reason, self.details = reason, details


def handle_batch(messages: list[dict]) -> dict:
    """SQS event records → {"batchItemFailures": [{"itemIdentifier": messageId}, ...]}."""
    failures, counts = [], {"written": 0, "duplicate": 0, "dead_lettered": 0, "retry": 0}
    for message in messages:
        try:
            counts[handle_message(message.get("body") or "")] += 1
        except DeadLetter as exc:
            counts["dead_lettered"] += 1
            reason = exc.reason + (f" {jsonutil.dumps(exc.details)}" if exc.details else "")
            if not queues.dead_letter(get_settings().inbound_dlq_url, message.get("body") or "", reason,
                                      message_id=message.get("messageId", "")):
                log.error("inbound message %s dropped (no DLQ configured): %s", message.get("messageId"), reason)
        except Exception:  # transient: let SQS deliver this one again, not the whole batch
            log.exception("inbound message %s failed; will be retried", message.get("messageId"))
            counts["retry"] += 1
            failures.append({"itemIdentifier": message.get("messageId")})
    log.info("inbound batch: %s", counts)
    return {"batchItemFailures": failures}


def handle_message(body: str) -> str:
    """'written' or 'duplicate'; DeadLetter for a message that can never succeed."""
    from ..integration.mapping import MappingError, apply
    try:
        message = jsonutil.loads(body)
    except AppError as exc:
        raise DeadLetter("malformed: body is not JSON") from exc
    if not isinstance(message, dict) or set(message) - {"tenant", "mapping", "data", "id"}:
        raise DeadLetter("malformed: expected {tenant, mapping, data}")
    tenant, name = message.get("tenant"), message.get("mapping")
    if not isinstance(tenant, str) or not TENANT.match(tenant) or not isinstance(name, str) or not NAME.match(name):
        raise DeadLetter("malformed: tenant or mapping missing or invalid")
    try:
        _v, mapping = definitions.published(tenant, KIND, name)
    except AppError as exc:
        raise DeadLetter(f"unmappable: no published mapping '{name}' in tenant '{tenant}'") from exc
    try:
        external_id, data = apply(mapping, message.get("data"))
    except MappingError as exc:
        raise DeadLetter(f"unmappable: {exc.message}", exc.details) from exc
    caller = Caller(tenant, f"integration:{name}", frozenset({"admin"}), name=f"integration {name}")
    try:
        if mapping.mode == "event":
            return _deliver(caller, mapping, external_id, data, message.get("id"))
        return _write(caller, mapping, external_id, data)
    except (ServiceUnavailable, Conflict) as exc:
        if exc.code == "idempotency_key_reused":
            raise DeadLetter(f"rejected: {exc.message}") from exc
        raise  # transient (lost race, throttled): retried by SQS
    except AppError as exc:  # 4xx: validation, unknown form, permissions — retrying cannot help
        raise DeadLetter(f"rejected: {exc.message}", exc.details) from exc


def idempotency_key(mapping_name: str, external_id: str) -> str:
    return f"ext.{mapping_name}.{hashlib.sha256(external_id.encode()).hexdigest()[:40]}"


def _resolve_lookups(tenant: str, mapping, data: dict) -> dict:
    """Lookup fields mapped from the other system's ids → the platform's record ids (one unique-claim
    read each); an id no record holds is a dead letter naming it."""
    if not mapping.lookups:
        return data
    out = dict(data)
    for name, spec in mapping.lookups.items():
        external = out.get(name)
        if external is None:
            continue
        external = str(external)
        key_field = definitions.published(tenant, "form", spec.form)[1].field(spec.key_field)
        claimed = key_field.unique_key(external) if key_field is not None else external
        record_id = store.unique_owner(tenant, spec.form, spec.key_field, claimed)
        if record_id is None:
            raise DeadLetter(f"unmappable: no {spec.form} record with {spec.key_field} {external}",
                             [{"path": f"fields.{name}", "message": f"no {spec.form} record holds this {spec.key_field}"}])
        out[name] = record_id
    return out


def _deliver(caller: Caller, mapping, key: str, data: dict, message_id: Any) -> str:
    """An event mapping: the message moves the form's records waiting for the event with this key."""
    from . import workflow
    delivery = workflow.event_delivery_id(mapping.event, key, data, message_id)
    try:
        done = workflow.deliver_event(caller.tenant, mapping.event, key, data, caller.user_id,
                                      delivery, form_name=mapping.form)
    except AppError as exc:
        if exc.code == "no_waiting_record":
            raise DeadLetter(f"unmappable: no {mapping.form} record waits for {mapping.event} with key {key}",
                             [{"path": "external_id", "message": "no record waits for this key"}]) from exc
        raise
    return "duplicate" if done["duplicate"] else "written"


def _write(caller: Caller, mapping, external_id: str, data: dict) -> str:
    key = idempotency_key(mapping.name, external_id)
    data = _resolve_lookups(caller.tenant, mapping, data)
    if mapping.mode in ("upsert", "update"):
        key_field = definitions.published(caller.tenant, "form", mapping.form)[1].field(mapping.key_field)
        claimed = key_field.unique_key(external_id) if key_field is not None else external_id  # as claims are keyed
        record_id = store.unique_owner(caller.tenant, mapping.form, mapping.key_field, claimed)
        if record_id is not None:
            current = records.get(caller, mapping.form, record_id)
            plain = jsonutil.to_plain(data)  # as rendered: compare like with like (exact decimals → JSON numbers)
            changed = {k: data[k] for k, v in plain.items() if current["data"].get(k) != v}
            if not changed:
                return "duplicate"
            records.update(caller, mapping.form, record_id, {"version": current["version"], "data": changed}, None)
            return "written"
        if mapping.mode == "update":  # only records that exist are changed: an unknown key is the sender's news
            raise DeadLetter(f"unmappable: no {mapping.form} record with {mapping.key_field} {external_id}",
                             [{"path": mapping.key_field, "message": "no record holds this value"}])
    try:
        _body, replayed = records.create(caller, mapping.form, {"data": data}, key)
    except AppError as exc:
        key_taken = any(d.get("path") == f"data.{mapping.key_field}" for d in exc.details or [] if isinstance(d, dict))
        if mapping.mode == "upsert" and (exc.code == "idempotency_key_reused" or key_taken):
            raise Conflict("record was created concurrently; retry as an update") from exc
        if mapping.mode == "create" and key_taken:
            # the unique external id outlives the idempotency window: a redelivery days later, or a
            # replay of the sender's backlog, finds the record and writes nothing
            log.info("inbound duplicate by key", extra={"tenant": caller.tenant, "mapping": mapping.name,
                                                        "key_field": mapping.key_field})
            return "duplicate"
        raise
    return "duplicate" if replayed else "written"
