"""The dense solver chalicelib/dispatch/assignment.py replaced (every eligible arc, one shortest
path per order), kept as the exact reference its differential test compares with. Not used by the app.

Global min-cost assignment of orders to engineers with capacities (pure Python, exact).

The problem is a min-cost flow: source → order (1 unit) → engineer → sink, where
- order i → engineer j costs `arcs[i][j]` (only eligible pairs: sparse candidate lists);
- engineer j → sink has one arc per free capacity slot, the k-th costing `slots[j][k]`
  (non-decreasing: convex, so the k-th order an engineer takes pays for the load it adds);
- order i → sink directly costs `unassigned[i]` (leaving it unassigned), so every order is routed
  and the optimum trades capacity between orders by priority and cost.

Solved by successive shortest paths, one order at a time (the Hungarian/Jonker–Volgenant scheme):
Dijkstra from the new order over the residual graph with reduced costs (node potentials keep them
non-negative), stopping as soon as the sink is reached; only the nodes it settled get new
potentials. Each step keeps the assignment optimal for the orders seen so far, so the end result is
the exact optimum — not a greedy one-by-one choice: a later order can move an earlier one to another
engineer, or bump it when capacity is short. Costs are scaled to integers (1e-6) so potentials stay
exact. Early termination keeps a step local: most paths are order → free engineer → sink.
"""
from __future__ import annotations

import heapq

from chalicelib.dispatch.assignment import UNASSIGNED, Assignment

SCALE = 1_000_000


def solve(arcs: list[dict[int, float]], slots: list[list[float]], unassigned: list[float]) -> Assignment:
    """arcs[i] = {engineer: cost}; slots[j] = marginal costs of engineer j's free capacity (len =
    free capacity, non-decreasing); unassigned[i] = cost of leaving order i unassigned. All >= 0."""
    n, m = len(arcs), len(slots)
    if len(unassigned) != n:
        raise ValueError("one unassigned cost per order")
    for j, s in enumerate(slots):
        if any(b < a for a, b in zip(s, s[1:])):
            raise ValueError(f"slot costs of engineer {j} must be non-decreasing")
    iarcs = [sorted((n + j, _i(c)) for j, c in a.items() if 0 <= j < m) for a in arcs]  # (node, cost)
    cost_of = [dict(a) for a in iarcs]
    islots = [[_i(c) for c in s] for s in slots]
    ium = [_i(c) for c in unassigned]
    sink, inf = n + m, float("inf")
    pot = [0] * (n + m + 1)  # potentials: orders 0..n-1, engineers n..n+m-1, the sink n+m
    dist = [inf] * (n + m + 1)
    pred = [0] * (n + m + 1)
    done = [False] * (n + m + 1)
    where: list[int | None] = [None] * n  # None = not routed yet; UNASSIGNED; or engineer index
    members: list[list[int]] = [[] for _ in range(m)]
    push, pop = heapq.heappush, heapq.heappop
    # Any order gives the optimum; costly-to-leave (urgent) orders first keeps later paths short.
    for source in sorted(range(n), key=lambda i: (-ium[i], i)):
        # The new order's potential: high enough that its own arcs have non-negative reduced cost.
        p_src = pot[sink] - ium[source]
        for v, c in iarcs[source]:
            if pot[v] - c > p_src:
                p_src = pot[v] - c
        pot[source] = p_src
        dist[source], pred[source] = 0, -1
        touched, settled, heap = [source], [], [(0, source)]
        while True:  # Dijkstra on reduced costs until the sink is settled (its arc from the source exists)
            d, u = pop(heap)
            if done[u]:
                continue
            done[u] = True
            settled.append(u)
            if u == sink:
                break
            pu = pot[u] + d
            if u < n:  # an order: to another candidate engineer, or straight to the sink (unassigned)
                at = where[u]
                at_node = n + at if at is not None else -1
                for v, c in iarcs[u]:
                    nd = pu + c - pot[v]
                    if nd < dist[v] and v != at_node:
                        if dist[v] == inf:
                            touched.append(v)
                        dist[v], pred[v] = nd, u
                        push(heap, (nd, v))
                nd = pu + ium[u] - pot[sink]
                if nd < dist[sink]:
                    if dist[sink] == inf:
                        touched.append(sink)
                    dist[sink], pred[sink] = nd, u
                    push(heap, (nd, sink))
            else:  # an engineer: hand one of its orders to someone else, or take its next free slot
                j = u - n
                for i in members[j]:
                    nd = pu - cost_of[i][u] - pot[i]
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
                        push(heap, (nd, sink))
        reached = dist[sink]
        for v in settled:  # only settled nodes move (by d - D <= 0): reduced costs stay >= 0
            if dist[v] < reached:
                pot[v] += dist[v] - reached
        _augment(source, sink, n, pred, where, members)
        for v in touched:
            dist[v], done[v] = inf, False
    engineer_of = [UNASSIGNED if w is None else w for w in where]
    return Assignment(engineer_of, _total(engineer_of, arcs, slots, unassigned))


def _augment(source: int, sink: int, n: int, pred: list[int], where: list, members: list[list[int]]) -> None:
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
                where[u] = v - n
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


