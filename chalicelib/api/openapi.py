"""OpenAPI 3.1 document of the HTTP API, built from the app's own route table and the pydantic models
of the request bodies, so routes and bodies are described once (in code), not again by hand."""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from ..forms.definition import MAX_INDEXES
from ..services.definitions import DefinitionList, DefinitionVersions, Published, VersionUploaded
from ..services.dispatch import BatchPlan, Candidates
from ..services.drafts import ExpressionChecked
from ..services.members import MemberIn, MemberList, MemberOut
from ..services.migrations import MigrationJob, MigrationRequest
from ..services.navigation import Navigation
from ..services.notifications import MarkedRead, NotificationPage, NotificationPreferencesOut
from ..services.records import Deleted, RecordChanged, RecordChangedRef, RecordOut, RecordPage, RecordRef
from ..services.sync import SyncAnswer
from ..services.uploads import FileLink, UploadConfirmed, UploadConfirmedRef, UploadDeclared
from ..services.workflow import ActionList, ActionTaken, TaskPage
from ..services.workflow_dry_run import DryRun, DryRunRequest
from .health import Health

ERROR_STATUSES = {"400": "Bad input", "401": "No or bad token", "403": "Not allowed", "404": "Not found (in your tenant)",
                  "409": "Version or state conflict", "413": "Too large", "422": "Failed validation"}


class RecordCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: dict[str, Any] = Field(description="field values, as the form's JSON Schema describes")


class RecordUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int | None = Field(default=None, ge=1, description="the version you changed (or send If-Match)")
    data: dict[str, Any]
    comment: str | None = Field(default=None, max_length=2000,
                                description="kept in the history entry; required by edit rules with CommentRequired")


class ActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1)
    data: dict[str, Any] | None = None
    comment: str | None = Field(default=None, max_length=2000)
    delegate_to: str | None = None


class BatchDispatchRequest(BaseModel):
    """Batch dispatch: the orders named, or those matching `filter` (equality on indexed fields)."""
    model_config = ConfigDict(extra="forbid")
    form: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", description="the form whose records are dispatched")
    record_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(default=None, min_length=1, max_length=200)
    filter: dict[str, Annotated[str, Field(max_length=512)] | int | bool] | None = Field(
        default=None, max_length=MAX_INDEXES, description="e.g. {\"region\": \"north\"}; only indexed fields")
    limit: int = Field(default=100, ge=1, le=200, description="with filter: how many records to read at most")
    dry_run: bool = Field(default=False, description="plan and report, write nothing")

    @model_validator(mode="after")
    def _one_source(self):
        if (self.record_ids is None) == (self.filter is None):
            raise ValueError("send either record_ids or filter")
        return self


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str = Field(description="an image, file or signature field of the form")
    content_type: str = Field(description="MIME type; must be in the field's accept list")
    size: int = Field(ge=1, description="exact size in bytes; at most the field's max_size_mb")
    name: str | None = Field(default=None, max_length=255)
    sha256: str | None = Field(default=None, pattern="^[0-9a-f]{64}$")


class UploadConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, description="the record version you attach to")


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    accuracy: float | None = Field(default=None, ge=0)


class CheckinRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1)
    location: Location
    reason: str | None = Field(default=None, max_length=500, description="required beyond the tenant's radius")
    at: str | None = Field(default=None, description="device time (RFC 3339) of an offline check-in")


class CheckoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1)
    at: str | None = None


class PartsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1)
    part: str = Field(description="spare part record id")
    quantity: float = Field(gt=0, description="at most 2 decimals")
    warehouse: str | None = Field(default=None, description="default: the engineer's van")
    line_id: str | None = Field(default=None, min_length=8, max_length=64, description="client id: a retry draws once")


class PartsReturn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1)
    quantity: float | None = Field(default=None, gt=0, description="default: the whole line")


class StockMovement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["receipt", "adjustment", "transfer"]
    warehouse: str
    to_warehouse: str | None = None
    part: str
    quantity: float = Field(description="positive; an adjustment may be negative")
    reason: str | None = Field(default=None, max_length=500)


class SyncOperation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    op_id: str = Field(min_length=8, max_length=128)
    type: Literal["create", "update", "action", "checkin", "checkout", "parts", "return_part", "attach"]
    form: str
    record_id: str | None = None
    base_version: int | None = Field(default=None, ge=1, description="updates: the version the device changed")
    data: dict[str, Any] | None = None
    action: str | None = None
    comment: str | None = None
    location: Location | None = None
    reason: str | None = None
    at: str | None = None
    device_time: str | None = None
    part: str | None = None
    quantity: float | None = None
    warehouse: str | None = None
    line_id: str | None = None
    upload_id: str | None = None


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operations: list[SyncOperation] = Field(default_factory=list, max_length=100)
    cursor: str | None = Field(default=None, description="from the previous sync's response")
    device_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{8,64}$",
                                  description="this device: its own earlier updates are not conflicts with its later ones")


class SurveyAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: dict[str, Any] = Field(description="answers by the survey form's fields (rating, nps, problem_solved, comment)")


class NotificationsRead(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[str] | None = Field(default=None, max_length=100)
    all: bool | None = None


class NotificationPreferences(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: list[Literal["task.assigned", "approval.requested", "sla.reminder", "sla.breached", "order.completed"]]


class ExpressionCheck(BaseModel):
    """One expression checked against a form's fields: the published form's, or a draft's (`definition`)."""
    model_config = ConfigDict(extra="forbid")
    expression: str = Field(description="the expression as typed")
    rows: str | None = Field(default=None, description="a sub-table: the expression is one of its columns' (reads its row, then the record)")
    data: dict[str, Any] | None = Field(default=None, description="sample values: the answer carries the expression's value on them")
    definition: dict[str, Any] | None = Field(default=None, description=(
        "a draft form definition (the `form` kind's document, e.g. the designer's unsaved draft): the expression is "
        "checked against its fields instead of the published form's, so a form never published is checked as it is "
        "drawn; the same errors and positions. Only its field names are read (entries without a text `name` are "
        "left out); the draft's other problems are for POST /definitions/form/{name}/check"))


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any


class ErrorBody(BaseModel):
    error: ErrorDetail


from ..integration.bodies import ImportRequest, ImportUploadRequest, WebhookRequest  # noqa: E402

INTEGRATION_BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/webhooks"): WebhookRequest,
    ("PUT", "/webhooks/{webhook_id}"): WebhookRequest,
    ("POST", "/forms/{form}/imports"): ImportRequest,
    ("POST", "/forms/{form}/imports/uploads"): ImportUploadRequest,
}
_TEXT = {"type": "string"}
# (METHOD, path) → responses that are not the default JSON object (merged over the defaults)
RESPONSES: dict[tuple[str, str], dict] = {
    ("GET", "/forms/{form}/export"): {"200": {
        "description": "The records as a file: CSV (header row of field names) or JSON lines, as `format` asks",
        "headers": {"Content-Disposition": {"description": 'attachment; filename="<form>.csv" (or .jsonl)',
                                            "schema": {"type": "string"}}},
        "content": {"text/csv; charset=utf-8": {"schema": _TEXT}, "application/x-ndjson": {"schema": _TEXT}}}},
    ("POST", "/forms/{form}/imports/uploads"): {"201": {
        "description": "POST the file as multipart/form-data to `url` with `fields` (then the file, last), "
                       "then start the import with {format, upload_id}",
        "content": {"application/json": {"schema": {"type": "object", "required": ["upload_id", "url", "fields"], "properties": {
            "upload_id": {"type": "string"}, "key": {"type": "string"}, "format": {"type": "string", "enum": ["csv", "jsonl"]},
            "url": {"type": "string"}, "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            "content_type": {"type": "string"}, "max_bytes": {"type": "integer"}, "expires_in": {"type": "integer"}}}}}}},
}
_PAGE = {"text/html": {"schema": _TEXT}}
_PAGE_NOTE = "; a browser (Accept: text/html, or a form post) gets the survey as a web page instead"
for _method, _path in (("GET", "/surveys/{token}"), ("POST", "/surveys/{token}"), ("GET", "/surveys/{token}/opt-out"),
                       ("POST", "/surveys/{token}/opt-out")):
    RESPONSES[(_method, _path)] = {"200": {"description": "OK" + _PAGE_NOTE, "content": {
        "application/json": {"schema": {"type": "object"}}, **_PAGE}}}
# (METHOD, path) → request bodies a web page posts besides JSON
FORM_BODIES: dict[tuple[str, str], dict] = {
    ("POST", "/surveys/{token}"): {"application/x-www-form-urlencoded": {"schema": {"type": "object", "additionalProperties": {
        "type": "string"}}}},
    ("POST", "/surveys/{token}/opt-out"): {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}},
}
# (METHOD, path) → documented query parameters
QUERY: dict[tuple[str, str], list[dict]] = {
    ("GET", "/forms/{form}/records/{record_id}/report"): [
        {"name": "tz", "in": "query", "schema": {"type": "string", "maxLength": 64},
         "description": "the reader's IANA time zone for the page's times (default UTC); words and labels follow Accept-Language"}],
    ("GET", "/forms/{form}/export"): [
        {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["csv", "jsonl"], "default": "csv"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10_000},
         "description": "at most this many records (default and most: 10,000)"}],
    **{(m, p): [{"name": "lang", "in": "query", "schema": {"type": "string"},
                 "description": "the web page's language (en, zh-CN); else the browser's Accept-Language"}]
       for m, p in (("GET", "/surveys/{token}"), ("POST", "/surveys/{token}"), ("GET", "/surveys/{token}/opt-out"),
                    ("POST", "/surveys/{token}/opt-out"))},
}
# (METHOD, path) → request body model; "definition" = a definition document of any kind (its kind's JSON Schema,
# validated by its kind's parser), "merge-patch" = an RFC 7386 merge patch of one
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/forms/{form}/records"): RecordCreate,
    ("PATCH", "/forms/{form}/records/{record_id}"): RecordUpdate,
    ("POST", "/forms/{form}/records/{record_id}/actions/{action}"): ActionRequest,
    ("POST", "/workflows/{name}/dry-run"): DryRunRequest,
    ("POST", "/forms/{form}/migrations"): MigrationRequest,
    ("PUT", "/members/{user_id}"): MemberIn,
    ("POST", "/definitions/{kind}/{name}/versions"): "definition",
    ("PATCH", "/definitions/{kind}/{name}"): "merge-patch",
    ("POST", "/forms/{form}/records/{record_id}/uploads"): UploadRequest,
    ("POST", "/forms/{form}/records/{record_id}/uploads/{upload_id}/confirm"): UploadConfirm,
    ("POST", "/dispatch/batch"): BatchDispatchRequest,
    ("POST", "/forms/{form}/records/{record_id}/checkin"): CheckinRequest,
    ("POST", "/forms/{form}/records/{record_id}/checkout"): CheckoutRequest,
    ("POST", "/forms/{form}/records/{record_id}/parts"): PartsRequest,
    ("POST", "/forms/{form}/records/{record_id}/parts/{line_id}/return"): PartsReturn,
    ("POST", "/inventory/movements"): StockMovement,
    ("POST", "/sync"): SyncRequest,
    **INTEGRATION_BODIES,
    ("POST", "/surveys/{token}"): SurveyAnswer,
    ("POST", "/notifications/read"): NotificationsRead,
    ("PUT", "/notifications/preferences"): NotificationPreferences,
    ("POST", "/forms/{form}/expressions/check"): ExpressionCheck,
}
# (METHOD, path) → (status, name, the service's return type): the answer's schema is built from the type the
# service is declared to return, so the document cannot describe another shape than the code builds.
RESPONSE_TYPES: dict[tuple[str, str], tuple[str, str, Any]] = {
    ("POST", "/forms/{form}/records"): ("201", "RecordCreated", RecordOut | RecordRef),
    ("GET", "/forms/{form}/records"): ("200", "RecordPage", RecordPage),
    ("GET", "/forms/{form}/records/{record_id}"): ("200", "RecordOut", RecordOut),
    ("PATCH", "/forms/{form}/records/{record_id}"): ("200", "RecordUpdated", RecordChanged | RecordChangedRef),
    ("DELETE", "/forms/{form}/records/{record_id}"): ("200", "Deleted", Deleted),
    ("PUT", "/members/{user_id}"): ("200", "MemberOut", MemberOut),
    ("GET", "/members/{user_id}"): ("200", "MemberOut", MemberOut),
    ("GET", "/members"): ("200", "MemberList", MemberList),
    ("GET", "/forms/{form}/records/{record_id}/actions"): ("200", "ActionList", ActionList),
    ("POST", "/forms/{form}/records/{record_id}/actions/{action}"): ("200", "ActionTaken", ActionTaken),
    ("POST", "/workflows/{name}/dry-run"): ("200", "DryRun", DryRun),
    ("POST", "/forms/{form}/migrations"): ("200", "MigrationJob", MigrationJob),
    ("GET", "/forms/{form}/migrations/{job_id}"): ("200", "MigrationJob", MigrationJob),
    ("GET", "/tasks"): ("200", "TaskPage", TaskPage),
    ("GET", "/notifications"): ("200", "NotificationPage", NotificationPage),
    ("POST", "/notifications/read"): ("200", "MarkedRead", MarkedRead),
    ("GET", "/notifications/preferences"): ("200", "NotificationPreferencesOut", NotificationPreferencesOut),
    ("PUT", "/notifications/preferences"): ("200", "NotificationPreferencesOut", NotificationPreferencesOut),
    ("GET", "/health"): ("200", "Health", Health),
    ("POST", "/forms/{form}/records/{record_id}/uploads"): ("201", "UploadDeclared", UploadDeclared),
    ("POST", "/forms/{form}/records/{record_id}/uploads/{upload_id}/confirm"): (
        "200", "UploadConfirmedAnswer", UploadConfirmed | UploadConfirmedRef),
    ("GET", "/forms/{form}/records/{record_id}/files"): ("200", "FileLink", FileLink),
    ("GET", "/forms/{form}/records/{record_id}/dispatch/candidates"): ("200", "Candidates", Candidates),
    ("POST", "/dispatch/batch"): ("200", "BatchPlan", BatchPlan),
    ("POST", "/definitions/{kind}/{name}/versions"): ("201", "VersionUploaded", VersionUploaded),
    ("PATCH", "/definitions/{kind}/{name}"): ("201", "VersionUploaded", VersionUploaded),
    ("POST", "/definitions/{kind}/{name}/versions/{version}/publish"): ("200", "Published", Published),
    ("GET", "/definitions"): ("200", "DefinitionList", DefinitionList),
    ("GET", "/definitions/{kind}/{name}"): ("200", "DefinitionVersions", DefinitionVersions),
    ("GET", "/navigation"): ("200", "Navigation", Navigation),
    ("POST", "/sync"): ("200", "SyncAnswer", SyncAnswer),
    ("POST", "/forms/{form}/expressions/check"): ("200", "ExpressionChecked", ExpressionChecked),
}
PUBLIC = {"/health", "/openapi.json", "/surveys/{token}", "/surveys/{token}/opt-out",  # surveys: the signed token
          "/definitions/schemas", "/definitions/schemas/{kind}"}  # the platform's formats: no tenant data
QUERY[("POST", "/definitions/{kind}/{name}/versions")] = [
    {"name": "publish", "in": "query", "schema": {"type": "boolean", "default": True},
     "description": "publish the new version at once (default), or keep it a draft"}]
QUERY[("PATCH", "/definitions/{kind}/{name}")] = [
    {"name": "base", "in": "query", "required": True, "schema": {"type": "integer", "minimum": 1},
     "description": "the version the patch was written against; it must be the latest (else 409 naming the latest)"},
    QUERY[("POST", "/definitions/{kind}/{name}/versions")][0]]


def _definition_bodies(components: dict) -> tuple[dict, dict]:
    """The upload body (any kind's document: each kind's JSON Schema is a component, `Definition.<kind>`,
    its nested models `Definition.<kind>.<Model>`) and the merge-patch body."""
    from ..services.definition_schemas import MODELS, definition_schema
    refs = []
    for kind in sorted(MODELS):
        schema = definition_schema(kind, ref_template=f"#/components/schemas/Definition.{kind}.{{model}}")
        components.update({f"Definition.{kind}.{name}": nested for name, nested in schema.pop("$defs", {}).items()})
        components[f"Definition.{kind}"] = schema
        refs.append({"$ref": f"#/components/schemas/Definition.{kind}"})
    upload = {"required": True, "description": "the document of the URL's kind (its schema: GET /definitions/schemas/{kind})",
              "content": {"application/json": {"schema": {"anyOf": refs}}}}
    patch = {"type": "object", "description": "JSON Merge Patch (RFC 7386) of the base version's document: keys left out "
             "keep their values, null removes a key (its default applies), objects merge, arrays are replaced whole"}
    operations = {"type": "array", "description": "JSON Patch (RFC 6902): operations applied in order, all or nothing "
                  "(e.g. [{\"op\": \"add\", \"path\": \"/fields/-\", \"value\": {...}}]); a failed test → 409",
                  "items": {"type": "object", "required": ["op", "path"], "properties": {
                      "op": {"type": "string", "enum": ["add", "remove", "replace", "move", "copy", "test"]},
                      "path": {"type": "string", "description": "JSON Pointer (RFC 6901)"},
                      "from": {"type": "string"}, "value": {}}}}
    return upload, {"required": True, "content": {"application/merge-patch+json": {"schema": patch},
                                                  "application/json": {"schema": patch},
                                                  "application/json-patch+json": {"schema": operations}}}


def _component(components: dict, name: str, schema: dict) -> dict:
    components.update(schema.pop("$defs", {}))  # nested models are components too
    components[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


def build(app, server: str | None = None) -> dict:
    """`server`: this stage's base URL (the document's `servers`), when known."""
    paths: dict[str, dict] = {}
    components = {"ErrorBody": ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")}
    components.update(components["ErrorBody"].pop("$defs", {}))
    definition_bodies = _definition_bodies(components)
    for status, name, shape in RESPONSE_TYPES.values():
        if name not in components:
            _component(components, name, TypeAdapter(shape).json_schema(ref_template="#/components/schemas/{model}"))
    for path, methods in sorted(app.routes.items()):
        for method, entry in methods.items():
            operation: dict[str, Any] = {
                "operationId": f"{entry.view_name}",
                "summary": (entry.view_function.__doc__ or entry.view_name).strip().splitlines()[0],
                "parameters": [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                               for p in re.findall(r"{(\w+)}", path)],
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
                              **{code: {"description": text, "content": {"application/json": {
                                  "schema": {"$ref": "#/components/schemas/ErrorBody"}}}} for code, text in ERROR_STATUSES.items()}},
            }
            body = BODIES.get((method, path))
            if body in ("definition", "merge-patch"):
                operation["requestBody"] = definition_bodies[0 if body == "definition" else 1]
            elif body is not None:
                name = body.__name__
                components[name] = body.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(components[name].pop("$defs", {}))  # nested models are components too
                operation["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{name}"}}}}
            if (method, path) in FORM_BODIES:
                operation.setdefault("requestBody", {"content": {}})["content"].update(FORM_BODIES[(method, path)])
            if method in ("POST", "PUT") and body is not None:
                operation["responses"]["201"] = {"description": "Created", "content": {"application/json": {"schema": {"type": "object"}}}}
            if (method, path) in RESPONSE_TYPES:
                status, name, _shape = RESPONSE_TYPES[(method, path)]
                operation["responses"].pop("201" if status == "200" else "200", None)
                operation["responses"][status] = {"description": "Created" if status == "201" else "OK", "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}
            for code, response in RESPONSES.get((method, path), {}).items():
                operation["responses"][code] = response
            operation["parameters"] += QUERY.get((method, path), [])
            if path in PUBLIC:
                operation["security"] = []
            paths.setdefault(path, {})[method.lower()] = operation
    return {"openapi": "3.1.0",
            "info": {"title": "After-sales service platform API", "version": "1.0.0",
                     "description": "Tenant, roles and attributes come from the bearer token. Record bodies follow "
                                    "each form's JSON Schema: GET /forms/{form}/schema."},
            **({"servers": [{"url": server, "description": "this stage"}]} if server else {}),
            "paths": paths, "components": {"schemas": components, "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
            "security": [{"bearer": []}]}
