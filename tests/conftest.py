"""Shared fixtures. The environment is set before the app is imported: the app reads its stage
settings from environment variables, exactly as in Lambda."""
from __future__ import annotations

import contextlib
import json
import os
import uuid

import pytest

os.environ.update({
    "AUTH_MODE": "local",
    "LOCAL_JWT_SECRET": "test-secret-" + "x" * 40,
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    # moto's in-process DynamoDB Streams need this with botocore 1.44 (see ../shared/AWS-NOTES.md).
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "DEFINITION_CACHE_SECONDS": "0",
    "UPLOADS_BUCKET": "aftersales-test-uploads",
})
os.environ.pop("S3_ENDPOINT", None)
os.environ.pop("DDB_ENDPOINT", None)

pytest_plugins = ["tests.integration.ddb_local_fixture"]

from chalicelib.config import reset_settings  # noqa: E402


def _reset_process_state() -> None:
    from chalicelib.api import common
    from chalicelib.services import definitions
    from chalicelib.services import workflow_context as workflow

    workflow._lookup_cache.clear()
    reset_settings()
    from chalicelib.services import identity
    identity.forget()
    definitions.clear_caches()
    common._configured = False
    from chalicelib.storage import files
    files.reset_client()  # an S3 client made under one moto mock must not outlive it


@contextlib.contextmanager
def moto_tables(prefix: str = "aftersales-test"):
    """moto in-process with this app's tables created (function or module scope alike)."""
    from moto import mock_aws

    from chalicelib.storage import create_tables

    with mock_aws():
        os.environ.pop("DDB_ENDPOINT", None)
        os.environ["DEFINITIONS_TABLE"] = f"{prefix}-definitions"
        os.environ["RECORDS_TABLE"] = f"{prefix}-records"
        _reset_process_state()
        create_tables()
        from chalicelib.storage import files
        files.create_bucket()  # attachment uploads (moto S3)
        yield
    _reset_process_state()


@pytest.fixture
def moto_backend():
    with moto_tables():
        yield "moto"


@pytest.fixture
def ddblocal_backend(ddb_local_endpoint):
    from chalicelib.storage import create_tables

    suffix = uuid.uuid4().hex[:8]  # fresh tables per test on the shared in-memory instance
    saved = {k: os.environ.get(k) for k in ("DDB_ENDPOINT", "DEFINITIONS_TABLE", "RECORDS_TABLE")}
    os.environ["DDB_ENDPOINT"] = ddb_local_endpoint
    os.environ["DEFINITIONS_TABLE"] = f"defs-{suffix}"
    os.environ["RECORDS_TABLE"] = f"recs-{suffix}"
    _reset_process_state()
    create_tables()
    yield "ddblocal"
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _reset_process_state()


@pytest.fixture(params=["moto", pytest.param("ddblocal", marks=pytest.mark.ddblocal)])
def backend(request):
    """The same test on moto and on DynamoDB Local (real conditional-write semantics)."""
    yield request.getfixturevalue(f"{request.param}_backend")


class ApiClient:
    """chalice.test.Client with a bearer token per user and JSON in/out."""

    def __init__(self, http, tenant: str = "demo") -> None:
        self.http = http
        self.tenant = tenant

    def token(self, user: str, roles: list[str], tenant: str | None = None) -> str:
        from chalicelib.auth import issue_local_token
        return issue_local_token(tenant or self.tenant, user, roles)

    def call(self, method: str, path: str, *, user: str = "admin", roles: list[str] | None = None,
             tenant: str | None = None, body=None, headers: dict | None = None, token: str | None = None, raw: bytes | None = None):
        all_headers = {"Content-Type": "application/json"}
        if token is not None or user is not None:
            all_headers["Authorization"] = f"Bearer {token or self.token(user, roles or ['admin'], tenant)}"
        all_headers.update(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.http, method.lower())(path, headers=all_headers, body=data)
        try:
            response.json = json.loads(response.body) if response.body else None
        except ValueError:  # a download (CSV, JSON lines, HTML): read response.body
            response.json = None
        return response


@pytest.fixture
def api(moto_backend):
    from chalice.test import Client

    from app import app
    with Client(app) as client:
        yield ApiClient(client.http)


@pytest.fixture
def any_api(backend):
    """The API over moto and over DynamoDB Local (integration tier)."""
    from chalice.test import Client

    from app import app
    with Client(app) as client:
        yield ApiClient(client.http)


@pytest.fixture
def demo_api(api):
    """The API with the shipped after-sales app installed in tenant 'demo'."""
    from chalicelib.seed import install_app
    install_app("demo")
    return api
