"""The sync change feed on DynamoDB Local (issue 19): writers to one engineer's orders run at once —
different records, the same record (lost races), a transaction held open while others commit — while
the engineer pulls over and over with the cursor each pull hands back. No change is lost: the chained
pulls end holding every order at its final version, and every feed number is an entry or a void."""
import threading

import pytest

from chalicelib.services import records, sync, workflow
from chalicelib.services.caller import Caller
from chalicelib.storage import feed
from chalicelib.storage import records as record_store
from chalicelib.storage.models import FeedItem

from .test_storage_races import AGENT, SUPERVISOR, order_body, racing_tenant, run_parallel  # noqa: F401 (fixture)

ENGINEER = Caller(tenant="demo", user_id="eng.zhang", roles=frozenset({"engineer"}))
ADMIN = Caller(tenant="demo", user_id="admin", roles=frozenset({"admin"}))
SITE = {"lat": 31.2304, "lng": 121.4737}


def _on_site_order(customer_id):
    order, _ = records.create(AGENT, "work_order", order_body(customer_id, service_location=SITE, product_line="hvac"), None)
    step = _assign(order, "eng.zhang")
    step = workflow.act(ENGINEER, "work_order", order["id"], "accept", {"version": step["record"]["version"]})
    return workflow.act(ENGINEER, "work_order", order["id"], "arrive", {"version": step["record"]["version"]})["record"]


def _assign(order, engineer):
    return workflow.act(SUPERVISOR, "work_order", order["id"], "assign", {"version": order["version"],
                                                                         "data": {"assigned_engineer": engineer}})


def _patch(record_id, text):
    """One PATCH of the service report, retried on a lost race (each attempt takes a feed number)."""
    for _ in range(40):
        current = records.get(ADMIN, "work_order", record_id)
        try:
            return records.update(ADMIN, "work_order", record_id, {"version": current["version"], "data": {"service_report": text}}, None)
        except Exception as exc:  # noqa: BLE001 - version_conflict / transaction_conflict: read again
            if getattr(exc, "code", None) not in ("version_conflict", "transaction_conflict"):
                raise
    raise AssertionError("no attempt won")


class Phone:
    """What the console keeps: records by id (dropped when unassigned) and the cursor."""

    def __init__(self):
        self.cursor, self.versions = None, {}

    def pull(self):
        answer = sync.sync(ENGINEER, {"operations": [], **({"cursor": self.cursor} if self.cursor else {})})
        for rec in answer["changes"]["records"]:
            self.versions[rec["id"]] = rec["version"]
        for gone in answer["changes"]["unassigned"]:
            self.versions.pop(gone, None)
        self.cursor = answer["cursor"]
        return answer


def _numbers_settled(user):
    pk = f"T#demo#FEED#{user}"
    head = int(FeedItem.get(pk, feed.HEAD).n)
    items = {int(i.sk[2:]): i.k for i in FeedItem.query(pk, FeedItem.sk.startswith("E#"), consistent_read=True)}
    return head, items


@pytest.mark.ddblocal
def test_concurrent_writers_and_pulls_lose_no_change(racing_tenant):
    orders = [_on_site_order(racing_tenant) for _ in range(4)]
    phone = Phone()
    first = phone.pull()
    assert first["changes"]["full"] and set(phone.versions) >= {o["id"] for o in orders}
    stop = threading.Event()
    pulls = []

    def pulling():
        while not stop.is_set():
            pulls.append(phone.pull()["changes"]["full"])

    puller = threading.Thread(target=pulling)
    puller.start()
    try:
        # 12 writers: three per order, so every order also sees lost races (voided numbers)
        outcomes = run_parallel(lambda i: [_patch(orders[i % 4]["id"], f"writer {i} pass {k}") for k in range(3)], 12)
    finally:
        stop.set()
        puller.join()
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    phone.pull()
    assert pulls and not any(pulls)  # every pull after the first read the feed, none fell back
    for order in orders:
        assert phone.versions[order["id"]] == records.get(ADMIN, "work_order", order["id"])["version"]
    head, items = _numbers_settled("eng.zhang")
    assert sorted(items) == list(range(1, head + 1))  # every number is an entry or a void: no hole left
    assert "x" in items.values()  # lost races were voided


@pytest.mark.ddblocal
def test_a_commit_held_open_past_a_pull_is_caught_as_a_hole(racing_tenant, monkeypatch):
    slow, fast = _on_site_order(racing_tenant), _on_site_order(racing_tenant)
    phone = Phone()
    phone.pull()
    held, release = threading.Event(), threading.Event()
    original = record_store._Transaction._commit

    def commit(self):
        if threading.current_thread().name == "slow-writer":
            held.set()  # numbers taken, transaction not sent yet
            assert release.wait(30)
        return original(self)

    monkeypatch.setattr(record_store._Transaction, "_commit", commit)
    writer = threading.Thread(target=_patch, args=(slow["id"], "slow"), name="slow-writer")
    writer.start()
    assert held.wait(30)
    _patch(fast["id"], "fast")  # a later number commits first
    answer = phone.pull()
    assert [r["id"] for r in answer["changes"]["records"]] == [fast["id"]]
    release.set()
    writer.join()
    answer = phone.pull()  # the hole is looked up again: the slow change is there now
    assert [r["id"] for r in answer["changes"]["records"]] == [slow["id"]]
    assert phone.versions[slow["id"]] == records.get(ADMIN, "work_order", slow["id"])["version"]
    assert phone.pull()["changes"]["records"] == []


@pytest.mark.ddblocal
def test_a_reassigned_order_is_unassigned_and_the_new_engineer_gets_it(racing_tenant):
    order, _ = records.create(AGENT, "work_order", order_body(racing_tenant, service_location=SITE, product_line="hvac"), None)
    step = _assign(order, "eng.zhang")
    phone, chen = Phone(), Caller(tenant="demo", user_id="eng.chen", roles=frozenset({"engineer"}))
    assert order["id"] in phone.pull()["changes"]["assigned"]
    chen_cursor = sync.sync(chen, {"operations": []})["cursor"]
    step = workflow.act(ENGINEER, "work_order", order["id"], "reject", {"version": step["record"]["version"], "comment": "too far"})
    workflow.act(SUPERVISOR, "work_order", order["id"], "assign", {"version": step["record"]["version"],
                                                                   "data": {"assigned_engineer": "eng.chen"}})
    answer = phone.pull()
    assert answer["changes"]["unassigned"] == [order["id"]] and answer["changes"]["records"] == []
    assert order["id"] not in phone.versions
    later = sync.sync(chen, {"operations": [], "cursor": chen_cursor})
    assert [r["id"] for r in later["changes"]["records"]] == [order["id"]] and not later["changes"]["full"]


@pytest.mark.ddblocal
def test_a_record_read_older_than_its_entry_is_read_again_consistently(racing_tenant, monkeypatch):
    from chalicelib.storage import sync as sync_store
    from chalicelib.storage.models import RecordItem
    order = _on_site_order(racing_tenant)
    reads = []
    original = RecordItem.batch_get.__func__

    def batch_get(cls, items, consistent_read=False, **kwargs):
        items = list(items)
        reads.append((len(items), consistent_read))
        return original(cls, items, consistent_read=consistent_read, **kwargs)

    monkeypatch.setattr(RecordItem, "batch_get", classmethod(batch_get))
    current = order["version"]
    assert [r.version for r in sync_store.records_at_least("demo", {order["id"]: current})] == [current]
    assert reads == [(1, False)]  # as new as the entry: one eventually consistent read
    reads.clear()
    sync_store.records_at_least("demo", {order["id"]: current + 1})  # a replica behind the entry
    assert reads == [(1, False), (1, True)]
