"""Structured logs: one JSON line per request naming request id, tenant, user, route template, status
and duration — and never a record's values; an unhandled error's line has its stack and the same ids."""
from __future__ import annotations

import io
import json
import logging

import pytest

from chalicelib import logs

FORM = {"title": "Asset", "fields": [{"name": "owner_name", "type": "text"}, {"name": "serial", "type": "text"}],
        "permissions": {"create": ["admin"], "read": ["admin"], "update": ["admin"]}}


@pytest.fixture
def lines():
    """What the app logger writes, parsed: its handlers are Chalice's stdout handler with our formatter."""
    from app import app
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    level = app.log.level
    app.log.addHandler(handler)
    app.log.setLevel(logging.INFO)
    parsed = lambda: [json.loads(line) for line in stream.getvalue().splitlines()]  # noqa: E731 — every line is JSON
    yield parsed
    app.log.removeHandler(handler)
    app.log.setLevel(level)


def test_each_request_is_one_json_line_with_who_and_what_and_no_values(api, lines):
    assert api.call("POST", "/definitions/form/asset/versions", body=FORM).status_code == 201
    created = api.call("POST", "/forms/asset/records", user="ann", roles=["admin"],
                       body={"data": {"owner_name": "Zhou Hui-min", "serial": "SN-4711-SECRET"}})
    assert created.status_code == 201
    api.call("GET", f"/forms/asset/records/{created.json['id']}", user="ann", roles=["admin"])
    api.call("GET", "/forms/asset/records/01NOTAREALRECORDID000000", user="ann", roles=["admin"])
    requests = [line for line in lines() if line["message"] == "request"]
    by_route = {(r["method"], r["route"], r["status"]): r for r in requests}
    create = by_route[("POST", "/forms/{form}/records", 201)]
    assert create["tenant"] == "demo" and create["user"] == "ann" and create["level"] == "INFO"
    assert isinstance(create["duration_ms"], (int, float)) and create["duration_ms"] >= 0
    assert create["logger"] == "aftersales.api" and create["time"].endswith("Z")
    assert "request_id" in create
    assert ("GET", "/forms/{form}/records/{record_id}", 200) in by_route and ("GET", "/forms/{form}/records/{record_id}", 404) in by_route
    everything = json.dumps(lines())
    assert "SN-4711-SECRET" not in everything and "Zhou Hui-min" not in everything  # no record values
    assert created.json["id"] not in json.dumps(requests)  # the route template, not the path with its ids


def test_a_public_route_logs_without_a_caller_and_an_unhandled_error_keeps_its_stack(api, lines, monkeypatch):
    api.call("GET", "/health", user=None)
    health = [line for line in lines() if line.get("route") == "/health"]
    assert health and health[0]["status"] == 200 and "tenant" not in health[0] and "user" not in health[0]

    from chalicelib.services import navigation

    def broken(*_args, **_kwargs):
        raise KeyError("boom")
    monkeypatch.setattr(navigation, "navigation", broken)
    assert api.call("GET", "/navigation", user="ann", roles=["admin"]).status_code == 500
    failed = [line for line in lines() if line.get("route") == "/navigation"]
    error = next(line for line in failed if line["level"] == "ERROR")
    assert error["error"] == "KeyError" and "Traceback" in error["stack"] and error["user"] == "ann"
    done = next(line for line in failed if line["message"] == "request")
    assert done["status"] == 500 and done.get("request_id") == error.get("request_id")


def test_a_handler_run_logs_its_name_and_duration(lines):
    from chalicelib.api.common import handler

    @handler
    def tidy_up(event):
        logging.getLogger("aftersales.test").warning("tidied %d", 3)
        return {"done": 3}

    class Event:
        class context:
            aws_request_id = "inv-123"
    assert tidy_up(Event()) == {"done": 3}
    mine = [line for line in lines() if line.get("handler") == "tidy_up"]
    assert [m["message"] for m in mine] == ["tidied 3", "handler"]
    assert all(m["request_id"] == "inv-123" for m in mine) and "duration_ms" in mine[1]
