"""List queries over write-sharded GSIs, merged newest-first, with opaque signed cursors.

A form's list index is split into `shards` partitions (keys.shard_of); a page queries each shard
(a Query, never a Scan), merges by record id (time-ordered), and the cursor remembers where each
shard stopped. Extra equality filters on other indexed fields run as FilterExpressions.

Indexed fields past the GSI slots (the 5th and later) are IndexEntryItems in the base table, keyed
like a GSI partition with the record id as sort key: a filter on one of them alone Queries its
entries; as a further filter it is checked on each listed record's own `xix` (the entries it holds),
after the page's BatchGetItem, reading on until the page is full (bounded like a filtered Query).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from .. import cursors
from ..errors import BadRequest
from . import keys
from .models import IndexEntryItem, RecordItem
from .records import StoredRecord, from_item

MAX_PAGES_PER_SHARD = 5  # bounds the work of one request when filters discard most items


def list_records(tenant: str, form: str, shards: int, *, primary: tuple[int, Any] | None,
                 extra: list[tuple[int, Any]], limit: int, cursor: str | None) -> tuple[list[StoredRecord], str | None]:
    primary, extra = _arranged(primary, extra)
    later = [(slot, value) for slot, value in extra if slot > keys.GSI_SLOTS]
    if not later:
        ids, next_cursor = list_ids(tenant, form, shards, primary=primary, extra=extra, limit=limit, cursor=cursor)
        return get_records(tenant, ids), next_cursor
    kept: list[StoredRecord] = []
    for _ in range(MAX_PAGES_PER_SHARD):
        ids, cursor = list_ids(tenant, form, shards, primary=primary, extra=extra, limit=limit - len(kept), cursor=cursor)
        kept += [r for r in get_records(tenant, ids)
                 if all(keys.entry_list_pk(tenant, form, slot, value, keys.shard_of(r.id, shards)) in r.index_entries
                        for slot, value in later)]
        if cursor is None or len(kept) >= limit:
            break
    return kept, cursor


def _arranged(primary: tuple[int, Any] | None, extra: list[tuple[int, Any]]) -> tuple[tuple[int, Any] | None, list[tuple[int, Any]]]:
    """The filters in query order: a GSI slot leads when there is one (the others can then run as
    FilterExpressions on its projected keys), else the first entry slot."""
    filters = sorted([primary, *extra] if primary else extra, key=lambda f: f[0])
    return (filters[0], filters[1:]) if filters else (None, [])


def list_ids(tenant: str, form: str, shards: int, *, primary: tuple[int, Any] | None,
             extra: list[tuple[int, Any]], limit: int, cursor: str | None) -> tuple[list[str], str | None]:
    """One page of record ids, newest first, from the index alone (the caller fetches the records).
    Filters on entry slots other than the leading one are not applied here (list_records checks them)."""
    primary, extra = _arranged(primary, extra)
    query_id = _query_id(tenant, form, primary, extra)
    positions = decode_positions(cursor, query_id, {str(s) for s in range(shards)}) if cursor else {str(s): "" for s in range(shards)}
    entries = primary is not None and primary[0] > keys.GSI_SLOTS
    index = None if entries else RecordItem.list_index(primary[0] if primary else None)
    fetched: dict[str, tuple[list[RecordItem], str | None]] = {}
    for shard_text, position in positions.items():
        if position is None:
            continue  # this shard is exhausted
        shard = int(shard_text)
        if entries:
            fetched[shard_text] = _fetch_entries(keys.entry_list_pk(tenant, form, primary[0], primary[1], shard), position, limit)
            continue
        hash_key = (keys.field_list_pk(tenant, form, primary[0], primary[1], shard) if primary
                    else keys.form_list_pk(tenant, form, shard))
        fetched[shard_text] = _fetch_shard(index, hash_key, position, limit, _filter(tenant, form, extra, shard))
    merged = sorted(((_id_of(item), shard, item) for shard, (items, _) in fetched.items() for item in items),
                    key=lambda t: t[0], reverse=True)[:limit]
    taken: dict[str, list[str]] = {}
    for lsk, shard, _item in merged:
        taken.setdefault(shard, []).append(lsk)
    next_positions: dict[str, str | None] = dict(positions)
    for shard, (items, last_key) in fetched.items():
        took = taken.get(shard, [])
        if len(took) == len(items):
            next_positions[shard] = last_key  # None when DynamoDB had no more
        elif took:
            next_positions[shard] = took[-1]
    more = any(p is not None for p in next_positions.values())
    return [lsk for lsk, _, _ in merged], (encode_positions(next_positions, query_id) if more else None)


def get_records(tenant: str, ids: list[str]) -> list[StoredRecord]:
    """The index holds keys only: fetch the page's records in one BatchGetItem (≤ 100 keys)."""
    if not ids:
        return []
    found = {item.pk.rsplit("#", 1)[1]: item for item in RecordItem.batch_get([(keys.record_pk(tenant, i), "R") for i in ids])}
    # a record deleted between the query and the get simply drops out of the page
    return [from_item(found[i]) for i in ids if i in found and not found[i].deleted]


def _fetch_shard(index, hash_key: str, position: str, limit: int, filter_condition) -> tuple[list[RecordItem], str | None]:
    items: list[RecordItem] = []
    start = _start_key(index, hash_key, position) if position else None
    for _ in range(MAX_PAGES_PER_SHARD):
        result = index.query(hash_key, scan_index_forward=False, limit=limit - len(items), page_size=limit,
                             filter_condition=filter_condition, last_evaluated_key=start)
        items.extend(result)
        start = result.last_evaluated_key
        if start is None or len(items) >= limit:
            break
    return items, (start["lsk"]["S"] if start else None)


def _id_of(item) -> str:
    return item.sk if isinstance(item, IndexEntryItem) else item.lsk


def _fetch_entries(hash_key: str, position: str, limit: int) -> tuple[list[IndexEntryItem], str | None]:
    """One shard's entries of an entry-slot value, newest first (keys only: nothing to filter)."""
    start = {"pk": {"S": hash_key}, "sk": {"S": position}} if position else None
    result = IndexEntryItem.query(hash_key, scan_index_forward=False, limit=limit, page_size=limit, last_evaluated_key=start)
    items = list(result)
    last = result.last_evaluated_key
    return items, (last["sk"]["S"] if last else None)


def _start_key(index, hash_key: str, lsk: str) -> dict:
    tenant_part = hash_key.split("#F#", 1)[0]
    hash_attr = index._hash_key_attribute().attr_name
    return {hash_attr: {"S": hash_key}, "lsk": {"S": lsk}, "pk": {"S": f"{tenant_part}#R#{lsk}"}, "sk": {"S": "R"}}


def _filter(tenant: str, form: str, extra: list[tuple[int, Any]], shard: int):
    condition = None
    for slot, value in extra:
        if slot > keys.GSI_SLOTS:
            continue  # an entry slot: checked on the records (list_records)
        attr = getattr(RecordItem, f"ix{slot}pk")
        term = attr == keys.field_list_pk(tenant, form, slot, value, shard)
        condition = term if condition is None else condition & term
    return condition


def _query_id(tenant: str, form: str, primary, extra) -> str:
    text = json.dumps([tenant, form, primary and [primary[0], keys.index_value(primary[1])],
                       sorted([s, keys.index_value(v)] for s, v in extra)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_positions(positions: dict[str, str | None], query_id: str) -> str:
    return cursors.seal("list", {"q": query_id, "p": positions})


def decode_positions(cursor: str, query_id: str, allowed: set[str] | None = None,
                     path: str = "query.cursor") -> dict[str, str | None]:
    """The positions of a cursor encode_positions made for this query (400 invalid_cursor otherwise);
    `allowed`: the partition names this query has (shards, assignees)."""
    body = cursors.open_("list", cursor, path)
    if body.get("q") != query_id:
        raise BadRequest("cursor belongs to a different query", code="invalid_cursor",
                         details=[{"path": path, "message": "use the cursor with the same form and filters"}])
    return cursors.positions(body, allowed, path)
