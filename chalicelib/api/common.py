"""What every route shares: error mapping (the one place errors become HTTP), body parsing with
size and depth limits, the caller from the token, and the route decorator that ties them."""
from __future__ import annotations

import os

import functools
import logging
import time
from typing import Any, Callable

from chalice import Blueprint, Response

from .. import jsonutil, logs
from ..auth import caller_from_request, route_authorizer
from ..services.identity import effective
from ..config import get_settings
from ..errors import AppError, BadRequest, PayloadTooLarge
from ..expressions.budget import expression_budget
from ..services.caller import Caller
from ..storage import configure_models

log = logging.getLogger("aftersales.api")
_configured = False


class LazyModule:
    """A service module imported on first use: a cold start that serves other routes does not pay for
    it (Lambda imports every blueprint to build the route table)."""

    def __init__(self, name: str) -> None:
        self._name, self._module = name, None

    def __getattr__(self, attr: str):
        if self._module is None:
            import importlib
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


def json_response(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(body=jsonutil.dumps(body), status_code=status,
                    headers={"Content-Type": "application/json", **(headers or {})})


# A page served to a browser from a link that carries a credential (the survey token): no caching,
# no referrer, no framing, no script.
HTML_HEADERS = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                           "base-uri 'none'; frame-ancestors 'none'"}


def html_response(status: int, html: str) -> Response:
    return Response(body=html, status_code=status, headers=dict(HTML_HEADERS))


def error_response(exc: AppError) -> Response:
    return json_response(exc.to_body(), exc.status)


def configure_once() -> None:
    global _configured
    if not _configured:
        configure_models()
        _configured = True


def _cors():
    """One CORS rule for every route: the console's origin (CONSOLE_ORIGIN; '*' only when unset, i.e. in
    tests), the headers the console sends (Idempotency-Key, If-Match) and ETag readable."""
    from chalice import CORSConfig
    return CORSConfig(allow_origin=os.environ.get("CONSOLE_ORIGIN") or "*", allow_headers=["Idempotency-Key", "If-Match"],
                      expose_headers=["ETag"], max_age=600)


CORS = _cors()


def route(bp: Blueprint, path: str, *, methods: list[str], public: bool = False,
          content_types: tuple[str, ...] = ("application/json",)) -> Callable:
    """@route(bp, '/x', methods=['GET']) → view(request_ctx, caller, **url_params)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(**params: Any) -> Response:
            request = bp.current_request
            context = request.context or {}
            started = time.perf_counter()
            invocation = getattr(bp.current_app, "lambda_context", None)
            request_id = context.get("requestId") or getattr(invocation, "aws_request_id", None)
            with logs.bound(request_id=request_id, method=request.method, route=path):
                response = _answer(request, context, params)
                log.info("request", extra={"status": response.status_code,
                                           "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
                return response

        def _answer(request, context: dict, params: dict) -> Response:
            try:
                configure_once()
                caller = None if public else effective(caller_from_request(request.headers or {}, context))
                if caller is not None:
                    logs.bind(tenant=caller.tenant, user=caller.user_id)
                with expression_budget():  # one expression budget per request (expressions.budget)
                    result = view(request, caller, **params)
                return result if isinstance(result, Response) else json_response(result)
            except AppError as exc:
                if exc.status >= 500:
                    log.error("request failed: %s (%s)", exc.code, exc.message)
                return error_response(exc)
            except Exception:  # never leak internals; log with the stack for the operator
                log.exception("unhandled error")
                return json_response({"error": {"code": "internal_error", "message": "internal error", "details": []}}, 500)

        options = {} if public else {"authorizer": route_authorizer()}
        bp.route(path, methods=methods, content_types=list(content_types), cors=CORS, **options)(wrapper)
        return wrapper

    return decorator


def handler(fn: Callable) -> Callable:
    """A scheduled, stream or queue handler whose log lines carry its name and the invocation's id,
    ending with one `handler` line (duration; the failure with its stack when it raises — Lambda retries)."""

    @functools.wraps(fn)
    def wrapper(event: Any) -> Any:
        started = time.perf_counter()
        context = getattr(event, "context", None)
        with logs.bound(request_id=getattr(context, "aws_request_id", None), handler=fn.__name__):
            try:
                result = fn(event)
            except Exception:
                log.exception("handler failed", extra={"duration_ms": round((time.perf_counter() - started) * 1000, 1)})
                raise
            log.info("handler", extra={"duration_ms": round((time.perf_counter() - started) * 1000, 1)})
            return result

    return wrapper


def body_of(request) -> Any:
    raw = request.raw_body or b""
    if len(raw) > get_settings().max_body_bytes:
        raise PayloadTooLarge(f"request body is larger than {get_settings().max_body_bytes} bytes")
    if not raw.strip():
        raise BadRequest("request body is empty; send a JSON object", code="empty_body")
    return jsonutil.loads(raw)


def header(request, name: str) -> str | None:
    headers = request.headers or {}
    return headers.get(name.lower()) or headers.get(name)


def query_params(request) -> dict[str, str]:
    return dict(request.query_params or {})


def flag(params: dict[str, str], name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None:
        return default
    if raw not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false", details=[{"path": f"query.{name}", "message": "invalid"}])
    return raw == "true"


def error_envelope_middleware(event, get_response):
    """Chalice answers some requests itself (415 wrong content type, 405 ...) with {'Code','Message'}:
    give those the platform's error envelope too."""
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body and "error" not in body:
        code = {415: "unsupported_media_type", 405: "method_not_allowed", 404: "not_found"}.get(response.status_code, "error")
        return json_response({"error": {"code": code, "message": str(body.get("Message", "")), "details": []}},
                             response.status_code)
    return response


__all__ = ["Caller", "route", "body_of", "header", "query_params", "json_response", "flag", "error_envelope_middleware"]
