"""What filterable fields past the four GSIs cost (issue 16), on DynamoDB Local, side by side in one run:
three forms alike but for their `indexes` — 4 (all GSIs), 8 (4 GSIs + 4 index entry items) and 12
(4 + 8) — each given the same creates, updates that change no indexed value, updates that change one
value of the last indexed field, and lists filtered on a GSI field and on an entry field. Prints
requests, the items each write transaction carries, and read capacity as DynamoDB Local reports it.
DynamoDB Local's write capacity for transactions is not what AWS bills, so writes are priced from the
items: on AWS a transactional write costs 2 WCU per 1 KB item (an index entry is ~0.1 KB: 2 WCU per put
or delete), and each GSI whose key changes costs about 1 WCU per index item written (2 when a value
moves: the old key's delete and the new one's put) outside the transaction.

    .venv/bin/python -m bench.indexes [--records 200]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import demo_stack  # noqa: E402

NAMES = [f"k{i}" for i in range(1, 13)]


def form(name: str, indexed: int) -> dict:
    return {"name": name, "title": name, "storage": {"shards": 4},
            "fields": [{"name": "code", "type": "text"}, {"name": "note", "type": "text"},
                       *({"name": n, "type": "text"} for n in NAMES)],
            "indexes": NAMES[:indexed],
            "permissions": {"create": ["agent"], "read": ["*"], "update": ["agent"]}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=200)
    args = parser.parse_args()
    with demo_stack():
        from bench.meter import Steps, metered
        from chalicelib.services import definitions, records
        from chalicelib.services.caller import Caller
        admin = Caller(tenant="demo", user_id="admin", roles=frozenset({"admin"}))
        agent = Caller(tenant="demo", user_id="agent.li", roles=frozenset({"agent"}))
        sizes = {"gsi4": 4, "gsi4_entries4": 8, "gsi4_entries8": 12}
        for name, n in sizes.items():
            definitions.upload(admin, "form", name, form(name, n), publish=True)
        from pynamodb.connection.base import Connection
        carried = {"items": 0, "entries": 0}
        original = Connection._make_api_call

        def counting(self, operation, kwargs):
            if operation == "TransactWriteItems":
                for op in kwargs.get("TransactItems", []):
                    body = next(iter(op.values()))
                    key = body.get("Item") or body.get("Key") or {}
                    carried["items"] += 1
                    carried["entries"] += "#IX#" in (key.get("pk") or {}).get("S", "")
            return original(self, operation, kwargs)
        Connection._make_api_call = counting
        rows = {}
        with metered() as meter:
            for name, n in sizes.items():
                steps = Steps(meter)
                counts = {}

                def run(action, fn, steps=steps, counts=counts):
                    before = dict(carried)
                    result = steps.run(action, fn)
                    c = counts.setdefault(action, [0, 0, 0])
                    c[0] += 1
                    c[1] += carried["items"] - before["items"]
                    c[2] += carried["entries"] - before["entries"]
                    return result
                made = [run("create", lambda i=i: records.create(agent, name, {"data": {
                    "code": f"c{i}", **{k: f"v{i % 10}" for k in NAMES}}}, None)[0]) for i in range(args.records)]
                for rec in made:
                    run("update_no_index_change", lambda rec=rec: records.update(agent, name, rec["id"], {
                        "version": rec["version"], "data": {"note": "x"}}, None))
                for rec in made:
                    run("update_last_index_changed", lambda rec=rec: records.update(agent, name, rec["id"], {
                        "version": rec["version"] + 1, "data": {NAMES[n - 1]: "moved"}}, None))
                for _ in range(20):
                    run("list_filter_gsi_field", lambda: records.list_records(agent, name, {"filter.k1": "v3", "limit": "20"}, titles=False))
                    run("list_filter_last_field", lambda: records.list_records(agent, name, {f"filter.{NAMES[n - 1]}": "moved", "limit": "20"}, titles=False))
                    run("list_gsi_and_last_field", lambda: records.list_records(agent, name, {"filter.k1": "v3", f"filter.{NAMES[n - 1]}": "moved", "limit": "20"}, titles=False))
                rows[name] = {r["action"]: {**{k: r[k] for k in ("requests_per_call", "rcu_per_call", "p50_ms")},
                                            "tx_items": round(counts[r["action"]][1] / counts[r["action"]][0], 2),
                                            "index_entries": round(counts[r["action"]][2] / counts[r["action"]][0], 2)}
                              for r in steps.table()}
        print(json.dumps(rows, indent=1))
        print(f"\n{'per operation':28} " + " ".join(f"{k:>32}" for k in sizes))
        for action in rows["gsi4"]:
            cells = []
            for name in sizes:
                r = rows[name][action]
                cells.append(f"{sum(r['requests_per_call'].values()):4.1f} req {r['tx_items']:4.1f} it ({r['index_entries']:3.1f} ix) {r['rcu_per_call']:5.2f}R")
            print(f"{action:28} " + " ".join(f"{c:>32}" for c in cells))
        print("\nreq = DynamoDB requests, it = items in the write transaction (ix = index entries among them), R = RCU")


if __name__ == "__main__":
    main()
