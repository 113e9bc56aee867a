"""One error family for the whole platform, mapped to HTTP in one place (chalicelib.api.common).

Domain code raises these; routes never build error responses themselves.
"""
from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base of every error the API reports to a caller."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code:
            self.code = code

    def to_body(self) -> dict:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        error["details"] = self.details if self.details is not None else []
        return {"error": error}


class BadRequest(AppError):
    status = 400
    code = "bad_request"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


class ValidationFailed(AppError):
    """Input that parsed but broke the rules; details = [{"path": ..., "message": ...}, ...]."""

    status = 422
    code = "validation_failed"


class DefinitionError(ValidationFailed):
    """A tenant definition (form, workflow, report, roles) is invalid; raised at upload, never mid-flow."""

    code = "invalid_definition"


class ExpressionError(DefinitionError):
    """An expression failed to parse, names something unknown, or broke a safety limit."""

    code = "invalid_expression"

    def __init__(self, message: str, *, position: int | None = None, source: str | None = None) -> None:
        details = [{"path": "", "message": message, "position": position}] if position is not None else None
        super().__init__(message, details=details)
        self.position = position
        self.source = source


class ExpressionLimitExceeded(ExpressionError):
    """Evaluation hit a hard limit (steps, string length, collection size)."""

    code = "expression_limit_exceeded"


class ExpressionBudgetExceeded(DefinitionError):
    """The expressions of one request (or one item of a background batch) used up its shared budget
    (chalicelib.expressions.budget); details name the definition and the expression running then."""

    code = "expression_budget_exceeded"


class ServiceUnavailable(AppError):
    status = 503
    code = "service_unavailable"


def parse_count(raw: str, path: str, *, minimum: int = 0) -> int:
    """A non-negative integer from a URL/header: ASCII digits only (int() would take '²', '1_0', 5,000 digits)."""
    import re
    if not isinstance(raw, str) or not re.fullmatch(r"[0-9]{1,9}", raw) or int(raw) < minimum:
        raise BadRequest(f"{path} must be an integer of at most 9 digits" + (f", at least {minimum}" if minimum else ""),
                         details=[{"path": path, "message": "not a valid integer"}])
    return int(raw)
