"""Definition routes: upload a version, patch one (JSON Merge Patch), list, describe, get a version, publish,
JSON Schema."""
from chalice import Blueprint

from ..errors import BadRequest, parse_count
from .common import LazyModule, body_of, flag, header, json_response, query_params, route

# imported on first use: a cold start that serves other routes does not load the definition engines
schemas = LazyModule("chalicelib.services.definition_schemas")
service = LazyModule("chalicelib.services.definitions")
drafts = LazyModule("chalicelib.services.drafts")

bp = Blueprint(__name__)


def _int(value: str, path: str) -> int:
    return parse_count(value, path)


@route(bp, "/audit", methods=["GET"])
def audit_log(request, caller):
    limit = query_params(request).get("limit")
    return service.audit(caller, _int(limit, "query.limit") if limit else 100)


@route(bp, "/definitions", methods=["GET"])
def list_definitions(request, caller):
    return service.list_definitions(caller, query_params(request).get("kind"))


@route(bp, "/definitions/schemas", methods=["GET"], public=True)
def definition_schemas(request, caller):
    """JSON Schema (2020-12) of every definition kind, for editors and integrators"""
    return schemas.documents()


@route(bp, "/definitions/schemas/{kind}", methods=["GET"], public=True)
def definition_schema(request, caller, kind):
    """JSON Schema (2020-12) of one definition kind's document"""
    return schemas.document(kind)


@route(bp, "/definitions/{kind}/{name}/versions", methods=["POST"])
def upload(request, caller, kind, name):
    publish = flag(query_params(request), "publish", True)
    return json_response(service.upload(caller, kind, name, body_of(request), publish=publish), 201)


@route(bp, "/definitions/{kind}/{name}", methods=["PATCH"],
       content_types=("application/merge-patch+json", "application/json", "application/json-patch+json"))
def patch_definition(request, caller, kind, name):
    """Change a definition with a JSON Merge Patch (RFC 7386) or a JSON Patch (RFC 6902) against ?base=<its latest version>"""
    params = query_params(request)
    base = params.get("base")
    if base is None:
        raise BadRequest("send ?base=<version> naming the version the patch was written against",
                         code="base_required", details=[{"path": "query.base", "message": "required"}])
    version = parse_count(base, "query.base", minimum=1)
    publish = flag(params, "publish", True)
    operations = (header(request, "Content-Type") or "").split(";")[0].strip().lower() == "application/json-patch+json"
    return json_response(service.patch(caller, kind, name, body_of(request), base=version, publish=publish,
                                       operations=operations), 201)


@route(bp, "/definitions/{kind}/{name}", methods=["GET"])
def describe(request, caller, kind, name):
    return service.describe(caller, kind, name)


@route(bp, "/definitions/{kind}/{name}/versions/{version}", methods=["GET"])
def get_version(request, caller, kind, name, version):
    return service.get_version_body(caller, kind, name, _int(version, "version"))


@route(bp, "/definitions/{kind}/{name}/versions/{version}/publish", methods=["POST"])
def publish(request, caller, kind, name, version):
    body = body_of(request) if request.raw_body else None
    return service.publish(caller, kind, name, _int(version, "version"), (body or {}).get("migrate") if isinstance(body, dict) else None)


@route(bp, "/definitions/{kind}/{name}/check", methods=["POST"])
def check_draft(request, caller, kind, name):
    """A draft checked as an upload would be, nothing stored: problems, warnings, preview"""
    return service.check_draft(caller, kind, name, body_of(request))


@route(bp, "/definitions/{kind}/{name}/diff", methods=["GET"])
def diff_versions(request, caller, kind, name):
    params = query_params(request)
    for key in ("from", "to"):
        if key not in params:
            raise BadRequest("send ?from=<version>&to=<version>", details=[{"path": f"query.{key}", "message": "required"}])
    return drafts.diff_versions(caller, kind, name, _int(params["from"], "query.from"), _int(params["to"], "query.to"))


@route(bp, "/forms/{form}/expressions/check", methods=["POST"])
def check_expression(request, caller, form):
    """One expression against a form's fields (the published form's, or a draft's sent as `definition`) and its value on sample data"""
    return drafts.check_expression(caller, form, body_of(request))


@route(bp, "/forms/{form}/schema", methods=["GET"])
def form_schema(request, caller, form):
    version_param = query_params(request).get("version")
    if version_param:
        version = _int(version_param, "query.version")
        parsed = service.version_of(caller.tenant, "form", form, version)
    else:
        version, parsed = service.published(caller.tenant, "form", form)
    from ..services.records import form_schema  # only this route needs it
    return form_schema(caller, parsed, version)
