"""Events on DynamoDB Local: the same event delivered by four consumers at once moves the waiting
record once; the others find it moved (a lost race is a Conflict SQS retries, then a duplicate)."""
import pytest

from chalicelib.services import records, workflow
from chalicelib.services.caller import Caller

from ..api.test_workflow_events import FLOW, REPAIR
from .test_storage_races import run_parallel

pytestmark = pytest.mark.ddblocal

ADMIN = Caller(tenant="demo", user_id="admin", roles=frozenset({"admin"}))
AGENT = Caller(tenant="demo", user_id="agent.li", roles=frozenset({"agent"}))


def test_one_event_delivered_four_times_at_once_moves_the_record_once(ddblocal_backend):
    from chalicelib.services import definitions
    definitions.upload(ADMIN, "form", "repair", REPAIR, publish=True)
    definitions.upload(ADMIN, "workflow", "repair", FLOW, publish=True)
    rec, _ = records.create(AGENT, "repair", {"data": {"title": "T", "parts_request_no": "PR-1"}}, None)
    delivery = workflow.event_delivery_id("part_arrived", "PR-1", {"note": "x"}, "evt-1")

    def deliver(i):
        for _ in range(5):  # SQS redelivers a message whose handler lost the race
            try:
                return workflow.deliver_event("demo", "part_arrived", "PR-1", {"note": "x"}, "admin", delivery)
            except Exception as exc:  # noqa: BLE001 - Conflict: another consumer moved it first
                if getattr(exc, "code", None) not in ("version_conflict", "transaction_conflict"):
                    raise
        raise AssertionError("never settled")

    outcomes = run_parallel(deliver, 4)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    answers = [o for _, o in outcomes]
    assert sum(bool(a["delivered"]) for a in answers) == 1 and sum(a["duplicate"] for a in answers) == 3
    final = records.get(AGENT, "repair", rec["id"])
    assert final["version"] == 2 and final["workflow"]["state"] == "Repair" and final["data"]["parts_note"] == "x"
    entries = workflow.history(AGENT, "repair", rec["id"], None)["items"]
    assert [e["kind"] for e in entries] == ["create", "event"]
