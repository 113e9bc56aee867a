"""Attachment routes: declare an upload (presigned POST), confirm it (server-verified attach),
presigned GET for viewing, and the printable service report (HTML)."""
from chalice import Blueprint, Response

from .common import LazyModule, body_of, query_params, route

service = LazyModule("chalicelib.services.uploads")  # loads on first use (cold start)

bp = Blueprint(__name__)


@route(bp, "/forms/{form}/records/{record_id}/uploads", methods=["POST"])
def presign(request, caller, form, record_id):
    """Declare an upload to an image/file/signature field: returns a presigned POST and an upload id."""
    from .common import json_response
    return json_response(service.presign(caller, form, record_id, body_of(request)), 201)


@route(bp, "/forms/{form}/records/{record_id}/uploads/{upload_id}/confirm", methods=["POST"])
def confirm(request, caller, form, record_id, upload_id):
    """Verify the uploaded object (HEAD) and attach it to the record field; idempotent."""
    return service.confirm(caller, form, record_id, upload_id, body_of(request))


@route(bp, "/forms/{form}/records/{record_id}/files", methods=["GET"])
def file_url(request, caller, form, record_id):
    """A short-lived presigned GET URL for an attachment of this record."""
    return service.file_url(caller, form, record_id, query_params(request).get("key"))


@route(bp, "/forms/{form}/records/{record_id}/report", methods=["GET"])
def report(request, caller, form, record_id):
    """Printable service report of a completed record (HTML); `tz`: the reader's time zone (IANA)."""
    from ..services.service_report import render_report  # rarely used: off the cold-start path
    return Response(body=render_report(caller, form, record_id, query_params(request).get("tz")), status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8",
                             "Content-Security-Policy": "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'",
                             "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
