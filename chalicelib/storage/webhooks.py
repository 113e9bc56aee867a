"""Webhook registrations and their delivery log (see integration_models for the key layout)."""
from __future__ import annotations

import zlib
from dataclasses import dataclass


from .. import jsonutil
from .integration_models import DeliveryItem, WebhookItem
from .models import save_if

RETRY_SHARDS = 4


def webhook_pk(tenant: str, webhook_id: str) -> str:
    return f"T#{tenant}#WH#{webhook_id}"


def tenant_webhooks_pk(tenant: str) -> str:
    return f"T#{tenant}#WEBHOOKS"


def retry_pk(shard: int) -> str:
    return f"WHRETRY#{shard}"


@dataclass
class Webhook:
    tenant: str
    id: str
    url: str
    secret: str
    types: list[str]
    forms: list[str]
    role: str | None
    active: bool
    created_at: str
    created_by: str


def _webhook(item: WebhookItem) -> Webhook:
    return Webhook(item.tenant, item.webhook_id, item.url, item.secret, jsonutil.loads(item.types),
                   jsonutil.loads(item.forms), item.role, item.active, item.created_at, item.created_by)


def put_webhook(hook: Webhook) -> None:
    WebhookItem(webhook_pk(hook.tenant, hook.id), "WH", tenant=hook.tenant, webhook_id=hook.id, url=hook.url,
                secret=hook.secret, types=jsonutil.dumps(hook.types), forms=jsonutil.dumps(hook.forms), role=hook.role,
                active=hook.active, created_at=hook.created_at, created_by=hook.created_by,
                opk=tenant_webhooks_pk(hook.tenant), lsk=hook.id).save()


def get_webhook(tenant: str, webhook_id: str) -> Webhook | None:
    try:
        return _webhook(WebhookItem.get(webhook_pk(tenant, webhook_id), "WH"))
    except WebhookItem.DoesNotExist:
        return None


def delete_webhook(tenant: str, webhook_id: str) -> None:
    WebhookItem(webhook_pk(tenant, webhook_id), "WH").delete()


def list_webhooks(tenant: str, limit: int = 100) -> list[Webhook]:
    return [_webhook(i) for i in WebhookItem.by_tenant.query(tenant_webhooks_pk(tenant), limit=limit)]


@dataclass
class Delivery:
    tenant: str
    webhook_id: str
    event_id: str
    body: str
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: str
    updated_at: str
    next_at: str | None

    def view(self) -> dict:
        return {"event_id": self.event_id, "status": self.status, "attempts": self.attempts,
                "last_status": self.last_status, "last_error": self.last_error, "created_at": self.created_at,
                "updated_at": self.updated_at, "next_at": self.next_at}


def _delivery(item: DeliveryItem) -> Delivery:
    return Delivery(item.tenant, item.webhook_id, item.event_id, item.body, item.status, int(item.attempts or 0),
                    int(item.last_status) if item.last_status is not None else None, item.last_error,
                    item.created_at, item.updated_at, item.next_at)


def _item(d: Delivery) -> DeliveryItem:
    item = DeliveryItem(webhook_pk(d.tenant, d.webhook_id), f"D#{d.event_id}", tenant=d.tenant, webhook_id=d.webhook_id,
                        event_id=d.event_id, body=d.body, status=d.status, attempts=d.attempts, last_status=d.last_status,
                        last_error=d.last_error, created_at=d.created_at, updated_at=d.updated_at, next_at=d.next_at)
    if d.status == "pending" and d.next_at:  # sparse: only due retries are in the worker's index
        item.opk = retry_pk(zlib.crc32(d.event_id.encode()) % RETRY_SHARDS)
        item.lsk = f"{d.next_at}#{d.tenant}#{d.webhook_id}#{d.event_id}"
    return item


def create_delivery(d: Delivery) -> bool:
    """First sight of this event for this webhook; False if already logged (a stream retry)."""
    return save_if(_item(d), DeliveryItem.pk.does_not_exist())


def save_delivery(d: Delivery, expected_attempts: int) -> bool:
    """Record an attempt's outcome; conditioned on the attempts count read, so two workers racing
    on one retry record it once (False = someone else did)."""
    return save_if(_item(d), DeliveryItem.attempts == expected_attempts)


def get_delivery(tenant: str, webhook_id: str, event_id: str) -> Delivery | None:
    try:
        return _delivery(DeliveryItem.get(webhook_pk(tenant, webhook_id), f"D#{event_id}", consistent_read=True))
    except DeliveryItem.DoesNotExist:
        return None


def list_deliveries(tenant: str, webhook_id: str, limit: int = 50) -> list[Delivery]:
    """Newest first (event ids are record ULID + version)."""
    return [_delivery(i) for i in DeliveryItem.query(webhook_pk(tenant, webhook_id), DeliveryItem.sk.startswith("D#"),
                                                     scan_index_forward=False, limit=limit)]


def due_deliveries(shard: int, now: str, limit: int = 100) -> list[Delivery]:
    return [_delivery(i) for i in DeliveryItem.due.query(retry_pk(shard), DeliveryItem.lsk <= f"{now}~", limit=limit)]
