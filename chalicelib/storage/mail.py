"""Sending mail: SES (client created lazily, on first send), or "log" mode for a machine without an
AWS account (`make run`): the message is logged and kept in memory (`sent_locally`)."""
from __future__ import annotations

import logging

from ..config import get_settings

log = logging.getLogger("aftersales.mail")
_client = None
sent_locally: list[dict] = []  # MAIL_MODE=log only; capped


class MailRejected(Exception):
    """Permanent: SES refused this message (unverified sender, rejected or suppressed address)."""


class MailUnavailable(Exception):
    """Transient: throttling, a service error; try again later."""


PERMANENT = {"MessageRejected", "MailFromDomainNotVerifiedException", "InvalidParameterValue", "ValidationError",
             "AccountSendingPausedException", "ConfigurationSetSendingPausedException"}


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


def send(to: str, subject: str, html: str, text: str, *, sender: str | None = None) -> str:
    """The provider's message id, or MailRejected / MailUnavailable."""
    settings = get_settings()
    sender = sender or settings.mail_sender
    if settings.mail_mode == "log":
        message_id = f"local-{len(sent_locally) + 1}"
        del sent_locally[:-199]
        sent_locally.append({"id": message_id, "from": sender, "to": to, "subject": subject, "text": text, "html": html})
        log.info("mail (not sent, MAIL_MODE=log) to %s: %s", to, subject)
        return message_id
    from botocore.exceptions import BotoCoreError, ClientError
    try:
        response = client().send_email(
            Source=sender, Destination={"ToAddresses": [to]},
            Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                     "Body": {"Html": {"Data": html, "Charset": "UTF-8"}, "Text": {"Data": text, "Charset": "UTF-8"}}})
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", code)
        if code in PERMANENT:
            raise MailRejected(f"{code}: {message}") from exc
        raise MailUnavailable(f"{code}: {message}") from exc
    except BotoCoreError as exc:
        raise MailUnavailable(str(exc)) from exc
    return response["MessageId"]
