"""Recurring work in a real browser on the real local stack (tools.localstack, which installs the
inspection app beside the after-sales app; Debian's chromium driven by `console/e2e/schedules.mjs`):
the admin sees the monthly inspection schedule's coming occurrences, skips and restores one, is told
at the field why an earlier postponement is refused, postpones one; zh-CN; axe-clean. The API then
holds what the page showed. Needs the console built (`make console`)."""
from __future__ import annotations

import pytest

from tools import localstack

from .conftest import run_script

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]


def test_an_admin_skips_restores_and_postpones_occurrences(tmp_path, browser_ready):
    with localstack.running(tmp_path) as stack:
        summary = run_script("schedules.mjs", stack)
        view = localstack.call(stack, "GET", "/schedules/monthly_inspection", "admin")
        by_key = {o["key"].replace("T", " "): o for o in view["upcoming"]}
        assert by_key[summary["first"]]["status"] == "scheduled"  # skipped, then restored
        postponed = by_key[summary["second"]]
        assert postponed["status"] == "postponed" and postponed["at"] == summary["postponed_to"]
        assert "later than the occurrence" in summary["refused"]
