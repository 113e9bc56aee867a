"""The console in a real browser on the real local stack (issue 13).

Starts the local stack (tools.localstack: DynamoDB Local in memory, moto's server, chalice local, the
local worker, the console server on free ports), installs a small second app through the API, and
runs `console/e2e/run.mjs` (playwright-core driving Debian's /usr/bin/chromium): the service desk
creates a customer and an order with a photo, the supervisor edits, dispatches (the explanation on
screen) and finds it on the board in zh-CN, the engineer accepts it, checks in with the browser's
position, draws a part from their van, writes the report, has the customer sign on screen and
completes it; axe-core on every
page; the second app's form shows in the menu. Needs the console built (`make console`, which
`make test` runs first)."""
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
        summary = run_script("run.mjs", stack, SECOND_APP_TITLE=SECOND_APP["title"])
        assert len(summary["visited"]) >= 15
