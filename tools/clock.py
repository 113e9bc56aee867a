"""A clock override for the local stack's timers: fire the timers that are due as of a given moment,
so SLA deadlines, reminders and escalations can be shown and tested without waiting hours.

    python -m tools.clock fire --in 4h                     # as if it were 4 hours from now
    python -m tools.clock fire --at 2026-12-05T10:00:00Z
    python -m tools.clock due --in 1d                      # list what would fire, change nothing

It calls the very function the scheduled `fire_timers` handler runs (services.workflow.fire_due_timers)
with `now` set to that moment, against the `make run` stack's DynamoDB Local (DDB_PORT, default 8001;
the tables of the `local` stage in .chalice/config.json). Transitions, history, notifications and
mail made by the fired timers carry the chosen moment where the workflow uses `now`; the mail itself
is sent by the running worker's next `send_mail` run.

Local only, by construction: tools/ is not in the Lambda bundle, nothing in chalicelib reads a clock
override, and this tool refuses any DynamoDB endpoint that is not on this machine (without an endpoint
boto3 would talk to real DynamoDB)."""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_offset(text: str) -> timedelta:
    """'4h', '90m', '1d4h', '2w', '3600s' (also '3600') → timedelta."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+", text):
        return timedelta(seconds=int(text))
    parts = re.findall(r"(\d+)([smhdw])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not an offset: {text!r} (use e.g. 4h, 90m, 1d4h, 2w)")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))


def moment(at: str | None = None, offset: str | None = None, now: datetime | None = None) -> str:
    """The app's timestamp format (UTC, milliseconds, Z) for --at or now + --in."""
    if at:
        value = datetime.fromisoformat(at.replace("Z", "+00:00"))
        if value.tzinfo is None:
            raise ValueError("--at needs a time zone (e.g. 2026-12-05T10:00:00Z or +08:00)")
    else:
        value = (now or datetime.now(timezone.utc)) + parse_offset(offset or "0")
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def require_local(endpoint: str | None) -> str:
    host = urlparse(endpoint or "").hostname
    if host not in LOCAL_HOSTS:
        raise SystemExit(f"clock: refusing to run against {endpoint or 'AWS (no DDB_ENDPOINT)'}: "
                         "the clock override is for the local stack's DynamoDB Local only")
    return endpoint


def configure(endpoint: str | None, definitions_table: str | None = None, records_table: str | None = None) -> None:
    """The environment of the local stage (as `make run` gives its worker), pointed at `endpoint`."""
    from tools.devstack import stage_env
    env = stage_env("local")
    os.environ.update({k: v for k, v in env.items() if k not in ("DEFINITIONS_TABLE", "RECORDS_TABLE")})
    os.environ["DEFINITIONS_TABLE"] = definitions_table or env["DEFINITIONS_TABLE"]
    os.environ["RECORDS_TABLE"] = records_table or env["RECORDS_TABLE"]
    os.environ["DDB_ENDPOINT"] = require_local(endpoint)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ["AWS_DEFAULT_REGION"] = env.get("AWS_DEFAULT_REGION", "us-east-1")


def fire(now: str) -> dict:
    """Fire every timer due at `now` — the scheduled handler's body with the clock moved."""
    require_local(os.environ.get("DDB_ENDPOINT"))
    from chalicelib.services.workflow import fire_due_timers
    return fire_due_timers(now)


def due(now: str) -> list[dict]:
    """The timers that would fire at `now` (tenant, form, record, timer, due_at); nothing changes."""
    require_local(os.environ.get("DDB_ENDPOINT"))
    from chalicelib.storage import workflow as store
    out = []
    for shard in range(store.TIMER_SHARDS):
        start = None
        while True:
            items, start = store.due_timers(shard, now, 100, start)
            out += [{k: item.get(k) for k in ("tenant", "form", "record_id", "name", "due_at")} for item in items]
            if start is None:
                break
    return sorted(out, key=lambda t: t["due_at"] or "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.clock", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("fire", "due"):
        p = sub.add_parser(name, help="fire the timers due at that moment" if name == "fire" else "list them only")
        when = p.add_mutually_exclusive_group(required=True)
        when.add_argument("--at", help="an ISO 8601 moment with its zone, e.g. 2026-12-05T10:00:00Z")
        when.add_argument("--in", dest="offset", help="from now: 4h, 90m, 1d4h, 2w")
        p.add_argument("--endpoint", default=os.environ.get("DDB_ENDPOINT")
                       or f"http://127.0.0.1:{os.environ.get('DDB_PORT', '8001')}",
                       help="DynamoDB Local of the running stack (default DDB_ENDPOINT, else 127.0.0.1:$DDB_PORT|8001)")
        p.add_argument("--definitions-table", help="default: the local stage's")
        p.add_argument("--records-table", help="default: the local stage's")
    args = parser.parse_args(argv)
    try:
        now = moment(args.at, args.offset)
    except ValueError as exc:
        parser.error(str(exc))
    configure(args.endpoint, args.definitions_table, args.records_table)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)
    if args.command == "due":
        timers = due(now)
        print(json.dumps({"now": now, "due": timers}, indent=2))
    else:
        print(json.dumps({"now": now, **fire(now)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
