"""Reports over the API: aggregates kept by the stream handler (synthetic stream events built from the
real items), replayed batches change nothing, row permissions on the aggregates, CSV, dashboards with
Vega-Lite, backfill of a new report version while the old one serves, definition errors with paths."""
import json
import random

from .helpers import AGENT, MANAGER, new_customer, work_order_data

ADMIN = dict(user="admin", roles=["admin"])


def _raw_item(tenant, record_id):
    from chalicelib.storage.models import RecordItem
    conn = RecordItem._get_connection().connection
    return conn._make_api_call("GetItem", {"TableName": RecordItem.Meta.table_name, "ConsistentRead": True,
                                           "Key": {"pk": {"S": f"T#{tenant}#R#{record_id}"}, "sk": {"S": "R"}}})["Item"]


def stream_event(tenant, record_ids, *, remove=()):
    records = []
    for n, rid in enumerate(record_ids):
        item = _raw_item(tenant, rid)
        ddb = {"Keys": {"pk": item["pk"], "sk": item["sk"]}, "SequenceNumber": str(n), "SizeBytes": 100,
               "StreamViewType": "NEW_AND_OLD_IMAGES", "ApproximateCreationDateTime": 1764000000}
        if rid in remove:
            ddb["OldImage"] = item
        else:
            ddb["NewImage"] = item
        records.append({"eventID": str(n), "eventName": "REMOVE" if rid in remove else "MODIFY", "dynamodb": ddb,
                        "awsRegion": "us-east-1", "eventSourceARN": "arn:aws:dynamodb:us-east-1:1:table/t/stream/x"})
    return {"Records": records}


def deliver(event):
    from chalicelib.api.reports import maintain_reports
    return maintain_reports(event, None)


def platform_sets(tenant, record_id, **fields):
    """Server-owned fields (e.g. completed_at) are written by the platform, never through the API."""
    from chalicelib.services import system_writes
    system_writes.write(tenant, record_id, lambda rec, form, now: (fields, {"kind": "update"}, []), actor="system")


def _order(api, customer, **data):
    owned = {k: data.pop(k) for k in ("completed_at",) if k in data}
    response = api.call("POST", "/forms/work_order/records", body={"data": work_order_data(customer["id"], **data)}, **ADMIN)
    assert response.status_code == 201, response.json
    if owned:
        platform_sets("demo", response.json["id"], **owned)
    return response.json


def test_reports_follow_the_stream_exactly_once(demo_api):
    api = demo_api
    customer = new_customer(api)
    done = dict(reported_at="2026-10-05T02:00:00Z", completed_at="2026-10-05T04:00:00Z", first_time_fix=True)
    orders = [_order(api, customer, priority="urgent", **done),
              _order(api, customer, priority="urgent", region="south", reported_at="2026-10-05T02:00:00Z",
                     completed_at="2026-10-06T04:00:00Z"),
              _order(api, customer, priority="low")]
    ids = [o["id"] for o in orders]
    event = stream_event("demo", ids)
    assert deliver(event)["applied"] > 0
    again = deliver(event)  # a redelivered batch: nothing changes
    assert again["applied"] == 0 and again["skipped"] > 0
    sla = api.call("GET", "/reports/sla_compliance", **MANAGER).json
    assert {r["priority"]: (r["closed"], r["within_sla"], r["compliance"]) for r in sla["rows"]} == {"urgent": (2, 1, 50)}
    by_region = api.call("GET", "/reports/orders_by_region_status", **MANAGER).json
    assert sum(r["orders"] for r in by_region["rows"]) == 3
    assert {r["status"] for r in by_region["rows"]} == {"Review"}

    # an update moves the order between groups; a stale event delivered late changes nothing
    stale = stream_event("demo", [ids[2]])
    r = api.call("PATCH", f"/forms/work_order/records/{ids[2]}", body={"version": 1, "data": {"region": "west"}}, **ADMIN)  # no demo regions here: Review is the admin desk's (the workflow's Fallback)
    assert r.status_code == 200, r.json
    deliver(stream_event("demo", [ids[2]]))
    deliver(stale)
    rows = api.call("GET", "/reports/orders_by_region_status", **MANAGER).json["rows"]
    assert {r["region"]: r["orders"] for r in rows} == {"north": 1, "south": 1, "west": 1}

    # delete: the record leaves every report
    # version 2: the platform set its completed_at after the create
    r = api.call("DELETE", f"/forms/work_order/records/{ids[1]}?version=2", user="sup.north", roles=["supervisor"])
    assert r.status_code in (200, 204), r.json
    deliver(stream_event("demo", [ids[1]]))
    sla = api.call("GET", "/reports/sla_compliance", **MANAGER).json
    assert {r["priority"]: r["closed"] for r in sla["rows"]} == {"urgent": 1}

    # row permissions: a north supervisor sees north only; an agent has no report grant
    from chalicelib.auth import issue_local_token
    north = issue_local_token("demo", "sup.north", ["supervisor"], attributes={"region": "north"})
    rows = api.call("GET", "/reports/orders_by_region_status", token=north).json["rows"]
    assert {r["region"] for r in rows} == {"north"}
    denied = api.call("GET", "/reports/orders_by_region_status", **AGENT)
    assert denied.status_code == 403 and denied.json["error"]["details"]

    # CSV, view-time narrowing, dashboards, Vega-Lite
    csv = api.http.get("/reports/orders_by_region_status/csv",
                       headers={"Authorization": f"Bearer {api.token('mgr.zhao', ['manager'])}"})
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    assert csv.body.decode().splitlines()[0] == "region,status,orders,urgent,rank,region_title"
    narrowed = api.call("GET", "/reports/orders_by_region_status?dim.region=west", **MANAGER).json
    assert [r["region"] for r in narrowed["rows"]] == ["west"]
    assert api.call("GET", "/reports/orders_by_region_status?dim.nope=1", **MANAGER).status_code == 400
    board = api.call("GET", "/dashboards/service_overview", **MANAGER).json
    assert len(board["charts"]) == 6 and all("vega_lite" in c for c in board["charts"])
    assert board["groups_read"] >= 1
    spec = api.call("GET", "/dashboards/service_overview/charts/sla/vega-lite", **MANAGER).json
    assert spec["mark"] == {"type": "bar"} and spec["data"]["values"][0]["priority"] == "urgent"
    assert api.call("GET", "/dashboards/service_overview/charts/nope/vega-lite", **MANAGER).status_code == 404
    assert {i["name"] for i in api.call("GET", "/dashboards", **MANAGER).json["items"]} >= {"service_overview"}
    assert len(api.call("GET", "/reports", **MANAGER).json["items"]) == 7


def test_new_version_backfills_while_the_old_one_serves(demo_api):
    api = demo_api
    customer = new_customer(api)
    ids = [_order(api, customer, priority=random.choice(["urgent", "high"]))["id"] for _ in range(5)]
    deliver(stream_event("demo", ids))
    raw = json.loads(open("definitions/after_sales/reports/orders_by_region_status.json").read())
    raw["measures"].append({"name": "high", "op": "count", "where": "priority == 'high'"})
    r = api.call("POST", "/definitions/report/orders_by_region_status/versions", body=raw, **ADMIN)
    assert r.status_code == 201, r.json
    # publishing v2 started its backfill; until the job has run, v1 keeps serving and status says so
    status = api.call("GET", "/reports/orders_by_region_status/status", **MANAGER).json
    assert status["serving"] == 1 and status["published"] == 2 and status["building"] == 2
    assert status["status"] == "running"
    assert api.call("GET", "/reports/orders_by_region_status", **MANAGER).json["version"] == 1
    from chalicelib.services.reports import run_backfills
    assert run_backfills()["advanced"] == 1  # the 1-minute schedule
    status = api.call("GET", "/reports/orders_by_region_status/status", **MANAGER).json
    assert status["status"] == "done" and status["serving"] == 2 and status["processed"] == 5
    r = api.call("POST", "/reports/orders_by_region_status/rebuild", **ADMIN)  # nothing left to do
    assert r.status_code == 200 and r.json["status"] == "done" and r.json["serving"] == 2
    report = api.call("GET", "/reports/orders_by_region_status", **MANAGER).json
    assert report["version"] == 2 and sum(r["orders"] for r in report["rows"]) == 5
    assert sum(r["high"] for r in report["rows"]) == sum(1 for i in ids if _raw_item("demo", i)["data"]["S"].count('"high"'))
    # the stream keeps v2 current afterwards
    more = _order(api, customer, priority="high")
    deliver(stream_event("demo", [more["id"]]))
    assert sum(r["orders"] for r in api.call("GET", "/reports/orders_by_region_status", **MANAGER).json["rows"]) == 6
    assert api.call("POST", "/reports/orders_by_region_status/rebuild", **MANAGER).status_code == 403


def test_report_definitions_are_checked_against_the_form(demo_api):
    api = demo_api
    bad = {"form": "work_order", "rows": "priority", "filter": "nope > 1",
           "dimensions": [{"name": "r", "field": "regoin"}], "measures": [{"name": "n", "op": "count"}]}
    r = api.call("POST", "/definitions/report/bad/versions", body=bad, **ADMIN)
    assert r.status_code == 422
    paths = {d["path"] for d in r.json["error"]["details"]}
    assert {"rows", "filter", "dimensions[0].field"} <= paths, paths
    # the supervisor's row rule needs region: a report that cannot apply it is refused at upload
    no_scope = {"form": "work_order", "dimensions": [{"name": "p", "field": "priority"}], "measures": [{"name": "n", "op": "count"}]}
    r = api.call("POST", "/definitions/report/no_scope/versions", body=no_scope, **ADMIN)
    assert r.status_code == 422 and r.json["error"]["details"][0]["path"] == "scope"
    r = api.call("POST", "/definitions/dashboard/d/versions", body={"charts": [{"id": "a", "type": "bar", "report": "nope", "x": "a", "y": "b"}]}, **ADMIN)
    assert r.status_code == 422 and r.json["error"]["details"][0]["path"] == "charts[0].report"
    assert api.call("GET", "/reports/nope", **MANAGER).status_code == 404
    assert api.call("GET", "/reports/sla_compliance?limit=abc", **MANAGER).status_code == 400


def test_lookup_dimensions_carry_titles_and_charts_say_how_to_drill_down(demo_api):
    """Rows of a dimension over a lookup carry the linked record's title (the parts legend showed record ids),
    a user dimension the member's name; each dashboard chart names its form and which dimensions are
    indexed fields of it (the console's drill-down), and its spec labels by the title column."""
    api = demo_api
    customer = new_customer(api)
    parts = {}
    for no, name in (("P-1", "Compressor"), ("P-2", "Fan belt"), ("P-3", "Fan belt")):
        r = api.call("POST", "/forms/spare_part/records", body={"data": {"part_no": no, "name": name, "unit_price": 10}}, **ADMIN)
        assert r.status_code == 201, r.json
        parts[no] = r.json["id"]
    assert api.call("PUT", "/members/eng.wang", body={"display_name": "Wang Wei", "roles": ["engineer"]}, **ADMIN).status_code == 200
    order = _order(api, customer, reported_at="2026-10-05T02:00:00Z")
    platform_sets("demo", order["id"], first_checkin_at="2026-10-05T03:00:00Z", assigned_engineer="eng.wang",
                  completed_at="2026-10-05T06:00:00Z",
                  parts_used=[{"line_id": f"l{n}", "part": parts[no], "quantity": q, "unit_price": 10}
                              for n, (no, q) in enumerate((("P-1", 2), ("P-2", 1), ("P-3", 3)))])
    deliver(stream_event("demo", [order["id"]]))

    report = api.call("GET", "/reports/part_consumption", **MANAGER).json
    assert report["titles"] == {"part": "part_title"}
    by_id = {r["part"]: r["part_title"] for r in report["rows"]}
    assert by_id == {parts["P-1"]: "Compressor", parts["P-2"]: f"Fan belt ({parts['P-2']})",
                     parts["P-3"]: f"Fan belt ({parts['P-3']})"}  # two parts of one name stay two legend entries
    csv = api.http.get("/reports/part_consumption/csv", headers={"Authorization": f"Bearer {api.token('mgr.zhao', ['manager'])}"})
    assert "part_title" in csv.body.decode().splitlines()[0] and "Compressor" in csv.body.decode()
    engineers = api.call("GET", "/reports/engineer_productivity", **MANAGER).json
    assert [(r["engineer"], r["engineer_title"]) for r in engineers["rows"]] == [("eng.wang", "Wang Wei")]

    board = api.call("GET", "/dashboards/engineers_and_parts", **MANAGER).json
    chart = next(c for c in board["charts"] if c["id"] == "parts")
    assert chart["form"] == "work_order" and chart["x"] == "month" and chart["color"] == "part"
    assert {d["name"]: (d["filter"], d["title"], d["bucket"]) for d in chart["dimensions"]} == {
        "part": (None, "part_title", None),  # a sub-table line's field: no record-list filter
        "month": (None, None, "month")}
    assert chart["vega_lite"]["encoding"]["color"]["field"] == "part_title"
    assert {v["part_title"] for v in chart["vega_lite"]["data"]["values"]} >= {"Compressor"}
    ranking = next(c for c in board["charts"] if c["id"] == "ranking")
    assert ranking["vega_lite"]["encoding"]["y"]["field"] == "engineer_title"
    assert ranking["dimensions"] == [{"name": "engineer", "label": "Engineer", "bucket": None, "title": "engineer_title",
                                      "filter": "assigned_engineer"}]
    overview = api.call("GET", "/dashboards/service_overview", **MANAGER).json
    assert overview["description"].startswith("What a service manager watches")
    by_region = next(c for c in overview["charts"] if c["id"] == "orders_by_region")
    assert {d["name"]: d["filter"] for d in by_region["dimensions"]} == {"region": "region", "status": None}
    assert [m["name"] for m in by_region["measures"]] == ["orders", "urgent"] and by_region["description"]
    assert api.call("GET", f"/forms/work_order/records?filter.region={by_region['rows'][0]['region']}", **MANAGER).status_code == 200
    spec = api.call("GET", "/dashboards/engineers_and_parts/charts/parts/vega-lite", **MANAGER).json
    assert spec["encoding"]["color"]["field"] == "part_title" and spec["encoding"]["x"]["timeUnit"] == "utcyearmonth"
    # a caller who may not read the linked form sees ids, never titles
    raw = json.loads(open("definitions/after_sales/forms/spare_part.json").read())
    raw["permissions"]["read"] = ["supervisor"]
    assert api.call("POST", "/definitions/form/spare_part/versions", body=raw, **ADMIN).status_code == 201
    rows = api.call("GET", "/reports/part_consumption", **MANAGER).json["rows"]
    assert {r["part_title"] for r in rows} == set(parts.values())


def test_a_dashboard_says_its_grid_and_keeps_every_chart_inside_it(demo_api):
    """The designer and the dashboard page draw one grid: 12 columns when every chart fits in 12 (the
    shipped dashboards), else 24, or the `columns` written; a chart reaching past it is refused at its path.
    Counts get whole-number ticks (a count of 0..3 was drawn with ticks at 0.5 labelled 0, 1, 1, 2, 2, 3)."""
    api = demo_api
    board = api.call("GET", "/dashboards/service_overview", **MANAGER).json
    assert board["columns"] == 12
    sla = next(c for c in board["charts"] if c["id"] == "orders_by_region")
    assert sla["vega_lite"]["encoding"]["y"]["axis"] == {"format": ",d", "tickMinStep": 1}
    chart = {"id": "a", "type": "bar", "report": "orders_by_region_status", "x": "region", "y": "orders"}
    wide = {"charts": [{**chart, "layout": {"x": 0, "y": 0, "w": 6, "h": 4}}, {**chart, "id": "b", "layout": {"x": 12, "y": 0, "w": 12, "h": 4}}]}
    r = api.call("POST", "/definitions/dashboard/wide/versions?publish=true", body=wide, **ADMIN)
    assert r.status_code == 201, r.json
    assert api.call("GET", "/dashboards/wide", **MANAGER).json["columns"] == 24
    r = api.call("POST", "/definitions/dashboard/wide/versions", body={**wide, "columns": 12}, **ADMIN)
    assert r.status_code == 422
    assert r.json["error"]["details"] == [{"path": "charts[1].layout.w", "message":
                                           "the chart reaches column 24 of a 12-column grid (x + w must be at most 12)"}]
    r = api.call("POST", "/definitions/dashboard/narrow/versions?publish=true",
                 body={"columns": 24, "charts": [{**chart, "layout": {"x": 0, "y": 0, "w": 12, "h": 4}}]}, **ADMIN)
    assert r.status_code == 201 and api.call("GET", "/dashboards/narrow", **MANAGER).json["columns"] == 24
    over = {"charts": [{**chart, "layout": {"x": 20, "y": 0, "w": 6, "h": 4}}]}
    r = api.call("POST", "/definitions/dashboard/over/versions", body=over, **ADMIN)
    assert r.status_code == 422 and r.json["error"]["details"][0]["path"] == "charts[0].layout.w"
