"""Record routes: create (Idempotency-Key), get, partial update (version / If-Match), soft delete, list."""
from chalice import Blueprint

from .common import LazyModule, body_of, header, json_response, query_params, route

service = LazyModule("chalicelib.services.records")  # the form engine loads on first use (cold start)

bp = Blueprint(__name__)


@route(bp, "/forms/{form}/records", methods=["POST"])
def create(request, caller, form):
    body, replayed = service.create(caller, form, body_of(request), header(request, "Idempotency-Key"))
    headers = {"Location": f"/forms/{form}/records/{body['id']}", "ETag": f'"{body["version"]}"'}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(body, 201, headers)


@route(bp, "/forms/{form}/records", methods=["GET"])
def list_records(request, caller, form):
    return service.list_records(caller, form, query_params(request))


@route(bp, "/forms/{form}/records/{record_id}", methods=["GET"])
def get(request, caller, form, record_id):
    body = service.get(caller, form, record_id)
    return json_response(body, 200, {"ETag": f'"{body["version"]}"'})


@route(bp, "/forms/{form}/records/{record_id}", methods=["PATCH"])
def update(request, caller, form, record_id):
    body = service.update(caller, form, record_id, body_of(request), header(request, "If-Match"))
    return json_response(body, 200, {"ETag": f'"{body["version"]}"'})


@route(bp, "/forms/{form}/records/{record_id}", methods=["DELETE"])
def delete(request, caller, form, record_id):
    return service.delete(caller, form, record_id, header(request, "If-Match"), query_params(request).get("version"))


@route(bp, "/forms/{form}/records/{record_id}/access", methods=["GET"])
def explain_access(request, caller, form, record_id):
    from ..services.explain import explain  # admin tool: kept off the cold-start path

    return explain(caller, form, record_id, query_params(request).get("user"))
