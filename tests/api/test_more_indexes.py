"""Filterable fields past the four GSIs (issue 16): the 5th..12th `indexes` field is kept as index
entry items in the base table, written in the record's own transaction. Lists stay Query-only and
exact through creates, updates that change or keep the value, soft deletes and pagination across
shards; on moto and on DynamoDB Local."""
import pytest

from .helpers import AGENT, new_customer, new_work_order

FIELDS = [{"name": "code", "type": "text", "required": True},
          {"name": "region", "type": "select", "options": [{"value": "north"}, {"value": "south"}]},
          {"name": "team", "type": "text"},
          {"name": "crm_id", "type": "text"},
          {"name": "tier", "type": "number"},
          {"name": "site", "type": "text"},
          {"name": "vip", "type": "checkbox"},
          {"name": "owner", "type": "text"},
          {"name": "note", "type": "text"}]
INDEXES = ["region", "team", "crm_id", "tier", "site", "vip", "owner"]  # site, vip, owner: entry slots 5-7
FORM = {"name": "account", "title": "Accounts", "fields": FIELDS, "indexes": INDEXES, "storage": {"shards": 3},
        "permissions": {"create": ["agent"], "read": ["*"], "update": ["agent"], "delete": ["agent"]}}


@pytest.fixture
def accounts(any_api):
    assert any_api.call("POST", "/definitions/form/account/versions", body=FORM).status_code == 201
    return any_api


def _create(api, code, **data):
    response = api.call("POST", "/forms/account/records", body={"data": {"code": code, **data}}, **AGENT)
    assert response.status_code == 201, response.json
    return response.json


def _codes(api, query, limit=25):
    codes, cursor, pages = [], None, 0
    while True:
        page = api.call("GET", f"/forms/account/records?{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else ""), **AGENT)
        assert page.status_code == 200, page.json
        codes += [item["data"]["code"] for item in page.json["items"]]
        cursor, pages = page.json["next_cursor"], pages + 1
        if not cursor:
            return codes
        assert pages < 40


def _entries(record_id):
    """The index entry items of one record (what the lists read), straight from the table."""
    from chalicelib.storage.models import RecordItem
    item = RecordItem.get(f"T#demo#R#{record_id}", "R")
    return sorted(item.xix or ())


def test_entry_slots_filter_alone_together_and_with_a_gsi_slot_across_shards(accounts):
    made = [_create(accounts, f"A{i:02d}", region="north" if i % 2 else "south", site="s1" if i % 3 else "s2",
                    vip=i % 4 == 0, owner="ann" if i < 10 else "bob", team="red")
            for i in range(16)]
    by_code = {r["data"]["code"]: r for r in made}
    newest_first = [r["data"]["code"] for r in reversed(made)]

    def expect(pred):
        return [c for c in newest_first if pred(by_code[c]["data"])]

    # one entry slot alone: a Query of its entries, every shard, newest first, paged by a small limit
    assert _codes(accounts, "filter.site=s2", limit=2) == expect(lambda d: d["site"] == "s2")
    assert _codes(accounts, "filter.vip=true", limit=3) == expect(lambda d: d["vip"])
    # a GSI slot leads, an entry slot is checked on the records
    assert _codes(accounts, "filter.region=north&filter.owner=bob", limit=2) == expect(lambda d: d["region"] == "north" and d["owner"] == "bob")
    # two entry slots: the first Queried, the second checked
    assert _codes(accounts, "filter.site=s1&filter.owner=ann&filter.vip=false", limit=4) == \
        expect(lambda d: d["site"] == "s1" and d["owner"] == "ann" and not d["vip"])
    assert _codes(accounts, "filter.owner=nobody") == []
    # a field that is not indexed is still refused: nothing scans
    refused = accounts.call("GET", "/forms/account/records?filter.note=x", **AGENT)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "filter_not_indexed"


def test_entries_follow_updates_and_deletes_and_an_unchanged_value_writes_none(accounts):
    rec = _create(accounts, "B1", site="s1", owner="ann", vip=True)
    before = _entries(rec["id"])
    assert len(before) == 3 and all("#IX#account#I" in pk for pk in before)
    path = f"/forms/account/records/{rec['id']}"
    # an update that leaves the entry slots alone keeps the same entries
    moved = accounts.call("PATCH", path, body={"version": 1, "data": {"note": "called", "team": "blue"}}, **AGENT)
    assert moved.status_code == 200, moved.json
    assert _entries(rec["id"]) == before
    # a value change moves the record from one list to the other
    assert accounts.call("PATCH", path, body={"version": 2, "data": {"owner": "bob"}}, **AGENT).status_code == 200
    assert _codes(accounts, "filter.owner=ann") == [] and _codes(accounts, "filter.owner=bob") == ["B1"]
    # cleared: in no list of that slot
    assert accounts.call("PATCH", path, body={"version": 3, "data": {"site": None}}, **AGENT).status_code == 200
    assert _codes(accounts, "filter.site=s1") == [] and len(_entries(rec["id"])) == 2
    # soft-deleted records leave every list
    assert accounts.call("DELETE", path + "?version=4", **AGENT).status_code == 200
    assert _codes(accounts, "filter.owner=bob") == [] and _codes(accounts, "filter.vip=true") == []
    assert _entries(rec["id"]) == []


def test_twelve_indexes_at_most_with_a_clear_error(any_api):
    many = [{"name": f"f{i}", "type": "text"} for i in range(13)]
    twelve = any_api.call("POST", "/definitions/form/wide/versions",
                          body={**FORM, "name": "wide", "fields": many, "indexes": [f"f{i}" for i in range(12)]})
    assert twelve.status_code == 201, twelve.json
    thirteen = any_api.call("POST", "/definitions/form/wider/versions",
                            body={**FORM, "name": "wider", "fields": many, "indexes": [f"f{i}" for i in range(13)]})
    assert thirteen.status_code == 422
    assert any(d["path"] == "indexes" for d in thirteen.json["error"]["details"]), thirteen.json


def test_the_shipped_work_order_gets_a_fifth_filterable_field(any_api):
    """The shipped work order uses the four GSI slots; a tenant admin adds a CRM id and filters on it."""
    from chalicelib.seed import install_app
    install_app("demo")
    published = any_api.call("GET", "/definitions/form/work_order").json["published"]
    definition = any_api.call("GET", f"/definitions/form/work_order/versions/{published}").json["definition"]
    assert len(definition["indexes"]) == 4
    changed = {**definition, "fields": [*definition["fields"], {"name": "crm_id", "type": "text", "label": "CRM id"}],
               "indexes": [*definition["indexes"], "crm_id"]}
    upload = any_api.call("POST", "/definitions/form/work_order/versions?publish=true", body=changed)
    assert upload.status_code == 201, upload.json
    customer = new_customer(any_api)["id"]
    first = new_work_order(any_api, customer, crm_id="CRM-7")
    new_work_order(any_api, customer, crm_id="CRM-8")
    found = any_api.call("GET", "/forms/work_order/records?filter.crm_id=CRM-7", **AGENT)
    assert [i["id"] for i in found.json["items"]] == [first["id"]]
    both = any_api.call("GET", "/forms/work_order/records?filter.region=north&filter.crm_id=CRM-8", **AGENT)
    assert [i["data"]["crm_id"] for i in both.json["items"]] == ["CRM-8"]
