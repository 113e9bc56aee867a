"""The installable console opens with no network (issue 14): the local stack (tools.localstack), one work
order assigned to the engineer through the API, then `console/e2e/offline_shell.mjs` in Debian's
chromium: the engineer signs in, the service worker takes control, the inbox and the order are opened
(their answers persisted in the engineer's IndexedDB entry); offline, a reload still draws the shell
(every document, script and stylesheet from the service worker), the inbox shows the cached order, and
the record page's lazily loaded chunk opens from the precache with the cached order; back online,
signing out leaves no entry on the device. axe-core on the offline pages. The build's precache holds
every chunk. Needs the console built (`make console`)."""
from __future__ import annotations

import re

import pytest

from tools import localstack

from .conftest import CONSOLE, run_script

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_every_chunk_of_the_build_is_precached(browser_ready):
    worker = (CONSOLE / "dist" / "sw.js").read_text()
    precached = set(re.findall(r'url:"([^"]+)"', worker))
    chunks = {f"assets/{p.name}" for p in (CONSOLE / "dist" / "assets").iterdir() if p.suffix in (".js", ".css")}
    assert chunks and chunks <= precached, sorted(chunks - precached)
    assert {"index.html", "manifest.webmanifest", "icons/icon-192.png", "icons/icon-512.png", "icons/maskable-512.png"} <= precached


def test_the_shell_and_the_inbox_open_offline(tmp_path, browser_ready):
    with localstack.running(tmp_path) as stack:
        customer = localstack.call(stack, "POST", "/forms/customer/records", "agent.li",
                                   {"data": {"name": "Harbour Hotel", "phone": "13800138000", "region": "north"}})
        order = localstack.call(stack, "POST", "/forms/work_order/records", "agent.li", {"data": {
            "customer": customer["id"], "fault_description": "Compressor makes a grinding noise", "region": "north",
            "service_address": "88 Century Avenue, Shanghai", "product_line": "hvac"}})
        localstack.call(stack, "POST", f"/forms/work_order/records/{order['id']}/actions/assign", "sup.north",
                        {"version": order["version"], "data": {"assigned_engineer": "eng.zhang"}})
        summary = run_script("offline_shell.mjs", stack)
        assert summary["rows"] >= 1
        assert summary["offline_shell"]["from_service_worker"] == summary["offline_shell"]["responses"] > 0
        assert True in summary["offline_shell"]["record_chunk"]
        assert [e["key"].endswith(".eng.zhang") for e in summary["persisted"]] == [True]  # one entry: the engineer's
        assert {v["page"] for v in summary["visited"]} == {"offline-inbox", "offline-record"}
        assert summary["after_sign_out"] == []  # signing out dropped the engineer's entry
