"""Dispatch routes: ranked candidates of one order ("why this engineer") and batch dispatch."""
from chalice import Blueprint

from .common import LazyModule, body_of, route

service = LazyModule("chalicelib.services.dispatch")  # the dispatch engine loads on first use

bp = Blueprint(__name__)


@route(bp, "/forms/{form}/records/{record_id}/dispatch/candidates", methods=["GET"])
def candidates(request, caller, form, record_id):
    """Engineers for this order: eligible ones ranked with their cost parts, the rest with why not."""
    return service.candidates(caller, form, record_id)


@route(bp, "/dispatch/batch", methods=["POST"])
def batch(request, caller):
    """Assign a backlog of orders at once (global min-cost assignment within capacities)."""
    from .openapi import BatchDispatchRequest
    return service.batch(caller, _model(BatchDispatchRequest, body_of(request)))


def _model(model, body):
    """The body as the route's pydantic model; 422 naming each bad field."""
    from ..errors import ValidationFailed
    from ..forms.definition import validated
    return validated(model, body, "request body", ValidationFailed)
