"""Structured logs: one JSON object per line, with who and what the line is about.

Every line the app logs under `aftersales.*` carries the fields bound for the current request or
handler run (`request_id`, `tenant`, `user`, `method`, `route`), and each API request ends with one
`request` line adding `status` and `duration_ms`. `route` is the route's template
(`/forms/{form}/records/{id}`), never the path with its values, and no line carries a record's data:
messages name records by id and fields by name.

CloudWatch Logs Insights reads these fields directly (`fields tenant, route, status, duration_ms |
filter status >= 500`). `LOG_LEVEL` (default INFO) sets the level; the local stage sets WARNING so
`make run` shows chalice local's own request lines and problems only.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

_bound: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("aftersales_log_fields", default={})


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line: time (ISO 8601 UTC, ms), level, logger, message, the bound
    fields, the record's `extra` fields of FIELDS, and the exception's type and stack when there is one."""

    FIELDS = ("status", "duration_ms", "handler", "count")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_bound.get(),
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
            line["stack"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


@contextlib.contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Fields every log line inside the block carries (None values are left out)."""
    token = _bound.set({**_bound.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _bound.reset(token)


def bind(**fields: Any) -> None:
    """Add fields to the current block's (e.g. the caller, once the token is checked)."""
    _bound.set({**_bound.get(), **{k: v for k, v in fields.items() if v is not None}})


def configure(app_log: logging.Logger) -> None:
    """The app logger's handlers (Chalice gives it one on stdout) write JSON lines at LOG_LEVEL."""
    for handler in app_log.handlers:
        handler.setFormatter(JsonFormatter())
    app_log.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
