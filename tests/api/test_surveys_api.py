"""Satisfaction surveys end to end: completion → outbox item (same transaction) → worker → SES
(moto) → signed link → public answer once → the order and its workflow; reminders, opt-out,
missing templates / addresses / rejected mail recorded on the order; forged or expired links."""
import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from .helpers import AGENT, new_customer
from .test_workflow_e2e import CHEN, MANAGER, SUP, ZHANG, _patch, _sign, create_order

SENDER = "no-reply@aftersales.example"


@pytest.fixture
def ses(flow_api):
    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses import ses_backends

    from chalicelib.storage import mail
    mail.reset_client()
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress=SENDER)
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    yield backend
    mail.reset_client()


def _later(days: float) -> str:
    moment = datetime.now(timezone.utc) + timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def completed_order(api, customer_data=None):
    """An order driven through the shipped workflow to CustomerFeedback."""
    customer = new_customer(api, **(customer_data if customer_data is not None else {"email": "buyer@example.com"}))
    from .helpers import work_order_data
    created = api.call("POST", "/forms/work_order/records", body={"data": work_order_data(customer["id"])}, **AGENT)
    assert created.status_code == 201, created.json
    from .test_workflow_e2e import Order
    order = Order(api, created.json)
    order.act("auto_dispatch", SUP)
    engineer = ZHANG if order.get()["data"]["assigned_engineer"] == "eng.zhang" else CHEN
    order.act("accept", engineer)
    order.act("arrive", engineer)
    order.version = _patch(api, order, engineer, service_report="Replaced the valve")
    order.version = _sign(api, order, engineer)
    done = order.act("complete", engineer)
    assert done["transition"]["to"] == "CustomerFeedback"
    return order, customer


def _deliver(now=None):
    from chalicelib.services.mail import deliver_due
    return deliver_due(now)


def _link(message, kind="survey"):
    urls = re.findall(r"https?://[^\s\"<]+/surveys/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)(/opt-out)?", message.body)
    tokens = [t for t, suffix in urls if bool(suffix) == (kind == "opt-out")]
    assert tokens, message.body
    return tokens[0]


def test_completion_sends_one_survey_and_the_answer_closes_the_order(flow_api, ses):
    order, _customer = completed_order(flow_api, {"email": "buyer@example.com", "language": "en"})
    assert ses.sent_messages == []  # nothing is sent inside the request: the outbox item waits for the worker
    first, again = _deliver(), _deliver()
    assert first["sent"] == 1 and again["sent"] == 0  # delivered once however often the worker runs
    [message] = ses.sent_messages
    assert message.destinations["ToAddresses"] == ["buyer@example.com"] and message.source == SENDER
    assert "is complete: how did we do?" in message.subject and order.get()["number"] in message.subject
    data = order.get()["data"]
    assert data["survey_status"] == "sent" and not data.get("survey_note")
    history = flow_api.call("GET", f"{order.path}/history", **AGENT).json["items"]
    mail = history[-1]
    assert mail["kind"] == "mail" and mail["actor"] == "system" and mail["mail"]["outcome"] == "sent"
    assert mail["mail"]["to"] == "b***@example.com" and mail["mail"]["locale"] == "en"

    token = _link(message)
    shown = flow_api.call("GET", f"/surveys/{token}", user=None)
    assert shown.status_code == 200, shown.json
    assert shown.json["number"] == order.get()["number"] and "rating" in shown.json["schema"]["properties"]

    bad = flow_api.call("POST", f"/surveys/{token}", user=None, body={"data": {"rating": 9}})
    assert bad.status_code == 422 and bad.json["error"]["details"][0]["path"].endswith("rating")
    answered = flow_api.call("POST", f"/surveys/{token}", user=None,
                             body={"data": {"rating": 5, "nps": 9, "problem_solved": True, "comment": "Fast <b>and</b> kind"}})
    assert answered.status_code == 200, answered.json
    assert answered.json["state"] == "Closed" and answered.json["follow_up"] is False
    final = order.get()
    assert final["workflow"]["status"] == "succeeded"
    assert {k: final["data"].get(k) for k in ("satisfaction_rating", "satisfaction_nps", "problem_solved", "satisfaction_comment",
                                              "survey_status", "satisfaction_follow_up")} == {
        "satisfaction_rating": 5, "satisfaction_nps": 9, "problem_solved": True, "satisfaction_comment": "Fast <b>and</b> kind",
        "survey_status": "answered", "satisfaction_follow_up": False}
    assert final["data"]["survey_answered_at"]

    reused = flow_api.call("POST", f"/surveys/{token}", user=None, body={"data": {"rating": 1}})
    assert reused.status_code == 409 and reused.json["error"]["code"] == "survey_already_answered"
    assert flow_api.call("GET", f"/surveys/{token}", user=None).json["error"]["code"] == "survey_already_answered"
    assert order.get()["data"]["satisfaction_rating"] == 5
    # the reminder queued with the first mail is dropped: the survey was answered
    assert _deliver(_later(4))["sent"] == 0 and len(ses.sent_messages) == 1


def test_low_rating_starts_the_follow_up_task_for_the_manager(flow_api, ses):
    order, _customer = completed_order(flow_api)
    _deliver()
    [message] = ses.sent_messages
    assert "请为我们的服务评分" in message.subject  # the customer's default language: zh-CN
    answered = flow_api.call("POST", f"/surveys/{_link(message)}", user=None, body={"data": {"rating": 2, "comment": "Slow"}})
    assert answered.status_code == 200 and answered.json["state"] == "FollowUp" and answered.json["follow_up"] is True
    assert order.get()["data"]["satisfaction_follow_up"] is True
    assert [t["record_id"] for t in flow_api.call("GET", "/tasks", **MANAGER).json["items"]] == [order.id]
    notes = flow_api.call("GET", "/notifications", **MANAGER).json
    assert notes["unread"] >= 1 and any(n["kind"] == "task.assigned" and n["record_id"] == order.id for n in notes["items"])
    order.version = order.get(MANAGER)["version"]
    order.act("resolve", MANAGER, comment="Called back")
    assert order.get()["workflow"]["state"] == "Closed"


def test_threshold_is_data(flow_api, ses):
    """A tenant raising the threshold to 3 changes the form definition, no code."""
    from chalicelib.seed import load_form
    form = load_form("work_order")
    for f in form["fields"]:
        if f["name"] == "satisfaction_follow_up":
            f["expression"] = "not is_empty(satisfaction_rating) and satisfaction_rating <= 3"
    assert flow_api.call("POST", "/definitions/form/work_order/versions", body=form).status_code == 201
    order, _customer = completed_order(flow_api)
    _deliver()
    answered = flow_api.call("POST", f"/surveys/{_link(ses.sent_messages[0])}", user=None, body={"data": {"rating": 3}})
    assert answered.json["state"] == "FollowUp"


def test_forged_tampered_and_expired_links_are_rejected_without_a_database_read(flow_api, ses, monkeypatch):
    from chalicelib.config import get_settings
    from chalicelib.services import surveys, system_writes
    from chalicelib.surveys import sign_token
    order, _customer = completed_order(flow_api)
    _deliver()
    token = _link(ses.sent_messages[0])

    def no_read(*args, **kwargs):
        raise AssertionError("a rejected token must not reach the database")
    monkeypatch.setattr(surveys.outbox, "answered", no_read)
    monkeypatch.setattr(system_writes, "load", no_read)
    payload, mac = token.split(".")
    tampered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + mac
    forged = sign_token("not-the-secret-" + "x" * 30, tenant="demo", form="work_order", record_id=order.id,
                        survey_id="01ARZ3NDEKTSV4RRFFQ69G5FAV", expires_at=int(time.time()) + 3600)
    expired = sign_token(get_settings().survey_secret, tenant="demo", form="work_order", record_id=order.id,
                         survey_id="01ARZ3NDEKTSV4RRFFQ69G5FAV", expires_at=int(time.time()) - 1)
    for bad, code in ((tampered, "survey_token_invalid"), (forged, "survey_token_invalid"), ("garbage", "survey_token_invalid"),
                      (expired, "survey_token_expired")):
        for method, path in (("GET", f"/surveys/{bad}"), ("POST", f"/surveys/{bad}"), ("POST", f"/surveys/{bad}/opt-out")):
            response = flow_api.call(method, path, user=None, body={"data": {"rating": 5}})
            assert response.status_code == 403 and response.json["error"]["code"] == code, (method, bad, response.json)


def test_reminder_after_n_days_then_opt_out_suppresses_survey_mail(flow_api, ses):
    order, customer = completed_order(flow_api)
    _deliver()
    assert _deliver(_later(2))["sent"] == 0  # reminder_days = 3
    assert _deliver(_later(3.1))["sent"] == 1
    first, reminder = ses.sent_messages
    assert "提醒" in reminder.subject and order.get()["data"]["survey_status"] == "reminded"
    assert _deliver(_later(7))["sent"] == 0  # one reminder only

    out = flow_api.call("POST", f"/surveys/{_link(reminder, 'opt-out')}/opt-out", user=None)
    assert out.status_code == 200 and out.json == {"opted_out": True, "changed": True}
    assert flow_api.call("POST", f"/surveys/{_link(first, 'opt-out')}/opt-out", user=None).json["changed"] is False
    record = flow_api.call("GET", f"/forms/customer/records/{customer['id']}", **AGENT).json
    assert record["data"]["survey_opt_out"] is True
    # the same customer's next completed order gets no survey; the order says why
    from chalicelib.services.effects import step_ops  # noqa: F401  (same transaction path as above)
    second = _second_order_for(flow_api, customer)
    _deliver()
    assert len(ses.sent_messages) == 2
    data = second.get()["data"]
    assert data["survey_status"] == "opted_out" and "opted out" in data["survey_note"]


def _second_order_for(api, customer):
    from .helpers import work_order_data
    from .test_workflow_e2e import Order
    created = api.call("POST", "/forms/work_order/records", body={"data": work_order_data(customer["id"])}, **AGENT)
    order = Order(api, created.json)
    order.act("auto_dispatch", SUP)
    engineer = ZHANG if order.get()["data"]["assigned_engineer"] == "eng.zhang" else CHEN
    order.act("accept", engineer)
    order.act("arrive", engineer)
    order.version = _patch(api, order, engineer, service_report="Done")
    order.version = _sign(api, order, engineer)
    order.act("complete", engineer)
    return order


@pytest.mark.parametrize("case", ["no_address", "template_missing", "rejected", "suppressed"])
def test_mail_that_cannot_go_is_recorded_on_the_order(flow_api, ses, case):
    from chalicelib.services import mail
    from chalicelib.storage import outbox
    order, customer = completed_order(flow_api, {} if case == "no_address" else {"email": "buyer@example.com"})
    if case == "template_missing":  # the workflow names a template the tenant never uploaded
        from chalicelib.ids import new_id
        from chalicelib.services.clock import utc_now
        from chalicelib.storage.messaging_models import OutboxItem
        first, = list(OutboxItem.scan(OutboxItem.kind == "mail"))  # the survey mail the completion queued
        first.delete()
        now = utc_now()
        _op, item, _cond, _label = outbox.outbox_put("demo", new_id(), kind="mail", template="no_such_template", due_at=now,
                                                     created_at=now, form="work_order", record_id=order.id,
                                                     to_value=customer["id"])
        item.save()
    if case == "rejected":  # SES refuses: the sender is not verified
        ses.email_identities.clear()
    if case == "suppressed":
        mail.record_bounce("demo", "buyer@example.com", "bounce")
    result = _deliver()
    assert result["sent"] == 0 and ses.sent_messages == []
    data = order.get()["data"]
    history = flow_api.call("GET", f"{order.path}/history", **AGENT).json["items"]
    assert history[-1]["kind"] == "mail" and history[-1]["mail"]["outcome"] == case
    if case != "template_missing":  # a non-survey template records in history only
        assert data["survey_status"] == case and data["survey_note"]
    assert _deliver()["sent"] == 0 and _deliver(_later(5))["sent"] == 0  # recorded once, no reminder, nothing lost


def test_every_outbox_item_is_written_with_its_step(flow_api, ses):
    """A completion whose transaction fails leaves no mail behind (the outbox put is one of its items)."""
    from chalicelib.storage.messaging_models import OutboxItem
    order, _customer = completed_order(flow_api)
    items = list(OutboxItem.scan(OutboxItem.kind == "mail"))
    assert len(items) == 1 and items[0].record_id == order.id and items[0].template == "satisfaction_survey"
