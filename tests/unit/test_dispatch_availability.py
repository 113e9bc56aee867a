"""The availability hard rule: an absence (leave, training) overlapping the order's time window
excludes the engineer, with the reason; the window is the order's own fields, else now."""
import pytest

from chalicelib.dispatch import Engineer, engineer_from_record, parse_policy
from chalicelib.dispatch.scoring import evaluate

NOW = "2026-11-25T12:00:00.000Z"
POLICY = parse_policy({"engineer": {"absences": "absences"},
                       "order": {"window_start": "appointment_start", "window_end": "appointment_end"}})
LEAVE = ("2026-11-25T08:00:00Z", "2026-11-26T08:00:00Z")


def eng(absences=()):
    return Engineer(user="e1", region="north", skills={"hvac": 3}, location=(31.23, 121.47), absences=tuple(absences))


def broken(engineer, order, policy=POLICY):
    data = {"region": "north", "product_line": "hvac", **order}
    return [r for r in evaluate(policy, data, engineer, NOW).excluded if r["rule"] == "availability"]


@pytest.mark.parametrize("order, away", [
    ({}, True),  # no appointment: now (12:00) is inside the leave
    ({"appointment_start": "2026-11-26T09:00:00Z"}, False),  # after the leave
    ({"appointment_start": "2026-11-25T06:00:00Z", "appointment_end": "2026-11-25T07:59:59Z"}, False),  # before it
    ({"appointment_start": "2026-11-25T06:00:00Z", "appointment_end": "2026-11-25T09:00:00Z"}, True),  # runs into it
    ({"appointment_start": "2026-11-26T08:00:00Z"}, False),  # the leave ends as the work starts
])
def test_an_absence_overlapping_the_window_excludes_the_engineer(order, away):
    found = broken(eng([LEAVE]), order)
    assert bool(found) is away
    if away:
        assert "2026-11-25T08:00:00Z" in found[0]["message"]


def test_the_rule_can_be_switched_off_and_engineers_without_absences_pass():
    off = parse_policy({"engineer": {"absences": "absences"}, "rules": {"require_available": False}})
    assert broken(eng([LEAVE]), {}, off) == []
    assert broken(eng(), {}) == []


def test_absences_come_from_the_engineer_record():
    record = {"user": "e1", "region": "north", "absences": [
        {"from": LEAVE[0], "until": LEAVE[1], "reason": "training"}, {"from": "2026-12-01T00:00:00Z"}]}
    engineer = engineer_from_record(POLICY, "01ABC", record)
    assert engineer.absences == (LEAVE,)  # an open-ended row is ignored, not guessed


def test_window_fields_are_checked_against_the_form_at_upload():
    import json
    from pathlib import Path

    from chalicelib.dispatch import field_problems
    from chalicelib.forms.definition import parse_form_definition
    app = Path(__file__).resolve().parents[2] / "definitions" / "after_sales" / "forms"
    orders = parse_form_definition(json.loads((app / "work_order.json").read_text()))
    engineers = parse_form_definition(json.loads((app / "engineer.json").read_text()))
    bad = parse_policy({"engineer": {"absences": "skills"}, "order": {"window_start": "priority"}})
    paths = {p["path"] for p in field_problems(bad, orders, engineers)}
    assert "order.window_start" in paths
    good = parse_policy({"engineer": {"absences": "absences"}, "order": {"window_start": "reported_at"}})
    assert field_problems(good, orders, engineers) == []
