"""Global min-cost assignment of orders to engineers with capacities (pure Python, exact).

The problem is a min-cost flow: source → order (1 unit) → engineer → sink, where
- order i → engineer j costs `arcs[i][j]` (only eligible pairs: sparse candidate lists);
- engineer j → sink has one arc per free capacity slot, the k-th costing `slots[j][k]`
  (non-decreasing: convex, so the k-th order an engineer takes pays for the load it adds);
- order i → sink directly costs `unassigned[i]` (leaving it unassigned), so every order is routed
  and the optimum trades capacity between orders by priority and cost.

Solved by successive shortest paths, one order at a time (the Hungarian/Jonker–Volgenant scheme):
Dijkstra from the new order over the residual graph with reduced costs (node potentials keep them
non-negative), stopping as soon as the sink is reached; only the nodes it settled get new
potentials. Each step keeps the assignment optimal for the orders seen so far: a later order can
move an earlier one to another engineer, or bump it when capacity is short. Costs are scaled to
integers (1e-6) so potentials stay exact. An engineer's slots are not nodes: it offers its next
free slot.

Pruned, then proven: each order first keeps only its `CANDIDATES` cheapest arcs (pair cost plus the
engineer's first free slot), and each engineer its `PER_ENGINEER` × free slots cheapest orders. The
potentials are then checked against every arc of the full problem: all reduced costs >= 0 make
them a feasible dual, so the flow is its exact optimum. Each order at a negative arc gains the
pruned arcs it lacked and is routed again, warm: it leaves the flow, its engineer's freed slot may
keep a negative reduced cost (the next shortest paths look past the sink for it, or the engineer's
potential rises to the slot's cost and the orders this makes negative leave too). After `ROUNDS`
unproven rounds it solves on every arc from scratch, as it does at once when the candidate lists
are short (at most 2 × `CANDIDATES` arcs per order on average: pruning would not pay).

Dense problems with as many free slots as orders (more than `AUCTION_MIN_ARCS` eligible arcs per
order on average, e.g. one region where everyone is eligible and capacity matches the backlog) go
first to an epsilon-scaling auction (`_auction`), which is not exact but proves its own gap: its prices give a lower bound on the optimum (LP duality), and it answers
only once the plan is within `AUCTION_GAP` (0.2 %) of that bound: `Assignment.lower_bound` and
`Assignment.gap` say how close (None / 0 = the exact solver answered). When it cannot prove that
(bids or phases run out, or orders left unassigned leave slots priced that nobody takes) the exact
solver above answers instead. The bound is tightened before it is checked (each slot's price lowered
as far as no order's cheapest option moves), so it usually proves the plan a phase earlier; the
auction keeps each order's arcs as one contiguous row (`array`) and its candidates as two arrays, so
the passes over them run in C.
"""
from __future__ import annotations

import heapq
from array import array
from collections import deque
from dataclasses import dataclass
from itertools import compress
from operator import add, itemgetter, sub

SCALE = 1_000_000
CANDIDATES = 16   # cheapest arcs kept per order in the pruned graph
PER_ENGINEER = 3  # and cheapest orders kept per free slot of each engineer
ROUNDS = 20       # repair rounds before falling back to every arc
UNASSIGNED = -1
AUCTION_MIN_ARCS = 64   # dense problems (more eligible arcs per order on average) go to the auction
AUCTION_CANDIDATES = 48  # about this many cheapest engineers per order (or a fifth of them) in the auction's graph
AUCTION_GAP = 0.002      # the auction stops once its dual bound proves it within this of the optimum
AUCTION_PHASES = 14     # epsilon phases before falling back to the exact solver
AUCTION_BIDS = 30       # and bids per order in one phase


@dataclass
class Assignment:
    engineer_of: list[int]  # per order: engineer index, or UNASSIGNED
    total_cost: float       # assignment + slot + unassigned costs (same units as the inputs)
    lower_bound: float | None = None  # a proven lower bound on the optimum (None = total_cost: exact)

    @property
    def gap(self) -> float:
        """Proven relative distance to the optimum: (total - lower bound) / lower bound (0 = exact)."""
        bound = self.total_cost if self.lower_bound is None else self.lower_bound
        over = self.total_cost - bound
        if over <= 1e-6:  # the costs' resolution (they are compared to 1e-6 throughout)
            return 0.0
        return over / bound if bound > 0 else float("inf")

    def loads(self, n_engineers: int) -> list[int]:
        out = [0] * n_engineers
        for j in self.engineer_of:
            if j != UNASSIGNED:
                out[j] += 1
        return out


def solve(arcs: list[dict[int, float]], slots: list[list[float]], unassigned: list[float]) -> Assignment:
    """arcs[i] = {engineer: cost}; slots[j] = marginal costs of engineer j's free capacity (len =
    free capacity, non-decreasing); unassigned[i] = cost of leaving order i unassigned. All >= 0."""
    n, m = len(arcs), len(slots)
    if len(unassigned) != n:
        raise ValueError("one unassigned cost per order")
    for j, s in enumerate(slots):
        if any(b < a for a, b in zip(s, s[1:])):
            raise ValueError(f"slot costs of engineer {j} must be non-decreasing")
    if n and sum(map(len, slots)) == n and sum(map(len, arcs)) > AUCTION_MIN_ARCS * n:
        found = _auction(arcs, slots, unassigned)  # dense, and as many slots as orders
        if found is not None:
            return found
    flow = _Flow(n, [[_i(c) for c in s] for s in slots], [_i(c) for c in unassigned])
    ranked: list[list[tuple[int, int, int]]] = []  # per order: (cost + first slot, engineer node, cost), cheapest first
    for a in arcs:
        row = []
        for j, c in a.items():
            if 0 <= j < m:
                ic = _i(c)
                if flow.slots[j]:  # an engineer without free capacity can take nothing
                    row.append((ic + flow.slots[j][0], n + j, ic))
        row.sort()
        ranked.append(row)
    if sum(map(len, ranked)) <= 2 * CANDIDATES * n:  # short candidate lists: pruning would not pay
        return _result(_dense(flow, ranked), arcs, slots, unassigned)
    by_engineer: list[list[tuple[int, int]]] = [[] for _ in range(m)]
    for i, row in enumerate(ranked):
        flow.add(i, [(v, c) for _k, v, c in row[:CANDIDATES]])
        for _k, v, c in row[CANDIDATES:]:
            by_engineer[v - n].append((c, i))
    for j, column in enumerate(by_engineer):  # every engineer's cheapest orders too: no free slot out of reach
        for c, i in heapq.nsmallest(PER_ENGINEER * len(flow.slots[j]), column):
            flow.add(i, [(n + j, c)])
    pending = list(range(n))
    for _round in range(ROUNDS):
        flow.route(sorted(set(pending), key=lambda i: (-flow.unassigned[i], i)))
        pending = flow.tighten()
        pending += _repair(flow, ranked)
        if not pending and not flow.loose:
            return _result(flow, arcs, slots, unassigned)
    return _result(_dense(flow, ranked), arcs, slots, unassigned)  # not proven in ROUNDS


_INF = float("inf")
_THETA = 5.0  # epsilon shrinks by this factor between phases until the bound is worth computing
_EPS0 = 1.0   # the first epsilon: the mean cheapest cost of an order / this
_SAMPLE = 64  # values sorted to find a row's cut (every k-th of them)
_SNAPSHOTS = 5  # price snapshots per n bids, for the drift that raises every floor
_SHARE = 5      # each order bids among max(AUCTION_CANDIDATES, engineers // _SHARE) candidates


def _auction(arcs: list[dict[int, float]], slots: list[list[float]], unassigned: list[float]) -> Assignment | None:
    """Epsilon-scaling forward auction (Bertsekas) for the dense case. Objects are the engineers' slots
    (slot k of engineer j costs order i `arcs[i][j] + slots[j][k] + price[j][k]`) plus a private
    "unassigned" object per order at `unassigned[i]` whose price never moves. An engineer's slots are
    alike but for their slot cost, so an order only looks at the cheapest one (`q[j]`, a heap per
    engineer) and the next (for its second best). Gauss-Seidel: one bid at a time, prices at once.

    Sparse, grown when needed: each order bids among a few candidate engineers (two arrays: engineers
    and costs, contiguous) and keeps `floor[i]`, a lower bound on what any other eligible engineer costs
    it: its `cut` (every other arc was dearer when the candidates were chosen; prices only rise) plus
    the drift, the least any engineer's price has risen since (snapshots of the prices every n / 5
    bids: in a tight market every price climbs, so the floors climb with them). While its best
    candidate is no dearer than that, the candidates are enough (the floor also caps its second best:
    a smaller bid, still a valid one); otherwise it looks at all its arcs at today's prices (a full
    row: one pass in C) and takes about `size` cheapest as candidates. So every bid is a bid on the
    full problem, and epsilon-complementary slackness holds on every eligible arc.

    The bound (`_bound`): any prices >= 0 give, by LP duality, a lower bound on the optimum: the sum
    over orders of min(unassigned, min_j arcs[i][j] + q[j]) minus the sum of all prices; each slot's
    price is first lowered as far as no order's minimum moves (its engineer's least reduced cost over
    all orders, and the slot's own distance above q[j]), which tightens the bound several times over.

    Only problems with as many slots as orders come here (every slot is wanted). Phases (epsilon / 5,
    prices kept, bids from scratch) go on until the bound proves the plan within `AUCTION_GAP`; once
    the bound is computed, the next epsilon is aimed at half the gap still to close. A slot left free
    at a phase's end with a price from an earlier one (short capacity: an order would rather stay
    unassigned) would never come down and stays in the bound: None at once, as when the bound is not
    reached within `AUCTION_PHASES` phases or `AUCTION_BIDS` bids per order and phase; the caller
    solves exactly. (Loose problems, with more slots than orders, would leave such slots all the time,
    and short ones need a price war up to the unassigned costs, epsilon by epsilon: the exact solver
    takes both.) Deterministic: fixed bidding order, ties to the first candidate.
    Capacities are the slots; only eligible arcs are ever candidates."""
    n, m = len(arcs), len(slots)
    if any(c < 0 for c in unassigned) or any(s and s[0] < 0 for s in slots):
        raise ValueError("costs must be >= 0")
    keys: list[list[int] | None] = []  # per order: None (a full row: costs[i][j] for every j, INF = not eligible) or its engineers
    costs: list[array] = []
    everyone = list(range(m))
    blank = array("d", [_INF]) * m
    for a in arcs:
        if a and min(a.values()) < 0:
            raise ValueError("costs must be >= 0")
        ks = list(a)
        if ks == everyone:
            keys.append(None)
            costs.append(array("d", a.values()))
            continue
        if ks and (min(ks) < 0 or max(ks) >= m):
            a = {j: c for j, c in a.items() if 0 <= j < m}
        if 2 * len(a) >= m:
            row = array("d", blank)
            for j, c in a.items():
                row[j] = c
            keys.append(None)
            costs.append(row)
        else:
            keys.append(list(a))
            costs.append(array("d", a.values()))
    heaps = [[(c, k) for k, c in enumerate(s)] for s in slots]  # (slot cost + price, slot): sorted = a heap
    q = [h[0][0] if h else _INF for h in heaps]
    size = max(AUCTION_CANDIDATES, m // _SHARE)  # the engineers each order bids among
    cand_j: list[array] = [array("l")] * n
    cand_c: list[array] = [array("d")] * n
    cut = [0.0] * n
    for i in range(n):
        cand_j[i], cand_c[i], cut[i] = _grow(keys[i], costs[i], q, size)
    floor = list(cut)
    live = [j for j in range(m) if slots[j]]  # engineers with a price (the others are never candidates)
    view = itemgetter(*live) if len(live) > 1 else (lambda prices: tuple(prices[j] for j in live))
    snaps: list[tuple] = []  # prices every `every` bids
    drift: list[float] = []  # per snapshot: the least any price has risen since (as last computed: it only grows)
    mark = [0] * n  # per order: the first snapshot taken after its candidates were chosen
    every = max(50, n // _SNAPSHOTS)
    order = sorted(range(n), key=lambda i: (-unassigned[i], i))
    best0 = 0.0
    for i in range(n):
        b = unassigned[i]
        for j, c in zip(cand_j[i], cand_c[i]):
            if c + q[j] < b:
                b = c + q[j]
        best0 += b
    # The first epsilon: a typical order's cost (or a ten-thousandth of the dearest way to leave one).
    eps = max(best0 / n / _EPS0, max(unassigned) / 10_000, 1e-9)
    budget = AUCTION_BIDS * n + 10_000  # bids per phase before giving up (the exact solver answers)
    replace = heapq.heapreplace
    for _phase in range(AUCTION_PHASES):
        holder = [[-1] * len(s) for s in slots]
        where = [UNASSIGNED] * n
        queue = deque(order)
        pop, push = queue.popleft, queue.append
        bids, snap_at = 0, every
        while queue:
            i = pop()
            bids += 1
            if bids >= snap_at:
                if bids > budget:
                    return None
                snap_at += every
                now = view(q)
                for e in range(max(0, len(snaps) - 30), len(snaps)):
                    drift[e] = min(map(sub, now, snaps[e]))
                snaps.append(now)
                drift.append(0.0)
            rest = floor[i]
            best = second = _INF
            bj, bc = -1, 0.0
            for j, c in zip(cand_j[i], cand_c[i]):
                v = c + q[j]
                if v < second:
                    if v < best:
                        second, best, bj, bc = best, v, j, c
                    else:
                        second = v
            if best > rest and mark[i] < len(drift):  # the prices' drift may have raised the floor
                rest = floor[i] = cut[i] + drift[mark[i]]
            if best > rest:  # another engineer may be cheaper now: look at all of them
                js, cs, rest = cand_j[i], cand_c[i], cut[i] = _grow(keys[i], costs[i], q, size)
                floor[i] = rest
                mark[i] = len(snaps)
                best = second = _INF
                for j, c in zip(js, cs):
                    v = c + q[j]
                    if v < second:
                        if v < best:
                            second, best, bj, bc = best, v, j, c
                        else:
                            second = v
            u = unassigned[i]
            if u <= best:
                where[i] = UNASSIGNED
                continue
            h = heaps[bj]
            if len(h) > 2:
                t2 = h[1][0] if h[1][0] < h[2][0] else h[2][0]
            else:
                t2 = h[1][0] if len(h) > 1 else _INF
            w2 = bc + t2
            if second < w2:
                w2 = second
            if rest < w2:
                w2 = rest
            if u < w2:
                w2 = u
            k = h[0][1]
            replace(h, (w2 + eps - bc, k))
            q[bj] = h[0][0]
            prev = holder[bj][k]
            holder[bj][k] = i
            where[i] = bj
            if prev >= 0:
                push(prev)
        total = _total(where, arcs, slots, unassigned)
        idle = sum(t - s[k] for h, s, held in zip(heaps, slots, holder) for t, k in h if held[k] < 0)
        if idle > AUCTION_GAP * total / 2:  # free slots priced by earlier phases: prices never come
            return None                     # down, so the bound could not close; the exact solver answers
        if n * eps > 20 * AUCTION_GAP * total:  # the bound (about total - n eps / 2) cannot prove it yet
            eps /= _THETA
            continue
        now = view(q)
        for e, snap in enumerate(snaps):
            drift[e] = min(map(sub, now, snap))
        for i in range(n):
            if mark[i] < len(drift):
                floor[i] = cut[i] + drift[mark[i]]
        lb = _bound(cand_j, cand_c, floor, unassigned, q, heaps, slots, eps)
        if total - lb <= AUCTION_GAP * max(lb, 0.0) + 1e-6:
            return Assignment(where, total, max(0.0, min(lb, total)))  # costs >= 0: so is the optimum
        # The gap shrinks about as fast as epsilon: aim at half the target.
        eps *= min(0.5, max(0.1, AUCTION_GAP / 2 * max(lb, 1e-12) / (total - lb)))
    return None


def _grow(keys: list[int] | None, costs: array, q: list[float], size: int) -> tuple[array, array, float]:
    """An order's candidates at today's prices: (engineers, their costs, cut), about `size` of its
    cheapest arcs, all those up to the cut (the value of about the size-th cheapest, from every k-th
    value sorted), every other arc dearer than the cut; all of them (cut INF) when it has few.
    keys None: `costs` is a full row (INF where not eligible)."""
    if keys is None:
        vals = list(map(add, costs, q))
    else:
        vals = list(map(add, costs, map(q.__getitem__, keys)))
    cut = _INF
    if len(vals) > size:
        step = len(vals) // _SAMPLE or 1
        sample = sorted(vals[::step])
        if size // step < len(sample):
            cut = sample[size // step]
    picked = compress(range(len(vals)), map(cut.__ge__ if cut < _INF else _INF.__gt__, vals))
    if keys is None:
        js = array("l", picked)
        return js, array("d", map(costs.__getitem__, js)), cut
    picked = list(picked)
    return array("l", map(keys.__getitem__, picked)), array("d", map(costs.__getitem__, picked)), cut


def _bound(cand_j: list[array], cand_c: list[array], floor: list[float], unassigned: list[float], q: list[float],
           heaps: list[list[tuple[float, int]]], slots: list[list[float]], eps: float) -> float:
    """A lower bound on the optimum from the prices (LP duality; any prices >= 0 give one): the sum
    over orders of y[i] = min(unassigned, floor, its candidates at q) minus the sum of the slots' prices,
    each first lowered as far as keeps every y[i] feasible: by its distance above its engineer's q[j]
    plus d[j], the least reduced cost c[i][j] + q[j] - y[i] over all orders (at most eps: a candidate
    of an order counts when within eps of its y; any other arc is at least floor - y above)."""
    n, m = len(cand_j), len(slots)
    ys = [0.0] * n
    d = [eps] * m
    total = 0.0
    for i in range(n):
        y = unassigned[i]
        if floor[i] < y:
            y = floor[i]
        js, cs = cand_j[i], cand_c[i]
        for j, c in zip(js, cs):
            v = c + q[j]
            if v < y:
                y = v
        top = y + eps
        for j, c in zip(js, cs):
            v = c + q[j]
            if v < top:
                v -= y
                if v < d[j]:
                    d[j] = v
        ys[i] = y
        total += y
    # Engineers outside an order's candidates cost it at least its floor: d[j] <= floor - y for them.
    open_ = set(range(m))
    for g, i in sorted((floor[i] - ys[i], i) for i in range(n) if floor[i] - ys[i] < eps):
        if not open_:
            break
        inside = set(cand_j[i])
        for j in open_ - inside:
            if g < d[j]:
                d[j] = g
        open_ &= inside
    for j in range(m):
        qj, dj, s = q[j], d[j], slots[j]
        for t, k in heaps[j]:
            price, lower = t - s[k], t - qj + dj
            total -= price - lower if lower < price else 0.0
    return total


def _dense(pruned: _Flow, ranked: list[list[tuple[int, int, int]]]) -> _Flow:
    """Every arc, from scratch: the plain exact algorithm."""
    flow = _Flow(pruned.n, pruned.slots, pruned.unassigned)
    for i, row in enumerate(ranked):
        flow.add(i, [(v, c) for _k, v, c in row])
    flow.route(sorted(range(flow.n), key=lambda i: (-flow.unassigned[i], i)))
    return flow


def _result(flow: _Flow, arcs: list[dict[int, float]], slots: list[list[float]], unassigned: list[float]) -> Assignment:
    engineer_of = [UNASSIGNED if w is None else w for w in flow.where]
    return Assignment(engineer_of, _total(engineer_of, arcs, slots, unassigned))


def _repair(flow: _Flow, ranked: list[list[tuple[int, int, int]]]) -> list[int]:
    """Check every residual arc of the full problem against the potentials, and take out of the
    flow each order at a negative one (giving it the pruned arcs it lacked): the orders to route
    again, none when the potentials prove the flow optimal. Arcs are ranked by cost + first slot, so
    once that key reaches `top - pot[i]` no later arc of the order is negative."""
    n, pot, where, slots = flow.n, flow.pot, flow.where, flow.slots
    sink_pot = pot[-1]
    top = max((s[0] + pot[n + j] for j, s in enumerate(slots) if s), default=0)
    out: list[int] = []
    for i, row in enumerate(ranked):
        p, known, at = pot[i], flow.known[i], where[i]
        if at is None:  # taken out already: routed again anyway
            continue
        if at == UNASSIGNED:
            bad = sink_pot < flow.unassigned[i] + p
        else:
            bad = flow.unassigned[i] + p < sink_pot or pot[n + at] < flow.acost[i] + p
        limit, new = top - p, []
        for key, v, c in row:
            if key >= limit:
                break
            if c + p < pot[v] and v not in known:
                new.append((v, c))
        if new:
            flow.add(i, new)
        if new or bad:
            out.append(i)
    for j, s in enumerate(slots):  # a taken slot priced below its cost: its engineer gives back orders
        members = flow.members[j]
        while members and sink_pot < s[len(members) - 1] + pot[n + j]:
            out.append(members[-1])
            where[members.pop()] = None
            flow.loose.add(j)
        if len(members) < len(s) and s[len(members)] + pot[n + j] < sink_pot:  # a free slot priced below zero
            flow.loose.add(j)
    flow.remove(out)
    return out


class _Flow:
    """The residual graph's state: where each order is routed, the members of each engineer and
    the node potentials (orders 0..n-1, engineers n..n+m-1, the sink n+m). Every residual arc into
    an order or an engineer has a non-negative reduced cost; arcs into and out of the sink are
    checked by `_repair` (a `loose` engineer's free slot may be negative while orders are re-routed)."""

    def __init__(self, n: int, slots: list[list[int]], unassigned: list[int]) -> None:
        m = len(slots)
        self.n, self.slots, self.unassigned = n, slots, unassigned
        self.arcs: list[list[tuple[int, int]]] = [[] for _ in range(n)]  # per order: (engineer node, cost)
        self.known: list[set[int]] = [set() for _ in range(n)]
        self.into: list[list[tuple[int, int]]] = [[] for _ in range(m)]  # per engineer: (order, cost)
        self.pot = [0] * (n + m + 1)
        self.where: list[int | None] = [None] * n  # None = not routed; UNASSIGNED; or engineer index
        self.acost = [0] * n  # cost of the arc order → its engineer
        self.members: list[list[int]] = [[] for _ in range(m)]
        self.loose: set[int] = set()  # engineers whose free slot may have a negative reduced cost

    def add(self, i: int, arcs: list[tuple[int, int]]) -> None:
        for v, c in arcs:
            if v not in self.known[i]:
                self.known[i].add(v)
                self.arcs[i].append((v, c))
                self.into[v - self.n].append((i, c))

    def remove(self, orders: list[int]) -> None:
        """Take the orders out of the flow. A freed slot may be left with a negative reduced cost
        (its engineer's potential priced it as taken): `route` looks past the sink for it."""
        for i in orders:
            j = self.where[i]
            self.where[i] = None
            if j is not None and j != UNASSIGNED:
                self.members[j].remove(i)
                self.loose.add(j)

    def tighten(self) -> list[int]:
        """Raise the potential of each engineer whose free slot still has a negative reduced cost to
        minus that slot's cost, and take out the orders whose arc to it this makes negative (and so on).
        Returns the orders taken out, to route again; none = every residual arc is non-negative."""
        n, pot, where, members = self.n, self.pot, self.where, self.members
        out, queue = [], sorted(self.loose)
        self.loose = set()
        while queue:
            j = queue.pop()
            used = len(members[j])
            floor = pot[-1] - self.slots[j][used] if used < len(self.slots[j]) else pot[n + j]
            if pot[n + j] >= floor:
                continue
            pot[n + j] = floor
            for k, c in self.into[j]:
                at = where[k]
                if at is not None and at != j and c + pot[k] < floor:
                    where[k] = None
                    out.append(k)
                    if at != UNASSIGNED:
                        members[at].remove(k)
                        queue.append(at)
        return out

    def route(self, sources: list[int]) -> None:
        """Route each order in turn along a shortest path to the sink (successive shortest paths)."""
        n, m = self.n, len(self.slots)
        sink, inf = n + m, float("inf")
        pot, where, acost, members = self.pot, self.where, self.acost, self.members
        iarcs, islots, ium = self.arcs, self.slots, self.unassigned
        dist = [inf] * (n + m + 1)
        pred = [0] * (n + m + 1)
        pcost = [0] * (n + m + 1)  # cost of the arc from pred
        done = [False] * (n + m + 1)
        push, pop = heapq.heappush, heapq.heappop
        for source in sources:
            margin = 0  # how far below an engineer's distance its free slot can take the sink
            for j in list(self.loose):
                used = len(members[j])
                r = islots[j][used] + pot[n + j] - pot[sink] if used < len(islots[j]) else 0
                if r < 0:
                    margin = max(margin, -r)
                else:
                    self.loose.discard(j)
            # The new order's potential: high enough that its own arcs have non-negative reduced cost.
            p_src = pot[sink] - ium[source]
            for v, c in iarcs[source]:
                if pot[v] - c > p_src:
                    p_src = pot[v] - c
            pot[source] = p_src
            dist[source], pred[source] = 0, -1
            touched, settled, heap = [source], [], [(0, source)]
            while heap:  # Dijkstra on reduced costs until nothing left can reach the sink cheaper
                d, u = pop(heap)
                if d >= dist[sink] + margin:
                    break
                if u < 0 or done[u]:  # the sink is pushed as -1: first among equal distances
                    continue
                done[u] = True
                settled.append(u)
                pu = pot[u] + d
                if u < n:  # an order: to another candidate engineer, or straight to the sink (unassigned)
                    at = where[u]
                    at_node = n + at if at is not None else -1
                    for v, c in iarcs[u]:
                        nd = pu + c - pot[v]
                        if nd < dist[v] and v != at_node:
                            if dist[v] == inf:
                                touched.append(v)
                            dist[v], pred[v], pcost[v] = nd, u, c
                            push(heap, (nd, v))
                    nd = pu + ium[u] - pot[sink]
                    if nd < dist[sink]:
                        if dist[sink] == inf:
                            touched.append(sink)
                        dist[sink], pred[sink] = nd, u
                        push(heap, (nd, -1))
                else:  # an engineer: hand one of its orders to someone else, or take its next free slot
                    j = u - n
                    for i in members[j]:
                        nd = pu - acost[i] - pot[i]
                        if nd < dist[i] and not done[i]:
                            if dist[i] == inf:
                                touched.append(i)
                            dist[i], pred[i] = nd, u
                            push(heap, (nd, i))
                    used = len(members[j])
                    if used < len(islots[j]):
                        nd = pu + islots[j][used] - pot[sink]
                        if nd < dist[sink]:
                            if dist[sink] == inf:
                                touched.append(sink)
                            dist[sink], pred[sink] = nd, u
                            push(heap, (nd, -1))
            reached, far, v = dist[sink], dist[sink], pred[sink]
            while v >= 0:  # the farthest node on the path: past the sink's distance if a free slot was negative
                far = max(far, dist[v])
                v = pred[v] if v != source else -1
            for v in settled:  # nodes nearer than that move by d - far <= 0: reduced costs stay >= 0
                if dist[v] < far:
                    pot[v] += dist[v] - far
            pot[sink] += reached - far
            self._augment(source, sink, pred, pcost)
            for v in touched:
                dist[v], done[v] = inf, False

    def _augment(self, source: int, sink: int, pred: list[int], pcost: list[int]) -> None:
        n, where, members = self.n, self.where, self.members
        path = [sink]
        while path[-1] != source:
            path.append(pred[path[-1]])
        path.reverse()  # source, engineer, order, engineer, ..., sink
        for u, v in zip(path, path[1:]):
            if u < n:  # order u moves to engineer v (or to the sink: unassigned)
                old = where[u]
                if old is not None and old != UNASSIGNED:
                    members[old].remove(u)
                if v == sink:
                    where[u] = UNASSIGNED
                else:
                    where[u], self.acost[u] = v - n, pcost[v]
                    members[v - n].append(u)


def _i(cost: float) -> int:
    if cost < 0:
        raise ValueError("costs must be >= 0")
    return int(round(cost * SCALE))


def _total(engineer_of: list[int], arcs: list[dict[int, float]], slots: list[list[float]], unassigned: list[float]) -> float:
    total, used = 0.0, [0] * len(slots)
    for i, j in enumerate(engineer_of):
        if j == UNASSIGNED:
            total += unassigned[i]
        else:
            total += arcs[i][j] + slots[j][used[j]]
            used[j] += 1
    return total


__all__ = ["solve", "Assignment", "UNASSIGNED"]
