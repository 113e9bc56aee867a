"""Benchmark part: the shipped work-order lifecycle through the API on DynamoDB Local.

Per step: DynamoDB requests, capacity units, latency; and the whole lifecycle's write units next to
what the same number of state transitions would cost on AWS Step Functions Standard."""
from __future__ import annotations

import json
import statistics
import time

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
    def call(method, path, who, body=None):
        response = getattr(http, method)(path, headers={"Content-Type": "application/json",
                                                         "Authorization": f"Bearer {token_for(who)}"},
                                         body=json.dumps(body) if body is not None else None)
        assert response.status_code in (200, 201), (path, response.body)
        return json.loads(response.body)

    customer = call("post", "/forms/customer/records", "agent.li", {"data": {"name": "Bench", "phone": "13800138000"}})
    part = call("post", "/forms/spare_part/records", "sup.north", {"data": {"part_no": "P-1", "name": "Valve", "unit_price": 100}})
    warehouse = call("post", "/forms/warehouse/records", "sup.north", {"data": {"code": "W-1", "name": "Central", "kind": "central"}})
    call("post", "/inventory/movements", "sup.north", {"kind": "receipt", "warehouse": warehouse["id"], "part": part["id"],
                                                       "quantity": 100000})
    steps: dict[str, dict] = {}
    lifecycle_wcu, lifecycle_rcu, transitions = [], [], []

    def step(name, fn):
        meter.reset()
        start = time.perf_counter()
        result = fn()
        elapsed = (time.perf_counter() - start) * 1000
        s = steps.setdefault(name, {"requests": {}, "rcu": 0.0, "wcu": 0.0, "ms": [], "n": 0})
        for op, count in meter.requests.items():
            s["requests"][op] = s["requests"].get(op, 0) + count
        s["rcu"] += meter.read_units
        s["wcu"] += meter.write_units
        s["ms"].append(elapsed)
        s["n"] += 1
        return result

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
    table = []
    for name, s in steps.items():
        table.append({"action": name, "n": s["n"],
                      "requests_per_call": {op: round(c / s["n"], 2) for op, c in sorted(s["requests"].items())},
                      "rcu_per_call": round(s["rcu"] / s["n"], 2), "wcu_per_call": round(s["wcu"] / s["n"], 2),
                      "p50_ms": round(statistics.median(s["ms"]), 2), "p95_ms": round(sorted(s["ms"])[int(0.95 * len(s["ms"])) - 1], 2)})
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
