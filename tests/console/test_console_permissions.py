"""The permissions designer in a real browser on the real local stack (tools.localstack; Debian's chromium
driven by `console/e2e/permissions.mjs`): the admin grants the manager Update on the customer form, gives
Read role by role instead of to every member, hides E-mail from the engineer, types the manager's row rule
with a typo (told at the input), then with $id (which the draft's check refuses, told at the same
input), fixes it, reads the summary, checks and saves; en and zh-CN, axe-clean.
The API then holds what the page did, and the affected users feel it: the manager may now change a
customer of the north (and no longer sees one of the south), the engineer no longer sees its e-mail.
Needs the console built (CONSOLE_DIST or console/dist)."""
from __future__ import annotations

import urllib.error

import pytest

from tools import localstack

from .conftest import run_script

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]


def test_an_admin_edits_the_permissions_grid_and_the_affected_users_feel_it(tmp_path, browser_ready):
    with localstack.running(tmp_path) as stack:
        call = lambda method, path, user, body=None: localstack.call(stack, method, path, user, body)  # noqa: E731
        north = call("POST", "/forms/customer/records", "agent.li", {"data": {
            "name": "Harbour Hotel", "phone": "13800138000", "region": "north", "email": "desk@harbour.example"}})
        south = call("POST", "/forms/customer/records", "agent.li", {"data": {
            "name": "Pearl Mall", "phone": "13900139000", "region": "south", "email": "ops@pearl.example"}})
        assert call("GET", f"/forms/customer/records/{north['id']}", "eng.zhang")["data"]["email"] == "desk@harbour.example"
        with pytest.raises(urllib.error.HTTPError) as refused:  # the manager may not change customers yet
            call("PATCH", f"/forms/customer/records/{north['id']}", "mgr.zhao", {"version": north["version"], "data": {"contact_name": "Ms Wu"}})
        assert refused.value.code == 403
        before = call("GET", "/definitions/form/customer", "admin")

        summary = run_script("permissions.mjs", stack)
        assert "region" in summary["rule_problem"], summary  # the typo, told as it was typed
        assert "$id" in summary["check_problem"], summary  # the draft's check, at the rule it concerns
        assert summary["seconds"] < 60, summary

        head = call("GET", "/definitions/form/customer", "admin")
        assert head["published"] == head["latest"] == before["published"] + 1 == summary["version"]
        published = call("GET", f"/definitions/form/customer/versions/{head['published']}", "admin")["definition"]
        old = call("GET", f"/definitions/form/customer/versions/{before['published']}", "admin")["definition"]
        perms = published["permissions"]
        assert perms["update"] == ["agent", "supervisor", "manager"]
        assert sorted(perms["read"]) == ["agent", "engineer", "manager", "supervisor"]
        assert perms["fields"] == {"engineer": {"hidden": ["email"]}}
        assert perms["rows"] == {"manager": "region == 'north'"}
        assert {k: v for k, v in published.items() if k != "permissions"} == {k: v for k, v in old.items() if k != "permissions"}
        assert {k: v for k, v in perms.items() if k not in ("update", "read", "fields", "rows")} == \
            {k: v for k, v in old["permissions"].items() if k not in ("update", "read")}

        # the manager may now change a customer their rule admits; one it does not is not there for them
        changed = call("PATCH", f"/forms/customer/records/{north['id']}", "mgr.zhao", {"version": north["version"], "data": {"contact_name": "Ms Wu"}})
        assert changed["data"]["contact_name"] == "Ms Wu"
        with pytest.raises(urllib.error.HTTPError) as unseen:
            call("GET", f"/forms/customer/records/{south['id']}", "mgr.zhao")
        assert unseen.value.code == 404
        # the engineer no longer sees the e-mail; the agent still does
        seen = call("GET", f"/forms/customer/records/{north['id']}", "eng.zhang")["data"]
        assert "email" not in seen and seen["name"] == "Harbour Hotel"
        assert call("GET", f"/forms/customer/records/{north['id']}", "agent.li")["data"]["email"] == "desk@harbour.example"
