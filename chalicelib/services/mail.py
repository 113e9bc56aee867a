"""The mail worker: delivers outbox items written by workflow steps (a scheduled Lambda every
minute; tests call `deliver_due` directly). Survey mail gets a signed, expiring link and an
opt-out link; the result — sent, or why not (missing template, no address, opted out, suppressed,
rejected by SES) — is recorded on the order (status field + history entry) in the same transaction
that finishes the outbox item, and a reminder is queued when the survey asks for one. Every send is
tagged (tenant, record, outbox item, kind) under the stage's SES configuration set, whose bounce and
complaint events come back through SNS to `handle_feedback`: the address is suppressed and the order
says "bounced" / "complained"."""
from __future__ import annotations

import hashlib
import json
import logging
import re
import time as _time
from datetime import datetime, timedelta, timezone
from urllib.parse import quote
from email.utils import parseaddr

from ..errors import AppError, NotFound, ServiceUnavailable, ValidationFailed
from ..ids import is_valid_id, new_id
from ..storage import mail as sender
from ..storage import outbox
from . import definitions, system_writes
from .clock import utc_now

log = logging.getLogger("aftersales.mail")
LEASE_SECONDS = 300
MAX_ATTEMPTS = 6


def _plus(now: str, seconds: int) -> str:
    moment = datetime.fromisoformat(now.replace("Z", "+00:00")) + timedelta(seconds=seconds)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _epoch(now: str) -> int:
    return int(datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp())


def deliver_due(now: str | None = None, budget_seconds: float = 45.0, page_size: int = 50) -> dict:
    """Send every due outbox item (all tenants), within a time budget. Safe to run concurrently and to
    retry: an item is claimed with a lease before sending and finished once."""
    now = now or utc_now()
    stop_at = _time.monotonic() + budget_seconds
    counts = {"sent": 0, "skipped": 0, "failed": 0, "retry": 0, "busy": 0}
    for shard in range(outbox.OUTBOX_SHARDS):
        start = None
        while _time.monotonic() < stop_at:
            items, start = outbox.due_items(shard, now, page_size, start)
            for due in items:
                counts[_deliver_one(due["tenant"], due["id"], now)] += 1
            if start is None:
                break
    return counts


def _deliver_one(tenant: str, item_id: str, now: str) -> str:
    lease_until = _plus(utc_now(), LEASE_SECONDS)
    item = outbox.claim(tenant, item_id, now, lease_until)
    if item is None:
        return "busy"
    try:
        if item["kind"] == "notification":
            return _notification_mail(item)
        return _record_mail(item, now)
    except sender.MailUnavailable as exc:
        if item["attempts"] >= MAX_ATTEMPTS:
            outbox.finish(tenant, item_id, lease_until, "failed", {"outcome": "failed", "reason": str(exc)[:300]})
            return "failed"
        outbox.retry_later(tenant, item_id, lease_until, _plus(now, min(3600, 60 * 2 ** item["attempts"])), str(exc)[:300])
        return "retry"
    except AppError as exc:  # e.g. the record kept changing: the lease runs out and the item is retried
        log.error("outbox item %s/%s: %s", tenant, item_id, exc.message)
        return "retry"
    except Exception:  # one bad item must not stop the run; its lease runs out and it is retried
        log.exception("outbox item %s/%s failed", tenant, item_id)
        return "retry"


def _template(tenant: str, name: str):
    try:
        return definitions.published(tenant, "email_template", name)[1]
    except NotFound:
        return None


def _notification_mail(item: dict) -> str:
    from ..storage.members import get_member
    from ..surveys import render
    tenant, note = item["tenant"], item["payload"].get("notification", {})
    member = get_member(tenant, str(item["to_value"]))
    template = _template(tenant, item["template"])
    audience = str(note.get("audience") or "")
    if member is None or not member.email or not member.active:
        outcome = {"outcome": "no_address"}
    elif audience.startswith("role:") and audience[5:] not in member.roles:
        outcome = {"outcome": "not_in_role"}  # the role was taken away after the step: no copy
    elif template is None:
        outcome = {"outcome": "template_missing", "template": item["template"]}
    elif outbox.suppression(tenant, member.email):
        outcome = {"outcome": "suppressed"}
    else:
        message = render(template, (member.attributes or {}).get("locale"), {**note, "user": {"name": member.display_name}})
        try:
            tags = {"tenant": tenant, "outbox": item["id"], "kind": "notification"}  # no record: a member's bounce is not the order's
            outcome = {"outcome": "sent", "message_id": sender.send(member.email, message["subject"], message["html"], message["text"],
                                                                    tags=tags)}
        except sender.MailRejected as exc:
            outcome = {"outcome": "rejected", "reason": str(exc)[:300]}
    status = "sent" if outcome["outcome"] == "sent" else "skipped" if outcome["outcome"] in ("no_address", "not_in_role") else "failed"
    if status == "failed":
        log.warning("notification mail %s to %s not sent: %s", item["id"], item["to_value"], outcome)
    outbox.finish(tenant, item["id"], item["lease_until"], status, outcome)
    return "sent" if status == "sent" else "skipped" if status == "skipped" else "failed"


def survey_for(tenant: str, form_name: str, template: str):
    """(survey definition, is_reminder) when this template is the form's survey mail, else None."""
    try:
        survey = definitions.published(tenant, "survey", form_name)[1]
    except NotFound:
        return None
    if template == survey.template:
        return survey, False
    if survey.reminder_template and template == survey.reminder_template:
        return survey, True
    return None


def _recipient(tenant: str, to_value, survey) -> tuple[str | None, dict, bool]:
    """(address, the recipient record's data, opted out) from the ToField value: an address, or the id
    of a record (the customer) holding one."""
    if isinstance(to_value, str) and "@" in to_value:
        return to_value, {}, False
    if not isinstance(to_value, str) or not is_valid_id(to_value):
        return None, {}, False
    from ..storage.records import get_record
    target = get_record(tenant, to_value)
    if target is None or target.deleted:
        return None, {}, False
    email_field = survey.recipient.email_field if survey else "email"
    opted_out = bool(survey and survey.recipient.opt_out_field and target.data.get(survey.recipient.opt_out_field))
    address = target.data.get(email_field)
    return (address if isinstance(address, str) and address else None), target.data, opted_out


def _mask(address: str | None) -> str | None:
    if not address or "@" not in address:
        return address
    local, domain = address.split("@", 1)
    return f"{local[:1]}***@{domain}"


def _record_mail(item: dict, now: str) -> str:
    from ..config import get_settings
    from ..surveys import render, sign_token
    tenant = item["tenant"]
    try:
        rec = system_writes.load(tenant, item["record_id"])
    except NotFound:
        outbox.finish(tenant, item["id"], item["lease_until"], "skipped", {"outcome": "record_gone"})
        return "skipped"
    found = survey_for(tenant, rec.form, item["template"])
    survey, reminder = found if found else (None, False)
    survey_id = item["payload"].get("survey_id") or item["id"]
    if reminder and _survey_closed(tenant, rec, survey, survey_id):
        outbox.finish(tenant, item["id"], item["lease_until"], "skipped", {"outcome": "not_needed"})
        return "skipped"
    address, recipient_data, opted_out = _recipient(tenant, item["to_value"], survey)
    template = _template(tenant, item["template"])
    outcome: dict = {"template": item["template"], "to": _mask(address)}
    if survey and opted_out:
        outcome["outcome"] = "opted_out"
    elif not address:
        outcome["outcome"] = "no_address"
    elif template is None:
        outcome["outcome"] = "template_missing"
    elif outbox.suppression(tenant, address):
        outcome["outcome"] = "suppressed"
    else:
        settings = get_settings()
        context = {**rec.data, "number": rec.number, "form": rec.form, "customer": recipient_data}
        locale = recipient_data.get(survey.recipient.locale_field) if survey and survey.recipient.locale_field else None
        if survey:
            from .surveys import survey_secret
            token = sign_token(survey_secret(), tenant=tenant, form=rec.form, record_id=rec.id, survey_id=survey_id,
                               expires_at=_epoch(now) + survey.link_days * 86400)
            # the page opens in the customer's language (the link's lang), whatever the browser says
            lang = f"?lang={quote(locale)}" if isinstance(locale, str) and locale else ""
            context.update(survey_url=f"{settings.public_base_url}/surveys/{token}{lang}",
                           optout_url=f"{settings.public_base_url}/surveys/{token}/opt-out{lang}")
        message = render(template, locale if isinstance(locale, str) else None, context)
        outcome["locale"] = message["locale"]
        try:  # MailUnavailable propagates: the item is retried later, nothing recorded yet
            tags = {"tenant": tenant, "record": rec.id, "outbox": item["id"],
                    "kind": "reminder" if reminder else "survey" if survey else "mail"}
            outcome["message_id"] = sender.send(address, message["subject"], message["html"], message["text"], tags=tags)
            outcome["outcome"] = "reminded" if reminder else "sent"
        except sender.MailRejected as exc:
            outcome.update(outcome="rejected", reason=str(exc)[:300])
    sent = outcome["outcome"] in ("sent", "reminded")
    if not sent:
        log.warning("mail %s for %s %s not sent: %s", item["template"], rec.form, rec.id, outcome["outcome"])
    _record_on_order(item, rec, survey, survey_id, reminder, outcome)
    return "sent" if sent else "failed"


def _survey_closed(tenant: str, rec, survey, survey_id: str) -> bool:
    if outbox.answered(tenant, survey_id):
        return True
    if survey.answered_at_field and rec.data.get(survey.answered_at_field):
        return True
    inst = rec.workflow or {}
    return bool(survey.await_state) and (inst.get("status") != "running" or inst.get("state") != survey.await_state)


NOTES = {"opted_out": "the customer opted out of surveys", "no_address": "the customer has no e-mail address",
         "template_missing": "no published e-mail template of this name", "suppressed": "the address is suppressed (bounce or complaint)"}


def _record_on_order(item: dict, rec, survey, survey_id: str, reminder: bool, outcome: dict) -> None:
    sent = outcome["outcome"] in ("sent", "reminded")
    status = "sent" if sent else "failed" if outcome["outcome"] in ("rejected", "template_missing") else "skipped"

    def build(current, form, now):
        patch: dict = {}
        if survey and survey.status_field and not (survey.answered_at_field and current.data.get(survey.answered_at_field)):
            patch[survey.status_field] = outcome["outcome"]
        if survey and survey.note_field:
            patch[survey.note_field] = None if sent else (NOTES.get(outcome["outcome"]) or outcome.get("reason") or outcome["outcome"])[:1000]
        extra = [outbox.finish_op(item["tenant"], item["id"], item["lease_until"], status, outcome)]
        if survey and sent and not reminder and survey.reminder_days and survey.reminder_template:
            extra.append(outbox.outbox_put(item["tenant"], new_id(), kind="mail", template=survey.reminder_template,
                                           due_at=_plus(now, survey.reminder_days * 86400), created_at=now, form=current.form,
                                           record_id=current.id, to_value=item["to_value"], payload={"survey_id": survey_id}))
        return patch, {"kind": "mail", "mail": {**outcome, "outbox_id": item["id"]}}, extra

    system_writes.write(item["tenant"], rec.id, build, actor="system")


def record_bounce(tenant: str, address: str, reason: str = "bounce") -> None:
    """An SES bounce or complaint for this address: no further mail of this tenant goes to it."""
    outbox.suppress(tenant, address, reason, utc_now())


# --- SES feedback: bounces and complaints (SNS ← SES event publishing) ----------------------------

FEEDBACK_SCOPE = "_mail"  # idempotency keys of SES feedback events (no form name starts with "_")
_TENANT = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def handle_feedback(sns_records: list[dict]) -> dict:
    """SNS records carrying SES bounce/complaint events → suppressed addresses + the outcome on the order.

    A Permanent bounce or any complaint suppresses each affected address for the tenant named by the
    mail's `tenant` tag and, when the `record` tag names a record OF THAT TENANT, records "bounced" /
    "complained" on it (survey status + note, one history entry of kind "mail") in one transaction
    that carries an idempotency item keyed by the SES feedback id (else message id) and event type:
    SNS delivers at least once, and a second delivery writes nothing. Transient and undetermined
    bounces change nothing (SES already retried before reporting them; the address may well work
    next time, and a later Permanent bounce will suppress it). Malformed, unknown or unattributable
    messages are logged and dropped (no exception: retrying cannot fix them). Only a storage failure,
    or a bounce that overtook the worker recording "sent" for that outbox item, raises, so Lambda's
    asynchronous retries (two, then the event is dropped) take it again — safe, since it writes once."""
    counts = {"recorded": 0, "suppressed": 0, "duplicate": 0, "ignored": 0, "dropped": 0}
    for raw in sns_records:
        counts[_one_feedback(raw)] += 1
    return counts


def parse_feedback(raw: dict) -> dict | None:
    """One SNS record → {event, tags, message_id, feedback_id, recipients, detail} or None (malformed).
    Accepts SES event publishing (`eventType`) and the older identity notifications (`notificationType`;
    those carry no tags, so they can only be logged)."""
    sns = raw.get("Sns") if isinstance(raw, dict) else None
    message = sns.get("Message") if isinstance(sns, dict) else None
    try:
        body = json.loads(message) if isinstance(message, str) else None
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    event = body.get("eventType") or body.get("notificationType")
    mail = body.get("mail") if isinstance(body.get("mail"), dict) else {}
    tags: dict = {}  # SES gives each tag as a list of values
    raw_tags = mail.get("tags") if isinstance(mail.get("tags"), dict) else {}
    for name, values in raw_tags.items():
        value = values[0] if isinstance(values, list) and values else values
        if isinstance(value, str):
            tags[name] = value
    section = {"Bounce": ("bounce", "bouncedRecipients"), "Complaint": ("complaint", "complainedRecipients")}.get(event)
    detail = body.get(section[0]) if section else None
    if section and not isinstance(detail, dict):
        return None
    detail = detail or {}
    listed = detail.get(section[1]) if section else None
    recipients = []
    for entry in listed if isinstance(listed, list) else []:
        address = parseaddr(str(entry.get("emailAddress") or ""))[1] if isinstance(entry, dict) else ""
        if "@" in address:
            recipients.append(address)
    message_id, feedback_id = mail.get("messageId"), detail.get("feedbackId")
    return {"event": event, "tags": tags, "message_id": message_id if isinstance(message_id, str) else None,
            "feedback_id": feedback_id if isinstance(feedback_id, str) else None, "recipients": recipients, "detail": detail}


def _one_feedback(raw: dict) -> str:
    parsed = parse_feedback(raw)
    if parsed is None:
        log.warning("SES feedback dropped: not an SES notification")
        return "dropped"
    event, tags, detail = parsed["event"], parsed["tags"], parsed["detail"]
    if event not in ("Bounce", "Complaint"):
        log.info("SES feedback of type %s ignored", event)
        return "ignored"
    if event == "Bounce" and detail.get("bounceType") != "Permanent":
        # Transient (mailbox full, too large...) or Undetermined: SES retried already; nothing suppressed or recorded
        log.info("SES %s bounce (%s) for message %s: not suppressed", detail.get("bounceType"), detail.get("bounceSubType"),
                 parsed["message_id"])
        return "ignored"
    tenant = tags.get("tenant")
    if not tenant or not _TENANT.fullmatch(tenant) or not parsed["recipients"] or not parsed["message_id"]:
        log.warning("SES %s for message %s dropped: no tenant tag, recipient or message id", event, parsed["message_id"])
        return "dropped"
    record_id = tags.get("record") if is_valid_id(tags.get("record") or "") else None
    outbox_id = tags.get("outbox") if is_valid_id(tags.get("outbox") or "") else None
    item = outbox.get_item(tenant, outbox_id) if outbox_id else None
    if item and record_id and item.get("record_id") != record_id:
        log.warning("SES %s for %s/%s dropped: the outbox item belongs to another record", event, tenant, outbox_id)
        return "dropped"
    rec = None
    if record_id:
        try:
            rec = system_writes.load(tenant, record_id)
        except NotFound:
            rec = None
    if item is None and rec is None:  # nothing of this tenant sent it: never suppress or write on a guess
        log.warning("SES %s for message %s dropped: no outbox item or record %s in tenant %s", event, parsed["message_id"],
                    record_id, tenant)
        return "dropped"
    outcome = "bounced" if event == "Bounce" else "complained"
    for address in parsed["recipients"]:
        record_bounce(tenant, address, "bounce" if event == "Bounce" else "complaint")
    log.info("SES %s: %d address(es) suppressed for tenant %s (message %s)", outcome, len(parsed["recipients"]), tenant,
             parsed["message_id"])
    if rec is None:
        return "suppressed"
    if item and item["status"] == "pending":
        # sent, but the worker has not recorded "sent" yet (or failed to and its lease must run out): writing
        # now would be overwritten by that "sent". Fail this invocation: Lambda retries it in a minute or two.
        raise ServiceUnavailable("the mail's own result is not recorded yet; retry", code="mail_result_pending")
    try:
        written = _record_feedback(tenant, rec, item, tags.get("kind"), outcome, parsed)
    except (ValidationFailed, NotFound) as exc:  # the record's form refuses the values, or it was deleted meanwhile
        log.error("SES %s for %s %s not recorded on the order: %s", outcome, tenant, rec.id, exc.message)
        return "suppressed"
    return "recorded" if written.get("written") else "duplicate"


def _record_feedback(tenant: str, rec, item: dict | None, kind: str | None, outcome: str, parsed: dict) -> dict:
    detail = parsed["detail"]
    survey = None
    if item:
        found = survey_for(tenant, rec.form, item["template"])
        survey = found[0] if found else None
    elif kind in ("survey", "reminder"):  # the outbox item has expired (30 days): the form's survey
        try:
            survey = definitions.published(tenant, "survey", rec.form)[1]
        except NotFound:
            survey = None
    masked = [_mask(a) for a in parsed["recipients"]]
    entry: dict = {"outcome": outcome, "to": masked[0], "message_id": parsed["message_id"], "feedback_id": parsed["feedback_id"],
                   "outbox_id": item["id"] if item else None, "template": item["template"] if item else None, "kind": kind}
    if len(masked) > 1:
        entry["recipients"] = masked
    if outcome == "bounced":
        entry.update(bounce_type=detail.get("bounceType"), bounce_subtype=detail.get("bounceSubType"))
        note = (f"the e-mail to {masked[0]} bounced ({detail.get('bounceType')}/{detail.get('bounceSubType')}): "
                "the address is suppressed, no more mail goes to it")
    else:
        entry["complaint_type"] = detail.get("complaintFeedbackType")
        note = f"{masked[0]} reported the e-mail as spam (complaint): the address is suppressed, no more mail goes to it"
    entry = {k: v for k, v in entry.items() if v is not None}
    event_id = f"{parsed['event']}|{parsed['feedback_id'] or parsed['message_id']}|{','.join(sorted(parsed['recipients']))}"
    key = hashlib.sha256(event_id.encode()).hexdigest()

    def build(current, form, now):
        patch: dict = {}
        if (survey and survey.status_field and _accepts(form, survey.status_field, outcome)
                and not (survey.answered_at_field and current.data.get(survey.answered_at_field))):
            patch[survey.status_field] = outcome
        if survey and survey.note_field:
            patch[survey.note_field] = note[:1000]
        return patch, {"kind": "mail", "mail": entry}, []

    return system_writes.write(tenant, rec.id, build, actor="system", idempotency=(FEEDBACK_SCOPE, key, key))


def _accepts(form, name: str, value: str) -> bool:
    """A select field takes only its options: a form version without "bounced" keeps its status, the note explains."""
    field = form.field(name)
    options = getattr(field, "options", None)
    return field is not None and (options is None or any(o.value == value for o in options))
