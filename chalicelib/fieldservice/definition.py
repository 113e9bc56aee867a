"""Field-service settings of a form (definition kind `field_service`, named after the form): how an
engineer checks in and out on site, and which sub-table holds the spare parts drawn from stock.
Every field name here is the tenant's to choose; the platform only needs to know where things go.

    {"name": "work_order",
     "engineer_field": "assigned_engineer",
     "checkin": {"location_field": "service_location", "radius_m": 300, "visits_field": "visits",
                 "on_action": "arrive", "travel_from_field": "accepted_at", "states": ["Travelling", "OnSite"]},
     "parts": {"lines_field": "parts_used", "price_field": "unit_price",
               "van": {"form": "engineer", "user_field": "user", "warehouse_field": "van_warehouse"}}}
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import DefinitionError
from ..forms.definition import FormDefinition, json_path
from ..forms.fields import NAME_PATTERN


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)


class VisitColumns(_Strict):
    """Columns of the visits sub-table (one row per check-in)."""

    checked_in_at: str = "checked_in_at"
    location: str = "checkin_location"
    distance_m: str = "checkin_distance_m"
    flagged: str = "checkin_flagged"
    reason: str = "checkin_reason"
    checked_out_at: str = "checked_out_at"
    on_site_seconds: str = "on_site_seconds"


class SummaryFields(_Strict):
    """Record fields kept as totals over the visits (reports group and filter on these)."""

    first_checkin_at: str | None = "first_checkin_at"
    travel_seconds: str | None = "travel_seconds"
    on_site_seconds: str | None = "on_site_seconds"
    checkin_flagged: str | None = "checkin_flagged"


class CheckinSettings(_Strict):
    location_field: str = Field(description="geolocation field of the site (the service address)")
    radius_m: int = Field(default=300, ge=10, le=100_000, description="farther away needs a reason and is flagged")
    visits_field: str = "visits"
    columns: VisitColumns = VisitColumns()
    summary: SummaryFields = SummaryFields()
    travel_from_field: str | None = Field(default=None, description="datetime field travel time is measured from")
    on_action: str | None = Field(default=None, description="workflow action taken by a check-in, when available")
    checkout_action: str | None = Field(default=None, description="workflow action taken by a check-out, when available")
    max_clock_skew_seconds: int = Field(default=600, ge=0, le=86400, description="device times later than now by more are refused")
    share_location: bool = Field(default=True, description="remember the check-in location for dispatch "
                                                        "(travel to the next order starts there)")
    states: list[str] | None = Field(default=None, max_length=50,
                                     description="workflow states a check-in is allowed in (null = any while it runs)")


class PartColumns(_Strict):
    line_id: str = "line_id"
    part: str = "part"
    quantity: str = "quantity"
    unit_price: str = "unit_price"
    warehouse: str = "warehouse"


class VanLookup(_Strict):
    """Where an engineer's own stock is: the warehouse in `warehouse_field` of the `form` record whose
    `user_field` is the engineer (`user_field` must be indexed on that form)."""

    form: str = Field(pattern=NAME_PATTERN)
    user_field: str
    warehouse_field: str


class PartsSettings(_Strict):
    lines_field: str = Field(description="sub-table of the parts used; only the parts API changes it")
    columns: PartColumns = PartColumns()
    part_form: str = Field(default="spare_part", pattern=NAME_PATTERN)
    price_field: str | None = Field(default="unit_price", description="the part's price, copied onto the line")
    van: VanLookup | None = None
    warehouse_form: str = Field(default="warehouse", pattern=NAME_PATTERN)
    keeper_field: str | None = Field(default="keeper", description="user field of a warehouse that belongs to one "
                                     "person (a van): only they, or who may update that warehouse, draw from it")


class FieldServiceDefinition(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    title: str = Field(default="", max_length=200)
    engineer_field: str = Field(description="user field naming the engineer who may check in and draw parts")
    checkin: CheckinSettings | None = None
    parts: PartsSettings | None = None


def parse_field_service(raw: Any, form: FormDefinition | None = None) -> FieldServiceDefinition:
    """Validate the settings; with the form, check every named field exists with the right type."""
    if not isinstance(raw, dict):
        raise DefinitionError("a field_service definition must be a JSON object", details=[{"path": "", "message": "expected object"}])
    try:
        parsed = FieldServiceDefinition.model_validate(raw)
    except ValidationError as exc:
        from ..plain_errors import problems
        raise DefinitionError("field_service definition is invalid",
                              details=problems(exc, json_path, FieldServiceDefinition)) from exc
    if form is not None:
        problems = field_problems(parsed, form)
        if problems:
            raise DefinitionError("field_service definition names fields the form does not have", details=problems)
    return parsed


def field_problems(fs: FieldServiceDefinition, form: FormDefinition) -> list[dict]:
    problems: list[dict] = []

    def need(path: str, name: str | None, types: tuple[str, ...], fields=None) -> None:
        if name is None:
            return
        pool = {f.name: f for f in (fields if fields is not None else form.fields)}
        found = pool.get(name)
        if found is None:
            problems.append({"path": path, "message": f"no field '{name}'"})
        elif found.type not in types:
            problems.append({"path": path, "message": f"'{name}' is a {found.type} field; expected {' or '.join(types)}"})

    need("engineer_field", fs.engineer_field, ("user",))
    if fs.checkin:
        c = fs.checkin
        need("checkin.location_field", c.location_field, ("geolocation",))
        need("checkin.visits_field", c.visits_field, ("subtable",))
        need("checkin.travel_from_field", c.travel_from_field, ("datetime",))
        visits = form.field(c.visits_field) if form.field(c.visits_field) is not None else None
        if visits is not None and visits.type == "subtable":
            cols, rows = c.columns, visits.fields
            need("checkin.columns.checked_in_at", cols.checked_in_at, ("datetime",), rows)
            need("checkin.columns.location", cols.location, ("geolocation",), rows)
            need("checkin.columns.distance_m", cols.distance_m, ("number",), rows)
            need("checkin.columns.flagged", cols.flagged, ("checkbox",), rows)
            need("checkin.columns.reason", cols.reason, ("text", "textarea"), rows)
            need("checkin.columns.checked_out_at", cols.checked_out_at, ("datetime",), rows)
            need("checkin.columns.on_site_seconds", cols.on_site_seconds, ("duration",), rows)
        s = c.summary
        need("checkin.summary.first_checkin_at", s.first_checkin_at, ("datetime",))
        need("checkin.summary.travel_seconds", s.travel_seconds, ("duration",))
        need("checkin.summary.on_site_seconds", s.on_site_seconds, ("duration",))
        need("checkin.summary.checkin_flagged", s.checkin_flagged, ("checkbox",))
    if fs.parts:
        p = fs.parts
        need("parts.lines_field", p.lines_field, ("subtable",))
        lines = form.field(p.lines_field)
        if lines is not None and lines.type == "subtable":
            cols, rows = p.columns, lines.fields
            need("parts.columns.line_id", cols.line_id, ("text",), rows)
            need("parts.columns.part", cols.part, ("lookup",), rows)
            need("parts.columns.quantity", cols.quantity, ("number",), rows)
            need("parts.columns.unit_price", cols.unit_price, ("money", "number"), rows)
            need("parts.columns.warehouse", cols.warehouse, ("lookup",), rows)
    return problems


def managed_fields(fs: FieldServiceDefinition | None) -> set[str]:
    """Fields only the field-service API writes (stock moves with parts lines; visits are measured)."""
    if fs is None:
        return set()
    names: set[str] = set()
    if fs.parts:
        names.add(fs.parts.lines_field)
    if fs.checkin:
        s = fs.checkin.summary
        names |= {fs.checkin.visits_field} | {n for n in (s.first_checkin_at, s.travel_seconds, s.on_site_seconds,
                                                             s.checkin_flagged) if n}
    return names
