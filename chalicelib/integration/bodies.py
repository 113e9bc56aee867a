"""Request bodies of the integration routes: validated by the services and described in the OpenAPI
document by the same pydantic models (chalicelib.api.openapi.BODIES), so they are written once."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .envelope import EVENT_TYPES

EventPattern = Annotated[str, Field(pattern=r"^(\*|record\.\*|workflow\.\*|" + "|".join(t.replace(".", r"\.") for t in EVENT_TYPES) + r")$")]
FormName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]


class WebhookRequest(BaseModel):
    """Register a webhook: where to POST, which events, and which role's field permissions apply."""
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=8, max_length=2000, description="https URL (http only to localhost on the local stage)")
    types: list[EventPattern] = Field(default_factory=lambda: ["*"], min_length=1, max_length=10,
                                      description="event types, 'record.*', 'workflow.*' or '*'")
    forms: list[FormName] = Field(default_factory=list, max_length=50, description="forms to follow (empty = all)")
    role: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$",
                             description="the receiver sees what this role may see (no role = everything, admin)")
    active: bool = True


class ImportRequest(BaseModel):
    """Import rows into a form as a job. The file travels inline in `content` (≤ the 256 KB body limit)
    or was uploaded to S3 first (POST /forms/{form}/imports/uploads) and is named by `upload_id`:
    exactly one of the two."""
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "oneOf": [{"required": ["content"]}, {"required": ["upload_id"]}]})
    format: Literal["csv", "jsonl"] = "csv"
    content: str | None = Field(default=None, min_length=1,
                                description="CSV with a header row of field names, or one JSON object per line")
    upload_id: str | None = Field(default=None, pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$",
                                  description="the id returned by POST /forms/{form}/imports/uploads, once the file is in S3 "
                                              "(UTF-8, with or without BOM)")
    job_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_\-]{8,64}$",
                               description="your id for this import: sending it again resumes the same job (no duplicates)")


class ImportUploadRequest(BaseModel):
    """Ask for a presigned POST to upload an import file to S3 (for files above the request body limit)."""
    model_config = ConfigDict(extra="forbid")
    format: Literal["csv", "jsonl"] = Field(default="csv", description="sets the Content-Type the POST must carry")
    size: int | None = Field(default=None, ge=1, description="the file's exact size in bytes, if known: the POST then "
                                                              "accepts only that size (default: any size up to the limit)")
