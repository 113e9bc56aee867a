"""Sending mail: SES (client created lazily, on first send), or "log" mode for a machine without an
AWS account (`make run`): the message is logged and kept in memory (`sent_locally`) and, when
`MAIL_DIR` is set (the local stack sets it), written there as one JSON file per message — the local
mail inbox page (tools/console_server.py, `/local-mail`) reads that folder, whichever process sent it.

Every SES send names the stage's configuration set (`SES_CONFIGURATION_SET`; none when unset, e.g.
moto) and carries message tags saying which mail it is (tenant, record, outbox item, kind): SES
event publishing returns them with each bounce and complaint (`services.mail.handle_feedback`)."""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from pathlib import Path

from ..config import get_settings
from ..ids import new_id

log = logging.getLogger("aftersales.mail")
_client = None
sent_locally: list[dict] = []  # MAIL_MODE=log only; capped


class MailRejected(Exception):
    """Permanent: SES refused this message (unverified sender, rejected or suppressed address)."""


class MailUnavailable(Exception):
    """Transient: throttling, a service error; try again later."""


PERMANENT = {"MessageRejected", "MailFromDomainNotVerifiedException", "InvalidParameterValue", "ValidationError",
             "AccountSendingPausedException", "ConfigurationSetSendingPausedException"}


# SES tag names and values: ASCII letters, digits, "_" and "-", at most 256 characters. Our values fit as
# they are (tenant ids are [A-Za-z0-9_-]{1,64}, record and outbox ids 26-character Crockford base32,
# kinds are fixed words); a value that does not is left out (logged) rather than failing the send.
TAG_VALUE = re.compile(r"[A-Za-z0-9_\-]{1,256}")


def message_tags(tags: dict | None) -> list[dict]:
    """{name: value} → SES MessageTags; empty/None values dropped, values SES would refuse left out."""
    out = []
    for name, value in (tags or {}).items():
        if value in (None, ""):
            continue
        if not (TAG_VALUE.fullmatch(name) and TAG_VALUE.fullmatch(str(value))):
            log.warning("mail tag %s left out: not a valid SES tag value", name)
            continue
        out.append({"Name": name, "Value": str(value)})
    return out


def client():
    global _client
    if _client is None:
        import boto3  # on first use: a cold start that sends nothing does not pay for it
        settings = get_settings()
        _client = boto3.client("ses", region_name=settings.region, endpoint_url=settings.ses_endpoint)
    return _client


def reset_client() -> None:
    global _client
    _client = None


def send(to: str, subject: str, html: str, text: str, *, sender: str | None = None, tags: dict | None = None) -> str:
    """The provider's message id, or MailRejected / MailUnavailable. `tags` ({name: value}) come back
    with SES bounce/complaint events."""
    settings = get_settings()
    sender = sender or settings.mail_sender
    tag_list = message_tags(tags)
    if settings.mail_mode == "log":
        message = {"id": f"local-{new_id()}", "from": sender, "to": to, "subject": subject, "text": text, "html": html,
                   "tags": {t["Name"]: t["Value"] for t in tag_list},
                   "configuration_set": settings.ses_configuration_set or None,
                   "sent_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")}
        del sent_locally[:-199]
        sent_locally.append(message)
        if settings.mail_dir:
            keep_in_folder(Path(settings.mail_dir), message)
        log.info("mail (not sent, MAIL_MODE=log) to %s: %s", to, subject)
        return message["id"]
    from botocore.exceptions import BotoCoreError, ClientError
    extra: dict = {"Tags": tag_list} if tag_list else {}
    if settings.ses_configuration_set:
        extra["ConfigurationSetName"] = settings.ses_configuration_set
    try:
        response = client().send_email(
            Source=sender, Destination={"ToAddresses": [to]},
            Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                     "Body": {"Html": {"Data": html, "Charset": "UTF-8"}, "Text": {"Data": text, "Charset": "UTF-8"}}},
            **extra)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", code)
        if code in PERMANENT:
            raise MailRejected(f"{code}: {message}") from exc
        raise MailUnavailable(f"{code}: {message}") from exc
    except BotoCoreError as exc:
        raise MailUnavailable(str(exc)) from exc
    return response["MessageId"]


def keep_in_folder(folder: Path, message: dict) -> Path:
    """One JSON file per message, named so that names sort by sending time; written whole (temporary
    file + rename) so a reader never sees half a message."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{message['id']}.json"
    temporary = folder / f".{message['id']}.tmp"
    temporary.write_text(json.dumps(message, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, path)
    return path
