"""Inbound mapping definitions (kind `integration_mapping`): how a message from another system
(CRM, ERP) becomes a record of one form. Pure: pydantic parsing, expressions of the platform's own
language (never eval), and `apply` = message payload → (external id, record data).

    {"name": "crm_customer", "form": "customer", "mode": "upsert", "key_field": "crm_id",
     "external_id": "id",
     "fields": {"name": "trim(name)", "phone": "coalesce(phones[0], '')", "region": "lower(area)"}}

The message's payload is the expressions' context, so `customer.name` reads `payload.customer.name`.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import AppError, DefinitionError

MAX_FIELDS = 200


class ExternalLookup(BaseModel):
    """A lookup field whose mapped value is the other system's id of the looked-up record (a CRM
    account id): resolved through `key_field`, a unique field of `form`, to the record's id."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    form: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    key_field: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")


class MappingDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    title: str = ""
    form: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    # update: an unknown key is a dead letter, never a create; event: the message is the named event,
    # correlated by external_id to the form's records that wait for it (fields = the event's data)
    mode: Literal["create", "upsert", "update", "event"] = "create"
    event: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,62}$",
                              description="event mode: the event a Wait state's Events names")
    external_id: str = Field(min_length=1, max_length=4000, description="expression: the other system's id of the message's object")
    key_field: str | None = Field(default=None, description="upsert/update: a unique text field of the form that stores the external id")
    fields: dict[str, str] = Field(min_length=1, description="form field → expression over the message payload")
    lookups: dict[str, ExternalLookup] = Field(default_factory=dict, description="lookup field → how its mapped external id "
                                               "finds the record (an unknown id is a dead letter)")

    @model_validator(mode="after")
    def _upsert_needs_key(self):
        if self.mode in ("upsert", "update") and not self.key_field:
            raise ValueError(f"mode '{self.mode}' needs key_field")
        if (self.mode == "event") != (self.event is not None):
            raise ValueError("mode 'event' needs event (and only it takes one)")
        if self.mode == "event" and (self.key_field or self.lookups):
            raise ValueError("an event mapping correlates by external_id: no key_field or lookups")
        if len(self.fields) > MAX_FIELDS:
            raise ValueError(f"at most {MAX_FIELDS} fields")
        return self


class MappingError(AppError):
    """The message cannot be mapped (a dead letter, never retried)."""

    status = 422
    code = "unmappable_message"


def parse_mapping(raw: Any, form=None, other_form=None) -> MappingDefinition:
    """Validated at upload with JSON paths: every expression parses, every target field exists on the
    form (when given) and is not computed/auto-numbered; the key field is unique."""
    from ..expressions import compile_expression
    from ..forms.definition import validated
    mapping = validated(MappingDefinition, raw, "mapping definition")
    problems = []
    for path, source in [("external_id", mapping.external_id), *((f"fields.{k}", v) for k, v in mapping.fields.items())]:
        try:
            compile_expression(source)
        except AppError as exc:
            problems.append({"path": path, "message": exc.message})
    if form is not None:
        if form.name != mapping.form:
            problems.append({"path": "form", "message": f"expected form '{form.name}'"})
        for name in (mapping.fields if mapping.mode != "event" else ()):  # an event's fields are its data
            field = form.fields_by_name.get(name)
            if field is None:
                problems.append({"path": f"fields.{name}", "message": f"form '{mapping.form}' has no field '{name}'"})
            elif field.type in ("computed", "auto_number") or field.platform_written:
                problems.append({"path": f"fields.{name}", "message": f"'{name}' is set by the platform"})
        if mapping.key_field:
            key = form.fields_by_name.get(mapping.key_field)
            if key is None or not getattr(key, "unique", False):
                problems.append({"path": "key_field", "message": "must be a unique field of the form"})
        for name, spec in mapping.lookups.items():
            field = form.fields_by_name.get(name)
            if name not in mapping.fields:
                problems.append({"path": f"lookups.{name}", "message": f"'{name}' is not one of the mapping's fields"})
            elif field is not None and (field.type != "lookup" or field.form != spec.form):
                problems.append({"path": f"lookups.{name}.form", "message": f"'{name}' is not a lookup of form '{spec.form}'"})
    if other_form is not None:
        for name, spec in mapping.lookups.items():
            theirs = other_form(spec.form)
            key = theirs.fields_by_name.get(spec.key_field) if theirs is not None else None
            if theirs is None:
                problems.append({"path": f"lookups.{name}.form", "message": f"no published form '{spec.form}'"})
            elif key is None or not getattr(key, "unique", False):
                problems.append({"path": f"lookups.{name}.key_field", "message": f"must be a unique field of form '{spec.form}'"})
    if problems:
        raise DefinitionError("mapping definition is invalid", details=problems)
    return mapping


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal) and value == value.to_integral_value() and abs(value) < 10 ** 15:
        return int(value)
    return value


def apply(mapping: MappingDefinition, payload: Any) -> tuple[str, dict]:
    """(external id, record data). MappingError names what failed; nothing is half-mapped."""
    from ..expressions import compile_expression
    if not isinstance(payload, dict):
        raise MappingError("message payload must be an object", details=[{"path": "data", "message": "expected object"}])
    try:
        external = compile_expression(mapping.external_id).evaluate(payload)
    except AppError as exc:
        raise MappingError(f"external_id: {exc.message}", details=[{"path": "external_id", "message": exc.message}]) from exc
    if isinstance(external, Decimal):
        external = str(_plain(external))
    if not isinstance(external, str) or not external.strip() or len(external) > 200:
        raise MappingError("the message has no usable external id", details=[{"path": "external_id", "message": "empty or not text"}])
    data: dict[str, Any] = {}
    problems = []
    for name, source in mapping.fields.items():
        try:
            value = compile_expression(source).evaluate(payload)
        except AppError as exc:
            problems.append({"path": f"fields.{name}", "message": exc.message})
            continue
        if value is not None:
            data[name] = _plain(value)
    if problems:
        raise MappingError("the message does not fit the mapping", details=problems)
    if mapping.key_field:
        data[mapping.key_field] = external
    return external.strip() if mapping.mode == "event" else external, data
