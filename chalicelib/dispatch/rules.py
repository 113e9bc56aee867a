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
    last_assigned_at: str | None = None  # RFC 3339, when last given work (fairness, rotation)
    absences: tuple[tuple[str, str], ...] = ()  # (from, until) in UTC RFC 3339: away in [from, until)
    today: int = 0  # orders assigned to them on the policy's working day
    per_day: bool = False  # capacity counts today's orders (else open ones)
    max_open: int | None = None  # at most this many open at once (its own rule)

    @property
    def used(self) -> int:
        """What capacity is measured against: today's orders, or the open ones."""
        return self.today if self.per_day else self.load

    @property
    def remaining(self) -> int:
        return max(0, self.capacity - self.used)

    @property
    def open_room(self) -> int | None:
        return None if self.max_open is None else max(0, self.max_open - self.load)


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
    absences = tuple((str(row[f.absence_from]), str(row[f.absence_until]))
                     for row in (data.get(f.absences) or [] if f.absences else [])
                     if isinstance(row, dict) and row.get(f.absence_from) and row.get(f.absence_until))
    return Engineer(absences=absences, user=user, record_id=record_id, name=str(data.get(f.name) or "") if f.name else "",
                    region=str(region) if region is not None else None, skills=skills, location=location,
                    capacity=capacity, on_duty=on_duty, load=load, last_assigned_at=last_assigned_at,
                    per_day=policy.rules.capacity_per == "day", max_open=policy.rules.max_open_orders)


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
    window: tuple[str, str] | None = None  # (start, end) the engineer must be available in; None = not checked

    @classmethod
    def of(cls, policy: DispatchPolicy, order: dict, now: str | None = None) -> Context:
        required = order.get(policy.order.required_engineer) if policy.order.required_engineer else None
        return cls(regions=allowed_regions(policy, order), skill=order_skill(policy, order),
                   excluded=frozenset(excluded_users(policy, order)) if policy.rules.honour_exclusions else frozenset(),
                   required=str(required) if required not in (None, "") else None,
                   has_site=bool(policy.order.location and point(order.get(policy.order.location))),
                   window=time_window(policy, order, now))


def time_window(policy: DispatchPolicy, order: dict, now: str | None) -> tuple[str, str] | None:
    """When the work happens: the order's window fields, else now. Datetimes are stored in UTC
    (RFC 3339, Z), so they compare as text; the 19-character prefix drops fractions."""
    o = policy.order
    start = order.get(o.window_start) if o.window_start else None
    start = str(start) if start else now
    if not start:
        return None
    end = order.get(o.window_end) if o.window_end else None
    return start[:19], (str(end) if end else start)[:19]


def absent_during(engineer: Engineer, window: tuple[str, str]) -> tuple[str, str] | None:
    """The first absence overlapping the window, if any."""
    start, end = window
    for away_from, away_until in engineer.absences:
        if away_from[:19] <= end and start < away_until[:19]:
            return away_from, away_until
    return None


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
    if rules.respect_capacity and engineer.used >= engineer.capacity:
        counted = "today" if engineer.per_day else "open"
        out.append({"rule": "capacity", "message": f"at capacity ({engineer.used} {counted} of {engineer.capacity})"})
    if engineer.open_room == 0:
        out.append({"rule": "open_limit", "message": f"{engineer.load} open orders; at most {engineer.max_open} at once"})
    if engineer.user in ctx.excluded:
        out.append({"rule": "excluded", "message": "excluded by the order (e.g. declined it before)"})
    if ctx.required is not None and engineer.user != ctx.required:
        out.append({"rule": "required_engineer", "message": f"the order requires {ctx.required}"})
    if rules.require_available and ctx.window is not None:
        away = absent_during(engineer, ctx.window)
        if away is not None:
            out.append({"rule": "availability", "message": f"away from {away[0]} until {away[1]}"})
    if rules.max_distance_km is not None and km is not None and km > rules.max_distance_km:
        out.append({"rule": "distance", "message": f"{km:.1f} km away; at most {rules.max_distance_km:g} km"})
    return out


__all__ = ["Engineer", "engineer_from_record", "Context", "violations", "excluded_users", "allowed_regions",
           "order_skill", "required_level", "distance_km"]
