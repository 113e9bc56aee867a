"""Survey and outbox races on DynamoDB Local (moto is not thread-safe): two mail workers at once send
each item once; eight concurrent answers through one link write once."""
import os

import pytest

from chalicelib.services import records, workflow
from chalicelib.services.clock import utc_now

from .test_storage_races import AGENT, _install, order_body, run_parallel

pytestmark = pytest.mark.ddblocal


@pytest.fixture
def logged_mail(ddblocal_backend):
    from chalicelib.config import reset_settings
    from chalicelib.storage import mail
    os.environ["MAIL_MODE"] = "log"
    reset_settings()
    mail.sent_locally.clear()
    _install()
    yield mail.sent_locally
    os.environ.pop("MAIL_MODE", None)
    reset_settings()
    mail.sent_locally.clear()


def _order_with_mail(n=0):
    from chalicelib.ids import new_id
    from chalicelib.storage import outbox
    customer, _ = records.create(AGENT, "customer", {"data": {"name": "Race Ltd", "phone": f"1380013{8100 + n}",
                                                              "email": f"race{n}@example.com", "language": "en"}}, None)
    order, _ = records.create(AGENT, "work_order", order_body(customer["id"]), None)
    now = utc_now()
    _op, item, _cond, _label = outbox.outbox_put("demo", new_id(), kind="mail", template="satisfaction_survey", due_at=now,
                                                 created_at=now, form="work_order", record_id=order["id"],
                                                 to_value=customer["id"])
    item.save()
    return order


def test_two_workers_send_each_item_once(logged_mail):
    from chalicelib.services.mail import deliver_due
    orders = [_order_with_mail(n) for n in range(3)]
    outcomes = run_parallel(lambda i: deliver_due(), 2)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    deliver_due()  # anything a run found busy is done by the next one (or already finished)
    assert sorted(m["to"] for m in logged_mail) == [f"race{n}@example.com" for n in range(3)]
    for order in orders:
        data = records.get(AGENT, "work_order", order["id"])["data"]
        assert data["survey_status"] == "sent"


def test_one_link_answers_once_under_concurrency(logged_mail):
    from chalicelib.services import surveys
    from chalicelib.services.mail import deliver_due
    order = _order_with_mail()
    deliver_due()
    [message] = logged_mail
    token = message["text"].split("/surveys/", 1)[1].split()[0].split("?")[0]
    outcomes = run_parallel(lambda i: surveys.answer(token, {"data": {"rating": 1 + i % 5}}), 8)
    won = [o for kind, o in outcomes if kind == "ok"]
    lost = [o for kind, o in outcomes if kind != "ok"]
    assert len(won) == 1, outcomes
    assert all(o.code in ("survey_already_answered", "write_contention") for o in lost), lost
    final = records.get(AGENT, "work_order", order["id"])["data"]
    assert final["survey_status"] == "answered" and 1 <= final["satisfaction_rating"] <= 5
    history = [h for h in workflow.history(AGENT, "work_order", order["id"], None)["items"] if h["kind"] == "survey"]
    assert len(history) == 1
