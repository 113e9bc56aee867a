"""The whole local stack as a child process on free ports, for the browser tests and benchmarks:
`with running(folder) as stack: stack.api, stack.console, stack.tokens`. DynamoDB Local in memory,
the JWT secret and tokens in `folder`; stopped (process group) on exit."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# what the parent (pytest's conftest, a bench) may have set for in-process tests: the stack sets its own
FOREIGN = ("DDB_ENDPOINT", "S3_ENDPOINT", "AUTH_MODE", "LOCAL_JWT_SECRET", "RECORDS_TABLE", "DEFINITIONS_TABLE",
           "UPLOADS_BUCKET", "CONSOLE_ORIGIN", "SQS_ENDPOINT")


@dataclass
class Stack:
    api: str
    console: str
    tokens: dict
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, deadline: float, proc: subprocess.Popen, log: Path) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the local stack exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer:\n{log.read_text()[-3000:]}")


@contextmanager
def running(folder: Path, timeout: float = 240.0):
    folder.mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in ("PORT", "CONSOLE_PORT", "DDB_PORT", "S3_PORT")}
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN}
    env.update({k: str(v) for k, v in ports.items()})
    env.update({"DEVSTACK_DIR": str(folder), "DEVSTACK_DB": "memory", "LOCAL_SCHEDULE_SECONDS": "5"})
    log_path = folder / "devstack.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tools.devstack"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + timeout
            api, console = f"http://127.0.0.1:{ports['PORT']}", f"http://127.0.0.1:{ports['CONSOLE_PORT']}"
            _wait(f"{api}/health", deadline, proc, log_path)
            _wait(f"{console}/config.json", deadline, proc, log_path)
            yield Stack(api, console, json.loads((folder / "tokens.json").read_text()), log_path)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
            except ProcessLookupError:
                pass  # the stack had exited already (its error is the one raised)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def call(stack: Stack, method: str, path: str, user: str, body=None) -> dict:
    request = urllib.request.Request(f"{stack.api}{path}", method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {stack.tokens[user]}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")
