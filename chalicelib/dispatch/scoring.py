"""Stage 2, weighted objectives: each eligible engineer's cost for an order, broken into parts
("why this engineer"), and the ranking. Lower cost is better. Each part is normalised to [0, 1]
(load may exceed 1 only when capacity is not enforced) and multiplied by the policy's weight.

Ties are broken deterministically: lower cost, then higher skill level, then shorter distance,
then user id.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .policy import DispatchPolicy
from .rules import Context, Engineer, distance_km, violations

PARTS = ("distance", "load", "skill", "preferred", "fairness", "neighbour_region")


def epoch(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def load_score(engineer: Engineer, extra: int = 0) -> float:
    """Share of the engineer's capacity in use once `extra` more orders are added."""
    return (engineer.used + extra) / max(engineer.capacity, 1)


def scores(policy: DispatchPolicy, order: dict, ctx: Context, engineer: Engineer, km: float | None,
           now_s: float | None) -> tuple[float, ...]:
    """The normalised score of each objective (in PARTS order), before weights. Cheap: batch
    dispatch calls this for every eligible pair; `score_parts` explains the same numbers."""
    s = policy.scales
    if km is not None:
        distance = km / (km + s.distance_km)
    else:
        distance = 1.0 if ctx.has_site else 0.0
    skill = 0.0
    if ctx.skill is not None:
        skill = 1.0 - min(engineer.skills.get(ctx.skill, 0), s.max_skill_level) / s.max_skill_level
    preferred = 0.0
    wanted = order.get(policy.order.preferred_engineer) if policy.order.preferred_engineer else None
    if wanted not in (None, "") and engineer.user != wanted:
        preferred = 1.0
    return (distance, load_score(engineer), skill, preferred, fairness_score(policy, engineer, now_s),
            1.0 if ctx.regions and engineer.region != ctx.regions[0] else 0.0)


def fairness_score(policy: DispatchPolicy, engineer: Engineer, now_s: float | None) -> float:
    last = epoch(engineer.last_assigned_at)
    if last is None or now_s is None:
        return 0.0
    return max(0.0, 1.0 - max(0.0, now_s - last) / 3600.0 / policy.scales.fairness_hours)


def weighted(policy: DispatchPolicy, values: tuple[float, ...]) -> float:
    w = policy.weights
    return (w.distance * values[0] + w.load * values[1] + w.skill * values[2] + w.preferred * values[3]
            + w.fairness * values[4] + w.neighbour_region * values[5])


def score_parts(policy: DispatchPolicy, order: dict, ctx: Context, engineer: Engineer, km: float | None,
                now: str) -> dict[str, dict]:
    """Each objective with its raw value, normalised score, weight, weighted cost and a note."""
    s = policy.scales
    now_s = epoch(now)
    values = scores(policy, order, ctx, engineer, km, now_s)
    if km is not None:
        distance = (round(km, 3), f"{km:.1f} km to the site")
    elif ctx.has_site:
        distance = (None, "engineer location unknown: counted as far")
    else:
        distance = (None, "the order has no site location")
    level = engineer.skills.get(ctx.skill, 0) if ctx.skill is not None else None
    skill = ((level, f"{ctx.skill} level {level} of {s.max_skill_level}") if ctx.skill is not None
             else (None, "the order needs no particular skill"))
    wanted = order.get(policy.order.preferred_engineer) if policy.order.preferred_engineer else None
    if wanted in (None, ""):
        preferred = (None, "no preferred engineer")
    else:
        preferred = (engineer.user == wanted, "the preferred engineer" if engineer.user == wanted else f"the order prefers {wanted}")
    last = epoch(engineer.last_assigned_at)
    if last is not None and now_s is not None:
        hours = max(0.0, (now_s - last) / 3600.0)
        fairness = (round(hours, 3), f"last dispatched {hours:.1f} h ago")
    else:
        fairness = (None, "not dispatched yet")
    neighbour = (engineer.region, f"helps from neighbouring region {engineer.region}" if values[5] else "same region")
    load = ((engineer.today, f"{engineer.today} today of {engineer.capacity} ({engineer.load} open)") if engineer.per_day
            else (engineer.load, f"{engineer.load} open of {engineer.capacity}"))
    parts = {}
    for name, score, (value, note) in zip(PARTS, values, (distance, load, skill, preferred, fairness, neighbour)):
        weight = getattr(policy.weights, name)
        parts[name] = {"value": value, "score": round(score, 6), "weight": weight, "cost": round(weight * score, 6),
                       "note": note}
    return parts


@dataclass
class Candidate:
    engineer: Engineer
    eligible: bool
    excluded: list[dict]
    parts: dict[str, dict]
    cost: float  # total over all parts (ineligible engineers get one too, for comparison)
    distance_km: float | None = None
    values: tuple[float, ...] = ()  # unrounded normalised scores, in PARTS order
    rank: int | None = None

    @property
    def user(self) -> str:
        return self.engineer.user

    @property
    def pair_cost(self) -> float:
        """Cost without the load part: batch dispatch charges load per capacity slot instead."""
        return self.cost - self.parts["load"]["weight"] * self.values[1]

    def sort_key(self) -> tuple:
        level = self.parts["skill"]["value"] or 0
        km = self.distance_km if self.distance_km is not None else float("inf")
        return (not self.eligible, round(self.cost, 9), -level, km, self.user)

    def to_dict(self) -> dict:
        e = self.engineer
        return {"user": e.user, "record_id": e.record_id, "name": e.name, "region": e.region, "rank": self.rank,
                "eligible": self.eligible, "cost": round(self.cost, 6), "parts": self.parts,
                "excluded": self.excluded, "load": e.load, "today": e.today, "capacity": e.capacity}


def evaluate(policy: DispatchPolicy, order: dict, engineer: Engineer, now: str, ctx: Context | None = None) -> Candidate:
    ctx = ctx or Context.of(policy, order, now)
    km = distance_km(policy, order, engineer)
    excluded = violations(policy, ctx, engineer, km)
    values = scores(policy, order, ctx, engineer, km, epoch(now))
    parts = score_parts(policy, order, ctx, engineer, km, now)
    cost = weighted(policy, values)
    return Candidate(engineer=engineer, eligible=not excluded, excluded=excluded, parts=parts, cost=cost, distance_km=km,
                     values=values)


def rank(policy: DispatchPolicy, order: dict, engineers: list[Engineer], now: str) -> list[Candidate]:
    """Every engineer evaluated: eligible ones first, best first (rank 1, 2, ...), then the excluded."""
    ctx = Context.of(policy, order, now)
    seen: set[str] = set()
    candidates = []
    for engineer in engineers:
        if engineer.user in seen:  # two records naming one user: the first (stable input order) counts
            continue
        seen.add(engineer.user)
        candidates.append(evaluate(policy, order, engineer, now, ctx))
    if policy.rules.rotation:  # the rotation position is each engineer's last assignment (kept with their load)
        candidates.sort(key=lambda c: (not c.eligible, c.engineer.last_assigned_at or "", *c.sort_key()[1:]))
    else:
        candidates.sort(key=Candidate.sort_key)
    for i, c in enumerate(c for c in candidates if c.eligible):
        c.rank = i + 1
    return candidates


def best(candidates: list[Candidate]) -> Candidate | None:
    return candidates[0] if candidates and candidates[0].eligible else None


def why_none(candidates: list[Candidate]) -> str:
    """One line for 'nobody eligible': how many engineers each rule excluded."""
    if not candidates:
        return "no engineers to consider"
    counts: dict[str, int] = {}
    for c in candidates:
        for reason in c.excluded:
            counts[reason["rule"]] = counts.get(reason["rule"], 0) + 1
    summary = ", ".join(f"{rule}: {n}" for rule, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"no eligible engineer among {len(candidates)} (excluded by {summary})"


__all__ = ["Candidate", "evaluate", "rank", "best", "why_none", "score_parts", "load_score", "scores", "weighted", "fairness_score", "epoch", "PARTS"]
