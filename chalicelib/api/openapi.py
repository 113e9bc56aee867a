"""OpenAPI 3.1 document of the HTTP API, built from the app's own route table and the pydantic models
of the request bodies, so routes and bodies are described once (in code), not again by hand."""
from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

ERROR_STATUSES = {"400": "Bad input", "401": "No or bad token", "403": "Not allowed", "404": "Not found (in your tenant)",
                  "409": "Version or state conflict", "413": "Too large", "422": "Failed validation"}


class RecordCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: dict[str, Any] = Field(description="field values, as the form's JSON Schema describes")


class RecordUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int | None = Field(default=None, ge=1, description="the version you changed (or send If-Match)")
    data: dict[str, Any]


class ActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1)
    data: dict[str, Any] | None = None
    comment: str | None = Field(default=None, max_length=2000)
    delegate_to: str | None = None


class MemberRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str = Field(default="", max_length=200)
    email: str | None = None
    roles: list[str] = Field(default_factory=list, max_length=20)
    active: bool = True
    attributes: dict[str, str] = Field(default_factory=dict)


class BatchDispatchRequest(BaseModel):
    """Batch dispatch: the orders named, or those matching `filter` (equality on indexed fields)."""
    model_config = ConfigDict(extra="forbid")
    form: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", description="the form whose records are dispatched")
    record_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(default=None, min_length=1, max_length=200)
    filter: dict[str, Annotated[str, Field(max_length=512)] | int | bool] | None = Field(
        default=None, max_length=4, description="e.g. {\"region\": \"north\"}; only indexed fields")
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


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any


class ErrorBody(BaseModel):
    error: ErrorDetail


# (METHOD, path) → request body model; "object" = a definition document (validated by its kind's parser)
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/forms/{form}/records"): RecordCreate,
    ("PATCH", "/forms/{form}/records/{record_id}"): RecordUpdate,
    ("POST", "/forms/{form}/records/{record_id}/actions/{action}"): ActionRequest,
    ("PUT", "/members/{user_id}"): MemberRequest,
    ("POST", "/definitions/{kind}/{name}/versions"): "object",
    ("POST", "/forms/{form}/records/{record_id}/uploads"): UploadRequest,
    ("POST", "/forms/{form}/records/{record_id}/uploads/{upload_id}/confirm"): UploadConfirm,
    ("POST", "/dispatch/batch"): BatchDispatchRequest,
}
PUBLIC = {"/health", "/openapi.json"}


def build(app) -> dict:
    paths: dict[str, dict] = {}
    components = {"ErrorBody": ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")}
    components.update(components["ErrorBody"].pop("$defs", {}))
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
            if body == "object":
                operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
            elif body is not None:
                name = body.__name__
                components[name] = body.model_json_schema(ref_template="#/components/schemas/{model}")
                operation["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{name}"}}}}
            if method in ("POST", "PUT") and body is not None:
                operation["responses"]["201"] = {"description": "Created", "content": {"application/json": {"schema": {"type": "object"}}}}
            if path in PUBLIC:
                operation["security"] = []
            paths.setdefault(path, {})[method.lower()] = operation
    return {"openapi": "3.1.0",
            "info": {"title": "After-sales service platform API", "version": "1.0.0",
                     "description": "Tenant, roles and attributes come from the bearer token. Record bodies follow "
                                    "each form's JSON Schema: GET /forms/{form}/schema."},
            "paths": paths, "components": {"schemas": components, "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
            "security": [{"bearer": []}]}
