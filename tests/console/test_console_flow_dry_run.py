"""The workflow designer's dry run in a real browser on the real local stack (tools.localstack; Debian's
chromium driven by `console/e2e/flow_dry_run.mjs`): a shipped work order is made through the API (in
Review, assigned to the north supervisor). The admin opens the work_order workflow in the designer and
dry-runs actions on that order: `auto_dispatch` shows the path through AutoDispatch to AwaitAcceptance,
the engineer it would assign and his task; `assign` without an engineer shows the problem at the field;
a draft change (automatic dispatch → ManualDispatch) is followed; en and zh-CN, axe-clean. The API then
shows that nothing was written: the order's version, state, data and history, the engineer's inbox and
the workflow's versions are as they were. Needs the console built (CONSOLE_DIST or console/dist)."""
from __future__ import annotations

import pytest

from tools import localstack

from .conftest import run_script

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]


def test_an_admin_dry_runs_actions_on_a_work_order_and_nothing_is_written(tmp_path, browser_ready):
    with localstack.running(tmp_path) as stack:
        call = lambda method, path, user, body=None: localstack.call(stack, method, path, user, body)  # noqa: E731
        customer = call("POST", "/forms/customer/records", "agent.li", {"data": {"name": "Riverside Mall", "phone": "13800138000", "region": "north"}})
        order = call("POST", "/forms/work_order/records", "agent.li", {"data": {
            "customer": customer["id"], "fault_description": "The escalator heating trips", "region": "north",
            "product_line": "hvac", "priority": "high", "service_address": "9 Riverside Road, Shanghai"}})
        assert order["workflow"]["state"] == "Review" and order["workflow"]["assignees"] == ["user:sup.north"]
        path = f"/forms/work_order/records/{order['id']}"
        before = call("GET", path, "admin")
        history = call("GET", f"{path}/history", "admin")["items"]
        versions = call("GET", "/definitions/workflow/work_order", "admin")

        summary = run_script("flow_dry_run.mjs", stack, ORDER_ID=order["id"], ORDER_NUMBER=order["number"])
        assert summary["actor"] == "sup.north" and len(summary["path"]) == 3, summary
        assert any("eng.zhang" in t for t in summary["tasks"]) and "required" in summary["problem"], summary
        assert len(summary["draft_path"]) == 2 and "ManualDispatch" in summary["draft_path"][1], summary

        after = call("GET", path, "admin")
        assert after == before  # same version, state, data, timers
        assert after["workflow"]["state"] == "Review" and after["data"].get("assigned_engineer") is None
        assert call("GET", f"{path}/history", "admin")["items"] == history
        assert call("GET", "/tasks", "eng.zhang")["items"] == []
        assert call("GET", "/definitions/workflow/work_order", "admin") == versions  # the draft was not saved
