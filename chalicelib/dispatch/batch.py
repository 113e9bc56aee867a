"""Batch dispatch of a backlog: every (order, engineer) pair evaluated by the hard rules and the
weighted objectives, then one global min-cost assignment (`assignment.solve`) that respects each
engineer's free capacity. Each engineer's k-th new order pays the load it adds (convex slot costs),
so the batch spreads work the way one-at-a-time dispatch would score it. Pure.
"""
from __future__ import annotations

from dataclasses import dataclass

from .assignment import UNASSIGNED, solve
from .policy import DispatchPolicy
from .rules import Context, Engineer, distance_km, violations
from .scoring import Candidate, epoch, evaluate, scores, weighted, why_none


@dataclass
class Planned:
    order_id: str
    engineer: str | None
    candidate: Candidate | None  # the chosen engineer's evaluation (cost parts)
    reason: str | None           # why unassigned
    eligible: int                # how many engineers were eligible

    def to_dict(self) -> dict:
        if self.engineer is None:
            return {"record_id": self.order_id, "assigned": False, "engineer": None, "reason": self.reason,
                    "eligible_engineers": self.eligible}
        c = self.candidate
        return {"record_id": self.order_id, "assigned": True, "engineer": self.engineer, "cost": round(c.cost, 6),
                "parts": c.parts, "eligible_engineers": self.eligible}


def slot_costs(policy: DispatchPolicy, engineer: Engineer, limit: int) -> list[float]:
    """Marginal load cost of the engineer's 1st, 2nd, ... new order (non-decreasing)."""
    free = engineer.remaining if policy.rules.respect_capacity else limit
    free = min(free, limit)
    if policy.rules.require_on_duty and not engineer.on_duty:
        free = 0
    return [policy.weights.load * (engineer.load + k) / max(engineer.capacity, 1) for k in range(free)]


def plan(policy: DispatchPolicy, orders: list[tuple[str, dict]], engineers: list[Engineer], now: str) -> list[Planned]:
    """One result per order, in input order. Deterministic for the same input."""
    unique: dict[str, Engineer] = {}
    for e in engineers:
        unique.setdefault(e.user, e)
    roster = sorted(unique.values(), key=lambda e: e.user)
    index = {e.user: j for j, e in enumerate(roster)}
    by_region: dict[str | None, list[Engineer]] = {}
    for e in roster:
        by_region.setdefault(e.region, []).append(e)
    arcs: list[dict[int, float]] = []
    reasons: list[str | None] = []
    now_s = epoch(now)
    load_weight = policy.weights.load
    for _order_id, data in orders:
        ctx = Context.of(policy, data, now)
        pool = roster if ctx.regions is None else [e for r in ctx.regions for e in by_region.get(r, [])]
        row: dict[int, float] = {}
        for e in pool:  # the hot loop (orders x engineers in reach): numbers only, no explanations
            km = distance_km(policy, data, e)
            if not violations(policy, ctx, e, km):
                values = scores(policy, data, ctx, e, km, now_s)
                row[index[e.user]] = weighted(policy, values) - load_weight * values[1]
        arcs.append(row)
        if row:
            reasons.append(None)
        elif ctx.regions == []:
            reasons.append("the order has no region")
        elif not pool:
            reasons.append(f"no engineers in region(s) {', '.join(ctx.regions or [])}")
        else:
            reasons.append(why_none([evaluate(policy, data, e, now, ctx) for e in pool]))
    slots = [slot_costs(policy, e, len(orders)) for e in roster]
    result = solve(arcs, slots, [policy.unassigned_cost(data) for _id, data in orders])
    out = []
    for i, (order_id, data) in enumerate(orders):
        j = result.engineer_of[i]
        if j == UNASSIGNED:
            reason = reasons[i] or ("its eligible engineers' free capacity went to other orders "
                                    "(higher priority or lower total cost)")
            out.append(Planned(order_id, None, None, reason, len(arcs[i])))
        else:  # explained once, for the pair chosen
            out.append(Planned(order_id, roster[j].user, evaluate(policy, data, roster[j], now), None, len(arcs[i])))
    return out


__all__ = ["plan", "Planned", "slot_costs"]
