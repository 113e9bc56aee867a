"""The console in a real browser on the real local stack (issue 13).

Starts the local stack (tools.localstack: DynamoDB Local in memory, moto's server, chalice local, the
local worker, the console server on free ports), installs a small second app through the API, stocks
the engineer's van, and runs `console/e2e/run.mjs` (playwright-core driving Debian's /usr/bin/chromium)
twice, every role's language swapped between the runs: the service desk creates a customer, the
customer's product (its warranty shown when the order picks it) and an order with a photo; the
supervisor edits, dispatches (the explanation on screen), finds it on the board and previews a batch
dispatch; the engineer accepts, checks in with the browser's position, draws a part from the van,
writes the report, has the customer sign on screen and completes; the customer opens the survey mail
in the local mail inbox and answers it (the order closes); the manager sees the dashboard's numbers
move by that one order and drills down to it. axe-core on every page; the second app's form shows in
the menu. Needs the console built (`make console`, which `make test` runs first)."""
from __future__ import annotations

import pytest

from tools import localstack

from .conftest import run_script

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

SECOND_APP = {"title": "Asset inspection", "fields": [{"name": "asset_tag", "type": "text", "label": "Asset tag", "required": True},
                                                    {"name": "passed", "type": "checkbox", "label": "Passed"}],
              "permissions": {"create": ["agent"], "read": ["*"], "update": ["agent"]}}


def test_the_shipped_flow_through_the_console(tmp_path, browser_ready):
    with localstack.running(tmp_path) as stack:
        # a small second app, installed through the API: it must appear with no console change
        localstack.call(stack, "POST", "/definitions/form/asset_inspection/versions", "admin", SECOND_APP)
        # stock in eng.zhang's van (the demo data has none yet): a part, the van, its keeper, a receipt
        part = localstack.call(stack, "POST", "/forms/spare_part/records", "sup.north",
                               {"data": {"part_no": "VLV-1", "name": "Expansion valve", "unit_price": 120}})
        van = localstack.call(stack, "POST", "/forms/warehouse/records", "sup.north",
                              {"data": {"code": "VAN-ZHANG", "name": "Zhang's van", "kind": "van", "region": "north", "keeper": "eng.zhang"}})
        engineer = localstack.call(stack, "GET", "/forms/engineer/records?filter.user=eng.zhang", "sup.north")["items"][0]
        localstack.call(stack, "PATCH", f"/forms/engineer/records/{engineer['id']}", "sup.north",
                        {"version": engineer["version"], "data": {"van_warehouse": van["id"]}})
        localstack.call(stack, "POST", "/inventory/movements", "sup.north",
                        {"kind": "receipt", "warehouse": van["id"], "part": part["id"], "quantity": 5})
        # the same order's life twice, every role's language swapped: each role works in zh-CN and in en
        walked = []
        for walk in ("a", "b"):
            summary = run_script("run.mjs", stack, SECOND_APP_TITLE=SECOND_APP["title"], WALK=walk)
            assert len(summary["visited"]) >= 30
            # the manager's numbers moved by this one order: closed in North, one more survey rating
            assert summary["after"]["closed_north"] == summary["before"]["closed_north"] + 1
            assert summary["after"]["ratings"] == summary["before"]["ratings"] + 1
            walked.append(summary["languages"])
        assert all({w[role] for w in walked} == {"en", "zh-CN"} for role in walked[0]), walked
