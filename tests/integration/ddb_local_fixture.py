"""pytest plugin: a real DynamoDB Local for the integration tests.

List it in conftest.py as `pytest_plugins = ["tests.integration.ddb_local_fixture"]` and ask for
`ddb_local_endpoint` ('http://127.0.0.1:<port>'). One in-memory instance serves the whole session;
under pytest-xdist each worker starts its own on its own free port, so workers never share tables.

Without Java or the npm package the tests are skipped, except when env CI or REQUIRE_DDB_LOCAL
is set: there a missing database must fail the run, not pass it silently.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `tools` lives at the repo root, beside `tests`
    sys.path.insert(0, str(ROOT))

from tools import ddb_local  # noqa: E402


def _required() -> bool:
    return any(
        os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")
        for name in ("CI", "REQUIRE_DDB_LOCAL")
    )


@pytest.fixture(scope="session")
def ddb_local_endpoint():
    server = ddb_local.DynamoDBLocal()
    try:
        server.start()
    except ddb_local.DynamoDBLocalUnavailable as exc:
        reason = f"DynamoDB Local unavailable: {exc} (`make test` installs Java and runs npm ci)"
        if _required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        yield server.endpoint
    finally:
        server.stop()
