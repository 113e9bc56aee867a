"""Stage 1, hard rules: which engineers may take an order, and if not, every reason why not.

Engineers arrive as `Engineer` values (built from engineer records by `engineer_from_record`, with
their current load counted by the caller); orders are plain record data read through the policy's
field names. Pure.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .geo import haversine_m, point
from .policy import DispatchPolicy


@dataclass(frozen=True)
class Engineer:
    user: str
    record_id: str | None = None
    name: str = ""
    region: str | None = None
    skills: dict[str, int] = field(default_factory=dict)  # skill → highest level
    location: tuple[float, float] | None = None
    capacity: int = 5
    on_duty: bool = True
    load: int = 0  # open orders assigned now
    last_assigned_at: str | None = None  # RFC 3339, newest open assignment (fairness)

    @property
    def remaining(self) -> int:
        return max(0, self.capacity - self.load)


def engineer_from_record(policy: DispatchPolicy, record_id: str | None, data: dict, *, load: int = 0,
                         last_assigned_at: str | None = None) -> Engineer | None:
    """The engineer a record describes, or None when it names no user."""
    f = policy.engineer
    user = data.get(f.user)
    if not isinstance(user, str) or not user:
        return None
    skills: dict[str, int] = {}
    for row in (data.get(f.skills) or []) if f.skills else []:
        if isinstance(row, dict) and row.get(f.skill_key) is not None:
            key = str(row[f.skill_key])
            skills[key] = max(skills.get(key, 0), _int(row.get(f.skill_level), 0))
    location = (point(data.get(f.current_location)) if f.current_location else None) or \
               (point(data.get(f.location)) if f.location else None)
    capacity = _int(data.get(f.capacity), policy.rules.default_capacity) if f.capacity else policy.rules.default_capacity
    on_duty = data.get(f.on_duty) is not False if f.on_duty else True
    region = data.get(f.region) if f.region else None
    return Engineer(user=user, record_id=record_id, name=str(data.get(f.name) or "") if f.name else "",
                    region=str(region) if region is not None else None, skills=skills, location=location,
                    capacity=capacity, on_duty=on_duty, load=load, last_assigned_at=last_assigned_at)


def _int(value: Any, default: int) -> int:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else default
    except (TypeError, ValueError):
        return default


def excluded_users(policy: DispatchPolicy, order: dict) -> set[str]:
    """Engineers the order must not go to (e.g. those who declined it): comma-separated text or a list."""
    name = policy.order.excluded
    value = order.get(name) if name else None
    if isinstance(value, str):
        return {u.strip() for u in value.split(",") if u.strip()}
    if isinstance(value, list):
        return {str(u).strip() for u in value if str(u).strip()}
    return set()


def allowed_regions(policy: DispatchPolicy, order: dict) -> list[str] | None:
    """Regions whose engineers may go (the order's first, then its neighbours); None = any region."""
    if not policy.rules.same_region or not policy.order.region:
        return None
    region = order.get(policy.order.region)
    if region is None or region == "":
        return []
    region = str(region)
    return [region, *[r for r in policy.rules.neighbours.get(region, []) if r != region]]


def required_level(policy: DispatchPolicy, skill: str) -> int:
    return policy.rules.min_skill_level_by_skill.get(skill, policy.rules.min_skill_level)


def order_skill(policy: DispatchPolicy, order: dict) -> str | None:
    value = order.get(policy.order.skill) if policy.order.skill else None
    return str(value) if value not in (None, "") else None


def distance_km(policy: DispatchPolicy, order: dict, engineer: Engineer) -> float | None:
    site = point(order.get(policy.order.location)) if policy.order.location else None
    if site is None or engineer.location is None:
        return None
    return haversine_m(engineer.location[0], engineer.location[1], site[0], site[1]) / 1000.0


@dataclass(frozen=True)
class Context:
    """What the rules need of one order, computed once for all engineers."""
    regions: list[str] | None
    skill: str | None
    excluded: frozenset[str]
    required: str | None
    has_site: bool

    @classmethod
    def of(cls, policy: DispatchPolicy, order: dict) -> Context:
        required = order.get(policy.order.required_engineer) if policy.order.required_engineer else None
        return cls(regions=allowed_regions(policy, order), skill=order_skill(policy, order),
                   excluded=frozenset(excluded_users(policy, order)) if policy.rules.honour_exclusions else frozenset(),
                   required=str(required) if required not in (None, "") else None,
                   has_site=bool(policy.order.location and point(order.get(policy.order.location))))


def violations(policy: DispatchPolicy, ctx: Context, engineer: Engineer, km: float | None) -> list[dict]:
    """Every hard rule the engineer breaks for this order: [{"rule", "message"}]; empty = eligible."""
    rules = policy.rules
    out: list[dict] = []
    if ctx.regions is not None:
        if not ctx.regions:
            out.append({"rule": "region", "message": "the order has no region"})
        elif engineer.region not in ctx.regions:
            allowed = ", ".join(ctx.regions)
            out.append({"rule": "region", "message": f"region {engineer.region} is not one of: {allowed}"})
    if ctx.skill is not None:
        need, level = required_level(policy, ctx.skill), engineer.skills.get(ctx.skill, 0)
        if level < need:
            have = f"level {level}" if ctx.skill in engineer.skills else "no"
            out.append({"rule": "skill", "message": f"{have} {ctx.skill} skill; needs level {need}"})
    if rules.require_on_duty and not engineer.on_duty:
        out.append({"rule": "on_duty", "message": "not on duty"})
    if rules.respect_capacity and engineer.load >= engineer.capacity:
        out.append({"rule": "capacity", "message": f"at capacity ({engineer.load} open of {engineer.capacity})"})
    if engineer.user in ctx.excluded:
        out.append({"rule": "excluded", "message": "excluded by the order (e.g. declined it before)"})
    if ctx.required is not None and engineer.user != ctx.required:
        out.append({"rule": "required_engineer", "message": f"the order requires {ctx.required}"})
    if rules.max_distance_km is not None and km is not None and km > rules.max_distance_km:
        out.append({"rule": "distance", "message": f"{km:.1f} km away; at most {rules.max_distance_km:g} km"})
    return out


__all__ = ["Engineer", "engineer_from_record", "Context", "violations", "excluded_users", "allowed_regions",
           "order_skill", "required_level", "distance_km"]
