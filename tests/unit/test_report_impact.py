"""What moving records does to a report's numbers (chalicelib.reports.impact): what a report reads and
where, which state names its `$state` tests use, a moved record counted as regrouped or remeasured from
the report engine's own contributions, group moves (capped), reasons from the definitions (a removed
field outranks a changed value), and the answer's view."""
from chalicelib.forms.definition import parse_form_definition
from chalicelib.reports import contribution, parse_report
from chalicelib.reports import impact
from chalicelib.workflow.definition import parse_workflow

ORDERS = parse_report({
    "name": "orders", "form": "work_order", "scope": ["region"], "rows": None,
    "filter": "not ($state in ['Closed', 'Cancelled'])",
    "dimensions": [{"name": "status", "field": "$state"}, {"name": "week", "field": "coalesce(reported_at, $created_at)", "bucket": "week"}],
    "measures": [{"name": "orders", "op": "count"}, {"name": "urgent", "op": "count", "where": "priority == 'urgent'"},
                 {"name": "hours", "op": "sum", "field": "hours"}]})
PARTS = parse_report({"name": "parts", "form": "work_order", "rows": "parts_used",
                      "dimensions": [{"name": "part", "field": "part"}], "measures": [{"name": "qty", "op": "sum", "field": "quantity"}]})


def record(state="Review", **data):
    return {"data": {"region": "north", "reported_at": "2026-11-02T08:00:00Z", **data}, "workflow": {"state": state},
            "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-02T00:00:00Z", "id": "r1", "number": "WO-1"}


def test_what_a_report_reads_and_where():
    assert impact.reads(ORDERS) == {
        "$state": ["filter", "dimension:status"], "$created_at": ["dimension:week"], "reported_at": ["dimension:week"],
        "priority": ["measure:urgent"], "hours": ["measure:hours"], "region": ["scope"]}
    assert impact.reads(PARTS) == {"part": ["dimension:part"], "quantity": ["measure:qty"], "parts_used": ["rows"]}
    assert impact.reads(ORDERS) is impact.reads(ORDERS)  # once per definition object
    assert impact.state_names(ORDERS) == {"Closed": ["filter"], "Cancelled": ["filter"]}
    assert impact.state_names(PARTS) == {}


def test_a_moved_record_is_regrouped_or_remeasured_by_its_contributions():
    entry = impact.new_impact("orders", 3, {"en": "Orders", "zh-CN": "工单"})
    old, renamed = record(), record("Triage")
    assert impact.add_record(entry, ORDERS, contribution(ORDERS, old), contribution(ORDERS, renamed), {"$state", "$updated_at"},
                             ("Review", "Triage"))
    more = record(hours=3)
    assert impact.add_record(entry, ORDERS, contribution(ORDERS, old), contribution(ORDERS, more), {"hours"})
    closed = record("Closed")
    assert impact.add_record(entry, ORDERS, contribution(ORDERS, old), contribution(ORDERS, closed), {"$state"}, ("Review", "Closed"))
    # a change the report does not read: its numbers stay, the record is not counted
    assert not impact.add_record(entry, ORDERS, contribution(ORDERS, old), contribution(ORDERS, record(note="x")), {"note"})
    shown = impact.view(entry, "zh-CN")
    assert (shown["title"], shown["version"], shown["records"], shown["regrouped"], shown["remeasured"]) == ("工单", 3, 3, 2, 1)
    assert shown["why"] == [
        {"input": "$state", "kind": "state", "read_by": ["filter", "dimension:status"], "records": 2,
         "states": {"Review": {"Triage": 1, "Closed": 1}}},
        {"input": "hours", "kind": "value", "read_by": ["measure:hours"], "records": 1}]
    assert shown["moves"] == [{"from": ["Review", "2026-11-02"], "to": ["Triage", "2026-11-02"], "records": 1},
                              {"from": ["Review", "2026-11-02"], "to": None, "records": 1}]  # Closed: out by the filter
    assert impact.view(entry, "fr")["title"] == "Orders"


def test_sub_table_records_count_without_moves_and_moves_are_capped():
    entry = impact.new_impact("parts", 1, {})
    old = record(parts_used=[{"part": "P1", "quantity": 1}, {"part": "P2", "quantity": 1}])
    new = record(parts_used=[{"part": "P1", "quantity": 1}, {"part": "P3", "quantity": 1}])
    assert impact.add_record(entry, PARTS, contribution(PARTS, old), contribution(PARTS, new), {"parts_used"})
    assert (entry["records"], entry["regrouped"], entry["moves"]) == (1, 1, {})  # many groups a side: no one move
    assert impact.view(entry, "en")["title"] == "parts"
    capped = impact.new_impact("orders", 1, {})
    for n in range(impact.MAX_MOVES + 5):
        impact.add_record(capped, ORDERS, contribution(ORDERS, record()), contribution(ORDERS, record(f"S{n}")), {"$state"},
                          ("Review", f"S{n}"))
    assert capped["records"] == impact.MAX_MOVES + 5 and len(capped["moves"]) == impact.MAX_MOVES
    impact.add_record(capped, ORDERS, contribution(ORDERS, record()), contribution(ORDERS, record("S0")), {"$state"}, ("Review", "S0"))
    assert impact.view(capped, "en")["moves"][0]["records"] == 2  # a pair already kept goes on counting


def test_reasons_from_the_definitions():
    entry = impact.new_impact("orders", 1, {})
    impact.add_record(entry, ORDERS, contribution(ORDERS, record(hours=1)), contribution(ORDERS, record()), {"hours"})
    impact.add_static(entry, ORDERS, "removed", "hours")
    impact.add_static(entry, ORDERS, "retyped", "priority", types={"from": "select", "to": "text"})
    impact.add_static(entry, ORDERS, "state_named", "$state", names=["Closed"], read_by=["filter"])
    assert impact.affects(entry)
    why = {(w["input"], w["kind"]): w for w in impact.view(entry, "en")["why"]}
    assert why[("hours", "removed")]["records"] == 1  # the removal explains the changed value: one reason
    assert why[("priority", "retyped")] == {"input": "priority", "kind": "retyped", "read_by": ["measure:urgent"], "records": 0,
                                            "types": {"from": "select", "to": "text"}}
    assert why[("$state", "state_named")]["names"] == ["Closed"]
    assert not impact.affects(impact.new_impact("orders", 1, {}))


def test_the_migration_compares_the_definitions_it_moves_records_from():
    from chalicelib.services.migrations import _static
    perms = {"create": ["agent"], "read": ["agent"], "update": ["agent"], "delete": ["agent"]}
    fields = [{"name": "priority", "type": "select", "options": [{"value": "urgent"}]}, {"name": "hours", "type": "number"},
              {"name": "region", "type": "text"}, {"name": "reported_at", "type": "datetime"},
              {"name": "parts_used", "type": "subtable", "fields": [{"name": "part", "type": "text"}, {"name": "quantity", "type": "number"}]}]
    old = parse_form_definition({"name": "work_order", "title": "WO", "fields": fields, "permissions": perms})
    new = parse_form_definition({"name": "work_order", "title": "WO", "permissions": perms, "fields": [
        {"name": "priority", "type": "text"}, {"name": "region", "type": "text"}, {"name": "reported_at", "type": "datetime"},
        {"name": "parts_used", "type": "subtable", "fields": [{"name": "part", "type": "text"}]}]})
    task = {"Type": "Task", "Assignee": {"Role": "agent"}, "Actions": {"close": {"Next": "Done"}}}
    via = {**task, "Actions": {"close": {"Next": "Closed"}}}
    old_wf = parse_workflow({"name": "work_order", "StartAt": "Review", "States": {"Review": via, "Closed": task, "Done": {"Type": "Succeed"}}})[0]
    new_wf = parse_workflow({"name": "work_order", "StartAt": "Review", "States": {"Review": task, "Done": {"Type": "Succeed"}}})[0]
    orders, parts = impact.new_impact("orders", 1, {}), impact.new_impact("parts", 1, {})
    _static([(orders, ORDERS), (parts, PARTS)], old, new, old_wf, new_wf)
    assert {(w["input"], w["kind"]) for w in orders["why"].values()} == {
        ("hours", "removed"), ("priority", "retyped"), ("$state", "state_named")}
    assert orders["why"]["$state#named"]["names"] == ["Closed"]  # Cancelled was never a state of it
    assert [(w["input"], w["kind"]) for w in parts["why"].values()] == [("quantity", "removed")]  # a line's field
    same = impact.new_impact("orders", 1, {})
    _static([(same, ORDERS)], new, new, new_wf, new_wf)
    assert same["why"] == {}
