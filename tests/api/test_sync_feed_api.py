"""The sync pull over the change feed (issue 19): a cursor is a feed position, so a pull reads what
changed since, not the engineer's open tasks; cursors of the old format (versions) still work; a batch
answered again with the cursor its own answer carried reads nothing more."""
import base64
import json

from .test_fieldwork_api import NEAR, SUP, ZHANG, travelling_order
from .test_sync_api import sync


def _body(cursor):
    return json.loads(base64.urlsafe_b64decode(cursor.split(".")[0]))


def _sealed(body):
    from chalicelib import cursors
    return cursors.seal("sync", body)


def test_a_pull_after_a_cursor_returns_only_what_changed(flow_api):
    first_order, second_order = travelling_order(flow_api), travelling_order(flow_api)
    first = sync(flow_api, ZHANG, [])
    assert first["changes"]["full"] and sorted(first["changes"]["assigned"]) == sorted([first_order.id, second_order.id])
    assert "v" not in _body(first["cursor"])  # a feed position, not a version per record
    first_order.post("checkin", ZHANG, location=NEAR)
    later = sync(flow_api, ZHANG, [], cursor=first["cursor"])
    assert [r["id"] for r in later["changes"]["records"]] == [first_order.id] and not later["changes"]["full"]
    assert later["changes"]["records"][0]["version"] == first_order.version
    assert later["changes"]["assigned"] == [first_order.id] and later["changes"]["unassigned"] == []
    assert sync(flow_api, ZHANG, [], cursor=later["cursor"])["changes"]["records"] == []


def test_a_cursor_of_the_old_format_still_works(flow_api):
    kept, gone = travelling_order(flow_api), travelling_order(flow_api)
    old = _sealed({"t": "demo", "u": ZHANG["user"], "v": {kept.id: kept.version, gone.id: gone.version, "01JUNKJUNKJUNKJUNKJUNKJUNK": 3}})
    flow_api.call("DELETE", f"{gone.path}?version={gone.version}", **SUP)
    answer = sync(flow_api, ZHANG, [], cursor=old)
    assert answer["changes"]["full"] and answer["changes"]["records"] == []  # kept is at the version the cursor names
    assert answer["changes"]["assigned"] == [kept.id]
    assert answer["changes"]["unassigned"] == sorted([gone.id, "01JUNKJUNKJUNKJUNKJUNKJUNK"])
    assert "n" in _body(answer["cursor"])  # and the phone moves on to a feed position
    assert sync(flow_api, ZHANG, [], cursor=answer["cursor"])["changes"] == {"records": [], "assigned": [], "unassigned": [], "full": False}


def test_a_batch_sent_again_with_its_answers_cursor_reads_nothing_more(flow_api):
    order = travelling_order(flow_api)
    start = sync(flow_api, ZHANG, [])["cursor"]
    batch = [{"op_id": "feed-op-0001", "type": "checkin", "form": "work_order", "record_id": order.id, "location": NEAR}]
    fresh = sync(flow_api, ZHANG, batch, cursor=start)
    assert [r["id"] for r in fresh["changes"]["records"]] == [order.id]
    again = sync(flow_api, ZHANG, batch, cursor=fresh["cursor"])
    assert again["results"][0]["replayed"] and again["cursor"] == fresh["cursor"]
    assert again["changes"]["records"] == [] and not again["changes"]["full"]
    # the same batch with the cursor from before it (its answer was lost): the record comes back
    lost = sync(flow_api, ZHANG, batch, cursor=start)
    assert lost["results"][0]["replayed"] and [r["id"] for r in lost["changes"]["records"]] == [order.id]


def test_a_cursor_issued_under_other_roles_gets_a_full_resync(flow_api):
    order = travelling_order(flow_api)
    cursor = sync(flow_api, ZHANG, [])["cursor"]
    from chalicelib.services import sync as service
    from chalicelib.services.caller import Caller
    same = Caller(tenant="demo", user_id=ZHANG["user"], roles=frozenset({"engineer"}))
    assert not service.pull(same, cursor)["changes"]["full"]
    more = Caller(tenant="demo", user_id=ZHANG["user"], roles=frozenset({"engineer", "agent"}))  # the roster changed
    answer = service.pull(more, cursor)
    assert answer["changes"]["full"] and answer["changes"]["assigned"] == [order.id]


def test_feed_cursors_of_the_wrong_shape_are_400(flow_api):
    real = _body(sync(flow_api, ZHANG, [])["cursor"])
    for broken in ({**real, "n": -1}, {**real, "n": "7"}, {**real, "h": [[1]]}, {**real, "h": [[1, 2]] * 51},
                   {**real, "a": True}, {k: v for k, v in real.items() if k != "r"}, {**real, "o": 5}):
        response = flow_api.call("POST", "/sync", body={"operations": [], "cursor": _sealed(broken)}, **ZHANG)
        assert response.status_code == 400 and response.json["error"]["code"] == "invalid_cursor", broken
    foreign = _sealed({**real, "u": "eng.chen"})
    response = flow_api.call("POST", "/sync", body={"operations": [], "cursor": foreign}, **ZHANG)
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_cursor"


def test_feed_entries_are_keyed_by_tenant_and_user(flow_api):
    from chalicelib.storage.models import FeedItem
    order = travelling_order(flow_api)
    items = list(FeedItem.query("T#demo#FEED#eng.zhang", FeedItem.sk.startswith("E#")))
    assert order.id in {i.r for i in items}
    assert not list(FeedItem.query("T#other#FEED#eng.zhang", FeedItem.sk.startswith("E#")))
