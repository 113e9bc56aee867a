"""Field-work routes: on-site check-in/check-out, spare parts on a record, stock movements and
levels, and the offline sync endpoint."""
from chalice import Blueprint

from ..errors import parse_count
from .common import LazyModule, body_of, header, json_response, query_params, route

service = LazyModule("chalicelib.services.fieldwork")  # loads on first use (cold start)
inventory = LazyModule("chalicelib.services.inventory")

bp = Blueprint(__name__)


@route(bp, "/forms/{form}/records/{record_id}/checkin", methods=["POST"])
def checkin(request, caller, form, record_id):
    return service.checkin(caller, form, record_id, body_of(request))


@route(bp, "/forms/{form}/records/{record_id}/checkout", methods=["POST"])
def checkout(request, caller, form, record_id):
    return service.checkout(caller, form, record_id, body_of(request))


@route(bp, "/forms/{form}/records/{record_id}/parts", methods=["POST"])
def requisition(request, caller, form, record_id):
    body = service.requisition(caller, form, record_id, body_of(request))
    return json_response(body, 200 if body.get("replayed") else 201)


@route(bp, "/forms/{form}/records/{record_id}/parts/{line_id}/return", methods=["POST"])
def return_part(request, caller, form, record_id, line_id):
    return service.return_part(caller, form, record_id, line_id, body_of(request))


@route(bp, "/inventory/movements", methods=["POST"])
def move(request, caller):
    body, replayed = inventory.move(caller, body_of(request), header(request, "Idempotency-Key"))
    return json_response(body, 200 if replayed else 201, {"Idempotent-Replayed": "true"} if replayed else None)


@route(bp, "/inventory/stock", methods=["GET"])
def stock(request, caller):
    return inventory.stock(caller, query_params(request).get("warehouse"))


@route(bp, "/inventory/ledger", methods=["GET"])
def ledger(request, caller):
    params = query_params(request)
    limit = parse_count(params["limit"], "query.limit", minimum=1) if "limit" in params else 100
    return inventory.ledger(caller, params.get("warehouse"), params.get("part"), min(limit, 500))


@route(bp, "/sync", methods=["POST"])
def sync(request, caller):
    from ..services.sync import sync as run_sync
    return run_sync(caller, body_of(request))


@route(bp, "/forms/{form}/records/{record_id}/conflicts", methods=["GET"])
def conflicts(request, caller, form, record_id):
    from ..services.sync import conflicts as list_conflicts
    return list_conflicts(caller, form, record_id)
