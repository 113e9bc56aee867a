"""A failed timer in a real browser on the real local stack (tools.localstack; Debian's chromium driven
by `console/e2e/incidents.mjs`): a tenant's Wait → CreateRecord step fails on the worker's schedule (the
note form refuses the title), the admin sees the incident on the record page (which timer, the field,
how often), retries one after the definition is fixed (the record moves on) and dismisses the other with
a comment (the history says so), in en and zh-CN, axe-clean. Needs the console built (`make console`)."""
from __future__ import annotations

import json
import time

import pytest

from tools import localstack

from .conftest import run_script

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]
EVERYONE = {"create": ["*"], "read": ["*"], "update": ["admin"], "delete": ["admin"]}


def _upload(stack, kind, name, body):
    localstack.call(stack, "POST", f"/definitions/{kind}/{name}/versions", "admin", body)


def _note(stack, max_length=None):
    _upload(stack, "form", "note", {"title": "Note", "permissions": EVERYONE, "fields": [
        {"name": "text", "type": "text", "required": True, **({"max_length": max_length} if max_length else {})}]})


def test_a_failed_timer_is_retried_and_dismissed_in_the_console(tmp_path, browser_ready):
    with localstack.running(tmp_path) as stack:
        _upload(stack, "form", "ticket", {"title": "Ticket", "title_field": "title", "permissions": EVERYONE,
                                          "fields": [{"name": "title", "type": "text", "required": True}]})
        _note(stack, max_length=8)
        _upload(stack, "workflow", "ticket", {"StartAt": "Pause", "States": {
            "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Log"},
            "Log": {"Type": "Action", "Steps": [{"CreateRecord": {"Form": "note", "Data": {"text": "title"}}}], "Next": "Work"},
            "Work": {"Type": "Task", "Assignee": {"Role": "admin"}, "Actions": {"done": {"Next": "End"}}},
            "End": {"Type": "Succeed"}}})
        made = [localstack.call(stack, "POST", "/forms/ticket/records", "admin", {"data": {"title": title}})["id"]
                for title in ("Broken door hinge", "Leaking window seal and frame")]
        for _ in range(60):  # the worker fires due timers every 5 s: each step fails (the title is too long)
            found = [localstack.call(stack, "GET", f"/forms/ticket/records/{rid}/incidents", "admin")["items"] for rid in made]
            if all(found):
                break
            time.sleep(1)
        assert all(len(items) == 1 and items[0]["error"]["code"] for items in found), found
        # the walk fixes the note form (20 characters: the first title fits, the second still does not)
        fixed_note = {"title": "Note", "permissions": EVERYONE, "fields": [{"name": "text", "type": "text", "required": True,
                                                                             "max_length": 20}]}
        summary = run_script("incidents.mjs", stack, FIXED=made[0], STUCK=made[1], API_URL=stack.api,
                             ADMIN_TOKEN=stack.tokens["admin"], FIXED_NOTE=json.dumps(fixed_note))
        assert summary["fixed_state"] == "Work" and summary["stuck_dismissed"]
        assert "data.text" in summary["reason"]
        stuck = localstack.call(stack, "GET", f"/forms/ticket/records/{made[1]}", "admin")
        assert stuck["workflow"]["state"] == "Pause" and stuck["workflow"]["timers"] == []
