"""Benchmark: what checking every request against the member registry costs (issue 12, Identity).

Runs GET /forms/work_order/records as the demo tenant's members through the Chalice test client on
DynamoDB Local, with the request metered (bench.meter), three ways side by side in one run:

- registry off: the token's claims only (what the API did before);
- registry on, as deployed: the tenant's roster cached per container for MEMBER_CACHE_SECONDS (30);
  simulated time advances per request at a given tenant request rate, so the cache ages as it would;
- registry on, no cache (MEMBER_CACHE_SECONDS=0): the worst case, one roster read per request.

Prints DynamoDB requests and read units per request for each. The figure the issue asks for is the
amortised extra GetItem per request: 1 / (requests a container serves for the tenant in 30 s).
Usage: python -m bench.identity [--n 300] [--rates 0.5,2,10,50]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--rates", default="0.5,2,10,50", help="requests per second of one tenant on one container")
    args = parser.parse_args()
    from bench.run import demo_stack
    with demo_stack():
        from chalice.test import Client

        from app import app
        from bench.meter import metered
        from chalicelib.auth import issue_local_token
        from chalicelib.services import identity

        users = [("agent.li", ["agent"]), ("sup.north", ["supervisor"]), ("mgr.zhao", ["manager"]), ("admin", ["admin"])]
        tokens = [issue_local_token("demo", u, r) for u, r in users]
        clock = {"now": 0.0}
        identity.time.monotonic = lambda: clock["now"]  # simulated time: the cache ages per request rate
        real_effective = identity.effective
        rows = []
        with Client(app) as client, metered() as meter:
            def run(label: str, rate: float | None, registry: bool) -> None:
                import chalicelib.api.common as common
                common.effective = real_effective if registry else (lambda caller: caller)
                identity.forget()
                meter.reset()
                for i in range(args.n):
                    response = client.http.get("/forms/work_order/records?limit=5",
                                               headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}"})
                    assert response.status_code == 200, response.body
                    clock["now"] += (1.0 / rate) if rate else 0.0
                roster_reads = meter.requests.get("GetItem", 0)
                rows.append({"setup": label, "requests": args.n,
                             "ddb_requests_per_request": round(sum(meter.requests.values()) / args.n, 3),
                             "getitem_per_request": round(roster_reads / args.n, 4),
                             "rcu_per_request": round(meter.read_units / args.n, 3)})

            run("registry off (token claims only)", None, registry=False)
            for rate in [float(r) for r in args.rates.split(",")]:
                run(f"registry on, cache 30 s, {rate:g} req/s", rate, registry=True)
            identity._cache_seconds = lambda: 0.0  # MEMBER_CACHE_SECONDS=0
            run("registry on, no cache (worst case)", 1.0, registry=True)
        base = rows[0]
        for row in rows:
            row["extra_ddb_requests_per_request"] = round(row["ddb_requests_per_request"] - base["ddb_requests_per_request"], 4)
        print(json.dumps(rows, indent=2))
        print("\n| setup | DynamoDB requests / request | extra vs off | RCU / request |")
        print("|---|---|---|---|")
        for row in rows:
            print(f"| {row['setup']} | {row['ddb_requests_per_request']} | {row['extra_ddb_requests_per_request']:+} | "
                  f"{row['rcu_per_request']} |")


if __name__ == "__main__":
    main()
