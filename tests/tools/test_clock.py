"""tools.clock on DynamoDB Local: due timers fired as of a chosen moment through the scheduled
handler's own function; earlier nothing happens; never against a non-local endpoint."""
import json
import os
from datetime import datetime, timedelta, timezone

import pytest

from tools import clock


def test_offsets_and_moments():
    assert clock.parse_offset("4h") == timedelta(hours=4)
    assert clock.parse_offset("1d4h30m") == timedelta(days=1, hours=4, minutes=30)
    assert clock.parse_offset("3600") == timedelta(seconds=3600)
    for bad in ("4x", "h4", "", "4h junk"):
        with pytest.raises(ValueError):
            clock.parse_offset(bad)
    base = datetime(2026, 12, 4, 10, 0, tzinfo=timezone.utc)
    assert clock.moment(offset="2h", now=base) == "2026-12-04T12:00:00.000Z"
    assert clock.moment(at="2026-12-05T18:00:00+08:00") == "2026-12-05T10:00:00.000Z"
    with pytest.raises(ValueError):
        clock.moment(at="2026-12-05T10:00:00")  # no zone


@pytest.mark.parametrize("endpoint", [None, "", "https://dynamodb.us-east-1.amazonaws.com", "http://10.0.0.5:8001"])
def test_refuses_anything_but_a_local_endpoint(endpoint, monkeypatch):
    with pytest.raises(SystemExit, match="refusing"):
        clock.require_local(endpoint)
    if endpoint is None:
        monkeypatch.delenv("DDB_ENDPOINT", raising=False)
        with pytest.raises(SystemExit, match="refusing"):
            clock.fire("2026-12-05T10:00:00.000Z")  # boto3 would talk to real DynamoDB


@pytest.fixture
def urgent_order(ddblocal_backend):
    from chalicelib.seed import install_app
    from chalicelib.services import records
    from chalicelib.services.caller import Caller
    agent = Caller(tenant="demo", user_id="agent.li", roles=frozenset({"agent"}))
    install_app("demo")
    customer, _ = records.create(agent, "customer", {"data": {"name": "ACME", "phone": "13800138000"}}, None)
    order, _ = records.create(agent, "work_order", {"data": {
        "customer": customer["id"], "fault_description": "no heat", "service_address": "1 Road", "region": "north",
        "priority": "urgent"}}, None)
    saved = dict(os.environ)
    yield agent, order
    os.environ.clear()
    os.environ.update(saved)


@pytest.mark.ddblocal
def test_fire_as_of_a_moment_escalates_only_once_due(urgent_order, capsys):
    from chalicelib.services import records, workflow
    agent, order = urgent_order
    timers = {t["name"]: t["due_at"] for t in order["workflow"]["timers"]}
    first_name, first_due = min(timers.items(), key=lambda kv: kv[1])
    due_at = datetime.fromisoformat(first_due.replace("Z", "+00:00"))
    cli = ["--endpoint", os.environ["DDB_ENDPOINT"], "--definitions-table", os.environ["DEFINITIONS_TABLE"],
           "--records-table", os.environ["RECORDS_TABLE"]]

    before = (due_at - timedelta(seconds=1)).isoformat()
    assert clock.main(["due", "--at", before, *cli]) == 0
    assert json.loads(capsys.readouterr().out)["due"] == []
    assert clock.main(["fire", "--at", before, *cli]) == 0
    assert json.loads(capsys.readouterr().out)["fired"] == 0
    assert records.get(agent, "work_order", order["id"])["version"] == order["version"]  # nothing happened

    after = (due_at + timedelta(seconds=1)).isoformat()
    assert clock.main(["due", "--at", after, *cli]) == 0
    listed = json.loads(capsys.readouterr().out)["due"]
    assert [(t["record_id"], t["name"]) for t in listed] == [(order["id"], first_name)]
    assert clock.main(["fire", "--at", after, *cli]) == 0
    assert json.loads(capsys.readouterr().out)["fired"] == 1
    now = records.get(agent, "work_order", order["id"])
    assert first_name not in {t["name"] for t in now["workflow"]["timers"]}  # consumed
    history = workflow.history(agent, "work_order", order["id"], None)["items"]
    fired = [h for h in history if h["kind"] == "timer"]
    assert [h["action"] for h in fired] == [first_name]
    assert clock.main(["fire", "--at", after, *cli]) == 0  # the same moment again: already consumed
    assert json.loads(capsys.readouterr().out)["fired"] == 0
