"""Batch dispatch of a backlog: every (order, engineer) pair evaluated by the hard rules and the
weighted objectives, then one global min-cost assignment (`assignment.solve`) that respects each
engineer's free capacity. Each engineer's k-th new order pays the load it adds (convex slot costs),
so the batch spreads work the way one-at-a-time dispatch would score it. Pure.

The pairs are costed in bulk with the same numbers as `scoring.evaluate`: what depends on the
engineer alone (static rules, fairness, location in radians) once per plan, what depends on the
order's regions and skill (eligible engineers, skill and neighbour parts) once per such bucket, so
per pair only exclusions, absences and the distance remain; only the chosen pairs are explained.
When every engineer of the bucket has a location and the order names no preferred or required
engineer, no distance limit applies and nobody in the bucket is away (or absences do not count), the
order's row is worked out in bulk (one comprehension per order over the bucket's columns, the same
arithmetic in the same order) and its exclusions are taken out after.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .assignment import UNASSIGNED, solve
from .geo import EARTH_RADIUS_M, point
from .policy import DispatchPolicy
from .rules import Context, Engineer, absent_during, required_level
from .scoring import Candidate, epoch, evaluate, fairness_score, why_none

_KM_PER_RADIAN = 2 * EARTH_RADIUS_M / 1000.0  # haversine: distance = this x asin(sqrt(a))


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
    free = min(free, limit, limit if engineer.open_room is None else engineer.open_room)
    if policy.rules.require_on_duty and not engineer.on_duty:
        free = 0
    return [policy.weights.load * (engineer.used + k) / max(engineer.capacity, 1) for k in range(free)]


def plan(policy: DispatchPolicy, orders: list[tuple[str, dict]], engineers: list[Engineer], now: str) -> list[Planned]:
    """One result per order, in input order. Deterministic for the same input."""
    unique: dict[str, Engineer] = {}
    for e in engineers:
        unique.setdefault(e.user, e)
    roster = sorted(unique.values(), key=lambda e: e.user)
    by_region: dict[str | None, list[Engineer]] = {}
    for e in roster:
        by_region.setdefault(e.region, []).append(e)
    pairs = _Pairs(policy, roster, now)
    arcs: list[dict[int, float]] = []
    reasons: list[str | None] = []
    contexts: list[Context] = []
    for _order_id, data in orders:
        ctx = Context.of(policy, data, now)
        contexts.append(ctx)
        row = pairs.row(data, ctx)
        arcs.append(row)
        if row:
            reasons.append(None)
            continue
        pool = roster if ctx.regions is None else [e for r in dict.fromkeys(ctx.regions) for e in by_region.get(r, [])]
        if ctx.regions == []:
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
            out.append(Planned(order_id, roster[j].user, evaluate(policy, data, roster[j], now, contexts[i]), None, len(arcs[i])))
    return out


class _Pairs:
    """Pair costs without the load part (batch dispatch charges load per slot): `weighted(scores)`
    minus the load term, as `Candidate.pair_cost`, for the eligible engineers of each order."""

    def __init__(self, policy: DispatchPolicy, roster: list[Engineer], now: str) -> None:
        rules, w = policy.rules, policy.weights
        self.policy, self.roster, self.now = policy, roster, now
        now_s = epoch(now)
        self.fair = [w.fairness * fairness_score(policy, e, now_s) for e in roster]
        self.open = [(e.on_duty or not rules.require_on_duty) and (e.used < e.capacity or not rules.respect_capacity)
                     and e.open_room != 0 for e in roster]
        self.by_region: dict[str | None, list[int]] = {}
        for j, e in enumerate(roster):
            self.by_region.setdefault(e.region, []).append(j)
        self.buckets: dict[tuple, list[tuple]] = {}
        self.columns: dict[tuple, tuple] = {}  # per bucket whose engineers all have a location: (indices,
        # {user: index}, fixed costs, (lat / 2, lng / 2, cos lat) in radians, whether any has absences)

    def bucket(self, regions: list[str] | None, skill: str | None) -> list[tuple]:
        """(index, user, fixed cost, lat, lng (radians), cos lat, engineer if it has absences) of
        each engineer passing the static rules, the region and the skill."""
        key = (tuple(regions) if regions is not None else None, skill)
        found = self.buckets.get(key)
        if found is not None:
            return found
        policy, w, top = self.policy, self.policy.weights, self.policy.scales.max_skill_level
        need = required_level(policy, skill) if skill is not None else 0
        pool = range(len(self.roster)) if regions is None else \
            [j for r in dict.fromkeys(regions) for j in self.by_region.get(r, [])]
        found = []
        for j in pool:
            e = self.roster[j]
            if not self.open[j]:
                continue
            fixed = self.fair[j]
            if skill is not None:
                level = e.skills.get(skill, 0)
                if level < need:
                    continue
                fixed += w.skill * (1.0 - min(level, top) / top)
            if regions and e.region != regions[0]:
                fixed += w.neighbour_region
            lat, lng, cos_lat = (None, None, None) if e.location is None else \
                (math.radians(e.location[0]), math.radians(e.location[1]), math.cos(math.radians(e.location[0])))
            found.append((j, e.user, fixed, lat, lng, cos_lat, e if e.absences else None))
        self.buckets[key] = found
        if all(f[3] is not None for f in found):  # everyone located: the columns of the fast path
            self.columns[key] = ([f[0] for f in found], {f[1]: f[0] for f in found}, [f[2] for f in found],
                                 [(f[3] / 2, f[4] / 2, f[5]) for f in found], any(f[6] is not None for f in found))
        return found

    def row(self, order: dict, ctx: Context) -> dict[int, float]:
        """{engineer index: pair cost} over the order's eligible engineers."""
        policy, w = self.policy, self.policy.weights
        if ctx.regions == []:
            return {}
        site = point(order.get(policy.order.location)) if policy.order.location else None
        unknown = w.distance if site is not None else 0.0  # engineer location unknown: counted as far
        wanted = order.get(policy.order.preferred_engineer) if policy.order.preferred_engineer else None
        wanted = None if wanted in (None, "") else wanted
        window = ctx.window if policy.rules.require_available else None
        limit, scale, wd, wp = policy.rules.max_distance_km, policy.scales.distance_km, w.distance, w.preferred
        excluded, required = ctx.excluded, ctx.required
        if site is not None:
            s_lat, s_lng = math.radians(site[0]), math.radians(site[1])
            s_cos = math.cos(s_lat)
        sin, asin, sqrt = math.sin, math.asin, math.sqrt
        found = self.bucket(ctx.regions, ctx.skill)
        columns = self.columns.get((tuple(ctx.regions) if ctx.regions is not None else None, ctx.skill))
        if columns is not None and site is not None and required is None and wanted is None and limit is None \
                and (window is None or not columns[4]):
            # The common case, per order in bulk: the same arithmetic as below, in the same order.
            index, users, fixed, where, _away = columns
            s_lat2, s_lng2 = s_lat / 2, s_lng / 2
            roots = [sqrt((a := sin(s_lat2 - lat2)) * a + cos_lat * s_cos * ((b := sin(s_lng2 - lng2)) * b))
                     for lat2, lng2, cos_lat in where]
            kms = [_KM_PER_RADIAN * asin(r if r < 1.0 else 1.0) for r in roots]
            row = dict(zip(index, [f + wd * km / (km + scale) for f, km in zip(fixed, kms)]))
            for user in excluded:
                if user in users:
                    row.pop(users[user], None)
            return row
        row: dict[int, float] = {}
        for j, user, fixed, lat, lng, cos_lat, away in found:
            if (excluded and user in excluded) or (required is not None and user != required):
                continue
            if away is not None and window is not None and absent_during(away, window):
                continue
            if lat is None or site is None:
                cost = fixed + unknown
            else:
                a, b = sin((s_lat - lat) / 2), sin((s_lng - lng) / 2)
                km = _KM_PER_RADIAN * asin(min(1.0, sqrt(a * a + cos_lat * s_cos * (b * b))))
                if limit is not None and km > limit:
                    continue
                cost = fixed + wd * km / (km + scale)
            row[j] = cost + wp if wanted is not None and user != wanted else cost
        return row


__all__ = ["plan", "Planned", "slot_costs"]
