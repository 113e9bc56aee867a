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
solver above answers instead.
"""
from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass
from itertools import compress
from operator import add

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
_THETA = 5.0  # epsilon shrinks by this factor between phases
_EPS0 = 1.0   # the first epsilon: the mean cheapest cost of an order / this


def _auction(arcs: list[dict[int, float]], slots: list[list[float]], unassigned: list[float]) -> Assignment | None:
    """Epsilon-scaling forward auction (Bertsekas) for the dense case. Objects are the engineers' slots
    (slot k of engineer j costs order i `arcs[i][j] + slots[j][k] + price[j][k]`) plus a private
    "unassigned" object per order at `unassigned[i]` whose price never moves. An engineer's slots are
    alike but for their slot cost, so an order only looks at the cheapest one (`q[j]`, a heap per
    engineer) and the next (for its second best).

    Sparse, grown when needed: each order bids among a few candidate engineers and keeps `floor[i]`,
    a lower bound on what any other eligible engineer costs it (prices only rise, so a value seen
    once stays a lower bound). While its best candidate is no dearer than that, the candidates are
    enough (the floor also caps its second best: a smaller bid, still a valid one); otherwise it
    scans all its arcs at today's prices and takes the cheapest in. So every bid is a bid on the full
    problem, and epsilon-complementary slackness holds on every eligible arc.

    The bound: any prices >= 0 give, by LP duality, a lower bound on the optimum: the sum over
    orders of min(unassigned, min_j arcs[i][j] + q[j]) minus the sum of all prices; with
    epsilon-complementary slackness the plan is within n x epsilon of it, less in practice.

    Only problems with as many slots as orders come here (every slot is wanted). Phases (epsilon / 5, prices kept, bids from scratch) go on
    until the bound proves the plan within `AUCTION_GAP`. A slot left free at a phase's end with a
    price from an earlier one (short capacity: an order would rather stay unassigned) would never
    come down and stays in the bound: None at once, as when the bound is not reached within
    `AUCTION_PHASES` phases or `AUCTION_BIDS` bids per order and phase; the caller solves exactly.
    (Loose problems, with more slots than orders, would leave such slots all the time, and short
    ones need a price war up to the unassigned costs, epsilon by epsilon: the exact solver takes
    both.) Deterministic: fixed bidding order, ties to the first candidate.
    Capacities are the slots; only eligible arcs are ever candidates."""
    n, m = len(arcs), len(slots)
    if any(c < 0 for c in unassigned) or any(s and s[0] < 0 for s in slots):
        raise ValueError("costs must be >= 0")
    first = [s[0] if s else _INF for s in slots]
    clean: list[dict[int, float]] = []
    for a in arcs:
        if a:
            if min(a.values()) < 0:
                raise ValueError("costs must be >= 0")
            if min(a) < 0 or max(a) >= m:
                a = {j: c for j, c in a.items() if 0 <= j < m}
        clean.append(a)
    cand: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    floor, span = [0.0] * n, [0.0] * n
    heaps = [[(c, k) for k, c in enumerate(s)] for s in slots]  # (slot cost + price, slot): sorted = a heap
    q = [h[0][0] if h else _INF for h in heaps]
    qget = q.__getitem__
    keys = [list(a) for a in clean]
    costs = [list(a.values()) for a in clean]
    size = max(AUCTION_CANDIDATES, m // 5)  # the engineers each order bids among
    for i in range(n):
        _grow(keys[i], costs[i], qget, i, cand, floor, span, size)
    order = sorted(range(n), key=lambda i: (-unassigned[i], i))
    best0 = [min((c + first[j] for j, c in row), default=unassigned[i]) for i, row in enumerate(cand)]
    # The first epsilon: a typical order's cost, or a thousandth of the dearest way to leave one
    # (a price war over short capacity climbs to the unassigned costs in steps of at least epsilon).
    eps = max(sum(min(b, u) for b, u in zip(best0, unassigned)) / n / _EPS0, max(unassigned) / 1000, 1e-9)
    budget = AUCTION_BIDS * n + 10_000  # bids per phase before giving up (the exact solver answers)
    replace = heapq.heapreplace
    for _phase in range(AUCTION_PHASES):
        holder = [[-1] * len(s) for s in slots]
        where = [UNASSIGNED] * n
        queue = deque(order)
        pop, push = queue.popleft, queue.append
        bids = 0
        while queue:
            i = pop()
            bids += 1
            if bids > budget:
                return None
            row, rest = cand[i], floor[i]
            best = second = _INF
            bj, bc = -1, 0.0
            for j, c in row:
                v = c + q[j]
                if v < second:
                    if v < best:
                        second, best, bj, bc = best, v, j, c
                    else:
                        second = v
            if best > rest:  # another engineer may be cheaper now: look at all of them
                row, rest = _grow(keys[i], costs[i], qget, i, cand, floor, span, size)
                best = second = _INF
                for j, c in row:
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
        if n * eps > 2 * AUCTION_GAP * total:  # the bound (about total - n eps / 2) cannot prove it yet
            eps /= _THETA
            continue
        lb = 0.0
        for i in range(n):
            lb += min(unassigned[i], min(map(add, costs[i], map(qget, keys[i])), default=_INF))
        lb -= sum(t - s[k] for h, s in zip(heaps, slots) for t, k in h)
        if total - lb <= AUCTION_GAP * max(lb, 0.0) + 1e-6:
            return Assignment(where, total, max(0.0, min(lb, total)))  # costs >= 0: so is the optimum
        eps /= _THETA
    return None


def _grow(keys: list[int], costs: list[float], qget, i: int, cand: list, floor: list, span: list, size: int) -> tuple[list, float]:
    """Order i's candidates from all its arcs (engineers `keys` at `costs`) at today's prices: those
    up to a cut (its cheapest value + the spread that gave about `size` last time, or exactly that
    many), the cut its new floor (every other arc costs more, now and so later). Returns
    (candidates, floor)."""
    vals = list(map(add, costs, map(qget, keys)))
    if len(vals) <= size:
        row, cut = [(j, c) for j, c, v in zip(keys, costs, vals) if v < _INF], _INF
    else:
        low = min(vals)
        cut = low + span[i]
        row = list(compress(zip(keys, costs), map(cut.__ge__, vals))) if cut > low else []
        if not 2 <= len(row) <= 3 * size:
            cut = sorted(vals)[size]
            row = list(compress(zip(keys, costs), map(cut.__ge__, vals)))
            span[i] = cut - low
        if cut == _INF:
            row = [(j, c) for j, c, v in zip(keys, costs, vals) if v < _INF]
    cand[i], floor[i] = row, cut
    return row, cut

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
