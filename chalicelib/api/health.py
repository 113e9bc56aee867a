"""Liveness: no auth, no DynamoDB call (so it is cheap to probe)."""
from chalice import Blueprint
from typing_extensions import TypedDict

from .common import route

bp = Blueprint(__name__)


class Health(TypedDict):
    """GET /health's answer (and its OpenAPI response schema)."""
    status: str


@route(bp, "/", methods=["GET"], public=True)
def index(request, caller):
    """What a browser opening the API's URL sees: where to go next (the console, the API's document)."""
    from ..config import get_settings
    from os import environ

    console = environ.get("CONSOLE_ORIGIN") or None
    return {"name": "After-sales service API", "stage": get_settings().stage, "console": console,
            "openapi": "/openapi.json", "health": "/health",
            "message": "Sign in through the console" + (f" at {console}" if console else "") +
                       "; API calls carry `Authorization: Bearer <token>`."}


@route(bp, "/health", methods=["GET"], public=True)
def health(request, caller) -> Health:
    return {"status": "ok"}


@route(bp, "/openapi.json", methods=["GET"], public=True)
def openapi(request, caller):
    """The OpenAPI 3.1 document of this API."""
    from . import openapi as document

    return document.build(bp.current_app, server=_base_url(request))


def _base_url(request) -> str | None:
    """The URL this API was reached at: API Gateway's own host carries the stage in the path; a custom
    domain or chalice local does not."""
    headers = request.headers or {}
    host = headers.get("host")
    if not host:
        return None
    scheme = headers.get("x-forwarded-proto") or ("http" if host.startswith(("127.0.0.1", "localhost")) else "https")
    stage = (request.context or {}).get("stage")
    prefix = f"/{stage}" if stage and host.endswith(".amazonaws.com") else ""
    return f"{scheme}://{host}{prefix}"
