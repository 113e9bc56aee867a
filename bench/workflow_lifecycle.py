"""Benchmark part: the shipped work-order lifecycle through the API on DynamoDB Local.

Per step: DynamoDB requests, capacity units, latency; and the whole lifecycle's write units next to
what the same number of state transitions would cost on AWS Step Functions Standard."""
from __future__ import annotations

import statistics

SFN_PRICE_PER_TRANSITION = 25 / 1_000_000  # Step Functions Standard, USD
WRU_PRICE = 0.625 / 1_000_000  # DynamoDB on-demand write request unit, us-east-1, USD
RRU_PRICE = 0.125 / 1_000_000

SIGNATURE_PNG = b"\x89PNG\r\n\x1a\n" + b"s" * 2040


def _local_s3():
    """S3 for the signature upload: moto in-process, every DynamoDB call passing through to DynamoDB Local."""
    from moto import mock_aws
    return mock_aws(config={"core": {"passthrough": {"services": ["dynamodb"]}, "mock_credentials": False}})


def run(http, token_for, meter, rounds: int) -> dict:
    with _local_s3():
        from chalicelib.storage import files
        files.reset_client()
        files.create_bucket()
        try:
            return _run(http, token_for, meter, rounds)
        finally:
            files.reset_client()


def _run(http, token_for, meter, rounds: int) -> dict:
    from bench.meter import Steps, api_caller
    call = api_caller(http, token_for)

    customer = call("post", "/forms/customer/records", "agent.li", {"data": {"name": "Bench", "phone": "13800138000"}})
    part = call("post", "/forms/spare_part/records", "sup.north", {"data": {"part_no": "P-1", "name": "Valve", "unit_price": 100}})
    warehouse = call("post", "/forms/warehouse/records", "sup.north", {"data": {"code": "W-1", "name": "Central", "kind": "central"}})
    call("post", "/inventory/movements", "sup.north", {"kind": "receipt", "warehouse": warehouse["id"], "part": part["id"],
                                                       "quantity": 100000})
    steps = Steps(meter)
    step = steps.run
    lifecycle_wcu, lifecycle_rcu, transitions = [], [], []

    for _ in range(rounds):
        total_w = total_r = 0.0
        order = step("create (starts workflow → Review)", lambda: call("post", "/forms/work_order/records", "agent.li", {"data": {
            "customer": customer["id"], "fault_description": "noise", "service_address": "1 Road", "region": "north",
            "product_line": "hvac", "priority": "high"}}))
        total_w, total_r = total_w + meter.write_units, total_r + meter.read_units
        rid, version = order["id"], order["version"]
        path = f"/forms/work_order/records/{rid}/actions"
        plan = [("auto_dispatch", "sup.north", {}), ("accept", "eng.zhang", {}), ("arrive", "eng.zhang", {}),
                ("parts", "eng.zhang", {"part": part["id"], "quantity": 1, "warehouse": warehouse["id"]}),
                ("request_parts", "eng.zhang", {}),
                ("sign", "eng.zhang", {"data": {"service_report": "fixed"}}),
                ("complete", "eng.zhang", {}),
                ("close", "agent.li", {"data": {"satisfaction_rating": 5}})]
        hops = 1
        for action, who, extra in plan:
            if action == "sign":  # the report, then the customer's signature over it: upload + confirm
                version = step("update service_report", lambda: call("patch", f"/forms/work_order/records/{rid}", who,
                                                                     {"version": version, **extra}))["version"]
                total_w, total_r = total_w + meter.write_units, total_r + meter.read_units
                version = step("signature upload + confirm", lambda: _sign(call, rid, who, version))
                total_w, total_r = total_w + meter.write_units, total_r + meter.read_units
                continue
            if action == "parts":  # parts come out of stock through the parts API (line + stock + ledger in one write)
                version = step("parts requisition", lambda: call("post", f"/forms/work_order/records/{rid}/parts", who,
                                                                 {"version": version, **extra}))["record"]["version"]
                total_w, total_r = total_w + meter.write_units, total_r + meter.read_units
                continue
            result = step(f"action {action}", lambda: call("post", f"{path}/{action}", who, {"version": version, **extra}))
            total_w, total_r = total_w + meter.write_units, total_r + meter.read_units
            version = result["record"]["version"]
            hops += len(result["transition"]["path"]) - 1
        lifecycle_wcu.append(total_w)
        lifecycle_rcu.append(total_r)
        transitions.append(hops)
    table = steps.table()
    wcu, rcu, hops = statistics.mean(lifecycle_wcu), statistics.mean(lifecycle_rcu), statistics.mean(transitions)
    return {"actions": table, "lifecycle": {
        "state_transitions": hops, "write_units": round(wcu, 1), "read_units": round(rcu, 1),
        "dynamodb_usd_per_million_orders": round((wcu * WRU_PRICE + rcu * RRU_PRICE) * 1_000_000, 2),
        "step_functions_usd_per_million_orders": round(hops * SFN_PRICE_PER_TRANSITION * 1_000_000, 2)}}


def _sign(call, rid: str, who: str, version: int) -> int:
    from chalicelib.storage import files
    path = f"/forms/work_order/records/{rid}/uploads"
    declared = call("post", path, who, {"field": "customer_signature", "content_type": "image/png", "size": len(SIGNATURE_PNG)})
    files.client().put_object(Bucket=files.bucket(), Key=declared["key"], Body=SIGNATURE_PNG, ContentType="image/png")
    return call("post", f"{path}/{declared['upload_id']}/confirm", who, {"version": version})["version"]
