"""The report and dashboard designers in a real browser on the real local stack (tools.localstack; Debian's
chromium driven by `console/e2e/report_designer.mjs`): four work orders are made through the API; the admin
builds the report orders_by_priority (dimension priority, measure count) and sees its live preview count
them, is told at the control what the server refuses, saves; builds the dashboard ops with a bar chart of
it placed on the grid, saves, and sees it drawn on /dashboards/ops; en and zh-CN, axe-clean. The API then
holds what the page did. Needs the console built (CONSOLE_DIST or console/dist)."""
from __future__ import annotations

import time
import urllib.error
from decimal import Decimal

import pytest

from tools import localstack

from .conftest import run_script

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

PRIORITIES = ("urgent", "urgent", "high", "normal")


def test_an_admin_designs_a_report_and_a_dashboard(tmp_path, browser_ready):
    with localstack.running(tmp_path) as stack:
        call = lambda method, path, user, body=None: localstack.call(stack, method, path, user, body)  # noqa: E731
        customer = call("POST", "/forms/customer/records", "agent.li", {"data": {"name": "Harbour Hotel", "phone": "13800138000", "region": "north"}})
        for i, priority in enumerate(PRIORITIES):
            call("POST", "/forms/work_order/records", "agent.li", {"data": {
                "customer": customer["id"], "fault_description": f"Fault {i}", "region": "north", "product_line": "hvac",
                "priority": priority, "service_address": "1 Harbour Road, Shanghai"}})
        expected = {"urgent": 2, "high": 1, "normal": 1}

        summary = run_script("report_designer.mjs", stack)
        # the preview's table counted the orders (its rows show each priority's label)
        assert sorted(summary["preview"].values()) == sorted(expected.values()), summary
        assert {k.lower() for k in summary["preview"]} == set(expected), summary
        assert "4 records" in summary["bound"], summary
        assert "region" in summary["scope_problem"] and "priorty" in summary["field_problem"], summary

        head = call("GET", "/definitions/report/orders_by_priority", "admin")
        assert head["published"] == 1
        report = call("GET", "/definitions/report/orders_by_priority/versions/1", "admin")["definition"]
        assert report["form"] == "work_order" and report["scope"] == ["region"]
        assert report["dimensions"] == [{"name": "priority", "field": "priority", "label": "Priority", "translations": {"zh-CN": {"label": "优先级"}}}]
        assert [(m["name"], m["op"]) for m in report["measures"]] == [("orders", "count")]
        for _ in range(20):  # the backfill of the new report (the stack's schedule runs it; a rebuild helps it on)
            try:
                if call("POST", "/reports/orders_by_priority/rebuild", "admin")["status"] == "done":
                    break
            except urllib.error.HTTPError:  # the stack's own schedule holds the backfill just now
                pass
            time.sleep(1)
        rows = call("GET", "/reports/orders_by_priority", "admin")["rows"]
        assert {r["priority"]: Decimal(str(r["orders"])) for r in rows} == expected

        board = call("GET", "/definitions/dashboard/ops", "admin")
        assert board["published"] == 1
        definition = call("GET", "/definitions/dashboard/ops/versions/1", "admin")["definition"]
        assert definition["title"] == "Operations" and definition["translations"] == {"zh-CN": {"title": "运营"}}
        [chart] = definition["charts"]
        assert (chart["type"], chart["report"], chart["x"], chart["y"]) == ("bar", "orders_by_priority", "priority", "orders")
        assert chart["layout"] == summary["layout"] == {"x": 2, "y": 0, "w": 14, "h": 6}
        # the dashboard page draws the designer's grid (24 columns here): 14/24 wide from 2/24 (gaps aside)
        assert abs(summary["drawn"]["width"] - 14 / 24) < 0.03 and abs(summary["drawn"]["left"] - 2 / 24) < 0.03, summary
        drawn = call("GET", "/dashboards/ops", "admin")["charts"][0]
        assert {r["priority"]: Decimal(str(r["orders"])) for r in drawn["rows"]} == expected
