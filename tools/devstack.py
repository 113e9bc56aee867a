"""The local stack behind `make run`: DynamoDB Local on disk + seeded demo tenant + `chalice local`
+ the local worker (tools/localworker.py: the records stream, the schedules and the inbound SQS queue
run the app's own non-HTTP handlers, which `chalice local` does not).

    python -m tools.devstack        # Ctrl-C stops everything

Env: PORT (API, default 8000), CONSOLE_PORT (the console, default 8003), DDB_PORT (DynamoDB Local, default 8001), S3_PORT (moto's server: S3 for
attachment uploads and SQS for the integration queues, default 8002), LOCAL_SCHEDULE_SECONDS (how often
the worker runs each scheduled handler, default 15). Data lives in .local/dynamodb/, the worker's stream
positions in .local/worker-checkpoints.json and the local JWT secret in .local/jwt-secret, so a restart
keeps tables, records and tokens valid (uploaded files and queued messages are in memory: a restart
forgets them).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tools import ddb_local, localworker

ROOT = ddb_local.ROOT
LOCAL_DIR = Path(os.environ.get("DEVSTACK_DIR") or ROOT / ".local")  # tests run a stack in a scratch folder
DB_DIR = LOCAL_DIR / "dynamodb"
SECRET_FILE = LOCAL_DIR / "jwt-secret"
S3_DIR = LOCAL_DIR / "s3"  # tools.s3server: one file per object (+ its metadata and tags)
MAIL_DIR = LOCAL_DIR / "mail"  # MAIL_MODE=log: one JSON file per message; the console's /local-mail page lists them
EXAMPLE_PATH = "/me"  # shown in the example curl line: any authenticated GET route will do


class _Shutdown(Exception):
    """Raised from the SIGINT/SIGTERM handler to unwind main() into its cleanup."""


def _on_signal(signum, frame):
    raise _Shutdown(signum)


def jwt_secret() -> str:
    """The local HS256 secret: generated once, then reused so issued tokens survive a restart."""
    LOCAL_DIR.mkdir(exist_ok=True)
    if not SECRET_FILE.exists():
        # O_EXCL + mode 0600: the file is never readable by others, not even briefly.
        fd = os.open(SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
    SECRET_FILE.chmod(0o600)
    return SECRET_FILE.read_text().strip()


def stage_env(stage: str = "local") -> dict[str, str]:
    """The environment `.chalice/config.json` gives the stage (its top level, then the stage's own):
    chalice local applies it to the API by itself; the worker and the in-process seeding get it from
    here, so every process of the stack runs with the same settings (MAIL_MODE=log, the tables, ...)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {**config.get("environment_variables", {}),
            **config.get("stages", {}).get(stage, {}).get("environment_variables", {})}


def app_env(ddb_endpoint: str, s3_endpoint: str | None = None) -> dict[str, str]:
    """What the app (and the seeding) needs to talk to the local stack."""
    return {
        "DDB_ENDPOINT": ddb_endpoint,
        **({"S3_ENDPOINT": s3_endpoint} if s3_endpoint else {}),
        "AWS_DEFAULT_REGION": ddb_local.REGION,
        "AWS_ACCESS_KEY_ID": "local",  # DynamoDB Local accepts any credentials
        "AWS_SECRET_ACCESS_KEY": "local",
        "AUTH_MODE": "local",
        "LOCAL_JWT_SECRET": jwt_secret(),
    }


def start_s3(port: int, data_dir: Path | None = S3_DIR) -> subprocess.Popen:
    """moto's server as the local S3 (presigned POST/GET, HEAD) and SQS; the bucket is created by the caller.
    With `data_dir` (the default, .local/s3) S3 objects are kept on disk by tools.s3server and survive a
    restart; None keeps everything in memory (the browser tests)."""
    command = [sys.executable, "-m", "tools.s3server", "-H", "127.0.0.1", "-p", str(port)]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    proc = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"devstack: the S3 server (moto) exited with code {proc.returncode} (is port {port} free?)")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.2)
    _stop_process_group(proc)
    raise SystemExit(f"devstack: the S3 server (moto) did not answer on port {port}")


def worker_command() -> list[str]:
    return [sys.executable, "-m", "tools.localworker", "--checkpoint", str(LOCAL_DIR / "worker-checkpoints.json")]


def chalice_command(port: int) -> list[str]:
    # chalice has no `python -m chalice`; its console script sits next to the venv's python.
    script = Path(sys.executable).with_name("chalice")
    exe = str(script) if script.exists() else shutil.which("chalice")
    if not exe:
        raise SystemExit("devstack: the `chalice` command is missing; run `make run` to build the venv")
    return [exe, "local", "--stage", "local", "--no-autoreload", "--port", str(port)]


def print_banner(base_url: str, users: list[dict], console_url: str | None = None) -> None:
    print(f"\nAPI: {base_url}")
    if console_url:
        built = (ROOT / "console" / "dist" / "index.html").exists()
        print(f"Console: {console_url}" + ("" if built else "  (not built: run `make console`)"))
        print(f"Mail: {console_url}/local-mail  (what the platform sent: surveys, notifications; nothing leaves the machine)")
    print()
    for user in users:
        print(f"  {user['user']}  roles={','.join(user['roles'])}\n    token: {user['token']}")
    if users:
        print("\nExample:\n  curl -s -H 'Content-Type: application/json' "
              f"-H 'Authorization: Bearer {users[0]['token']}' {base_url}{EXAMPLE_PATH}")
    print("\nThe local worker runs the stream, schedules and inbound queue handlers (lines `worker ...`)."
          "\nCtrl-C stops chalice, the worker, moto's server and DynamoDB Local.\n", flush=True)


def _stop_process_group(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    # SIGTERM first: chalice just ends (SIGINT would print click's "Aborted!")
    ddb_local.stop_process_group(proc, timeout)


def main() -> int:
    # Explicit handlers: Ctrl-C reaches only this process group (children run in their own),
    # and a shell starts background jobs with SIGINT ignored, which Python would keep.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _on_signal)

    api_port = int(os.environ.get("PORT", "8000"))
    console_port = int(os.environ.get("CONSOLE_PORT", "8003"))
    ddb_port = int(os.environ.get("DDB_PORT", "8001"))
    s3_port = int(os.environ.get("S3_PORT", "8002"))
    in_memory = os.environ.get("DEVSTACK_DB") == "memory"  # the browser tests: nothing kept
    ddb = ddb_local.DynamoDBLocal(port=ddb_port, db_path=None if in_memory else DB_DIR)
    chalice = worker = s3 = console = None
    try:
        ddb_local.ensure_java()
        ddb_local.ensure_installed()
        print(f"devstack: DynamoDB Local on {ddb_port}, data " + ("in memory" if in_memory else f"in {DB_DIR}/"), flush=True)
        ddb.start()
        s3 = start_s3(s3_port, None if in_memory else S3_DIR)
        print(f"devstack: S3 and SQS (moto server) on {s3_port}, S3 objects "
              + ("in memory" if in_memory else f"in {S3_DIR}/"), flush=True)

        env = {**stage_env("local"), **app_env(ddb.endpoint, f"http://127.0.0.1:{s3_port}")}
        # Survey links point at this API's port; mail is kept in a folder the console's mail page reads.
        env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{api_port}"
        env["MAIL_DIR"] = str(MAIL_DIR)
        # The integration queues (inbound + DLQ, FIFO events, webhook DLQ) on the same moto server; their
        # URLs reach chalice local and the worker through the environment, like DDB_ENDPOINT.
        env.update(localworker.create_queues(f"http://127.0.0.1:{s3_port}", ddb_local.REGION))
        env["CONSOLE_ORIGIN"] = f"http://127.0.0.1:{console_port}"  # CORS: the API answers the console only
        os.environ.update(env)  # the in-process seeding reads the same settings as the app
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        # Imported only now: the app's modules may read the environment at import time.
        from chalicelib.seed import bootstrap_local

        users = bootstrap_local()
        from chalicelib.storage import files
        files.create_bucket()
        # Tokens also go to a file, so scripts and the README's curl examples can pick them up.
        tokens_file = LOCAL_DIR / "tokens.json"
        tokens_file.write_text(json.dumps({u["user"]: u["token"] for u in users}, indent=2))
        tokens_file.chmod(0o600)
        print(f"devstack: SQS queues: inbound {env['INBOUND_QUEUE_URL']}, events {env['EVENTS_QUEUE_URL']}",
              flush=True)
        from tools import console_server
        console = console_server.start(console_port, f"http://127.0.0.1:{api_port}", users, f"http://127.0.0.1:{s3_port}",
                                       mail_dir=MAIL_DIR)
        print_banner(f"http://127.0.0.1:{api_port}", users, f"http://127.0.0.1:{console_port}")

        chalice = subprocess.Popen(
            chalice_command(api_port), cwd=ROOT, env=dict(os.environ), stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        worker = subprocess.Popen(worker_command(), cwd=ROOT, env=dict(os.environ), stdin=subprocess.DEVNULL,
                                  start_new_session=True)
        while True:  # neither ends by itself when all is well: if one does, stop the stack
            for name, proc in (("chalice", chalice), ("the local worker", worker)):
                code = proc.poll()
                if code is not None:
                    print(f"devstack: {name} exited with code {code}", file=sys.stderr)
                    return code or 1
            time.sleep(0.5)
    except _Shutdown:
        print("\ndevstack: stopping ...", flush=True)
        return 0
    except (ddb_local.DynamoDBLocalUnavailable, subprocess.CalledProcessError) as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C must not interrupt the cleanup half-way and orphan a server.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        if worker is not None:  # first: it still reads DynamoDB Local and moto while it finishes a batch
            _stop_process_group(worker)
        if chalice is not None:
            _stop_process_group(chalice)
        if s3 is not None:
            _stop_process_group(s3)
        if console is not None:
            console.shutdown()
        ddb.stop()


if __name__ == "__main__":
    sys.exit(main())
