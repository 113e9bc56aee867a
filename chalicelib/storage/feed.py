"""A user's sync change feed: what a phone must pull, in an order no clock decides.

Items live under `T#<tenant>#FEED#<user>` (keys.feed_pk). `HEAD` holds `n`, the last sequence number
taken; each entry `E#<seq:012d>` says "record `r` changed for this user, to version `v`" (a task of theirs
added or removed, or a record they hold a task on written). An entry is written in the SAME TransactWriteItems
as the change (storage.records._Transaction.commit), so a change that commits always leaves its
entry and one that fails leaves none.

Numbers are taken with one atomic `UpdateItem ADD n k` before the transaction (and outside it), so
writers to different records of one user never contend on the head (the auto-number pattern). A
number whose change did not commit is filled with a void entry (`k = 'x'`, conditional on the number
being free, so it never overwrites an entry; the entry's own put is conditioned the same way, so a
transaction whose outcome was unknown and that lands after its void is cancelled, never half-seen).
A reader therefore sees every number either as an entry, a void, or not yet (a change in flight):
the cursor keeps such holes and looks them up again (BatchGetItem) until they appear or are older
than SETTLE_SECONDS (a process that died between taking a number and writing its void).
Entries expire after FEED_TTL_SECONDS; the head never does."""
from __future__ import annotations

import time
from typing import Iterable

from . import keys
from .models import FeedItem, save_if

FEED_TTL_SECONDS = 30 * 86400  # a cursor older than this gets a full resync
SETTLE_SECONDS = 15 * 60  # a taken number not yet visible is looked for this long (the longest a Lambda runs)
HEAD = "HEAD"
VOID = "x"
_ENTRY_LOW, _ENTRY_HIGH = "E#000000000000", "E#999999999999"


def entry_sk(seq: int) -> str:
    return f"E#{seq:012d}"


def now_ms() -> int:
    return int(time.time() * 1000)


def merge_kind(old: str | None, new: str) -> str:
    """One entry per (change, record): a task added or removed says more than 'the record changed'."""
    if old is None or old == "~":
        return new
    return old if new == "~" else new


def take(tenant: str, user: str, count: int) -> list[int]:
    """`count` consecutive numbers of the user's feed (one UpdateItem ADD; creates the head)."""
    head = FeedItem(keys.feed_pk(tenant, user), HEAD)
    head.update(actions=[FeedItem.n.add(count), FeedItem.at.set(now_ms())])
    last = int(head.n)
    return list(range(last - count + 1, last + 1))


def entry(tenant: str, user: str, seq: int, record_id: str, kind: str, version: int | None = None,
          at: int | None = None) -> FeedItem:
    at = now_ms() if at is None else at
    return FeedItem(keys.feed_pk(tenant, user), entry_sk(seq), r=record_id, v=version, k=kind, at=at,
                    expires_at=at // 1000 + FEED_TTL_SECONDS)


def void(tenant: str, user: str, seqs: Iterable[int]) -> None:
    """Fill numbers whose change was not written; a number already holding an entry is left alone."""
    for seq in seqs:
        try:
            save_if(entry(tenant, user, seq, "", VOID), FeedItem.pk.does_not_exist())
        except Exception:  # noqa: BLE001 - best effort: an unfilled number is a hole the readers wait out
            pass


def _plain(item: FeedItem) -> dict:
    return {"seq": int(item.sk[2:]), "record_id": item.r or "", "kind": item.k or VOID, "at": int(item.at or 0),
            "version": int(item.v) if item.v is not None else None}


def head(tenant: str, user: str) -> tuple[int, int]:
    """(last number taken, when it was taken in epoch ms); (0, 0) for a user with no feed yet."""
    try:
        item = FeedItem.get(keys.feed_pk(tenant, user), HEAD)
    except FeedItem.DoesNotExist:
        return 0, 0
    return int(item.n or 0), int(item.at or 0)


def after(tenant: str, user: str, seq: int, limit: int) -> tuple[list[dict], bool]:
    """Entries numbered above `seq`, oldest first, at most `limit`; (entries, complete)."""
    result = FeedItem.query(keys.feed_pk(tenant, user), FeedItem.sk.between(entry_sk(seq + 1), _ENTRY_HIGH),
                            limit=limit, page_size=min(limit, 1000))
    items = [_plain(i) for i in result]
    return items, result.last_evaluated_key is None or len(items) < limit


def recent(tenant: str, user: str, upto: int, since_ms: int, limit: int) -> tuple[list[dict], int]:
    """Entries numbered `upto` and below, newest first, down to the first one older than `since_ms`
    (or `limit` entries); (entries, number below which every entry is settled)."""
    out, floor = [], 0
    for item in FeedItem.query(keys.feed_pk(tenant, user), FeedItem.sk.between(_ENTRY_LOW, entry_sk(upto)),
                               scan_index_forward=False, limit=limit, page_size=min(limit, 200)):
        plain = _plain(item)
        if plain["at"] < since_ms:
            return out, plain["seq"]
        out.append(plain)
    if len(out) >= limit:
        floor = out[-1]["seq"] - 1
    return out, floor


def entries(tenant: str, user: str, seqs: list[int]) -> list[dict]:
    """The given numbers' entries that exist now (one BatchGetItem per 100)."""
    pk = keys.feed_pk(tenant, user)
    return [_plain(i) for i in FeedItem.batch_get([(pk, entry_sk(s)) for s in seqs])] if seqs else []
