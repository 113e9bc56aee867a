"""Liveness: no auth, no DynamoDB call (so it is cheap to probe)."""
from chalice import Blueprint

from .common import route

bp = Blueprint(__name__)


@route(bp, "/health", methods=["GET"], public=True)
def health(request, caller):
    return {"status": "ok"}


@route(bp, "/openapi.json", methods=["GET"], public=True)
def openapi(request, caller):
    """The OpenAPI 3.1 document of this API."""
    from . import openapi as document

    return document.build(bp.current_app)
