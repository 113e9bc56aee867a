"""The outbound event envelope (version 1), derived from a record's history item.

Every record version has exactly one history item (`sk H#<version>`, written in the change's own
transaction), so one history item = one event: `record.created`, `record.updated`, `record.deleted`,
or `workflow.transitioned` (an action or timer that moved the workflow). The event id is derived
from tenant-free record id + version, so a stream retry produces the same id (SQS FIFO and the
webhook delivery log deduplicate on it).
"""
from __future__ import annotations

from typing import Any

SPEC_VERSION = "1"
EVENT_TYPES = ("record.created", "record.updated", "record.deleted", "workflow.transitioned")


def event_id(record_id: str, version: int) -> str:
    return f"{record_id}-{version:010d}"


def event_type(entry: dict) -> str:
    kind = entry.get("kind")
    if kind == "create":
        return "record.created"
    if kind == "delete":
        return "record.deleted"
    if entry.get("to") is not None and (entry.get("to") != entry.get("from") or entry.get("action")):
        return "workflow.transitioned"
    return "record.updated"


def build(tenant: str, form: str, record_id: str, version: int, at: str, entry: dict) -> dict:
    """Envelope v1: {specversion, id, tenant, type, time, record_id, form, version, changed_fields,
    data, actor, workflow}. `data` holds the new value of each changed field (every field on
    create; null on delete, and for history written before values were kept); `workflow` is null
    unless the change ran the workflow."""
    event: dict[str, Any] = {
        "specversion": SPEC_VERSION, "id": event_id(record_id, version), "tenant": tenant,
        "type": event_type(entry), "time": at, "record_id": record_id, "form": form, "version": version,
        "changed_fields": sorted(entry.get("changed_fields") or []),
        "data": dict(entry["values"]) if isinstance(entry.get("values"), dict) else None,
        "actor": entry.get("actor"), "workflow": None}
    if entry.get("to") is not None or entry.get("action"):
        event["workflow"] = {"action": entry.get("action"), "from": entry.get("from"), "to": entry.get("to"),
                             "status": entry.get("status"),
                             "events": [e for e in entry.get("events") or [] if isinstance(e, dict)]}
    return event


def for_hidden(event: dict, hidden: set[str]) -> dict:
    """The event as a role that may not see `hidden` fields receives it: those names and values are
    removed (also from workflow events that name a field)."""
    if not hidden:
        return event
    out = {**event, "changed_fields": [f for f in event["changed_fields"] if f not in hidden]}
    if event.get("data") is not None:
        out["data"] = {f: v for f, v in event["data"].items() if f not in hidden}
    if event.get("workflow"):
        out["workflow"] = {**event["workflow"], "events": [e for e in event["workflow"]["events"] if e.get("field") not in hidden]}
    return out


def matches(event: dict, types: list[str], forms: list[str]) -> bool:
    """A subscription: event types ('*' = all, 'record.*' = a prefix) and forms (empty = all)."""
    if forms and event["form"] not in forms:
        return False
    for wanted in types:
        if wanted == "*" or wanted == event["type"] or (wanted.endswith(".*") and event["type"].startswith(wanted[:-1])):
            return True
    return False


def from_stream_image(image: dict) -> tuple[str, str, str, int, str, dict] | None:
    """(tenant, form, record id, version, at, entry) of a history item's stream NewImage (DynamoDB
    JSON), or None for any other item of the records table."""
    import json

    sk = (image.get("sk") or {}).get("S", "")
    if not sk.startswith("H#"):
        return None
    try:
        return (image["tenant"]["S"], image["form"]["S"], image["record_id"]["S"], int(sk[2:]), image["at"]["S"],
                json.loads(image["entry"]["S"]))
    except (KeyError, ValueError, TypeError):
        return None
