"""The manager's dashboards in a real browser on the real local stack (tools.localstack; Debian's chromium
driven by `console/e2e/dashboards.mjs`): work orders created through the API, then the service manager
opens both dashboards from the sidebar in a browser west of UTC — every chart drawn as SVG under the
console's CSP, axe-core clean, the weekly backlog axis showing the Mondays of the orders' weeks (no day
lost to the time zone), a bar opening the work-order list filtered by its region, the CSV export
downloading the report through the token-carrying fetch. Needs the console built (`make console`)."""
from __future__ import annotations

import pytest

from tools import localstack

from .conftest import run_script

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

ORDERS = [("north", "urgent", "2026-10-05T02:00:00Z"), ("north", "normal", "2026-10-06T20:00:00Z"),
          ("south", "high", "2026-10-12T01:00:00Z")]


def test_dashboards_through_the_console(tmp_path, browser_ready):
    with localstack.running(tmp_path) as stack:
        customer = localstack.call(stack, "POST", "/forms/customer/records", "agent.li",
                                   {"data": {"name": "ACME", "phone": "13800138000", "region": "north"}})
        for region, priority, reported in ORDERS:
            localstack.call(stack, "POST", "/forms/work_order/records", "agent.li", {"data": {
                "customer": customer["id"], "fault_description": "Compressor makes a grinding noise", "region": region,
                "service_address": "88 Century Avenue, Shanghai", "product_line": "hvac", "priority": priority,
                "reported_at": reported}})
        summary = run_script("dashboards.mjs", stack)
        assert {k: v["charts"] for k, v in summary["charts"].items()} == {"service_overview": 6, "engineers_and_parts": 4}
        # open orders only (no completed ones): these charts have rows and are drawn; the others say there are none
        assert set(summary["charts"]["service_overview"]["drawn"]) == {
            "Orders per region and status", "Open orders by week reported", "Orders by status"}
        # Shanghai weeks of 2026-10-05/06 (Mon/Tue) and 2026-10-12: Mondays 10-05 and 10-12, in a Los Angeles browser
        assert summary["backlog_axis"] == ["2026-10-05", "2026-10-12"]
        assert summary["drill_down"].startswith("?filter.region=")
        assert summary["csv_filename"] == "orders_by_region_status.csv"
