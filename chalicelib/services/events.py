"""Outbound events: the records table's stream → envelope (one per history item) → the FIFO events
queue and every matching tenant webhook, with signed bodies, retries with exponential backoff, a
delivery log, dead-lettering after the last attempt and redelivery on request.

The stream handler and the retry schedule call `handle_stream` / `retry_due`; HTTP goes through
`transport` (services.outbound's guarded POST by default; tests inject their own)."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Callable

from .. import jsonutil
from ..config import get_settings
from ..errors import ExpressionBudgetExceeded, NotFound
from ..expressions.budget import expression_budget
from ..integration import envelope, signing
from ..storage import queues
from ..storage import webhooks as store
from . import definitions
from .clock import utc_now

log = logging.getLogger("aftersales.events")

Transport = Callable[[str, bytes, dict, float], tuple[int | None, str | None]]


def guarded_transport(url: str, body: bytes, headers: dict, timeout: float) -> tuple[int | None, str | None]:
    """POST once through the SSRF guard (services.outbound): the host is resolved once, every address
    must be public, the connection goes to a vetted address (TLS keeps the host name); redirects are
    not followed (a 3xx is a failure). → (HTTP status, error text or None)."""
    from . import outbound  # http.client + ssl: off the cold-start path of the API
    return outbound.post(url, body, headers, timeout)


urllib_transport = guarded_transport  # its former name (tests and tools inject `transport` by it)
transport: Transport = guarded_transport


def blocked_address(url: str) -> str | None:
    """Why a webhook URL may not be called now (SSRF guard), or None: not https, credentials in it, or a
    host that resolves to any non-public address (private, loopback, link-local such as the instance
    metadata service, NAT64/6to4/Teredo/IPv4-mapped, multicast, reserved). Only the local stage outside
    Lambda may call loopback. Reporting only: delivery checks and connects in one step (outbound.post)."""
    from . import outbound
    return outbound.refusal(url)


def events_from_stream(records: list[dict]) -> list[dict]:
    """Envelopes of the history items inserted in a stream batch (other items are not events)."""
    out = []
    for record in records:
        if record.get("eventName") != "INSERT":
            continue
        parsed = envelope.from_stream_image(((record.get("dynamodb") or {}).get("NewImage")) or {})
        if parsed is not None:
            out.append(envelope.build(*parsed))
    return out


def handle_stream(records: list[dict], now: str | None = None) -> dict:
    """One stream batch: events to the FIFO queue, then to webhooks (first attempt inline; failures
    wait for `retry_due`). Safe to run twice: SQS dedupes on the event id, the delivery log too."""
    events = events_from_stream(records)
    signals = deliver_signals(events)
    queued = queues.send_events(events)
    hooks_by_tenant: dict[str, list[store.Webhook]] = {}
    records: dict = {}  # record data read for row rules, once per batch
    deliveries = 0
    for event in events:
        hooks = hooks_by_tenant.get(event["tenant"])
        if hooks is None:
            hooks = hooks_by_tenant[event["tenant"]] = [h for h in store.list_webhooks(event["tenant"]) if h.active]
        for hook in hooks:
            if not envelope.matches(event, hook.types, hook.forms):
                continue
            try:
                with expression_budget(fresh=True):  # per event and webhook: a costly row rule stops only itself
                    shown = visible_to(hook, event, records)
            except ExpressionBudgetExceeded as exc:
                log.error("webhook %s: event %s not delivered: %s", hook.id, event["id"], exc.message)
                shown = None  # fail closed: a rule that cannot be decided admits nothing
            if shown is None:
                continue
            at = now or utc_now()
            delivery = store.Delivery(event["tenant"], hook.id, event["id"], jsonutil.dumps(shown), "pending", 0,
                                      None, None, at, at, at)
            if store.create_delivery(delivery):
                deliveries += 1
                attempt(hook, delivery)
    return {"events": len(events), "queued": queued, "deliveries": deliveries, "signals": signals}


def deliver_signals(events: list[dict]) -> int:
    """A workflow's Signal steps (in the committed history entry's events) delivered to the records
    waiting for them. At least once from the stream, once per record: the delivery id is the history
    item's event id and the step's position, so a replayed batch is a duplicate. Nobody waiting is
    normal (logged); a lost race raises, so the stream retries the batch."""
    from . import workflow
    moved = 0
    for event in events:
        steps = [e for e in ((event.get("workflow") or {}).get("events") or []) if e.get("type") == "workflow.signal"]
        for i, signal in enumerate(steps):
            payload = {"record_id": event["record_id"], "form": event["form"], "state": event["workflow"].get("to"),
                       "data": event.get("data") or {}}
            try:
                done = workflow.deliver_event(event["tenant"], signal["event"], signal["key"], payload,
                                              f"workflow:{event['form']}", f"sig.{event['id']}.{i}",
                                              form_name=signal.get("form"))
                moved += len(done["delivered"])
            except NotFound:
                log.info("signal %s (key %s) from %s %s: no record waits for it", signal["event"], signal["key"],
                         event["form"], event["record_id"])
    return moved


def visible_to(hook: store.Webhook, event: dict, records: dict | None = None) -> dict | None:
    """The event as the webhook's role may see it, judged like an API caller holding only that role:
    None when the role may not read the form or its row rule does not admit the record; fields the
    role may not see removed. A row rule is evaluated on the record as stored now (read once per
    stream batch through `records`), with no user attributes, so a rule that needs them admits
    nothing. A webhook without a role (admin-registered, tenant-wide) sees everything."""
    if hook.role in (None, "admin"):
        return event
    try:
        _v, form = definitions.published(event["tenant"], "form", event["form"])
    except NotFound:
        return None
    from ..forms.access import Access
    at = event["time"]
    access = Access(form, frozenset({hook.role}), {"$user": {"id": f"webhook:{hook.id}", "roles": [hook.role], "name": "",
                                                             "attributes": {}}, "$now": at, "$today": at[:10]})
    if not access.can("read"):
        return None
    data: dict = {}
    if form.permissions.rows.get(hook.role) is not None:
        data = _record_data(event["tenant"], event["record_id"], records if records is not None else {})
        if data is None or not access.row_visible(data):
            return None
    return envelope.for_hidden(event, set(form.fields_by_name) - access.visible_fields(data))


def _record_data(tenant: str, record_id: str, cache: dict) -> dict | None:
    key = (tenant, record_id)
    if key not in cache:
        from ..storage.records import get_record
        rec = get_record(tenant, record_id)
        cache[key] = rec.data if rec is not None else None  # a deleted record keeps its data
    return cache[key]


def attempt(hook: store.Webhook, delivery: store.Delivery, now: str | None = None) -> store.Delivery:
    """POST the stored body once and record the outcome (delivered / retry later / dead)."""
    settings = get_settings()
    body = delivery.body.encode()
    # the guard is inside the transport, where it connects: no check-then-connect window
    status, error = transport(hook.url, body, signing.headers(hook.secret, int(time.time()), body, delivery.event_id),
                              settings.webhook_timeout_seconds)
    at = now or utc_now()
    before = delivery.attempts
    delivery.attempts += 1
    delivery.last_status, delivery.updated_at = status, at
    if status is not None and 200 <= status < 300:
        delivery.status, delivery.last_error, delivery.next_at = "delivered", None, None
    elif delivery.attempts >= settings.webhook_max_attempts:
        delivery.status, delivery.last_error, delivery.next_at = "dead", error or f"HTTP {status}", None
    else:
        delay = signing.backoff_seconds(delivery.attempts)
        delivery.last_error = error or f"HTTP {status}"
        delivery.next_at = _plus(at, delay)
    if store.save_delivery(delivery, before) and delivery.status == "dead":
        queues.dead_letter(settings.webhook_dlq_url, delivery.body, delivery.last_error or "failed",
                           tenant=delivery.tenant, webhook=delivery.webhook_id, event_id=delivery.event_id)
    return delivery


def retry_due(now: str | None = None, limit: int = 100) -> dict:
    """The schedule's job: every delivery whose retry time has come, once more."""
    now = now or utc_now()
    done = {"attempted": 0, "delivered": 0, "dead": 0}
    for shard in range(store.RETRY_SHARDS):
        for delivery in store.due_deliveries(shard, now, limit):
            hook = store.get_webhook(delivery.tenant, delivery.webhook_id)
            if hook is None or not hook.active:
                continue
            result = attempt(hook, delivery, now)
            done["attempted"] += 1
            done[result.status] = done.get(result.status, 0) + 1
    return done


def _plus(at: str, seconds: int) -> str:
    moment = datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
