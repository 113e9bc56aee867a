"""Webhook registrations (admin), their delivery log and redelivery."""
from __future__ import annotations

from typing import Any


from ..errors import NotFound, ValidationFailed
from ..forms.definition import validated
from ..ids import is_valid_id, new_id
from ..integration import signing
from ..integration.bodies import WebhookRequest
from ..storage import webhooks as store
from .caller import Caller
from .clock import utc_now

MAX_WEBHOOKS = 50


def _parse(body: Any) -> WebhookRequest:
    request = validated(WebhookRequest, body, "webhook", ValidationFailed)
    from . import outbound
    try:  # the static half of the SSRF guard; delivery resolves and checks again where it connects
        outbound.check_url(request.url)
    except outbound.Refused as exc:
        summary = "webhook url must be https" if "https" in str(exc) else "webhook url may not be called"
        raise ValidationFailed(summary, details=[{"path": "url", "message": str(exc)}]) from None
    return request


def view(hook: store.Webhook, *, with_secret: bool = False) -> dict:
    out = {"id": hook.id, "url": hook.url, "types": hook.types, "forms": hook.forms, "role": hook.role,
           "active": hook.active, "created_at": hook.created_at, "created_by": hook.created_by}
    if with_secret:
        out["secret"] = hook.secret  # shown once, at registration
    return out


def register(caller: Caller, body: Any) -> dict:
    caller.require_admin("registering webhooks")
    request = _parse(body)
    if len(store.list_webhooks(caller.tenant, MAX_WEBHOOKS + 1)) >= MAX_WEBHOOKS:
        raise ValidationFailed(f"at most {MAX_WEBHOOKS} webhooks per tenant", details=[{"path": "", "message": "limit reached"}])
    hook = store.Webhook(caller.tenant, new_id(), request.url, signing.new_secret(), list(request.types),
                         list(request.forms), request.role, request.active, utc_now(), caller.user_id)
    store.put_webhook(hook)
    return view(hook, with_secret=True)


def _get(caller: Caller, webhook_id: str) -> store.Webhook:
    caller.require_admin("managing webhooks")
    hook = store.get_webhook(caller.tenant, webhook_id) if is_valid_id(webhook_id) else None
    if hook is None:
        raise NotFound(f"webhook {webhook_id} does not exist")
    return hook


def get(caller: Caller, webhook_id: str) -> dict:
    return view(_get(caller, webhook_id))


def update(caller: Caller, webhook_id: str, body: Any) -> dict:
    hook = _get(caller, webhook_id)
    request = _parse(body)
    hook.url, hook.types, hook.forms, hook.role, hook.active = (request.url, list(request.types), list(request.forms),
                                                                 request.role, request.active)
    store.put_webhook(hook)
    return view(hook)


def remove(caller: Caller, webhook_id: str) -> dict:
    _get(caller, webhook_id)
    store.delete_webhook(caller.tenant, webhook_id)
    return {"id": webhook_id, "deleted": True}


def list_all(caller: Caller) -> dict:
    caller.require_admin("managing webhooks")
    return {"items": [view(h) for h in store.list_webhooks(caller.tenant)]}


def deliveries(caller: Caller, webhook_id: str, limit: int = 50) -> dict:
    _get(caller, webhook_id)
    return {"items": [d.view() for d in store.list_deliveries(caller.tenant, webhook_id, limit)]}


def redeliver(caller: Caller, webhook_id: str, event_id: str) -> dict:
    """Send a logged event again now (dead or delivered alike), with a fresh retry budget."""
    from . import events

    hook = _get(caller, webhook_id)
    delivery = store.get_delivery(caller.tenant, webhook_id, event_id) if len(event_id) <= 80 else None
    if delivery is None:
        raise NotFound(f"no delivery of event {event_id} for webhook {webhook_id}")
    read = delivery.attempts
    delivery.status, delivery.attempts, delivery.next_at = "pending", 0, utc_now()
    if not store.save_delivery(delivery, read):
        from ..errors import Conflict
        raise Conflict("the delivery is being retried right now; try again", code="delivery_busy")
    return events.attempt(hook, delivery).view()
