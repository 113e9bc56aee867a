"""Incremental maintenance, exactly once under retries, redelivery and reordering (pure).

Per (record, report version) a stored *contribution state* holds what the record currently adds to
the groups, the record version it came from and a step counter. A change with record version `v`:

1. if the stored version ≥ v, do nothing (a replayed or older stream record);
2. otherwise delta = contribution(new) − stored contribution, split into transactions of at most
   `max_groups` group updates; each transaction ADDs its deltas to the group items and puts the
   contribution state advanced by exactly those deltas, conditioned on the stored (version, step) it
   started from. A lost condition means someone else moved the state: re-read and start over.

So every delta is applied once, the aggregates always equal the sum of the stored contributions, and
the last write of the newest record version wins whatever order the stream delivers in.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .contribution import Contribution, delta, merge_into

MAX_GROUPS_PER_TRANSACTION = 99  # TransactWriteItems: 100 items, one is the contribution state
GONE = 2 ** 53  # version of a record removed from the table: nothing older may bring it back


@dataclass(frozen=True)
class Stored:
    version: int
    step: int
    contribution: Contribution


@dataclass
class Step:
    """One transaction: ADD `deltas` to group items; put `state`, conditioned on `expected`."""

    expected: Stored | None  # None = the state item must not exist
    state: Stored
    deltas: Contribution = field(default_factory=dict)


def plan(stored: Stored | None, version: int, new: Contribution,
         max_groups: int = MAX_GROUPS_PER_TRANSACTION) -> list[Step]:
    """The transactions that bring the aggregates from `stored` to `new` (empty: nothing to do)."""
    if stored is not None and stored.version >= version:
        return []
    current = stored
    changes = delta(stored.contribution if stored else {}, new)
    keys = sorted(changes)
    chunks = [keys[i:i + max_groups] for i in range(0, len(keys), max_groups)] or [[]]
    steps = []
    for n, chunk in enumerate(chunks):
        part = {k: changes[k] for k in chunk}
        last = n == len(chunks) - 1
        if last:
            state = Stored(version, 0, new)
        else:  # partial progress: still the old version, one step further
            base = {k: dict(v) for k, v in (current.contribution if current else {}).items()}
            merged = merge_into(base, part)
            merged = {k: {c: a for c, a in parts.items() if a != 0} for k, parts in merged.items()}
            state = Stored(current.version if current else 0, (current.step if current else 0) + 1,
                           {k: p for k, p in merged.items() if p})
        steps.append(Step(current, state, part))
        current = state
    return steps
