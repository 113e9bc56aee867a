"""DynamoDB requests of one event delivered to a waiting record (moto, warm definition cache): the
first delivery, a redelivery of it, and a key nothing waits for.

    .venv/bin/python -m bench.events
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPAIR = {"title": "Repair", "fields": [{"name": "title", "type": "text", "required": True},
                                       {"name": "parts_request_no", "type": "text"}, {"name": "parts_note", "type": "text"}],
          "permissions": {"create": ["agent"], "read": ["agent"], "update": ["agent"], "delete": ["agent"]}}
FLOW = {"StartAt": "WaitingForParts", "States": {
    "WaitingForParts": {"Type": "Wait", "Seconds": 86400, "Next": "Repair", "Events": {
        "part_arrived": {"Key": "parts_request_no", "Next": "Repair", "SetFields": {"parts_note": "$event.note"}}}},
    "Repair": {"Type": "Task", "Assignee": {"Role": "agent"}, "Actions": {"done": {"Next": "Done"}}},
    "Done": {"Type": "Succeed"}}}


def main() -> None:
    os.environ.update({"AUTH_MODE": "local", "LOCAL_JWT_SECRET": "bench-" + "x" * 40, "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "DEFINITION_CACHE_SECONDS": "60", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"})
    os.environ.pop("DDB_ENDPOINT", None)
    from moto import mock_aws

    from bench.meter import metered
    from chalicelib.config import reset_settings
    from chalicelib.services import definitions, records, workflow
    from chalicelib.services.caller import Caller
    from chalicelib.storage import create_tables
    admin = Caller(tenant="demo", user_id="admin", roles=frozenset({"admin"}))
    with mock_aws():
        os.environ["DEFINITIONS_TABLE"], os.environ["RECORDS_TABLE"] = "bench-defs", "bench-recs"
        reset_settings()
        create_tables()
        definitions.upload(admin, "form", "repair", REPAIR, publish=True)
        definitions.upload(admin, "workflow", "repair", FLOW, publish=True)
        for i in range(3):
            records.create(admin, "repair", {"data": {"title": "t", "parts_request_no": f"PR-{i}"}}, None)
        workflow.deliver_event("demo", "part_arrived", "PR-0", {"note": "w"}, "admin", "warm-up")
        print("event delivery (moto, warm caches):")
        for label, key, delivery in (("first delivery", "PR-1", "d1"), ("redelivery", "PR-1", "d1"),
                                     ("unknown key", "PR-9", "d9")):
            with metered() as meter:
                try:
                    outcome = workflow.deliver_event("demo", "part_arrived", key, {"note": "x"}, "admin", delivery)
                except Exception as exc:  # noqa: BLE001 - the unknown key's NotFound is the figure measured
                    outcome = {"error": getattr(exc, "code", type(exc).__name__)}
            print(f"  {label:15s} {sum(meter.requests.values())} requests {dict(sorted(meter.requests.items()))}  {outcome}")


if __name__ == "__main__":
    main()
