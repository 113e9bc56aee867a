"""Settings, read once from the stage's environment variables (.chalice/config.json sets them)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    ddb_endpoint: str | None
    definitions_table: str
    records_table: str
    auth_mode: str  # "local" (HS256 tokens we verify) or "cognito" (API Gateway verified them)
    local_jwt_secret: str
    jwt_issuer: str
    definition_cache_seconds: float
    max_body_bytes: int
    cursor_secret: str
    idempotency_ttl_seconds: int
    sync_op_ttl_seconds: int = 14 * 24 * 3600  # a phone may stay offline for days: its queue must still replay once
    uploads_bucket: str = "aftersales-local-uploads"
    s3_endpoint: str | None = None  # local stack: moto server; None = AWS
    upload_post_seconds: int = 900  # how long a presigned POST may be used
    upload_pending_seconds: int = 24 * 3600  # TTL of a pending upload (confirm within this)
    download_url_seconds: int = 300  # presigned GET lifetime
    import_upload_max_bytes: int = 50 * 1024 * 1024  # largest import file uploaded to S3 (presigned POST limit)
    import_post_seconds: int = 300  # how long an import's presigned POST may be used
    # integration: SQS queue URLs ("" = not configured: that delivery is skipped), webhook retries
    events_queue_url: str = ""  # FIFO: outbound events grouped by record
    inbound_dlq_url: str = ""  # malformed/unmappable inbound messages, with the reason
    webhook_dlq_url: str = ""  # webhook deliveries dead after the last retry
    sqs_endpoint: str | None = None  # local stack: moto server; None = AWS
    webhook_max_attempts: int = 8
    webhook_timeout_seconds: float = 5.0
    # Mail (surveys, notifications): SES, or "log" on a machine without an AWS account (make run)
    mail_mode: str = "ses"  # "ses" | "log"
    mail_dir: str | None = None  # log mode only: each mail also written here (the local stack's inbox page)
    mail_sender: str = "no-reply@aftersales.example"
    ses_endpoint: str | None = None
    ses_configuration_set: str = ""  # "" = none (moto, local): sends carry no ConfigurationSetName
    public_base_url: str = "http://127.0.0.1:8000"  # survey links point here
    survey_secret: str = "unset-survey-secret-change-me"  # HMAC key of survey tokens
    member_cache_seconds: float = 30.0  # how long a container trusts its copy of the member roster


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    auth_mode = _env("AUTH_MODE", "cognito")
    secret = _env("LOCAL_JWT_SECRET", "")
    if auth_mode == "local" and len(secret) < 32:
        raise RuntimeError("AUTH_MODE=local needs LOCAL_JWT_SECRET of at least 32 characters")
    return Settings(
        stage=_env("STAGE", "local"),
        region=_env("AWS_DEFAULT_REGION", "us-east-1"),
        ddb_endpoint=os.environ.get("DDB_ENDPOINT") or None,
        definitions_table=_env("DEFINITIONS_TABLE", "aftersales-local-definitions"),
        records_table=_env("RECORDS_TABLE", "aftersales-local-records"),
        auth_mode=auth_mode,
        local_jwt_secret=secret,
        jwt_issuer=_env("JWT_ISSUER", "aftersales-local"),
        definition_cache_seconds=float(_env("DEFINITION_CACHE_SECONDS", "5")),
        max_body_bytes=int(_env("MAX_BODY_BYTES", str(256 * 1024))),
        # Cursors are signed so a caller cannot forge a start key into another partition.
        cursor_secret=_env("CURSOR_SECRET", secret or UNSET_CURSOR_SECRET),
        idempotency_ttl_seconds=int(_env("IDEMPOTENCY_TTL_SECONDS", str(24 * 3600))),
        sync_op_ttl_seconds=int(_env("SYNC_OP_TTL_SECONDS", str(14 * 24 * 3600))),
        uploads_bucket=_env("UPLOADS_BUCKET", "aftersales-local-uploads"),
        s3_endpoint=os.environ.get("S3_ENDPOINT") or None,
        upload_post_seconds=int(_env("UPLOAD_POST_SECONDS", "900")),
        upload_pending_seconds=int(_env("UPLOAD_PENDING_SECONDS", str(24 * 3600))),
        download_url_seconds=int(_env("DOWNLOAD_URL_SECONDS", "300")),
        import_upload_max_bytes=int(_env("IMPORT_UPLOAD_MAX_BYTES", str(50 * 1024 * 1024))),
        import_post_seconds=int(_env("IMPORT_POST_SECONDS", "300")),
        events_queue_url=_env("EVENTS_QUEUE_URL", ""),
        inbound_dlq_url=_env("INBOUND_DLQ_URL", ""),
        webhook_dlq_url=_env("WEBHOOK_DLQ_URL", ""),
        sqs_endpoint=os.environ.get("SQS_ENDPOINT") or None,
        webhook_max_attempts=int(_env("WEBHOOK_MAX_ATTEMPTS", "8")),
        webhook_timeout_seconds=float(_env("WEBHOOK_TIMEOUT_SECONDS", "5")),
        mail_mode=_env("MAIL_MODE", "ses"),
        mail_dir=os.environ.get("MAIL_DIR") or None,
        mail_sender=_env("MAIL_SENDER", "no-reply@aftersales.example"),
        ses_endpoint=os.environ.get("SES_ENDPOINT") or None,
        ses_configuration_set=_env("SES_CONFIGURATION_SET", ""),
        public_base_url=_env("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        member_cache_seconds=float(_env("MEMBER_CACHE_SECONDS", "30")),
        survey_secret=_env("SURVEY_SECRET", (secret and "survey:" + secret) or UNSET_SURVEY_SECRET),
    )


UNSET_CURSOR_SECRET = "unset-cursor-secret-change-me"
UNSET_SURVEY_SECRET = "unset-survey-secret-change-me"
MIN_SECRET_LENGTH = 32


def server_secret(name: str) -> str:
    """A server-side HMAC key ("cursor" or "survey"), never a built-in default: a stage that did not
    get its generated secret (CURSOR_SECRET / SURVEY_SECRET, Secrets Manager on deployed stacks)
    answers 503 `<name>_secret_unset` where the key is needed instead of signing with a guessable one.
    The local stage derives both from its generated LOCAL_JWT_SECRET."""
    from .errors import ServiceUnavailable
    settings = get_settings()
    value = settings.cursor_secret if name == "cursor" else settings.survey_secret
    if value in (UNSET_CURSOR_SECRET, UNSET_SURVEY_SECRET) or len(value) < MIN_SECRET_LENGTH:
        variable = "CURSOR_SECRET" if name == "cursor" else "SURVEY_SECRET"
        raise ServiceUnavailable(f"this stage has no {variable}: it is generated at deploy (Secrets Manager)",
                                 code=f"{name}_secret_unset")
    return value


def reset_settings() -> None:
    """Tests change the environment between cases."""
    get_settings.cache_clear()
