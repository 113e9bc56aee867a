"""Key layout in one place. Every key begins with the tenant, so no query can cross tenants."""
from __future__ import annotations

import hashlib
import re
import zlib
from decimal import Decimal
from typing import Any


def tenant_pk(tenant: str) -> str:
    return f"T#{tenant}"


def definition_sk(kind: str, name: str, version: int) -> str:
    return f"def#{kind}#{name}#v{version:06d}"


def head_sk(kind: str, name: str) -> str:
    return f"head#{kind}#{name}"  # own prefix: heads list without reading bodies


def record_pk(tenant: str, record_id: str) -> str:
    return f"T#{tenant}#R#{record_id}"


def member_pk(tenant: str, user_id: str) -> str:
    return f"T#{tenant}#M#{user_id}"


def roster_pk(tenant: str) -> str:
    return f"T#{tenant}#ROSTER"


def unique_pk(tenant: str, form: str, field: str, value: Any) -> str:
    return f"T#{tenant}#U#{form}#{field}#{index_value(value)}"


def counter_pk(tenant: str, form: str, period: str) -> str:
    return f"T#{tenant}#C#{form}#{period}"


def engineer_pk(tenant: str, user_id: str) -> str:
    """What dispatch reads about a user: last check-in (sk LOC) and open-task load per form (sk LOAD#<form>)."""
    return f"T#{tenant}#ENG#{user_id}"


def load_sk(form: str) -> str:
    return f"LOAD#{form}"


def day_sk(form: str, day: str) -> str:
    """The orders of `form` assigned to the user on working day `day` (YYYY-MM-DD)."""
    return f"DAY#{form}#{day}"


def feed_pk(tenant: str, user_id: str) -> str:
    """A user's sync change feed (storage.feed): its head counter and its entries."""
    return f"T#{tenant}#FEED#{user_id}"


def event_wait_pk(tenant: str, event: str, key: str) -> str:
    import hashlib
    return f"T#{tenant}#EVT#{event}#{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def schedule_pk(tenant: str, name: str) -> str:
    """A schedule's state item (sk 'STATE')."""
    return f"T#{tenant}#SCH#{name}"


def idempotency_pk(tenant: str, scope: str, key: str) -> str:
    return f"T#{tenant}#K#{scope}#{key}"


def upload_pk(tenant: str, upload_id: str) -> str:
    return f"T#{tenant}#UP#{upload_id}"


# S3 object keys are built from and checked as SEGMENTS, never as strings: every segment is plain
# [A-Za-z0-9_-] (tenant ids, form and field names, ULIDs, '_imports'), so no key holds '..', '.', an
# empty segment, a backslash, a %-escape or a leading '/', and "under a prefix" is a tuple comparison
# (t/acme/work_order/01ABC never admits t/acme/work_order/01ABCD/...).
OBJECT_KEY_SEGMENT = re.compile(r"[A-Za-z0-9_\-]{1,128}")
MAX_OBJECT_KEY = 512
ATTACHMENT_KEY_SEGMENTS = 6  # t / tenant / form / record id / field / upload id


class UnsafeKey(ValueError):
    """An S3 key (or a segment for one) outside the key layout."""


def object_key(*segments: str) -> str:
    """The S3 key of these segments; UnsafeKey when one is not a plain segment."""
    for segment in segments:
        if not isinstance(segment, str) or not OBJECT_KEY_SEGMENT.fullmatch(segment):
            raise UnsafeKey(f"not a key segment: {str(segment)[:40]!r}")
    key = "/".join(segments)
    if not segments or len(key) > MAX_OBJECT_KEY:
        raise UnsafeKey("key is empty or too long")
    return key


def object_key_segments(key: Any) -> tuple[str, ...] | None:
    """The segments of a key of our layout, or None for anything else (path tricks included)."""
    if not isinstance(key, str) or not 0 < len(key) <= MAX_OBJECT_KEY:
        return None
    segments = tuple(key.split("/"))
    return segments if all(OBJECT_KEY_SEGMENT.fullmatch(s) for s in segments) else None


def is_attachment_key_of(key: Any, tenant: str, form: str, record_id: str) -> bool:
    """True only for t/<tenant>/<form>/<record id>/<field>/<upload id>, compared segment by segment."""
    segments = object_key_segments(key)
    return (segments is not None and len(segments) == ATTACHMENT_KEY_SEGMENTS
            and segments[:4] == ("t", tenant, form, record_id))


def upload_object_key(tenant: str, form: str, record_id: str, field: str, upload_id: str) -> str:
    """S3 key of an attachment: tenant first, like every DynamoDB key."""
    return object_key("t", tenant, form, record_id, field, upload_id)


def import_object_key(tenant: str, upload_id: str) -> str:
    """S3 key of an import file: beside (never inside) attachment keys ('_imports' is no form name)."""
    return object_key("t", tenant, "_imports", upload_id)


def shard_of(record_id: str, shards: int) -> int:
    return zlib.crc32(record_id.encode()) % shards if shards > 1 else 0


def form_list_pk(tenant: str, form: str, shard: int) -> str:
    return f"T#{tenant}#F#{form}#S{shard}"


def field_list_pk(tenant: str, form: str, slot: int, value: Any, shard: int) -> str:
    return f"T#{tenant}#F#{form}#I{slot}#{index_value(value)}#S{shard}"


MAX_KEY_VALUE_BYTES = 512  # DynamoDB keys hold 2,048 bytes; long values are hashed to stay well inside


GSI_SLOTS = 4  # indexed-field slots served by the GSIs by_ix1..4; later slots are IndexEntryItems


def entry_list_pk(tenant: str, form: str, slot: int, value: Any, shard: int) -> str:
    """The partition of an IndexEntryItem: an indexed field past the GSI slots."""
    return f"T#{tenant}#IX#{form}#I{slot}#{index_value(value)}#S{shard}"


def index_value(value: Any) -> str:
    """Canonical text of an indexed/unique value, so 5, 5.0 and Decimal('5.00') share one key."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value)).normalize()
        return format(number, "f")
    text = str(value)
    if len(text.encode("utf-8")) > MAX_KEY_VALUE_BYTES:
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    return text
