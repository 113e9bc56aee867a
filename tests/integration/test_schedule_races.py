"""Schedules on DynamoDB Local: four runs at once make each occurrence's records exactly once — with
the lease (the others stand aside) and without it (every lease already expired, so all four make
every record at the same time and only the records table's condition decides)."""
from collections import Counter
from datetime import date, timedelta

import pytest

from chalicelib.services import definitions, records
from chalicelib.services.caller import Caller

from .test_storage_races import run_parallel

pytestmark = pytest.mark.ddblocal

ADMIN = Caller(tenant="demo", user_id="admin", roles=frozenset({"admin"}))
PERMS = {"create": ["admin"], "read": ["admin"], "update": ["admin"], "delete": ["admin"]}
START = date.today() + timedelta(days=2)


def _setup(sources: int):
    definitions.upload(ADMIN, "form", "equipment", {"title": "E", "fields": [{"name": "code", "type": "text"}],
                                                    "storage": {"shards": 2}, "permissions": PERMS}, publish=True)
    definitions.upload(ADMIN, "form", "visit", {"title": "V", "fields": [
        {"name": "equipment", "type": "lookup", "form": "equipment"}, {"name": "due_date", "type": "date"}],
        "permissions": PERMS}, publish=True)
    for i in range(sources):
        records.create(ADMIN, "equipment", {"data": {"code": f"E{i}"}}, None)
    definitions.upload(ADMIN, "schedule", "monthly", {
        "form": "visit", "rrule": "FREQ=MONTHLY;BYMONTHDAY=1", "start": START.isoformat(), "max_catch_up": 3,
        "for_each": {"form": "equipment"}, "values": {"equipment": "$source.id", "due_date": "$occurrence"}}, publish=True)
    from chalicelib.services.schedules import view
    return view(ADMIN, "monthly", 3)["upcoming"]


def _visits():
    out, cursor = [], None
    while True:
        page = records.list_records(ADMIN, "visit", {"limit": "100", **({"cursor": cursor} if cursor else {})}, titles=False)
        out += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return out


@pytest.mark.parametrize("lease", ["kept", "always expired"])
def test_four_runs_at_once_make_every_record_once(ddblocal_backend, monkeypatch, lease):
    from chalicelib.services import schedules
    if lease == "always expired":
        monkeypatch.setattr(schedules, "LEASE_SECONDS", -3600)
        monkeypatch.setattr(schedules, "PAGE", 7)  # many pages: the runs overtake each other's progress
    upcoming = _setup(30)
    now = upcoming[2]["make_at"]  # three occurrences are due at once (a catch-up)
    import time
    outcomes = run_parallel(lambda i: schedules.run_one("demo", "monthly", now, time.monotonic() + 300), 4)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    made = _visits()
    assert len(made) == 90
    assert Counter((v["data"]["equipment"], v["data"]["due_date"]) for v in made).most_common(1)[0][1] == 1
    assert sum(o["made"] for _, o in outcomes) == 90
    if lease == "kept":
        assert sum(o["existed"] for _, o in outcomes) == 0  # the others stood aside
    view = schedules.view(ADMIN, "monthly", 3)
    assert view["made"] == 90 and [e["outcome"] for e in view["log"]] == ["made"] * 3
    assert view["upcoming"][0]["key"] > upcoming[2]["key"]
    again = schedules.run_one("demo", "monthly", now, time.monotonic() + 300)
    assert again["made"] == again["existed"] == 0
