"""JSON Schema (2020-12) of every definition kind, from the kind's pydantic model: one source for the
schema routes (editors, integrators) and the OpenAPI document's upload bodies. Models are imported on
first use, as the parsers import them (cold start)."""
from __future__ import annotations

import copy
import functools
import importlib
from typing import Any

from ..errors import NotFound

# kind → (module, model) validated by the kind's parser (services.definitions.PARSERS); a test keeps
# the two lists equal, so a kind registered without a schema fails there.
MODELS: dict[str, tuple[str, str]] = {
    "form": ("chalicelib.forms.definition", "FormDefinition"),
    "workflow": ("chalicelib.workflow.definition", "WorkflowDefinition"),
    "field_service": ("chalicelib.fieldservice.definition", "FieldServiceDefinition"),
    "dispatch_policy": ("chalicelib.dispatch.policy", "DispatchPolicy"),
    "report": ("chalicelib.reports.definition", "ReportDefinition"),
    "dashboard": ("chalicelib.reports.dashboard", "DashboardDefinition"),
    "email_template": ("chalicelib.surveys.templates", "EmailTemplate"),
    "survey": ("chalicelib.surveys.definition", "SurveyDefinition"),
    "integration_mapping": ("chalicelib.integration.mapping", "MappingDefinition"),
    "schedule": ("chalicelib.schedules.definition", "ScheduleDefinition"),
}
LOCAL_REFS = "#/$defs/{model}"


def model_of(kind: str):
    if kind not in MODELS:
        raise NotFound(f"unknown definition kind '{kind}'", details=[{"path": "kind", "message": f"one of {sorted(MODELS)}"}])
    module, name = MODELS[kind]
    return getattr(importlib.import_module(module), name)


@functools.lru_cache(maxsize=64)
def _schema(kind: str, ref_template: str) -> dict:
    schema = model_of(kind).model_json_schema(ref_template=ref_template)
    # the URL names the definition: the document may leave `name` out (or repeat the same one)
    schema["required"] = [key for key in schema.get("required", []) if key != "name"]
    if not schema["required"]:
        del schema["required"]
    schema["description"] = (f"A {kind} definition, as uploaded with POST /definitions/{kind}/{{name}}/versions. "
                             + (schema.get("description") or "")).strip()
    return schema


def definition_schema(kind: str, ref_template: str = LOCAL_REFS) -> dict[str, Any]:
    """The kind's schema; nested models under `$defs`, referred to through `ref_template`."""
    return copy.deepcopy(_schema(kind, ref_template))


def document(kind: str) -> dict[str, Any]:
    """A standalone JSON Schema document of one kind (what GET /definitions/schemas/{kind} answers)."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **definition_schema(kind)}


def documents() -> dict[str, Any]:
    """Every kind's schema (GET /definitions/schemas)."""
    return {"kinds": {kind: document(kind) for kind in sorted(MODELS)}}


__all__ = ["MODELS", "model_of", "definition_schema", "document", "documents"]
