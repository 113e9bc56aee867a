"""SES bounces and complaints reach the order and the suppression list: every send carries the
configuration set and tags naming the mail; the SNS handler (SES event publishing) suppresses the
address and records "bounced" / "complained" on the order once, however often SNS delivers; transient
bounces change nothing; a tag cannot reach another tenant's order; malformed messages are dropped."""
import json

import pytest

from .helpers import AGENT, new_customer, new_work_order
from .test_surveys_api import SENDER, _deliver, _later, completed_order, ses  # noqa: F401  (ses is a fixture)

CONFIG_SET = "aftersales-test-mail"


@pytest.fixture
def sent_params(ses, monkeypatch):
    """The SendEmail parameters as boto3 sends them (moto keeps neither tags nor the configuration set)."""
    from chalicelib.config import reset_settings
    from chalicelib.storage import mail
    monkeypatch.setenv("SES_CONFIGURATION_SET", CONFIG_SET)
    reset_settings()
    calls: list[dict] = []
    mail.client().meta.events.register("provide-client-params.ses.SendEmail", lambda params, **_: calls.append(dict(params)))
    yield calls
    reset_settings()


def ses_event(event_type, *, message_id, tags, recipients=("buyer@example.com",), bounce_type="Permanent",
              bounce_subtype="General", feedback_id="0100018c-feedback-000001", legacy=False) -> dict:
    mail = {"timestamp": "2026-11-30T10:00:00.000Z", "source": SENDER, "messageId": message_id,
            "destination": list(recipients), "headersTruncated": False,
            "tags": {"ses:configuration-set": [CONFIG_SET], "ses:from-domain": ["aftersales.example"],
                     **{k: [v] for k, v in tags.items()}}}
    body: dict = {"notificationType" if legacy else "eventType": event_type, "mail": mail}
    if event_type == "Bounce":
        body["bounce"] = {"bounceType": bounce_type, "bounceSubType": bounce_subtype, "feedbackId": feedback_id,
                          "timestamp": "2026-11-30T10:00:01.000Z", "reportingMTA": "dsn; a27-1.smtp-out.amazonses.com",
                          "bouncedRecipients": [{"emailAddress": r, "action": "failed", "status": "5.1.1",
                                                 "diagnosticCode": "smtp; 550 5.1.1 user unknown"} for r in recipients]}
    elif event_type == "Complaint":
        body["complaint"] = {"feedbackId": feedback_id, "timestamp": "2026-11-30T11:00:00.000Z", "userAgent": "Mail/1.0",
                             "complaintFeedbackType": "abuse", "arrivalDate": "2026-11-30T10:59:00.000Z",
                             "complainedRecipients": [{"emailAddress": r} for r in recipients]}
    return body


def invoke(*bodies):
    """Through the app's registered SNS handler, one SNS notification per body."""
    from chalice.test import Client

    from app import app
    payloads = []
    with Client(app) as client:
        for body in bodies:
            message = body if isinstance(body, str) else json.dumps(body)
            payloads.append(client.lambda_.invoke("mail_feedback", client.events.generate_sns_event(message=message)).payload)
    return payloads


def sent_survey(api):
    """An order whose survey mail went out: (order, customer, its history entry)."""
    order, customer = completed_order(api)
    assert _deliver()["sent"] == 1
    entry = history(api, order)[-1]
    assert entry["kind"] == "mail" and entry["mail"]["outcome"] == "sent"
    return order, customer, entry["mail"]


def history(api, order):
    return api.call("GET", f"{order.path}/history", **AGENT).json["items"]


def tags_of(order, mail, kind="survey", tenant="demo"):
    return {"tenant": tenant, "record": order.id, "outbox": mail["outbox_id"], "kind": kind}


def test_survey_and_reminder_mail_carry_the_configuration_set_and_tags(flow_api, ses, sent_params):
    order, _customer, mail = sent_survey(flow_api)
    [first] = sent_params
    assert first["ConfigurationSetName"] == CONFIG_SET
    assert {t["Name"]: t["Value"] for t in first["Tags"]} == tags_of(order, mail)
    assert _deliver(_later(3.1))["sent"] == 1
    reminder = history(flow_api, order)[-1]["mail"]
    assert {t["Name"]: t["Value"] for t in sent_params[1]["Tags"]} == tags_of(order, reminder, kind="reminder")


def test_without_a_configuration_set_the_send_names_none(flow_api, ses, monkeypatch):
    from chalicelib.config import reset_settings
    from chalicelib.storage import mail
    monkeypatch.delenv("SES_CONFIGURATION_SET", raising=False)
    reset_settings()
    calls = []
    mail.client().meta.events.register("provide-client-params.ses.SendEmail", lambda params, **_: calls.append(dict(params)))
    sent_survey(flow_api)
    assert "ConfigurationSetName" not in calls[0] and {t["Name"] for t in calls[0]["Tags"]} == {"tenant", "record", "outbox", "kind"}


def test_tag_values_ses_would_refuse_are_left_out():
    from chalicelib.storage.mail import message_tags
    assert message_tags({"tenant": "acme_1-x", "record": None, "kind": "a b", "outbox": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}) == [
        {"Name": "tenant", "Value": "acme_1-x"}, {"Name": "outbox", "Value": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}]


@pytest.mark.parametrize("event_type, legacy", [("Bounce", False), ("Complaint", False), ("Bounce", True)])
def test_bounce_or_complaint_is_recorded_once_and_suppresses_the_address(flow_api, ses, sent_params, event_type, legacy):
    from chalicelib.storage import outbox
    order, _customer, mail = sent_survey(flow_api)
    before = len(history(flow_api, order))
    event = ses_event(event_type, message_id=mail["message_id"], tags=tags_of(order, mail), legacy=legacy)
    first, again = invoke(event, event)  # SNS delivers at least once: the same notification twice
    assert first["recorded"] == 1 and again == {**again, "recorded": 0, "duplicate": 1}
    outcome = "bounced" if event_type == "Bounce" else "complained"
    data = order.get()["data"]
    assert data["survey_status"] == outcome and "suppressed" in data["survey_note"] and "b***@example.com" in data["survey_note"]
    entries = history(flow_api, order)
    assert len(entries) == before + 1  # one history entry, not two
    entry = entries[-1]
    assert entry["kind"] == "mail" and entry["actor"] == "system"
    assert {k: entry["mail"].get(k) for k in ("outcome", "to", "message_id", "outbox_id", "kind")} == {
        "outcome": outcome, "to": "b***@example.com", "message_id": mail["message_id"], "outbox_id": mail["outbox_id"],
        "kind": "survey"}
    if event_type == "Bounce":
        assert entry["mail"]["bounce_type"] == "Permanent" and entry["mail"]["bounce_subtype"] == "General"
    else:
        assert entry["mail"]["complaint_type"] == "abuse"
    assert "buyer@example.com" not in json.dumps(entry)  # the address is masked on the order
    assert outbox.suppression("demo", "Buyer@Example.com ") == ("bounce" if event_type == "Bounce" else "complaint")

    # the reminder to that address is not sent: the order says so
    assert _deliver(_later(3.1))["sent"] == 0 and len(ses.sent_messages) == 1
    last = history(flow_api, order)[-1]
    assert last["mail"]["outcome"] == "suppressed" and order.get()["data"]["survey_status"] == "suppressed"


def test_the_next_order_of_a_bounced_customer_gets_no_survey(flow_api, ses, sent_params):
    from .test_surveys_api import _second_order_for
    order, customer, mail = sent_survey(flow_api)
    invoke(ses_event("Bounce", message_id=mail["message_id"], tags=tags_of(order, mail)))
    second = _second_order_for(flow_api, customer)
    _deliver()
    assert len(ses.sent_messages) == 1
    assert second.get()["data"]["survey_status"] == "suppressed"


@pytest.mark.parametrize("bounce_type", ["Transient", "Undetermined"])
def test_a_transient_bounce_suppresses_nothing(flow_api, ses, sent_params, bounce_type):
    from chalicelib.storage import outbox
    order, _customer, mail = sent_survey(flow_api)
    before = history(flow_api, order)
    [payload] = invoke(ses_event("Bounce", message_id=mail["message_id"], tags=tags_of(order, mail), bounce_type=bounce_type,
                                 bounce_subtype="MailboxFull"))
    assert payload["ignored"] == 1 and payload["recorded"] == 0
    assert history(flow_api, order) == before and order.get()["data"]["survey_status"] == "sent"
    assert outbox.suppression("demo", "buyer@example.com") is None
    assert _deliver(_later(3.1))["sent"] == 1  # the reminder still goes


def test_tags_of_one_tenant_cannot_touch_another_tenants_order(flow_api, ses, sent_params):
    from chalicelib.seed import install_app, install_demo_data
    from chalicelib.storage import outbox
    order, _customer, mail = sent_survey(flow_api)  # tenant demo
    install_app("other")
    install_demo_data("other", forms={"region", "engineer"})
    their_customer = new_customer(flow_api, tenant="other", email="buyer@example.com")
    theirs = new_work_order(flow_api, their_customer["id"], tenant="other")
    their_path = f"/forms/work_order/records/{theirs['id']}"

    def their_state():
        record = flow_api.call("GET", their_path, tenant="other", **AGENT).json
        return record["version"], flow_api.call("GET", f"{their_path}/history", tenant="other", **AGENT).json["items"]

    ours_before, theirs_before = history(flow_api, order), their_state()
    events = [
        # tenant demo's tag naming tenant other's record (no outbox item of demo backs it)
        ses_event("Bounce", message_id="m-1", tags={"tenant": "demo", "record": theirs["id"], "kind": "survey"}, feedback_id="f1"),
        # a real demo outbox item, but the record tag names the other tenant's order
        ses_event("Complaint", message_id="m-2", tags={**tags_of(order, mail), "record": theirs["id"]}, feedback_id="f2"),
        # tenant other's tag naming demo's order and outbox item
        ses_event("Bounce", message_id="m-3", tags=tags_of(order, mail, tenant="other"), feedback_id="f3"),
    ]
    payloads = invoke(*events)
    assert [p["dropped"] for p in payloads] == [1, 1, 1] and not any(p["recorded"] or p["suppressed"] for p in payloads)
    assert their_state() == theirs_before and history(flow_api, order) == ours_before
    assert outbox.suppression("demo", "buyer@example.com") is None and outbox.suppression("other", "buyer@example.com") is None


def test_malformed_and_unattributable_messages_are_dropped_not_raised(flow_api, ses, sent_params):
    order, _customer, mail = sent_survey(flow_api)
    before = history(flow_api, order)
    no_tags = ses_event("Bounce", message_id=mail["message_id"], tags={})
    no_tags["mail"].pop("tags")  # the older identity notifications carry no tags
    payloads = invoke("not json", json.dumps([1, 2]), {"eventType": "Bounce", "mail": {}},
                      {"eventType": "Bounce", "bounce": "x", "mail": {"messageId": "m"}},
                      {"notificationType": "AmazonSnsSubscriptionSucceeded", "message": "ok"},
                      ses_event("Delivery", message_id=mail["message_id"], tags=tags_of(order, mail)),
                      no_tags,
                      ses_event("Bounce", message_id=mail["message_id"], tags={**tags_of(order, mail), "tenant": "a#b"}),
                      ses_event("Bounce", message_id=mail["message_id"], tags={**tags_of(order, mail), "tenant": "nobody"}),
                      ses_event("Bounce", message_id=mail["message_id"], tags=tags_of(order, mail), recipients=()))
    assert [("dropped" if p["dropped"] else "ignored" if p["ignored"] else p) for p in payloads] == [
        "dropped", "dropped", "dropped", "dropped", "ignored", "ignored", "dropped", "dropped", "dropped", "dropped"]
    assert history(flow_api, order) == before


def test_a_bounced_notification_mail_suppresses_the_members_address(flow_api, ses, sent_params):
    """Notification mail names no record: the address is suppressed, no order is touched."""
    from chalicelib.ids import new_id
    from chalicelib.services.clock import utc_now
    from chalicelib.storage import outbox
    now = utc_now()
    item_id = new_id()
    _op, item, _cond, _label = outbox.outbox_put("demo", item_id, kind="notification", template="task_assigned", due_at=now,
                                                 created_at=now, to_value="eng.zhang", payload={})
    item.save()
    [payload] = invoke(ses_event("Complaint", message_id="m-n", recipients=("zhang@example.com",),
                                 tags={"tenant": "demo", "outbox": item_id, "kind": "notification"}))
    assert payload["suppressed"] == 1 and payload["recorded"] == 0
    assert outbox.suppression("demo", "zhang@example.com") == "complaint"


def test_a_bounce_that_overtakes_the_workers_sent_record_is_retried_not_overwritten(flow_api, ses, sent_params, monkeypatch):
    """SES can report a bounce before the worker has written "sent" for that mail: the handler suppresses
    the address but fails the invocation, so Lambda retries it after the worker's write, never before."""
    from chalicelib.errors import ServiceUnavailable
    from chalicelib.services import mail as mail_service
    from chalicelib.storage import outbox
    order, _customer = completed_order(flow_api)
    held = []
    real = mail_service._record_on_order
    monkeypatch.setattr(mail_service, "_record_on_order", lambda *args: held.append(args))
    assert _deliver()["sent"] == 1 and len(held) == 1  # sent; the worker has not recorded it yet
    item, outcome = held[0][0], held[0][5]
    event = ses_event("Bounce", message_id=outcome["message_id"],
                      tags={"tenant": "demo", "record": order.id, "outbox": item["id"], "kind": "survey"})
    with pytest.raises(ServiceUnavailable):
        invoke(event)
    assert outbox.suppression("demo", "buyer@example.com") == "bounce"  # the address is safe at once
    real(*held[0])  # the worker records "sent"
    [retried] = invoke(event)  # Lambda's retry
    assert retried["recorded"] == 1 and order.get()["data"]["survey_status"] == "bounced"
    assert [e["mail"]["outcome"] for e in history(flow_api, order) if e["kind"] == "mail"] == ["sent", "bounced"]


def test_an_order_whose_form_version_lacks_the_status_options_keeps_its_status_and_gets_the_note(flow_api, ses, sent_params):
    """Tenants whose published work-order form predates "bounced"/"complained": the status stays, the note
    and the history entry still say what happened (no validation error, nothing lost)."""
    from chalicelib.seed import load_form
    form = load_form("work_order")
    for f in form["fields"]:
        if f["name"] == "survey_status":
            f["options"] = [o for o in f["options"] if o["value"] not in ("bounced", "complained")]
    assert flow_api.call("POST", "/definitions/form/work_order/versions", body=form).status_code == 201
    order, _customer, mail = sent_survey(flow_api)
    [payload] = invoke(ses_event("Complaint", message_id=mail["message_id"], tags=tags_of(order, mail)))
    assert payload["recorded"] == 1
    data = order.get()["data"]
    assert data["survey_status"] == "sent" and "complaint" in data["survey_note"]
    assert history(flow_api, order)[-1]["mail"]["outcome"] == "complained"
