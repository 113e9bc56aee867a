"""Dispatch policy: a tenant's definition JSON (kind `dispatch_policy`, named after the form it dispatches).

Two stages, as field-service products do it:
1. `rules` — hard rules that filter engineers (region/territory with optional neighbours, required skill
   with a minimum level, on duty, under capacity, not excluded, the order's required engineer, at most
   `max_distance_km` away);
2. `weights` — weighted objectives that rank the rest (travel distance, current load, skill level,
   preferred engineer, fairness/round robin, coming from a neighbouring region).

Every field name of the order form (`order`) and the engineer form (`engineer`) is configurable, so a
tenant reshapes dispatch by uploading data. Pure: pydantic only; errors carry JSON paths.
"""
from __future__ import annotations

from typing import Any, Iterable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import DefinitionError
from ..zones import zone_of

_NAME = r"^[a-z][a-z0-9_]{0,62}$"
FieldName = Field(pattern=_NAME)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrderFields(_Strict):
    """Field names on the order form (the form this policy dispatches); null = not used."""
    region: str | None = Field(default="region", pattern=_NAME)
    skill: str | None = Field(default="product_line", pattern=_NAME, description="the skill the order needs")
    location: str | None = Field(default="service_location", pattern=_NAME, description="geolocation of the site")
    excluded: str | None = Field(default="rejected_engineers", pattern=_NAME,
                                 description="engineers never to send (comma-separated text or a list)")
    required_engineer: str | None = Field(default=None, pattern=_NAME)
    preferred_engineer: str | None = Field(default=None, pattern=_NAME)
    priority: str | None = Field(default="priority", pattern=_NAME)
    assigned: str = Field(default="assigned_engineer", pattern=_NAME, description="the field batch dispatch sets")
    window_start: str | None = Field(default=None, pattern=_NAME,
                                     description="datetime the work is due to start (e.g. an appointment); unset = now")
    window_end: str | None = Field(default=None, pattern=_NAME, description="datetime it ends; unset = the start")


class EngineerFields(_Strict):
    """Field names on the engineer form."""
    user: str = Field(default="user", pattern=_NAME)
    name: str | None = Field(default="name", pattern=_NAME)
    region: str | None = Field(default="region", pattern=_NAME)
    skills: str | None = Field(default="skills", pattern=_NAME, description="subtable of (skill, level) rows")
    skill_key: str = Field(default="product_line", pattern=_NAME)
    skill_level: str = Field(default="level", pattern=_NAME)
    location: str | None = Field(default="home_location", pattern=_NAME)
    current_location: str | None = Field(default=None, pattern=_NAME, description="preferred over `location` when set")
    capacity: str | None = Field(default="daily_capacity", pattern=_NAME)
    on_duty: str | None = Field(default="on_duty", pattern=_NAME)
    absences: str | None = Field(default=None, pattern=_NAME, description="subtable of (from, until) rows: leave, training")
    absence_from: str = Field(default="from", pattern=_NAME)
    absence_until: str = Field(default="until", pattern=_NAME)


class Rules(_Strict):
    same_region: bool = True
    neighbours: dict[str, list[str]] = Field(default_factory=dict, description="region → regions that may help it")
    min_skill_level: int = Field(default=1, ge=0, le=100)
    min_skill_level_by_skill: dict[str, int] = Field(default_factory=dict)
    require_on_duty: bool = True
    respect_capacity: bool = True
    default_capacity: int = Field(default=5, ge=0, le=1000, description="when the engineer has no capacity value")
    honour_exclusions: bool = True
    require_available: bool = Field(default=True, description="no absence may overlap the order's time window")
    max_distance_km: float | None = Field(default=None, gt=0, le=20000)
    capacity_per: Literal["day", "open"] = Field(default="day", description="day: the engineer's capacity is orders "
                                                  "assigned per working day (in `time_zone`); open: orders open at once")
    time_zone: str = Field(default="UTC", max_length=64, description="the working day's zone: UTC, an offset such as "
                                                                    "+08:00, or an IANA name such as Asia/Shanghai")
    max_open_orders: int | None = Field(default=None, ge=0, le=1000,
                                        description="its own rule beside the daily capacity: at most this many open at once")
    rotation: bool = Field(default=False, description="round robin: among the eligible engineers, whoever was given "
                                                      "work on this form least recently goes first (the cost breaks "
                                                      "ties), however fast orders complete; batch plans stay min-cost")
    max_engineers_per_region: int = Field(default=200, ge=1, le=1000, description="bounds one dispatch's reads")
    last_checkin_hours: float | None = Field(default=12, gt=0, le=720,
                                             description="travel is measured from the engineer's last check-in "
                                                         "while it is this recent (null = always from the record)")


    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone_of(value)
        return value


def work_day(policy: "DispatchPolicy", now: str) -> str:
    """The policy's working day (YYYY-MM-DD) at the UTC instant `now` (RFC 3339)."""
    from datetime import datetime
    instant = datetime.fromisoformat(now.replace("Z", "+00:00"))
    return instant.astimezone(zone_of(policy.rules.time_zone)).date().isoformat()


class Weights(_Strict):
    """Each objective is normalised to [0, 1] and multiplied by its weight; lower total cost wins."""
    distance: float = Field(default=1.0, ge=0, le=1000)
    load: float = Field(default=1.0, ge=0, le=1000)
    skill: float = Field(default=1.0, ge=0, le=1000)
    preferred: float = Field(default=0.5, ge=0, le=1000)
    fairness: float = Field(default=0.3, ge=0, le=1000)
    neighbour_region: float = Field(default=0.5, ge=0, le=1000)

    def total(self) -> float:
        return sum(self.model_dump().values())


class Scales(_Strict):
    distance_km: float = Field(default=25.0, gt=0, le=20000, description="distance that costs half the distance weight")
    max_skill_level: int = Field(default=5, ge=1, le=100)
    fairness_hours: float = Field(default=8.0, gt=0, le=24 * 365, description="an engineer dispatched this long ago is rested")


class Batch(_Strict):
    """Batch dispatch: leaving an order unassigned costs `unassigned_penalty` × its priority weight,
    so scarce capacity goes to urgent orders first."""
    unassigned_penalty: float = Field(default=100.0, gt=0, le=1e9)
    priority_weights: dict[str, float] = Field(default_factory=lambda: {"urgent": 4.0, "high": 2.0, "normal": 1.0, "low": 0.5})
    action: str = Field(default="assign", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$",
                        description="the workflow action that hands an order to the chosen engineer")


class DispatchPolicy(_Strict):
    name: str = Field(default="default", pattern=_NAME, description="the form it dispatches")
    title: str = Field(default="", max_length=200)
    comment: str = Field(default="", max_length=2000)
    engineer_form: str = Field(default="engineer", pattern=_NAME)
    dispatchers: list[str] = Field(default_factory=lambda: ["supervisor"], max_length=20,
                                   description="roles that may list candidates and run batch dispatch (admins always)")
    order: OrderFields = Field(default_factory=OrderFields)
    engineer: EngineerFields = Field(default_factory=EngineerFields)
    rules: Rules = Field(default_factory=Rules)
    weights: Weights = Field(default_factory=Weights)
    scales: Scales = Field(default_factory=Scales)
    batch: Batch = Field(default_factory=Batch)

    @model_validator(mode="after")
    def _coherent(self) -> DispatchPolicy:
        problems = []
        for region, others in self.rules.neighbours.items():
            if region in others:
                problems.append(f"rules.neighbours.{region}: a region is not its own neighbour")
        for skill, level in self.rules.min_skill_level_by_skill.items():
            if not 0 <= level <= self.scales.max_skill_level:
                problems.append(f"rules.min_skill_level_by_skill.{skill}: must be between 0 and scales.max_skill_level")
        for priority, weight in self.batch.priority_weights.items():
            if not 0 < weight <= 1000:
                problems.append(f"batch.priority_weights.{priority}: must be > 0 and <= 1000")
        lowest = min([1.0, *self.batch.priority_weights.values()])
        if self.batch.unassigned_penalty * lowest <= self.weights.total():
            problems.append("batch.unassigned_penalty: times the lowest priority weight it must exceed the sum of "
                            "the weights, or leaving an order unassigned could look cheaper than assigning it")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def unassigned_cost(self, order: dict) -> float:
        value = order.get(self.order.priority) if self.order.priority else None
        return self.batch.unassigned_penalty * self.batch.priority_weights.get(str(value), 1.0)


DEFAULT_POLICY = DispatchPolicy()


def _path(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problems(exc: ValidationError) -> list[dict]:
    from ..plain_errors import message as plain
    problems = []
    for err in exc.errors(include_url=False):
        message = plain(err, DispatchPolicy)
        if not err["loc"] and ": " in message:  # model-level checks name their own paths
            for piece in message.split("; "):
                path, _, text = piece.partition(": ")
                problems.append({"path": path, "message": text})
        else:
            problems.append({"path": _path(err["loc"]), "message": message})
    return problems


def parse_policy(raw: Any) -> DispatchPolicy:
    """Validate a policy document; DefinitionError lists every problem with its JSON path."""
    if not isinstance(raw, dict):
        raise DefinitionError("a dispatch policy must be a JSON object", details=[{"path": "", "message": "expected object"}])
    try:
        return DispatchPolicy.model_validate(raw)
    except ValidationError as exc:
        raise DefinitionError("dispatch policy is invalid", details=_problems(exc)) from exc


# Field types each configured name must have on its form (checked at upload against the published forms).
_ORDER_TYPES = {"region": ("select", "text", "lookup"), "skill": ("select", "text"), "location": ("geolocation",),
                "excluded": ("text", "textarea", "multiselect"), "required_engineer": ("user", "text"),
                "preferred_engineer": ("user", "text"), "priority": ("select", "text", "number"), "assigned": ("user",),
                "window_start": ("datetime",), "window_end": ("datetime",)}
_ENGINEER_TYPES = {"user": ("user", "text"), "name": ("text",), "region": ("select", "text", "lookup"),
                   "skills": ("subtable",), "location": ("geolocation",), "current_location": ("geolocation",),
                   "capacity": ("number",), "on_duty": ("checkbox",), "absences": ("subtable",)}


def field_problems(policy: DispatchPolicy, order_form: Any, engineer_form: Any) -> list[dict]:
    """Names in `order`/`engineer` that the forms lack or hold with the wrong type. The forms are any
    objects with `.field(name)` returning something with `.type` (and `.fields` for a subtable)."""
    problems: list[dict] = []

    def check(form: Any, section: str, types: dict, names: dict) -> None:
        for key, allowed in types.items():
            name = names.get(key)
            if name is None:
                continue
            field = form.field(name)
            if field is None:
                problems.append({"path": f"{section}.{key}", "message": f"form '{form.name}' has no field '{name}'"})
            elif field.type not in allowed:
                problems.append({"path": f"{section}.{key}",
                                 "message": f"field '{name}' is {field.type}; expected one of {', '.join(allowed)}"})

    check(order_form, "order", _ORDER_TYPES, policy.order.model_dump())
    check(engineer_form, "engineer", _ENGINEER_TYPES, policy.engineer.model_dump())
    skills = engineer_form.field(policy.engineer.skills) if policy.engineer.skills else None
    if skills is not None and skills.type == "subtable":
        inner = {f.name: f for f in skills.fields}
        for key, allowed in (("skill_key", ("select", "text")), ("skill_level", ("number", "rating"))):
            name = getattr(policy.engineer, key)
            if name not in inner:
                problems.append({"path": f"engineer.{key}", "message": f"subtable '{skills.name}' has no field '{name}'"})
            elif inner[name].type not in allowed:
                problems.append({"path": f"engineer.{key}", "message": f"field '{name}' is {inner[name].type}; expected one of {', '.join(allowed)}"})
    return problems


__all__ = ["DispatchPolicy", "DEFAULT_POLICY", "parse_policy", "field_problems", "OrderFields", "EngineerFields",
           "Rules", "Weights", "Scales", "Batch"]
