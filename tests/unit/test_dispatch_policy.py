"""Dispatch policy definitions: defaults, the shipped policy, and every problem reported with its
JSON path (at parse time, and against the forms the policy names)."""
import json
from pathlib import Path

import pytest

from chalicelib.dispatch import DEFAULT_POLICY, field_problems, parse_policy
from chalicelib.dispatch.geo import haversine_m, point
from chalicelib.errors import DefinitionError
from chalicelib.forms.definition import parse_form_definition

APP = Path(__file__).resolve().parents[2] / "definitions" / "after_sales"


def _form(name):
    return parse_form_definition(json.loads((APP / "forms" / f"{name}.json").read_text()))


def _paths(raw):
    with pytest.raises(DefinitionError) as caught:
        parse_policy(raw)
    return {d["path"]: d["message"] for d in caught.value.details}


def test_shipped_policy_parses_and_fits_the_shipped_forms():
    policy = parse_policy(json.loads((APP / "dispatch_policies" / "work_order.json").read_text()))
    assert policy.name == "work_order" and policy.rules.neighbours["north"] == ["east"]
    assert field_problems(policy, _form("work_order"), _form("engineer")) == []
    assert field_problems(DEFAULT_POLICY, _form("work_order"), _form("engineer")) == []


def test_defaults_are_a_complete_policy():
    policy = parse_policy({})
    assert policy == DEFAULT_POLICY
    assert policy.order.skill == "product_line" and policy.engineer.location == "home_location"
    assert policy.unassigned_cost({"priority": "urgent"}) == 400 and policy.unassigned_cost({}) == 100


@pytest.mark.parametrize("raw, path, words", [
    ({"weights": {"distance": -1}}, "weights.distance", "must be at least 0"),
    ({"weights": {"speed": 1}}, "weights.speed", "unknown key (allowed: distance, fairness, load"),
    ({"surprise": True}, "surprise", "unknown key"),
    ({"order": {"skill": "Bad Name"}}, "order.skill", "pattern"),
    ({"rules": {"min_skill_level": -1}}, "rules.min_skill_level", "must be at least 0"),
    ({"rules": {"neighbours": {"north": "east"}}}, "rules.neighbours.north", "list"),
    ({"rules": {"neighbours": {"north": ["north"]}}}, "rules.neighbours.north", "own neighbour"),
    ({"rules": {"min_skill_level_by_skill": {"medical": 9}}}, "rules.min_skill_level_by_skill.medical", "max_skill_level"),
    ({"batch": {"unassigned_penalty": 2}}, "batch.unassigned_penalty", "exceed the sum of the weights"),
    ({"batch": {"priority_weights": {"low": 0}}}, "batch.priority_weights.low", "> 0"),
    ({"scales": {"distance_km": 0}}, "scales.distance_km", "greater than"),
    ({"dispatchers": "supervisor"}, "dispatchers", "list"),
])
def test_problems_carry_json_paths(raw, path, words):
    problems = _paths(raw)
    assert path in problems, problems
    assert words in problems[path]


def test_not_an_object():
    assert _paths([1, 2]) == {"": "expected object"}


def test_field_names_are_checked_against_the_forms():
    policy = parse_policy({"order": {"location": "service_address", "skill": "no_such_field", "preferred_engineer": "customer"},
                           "engineer": {"capacity": "name", "skill_level": "nope", "on_duty": "phone"}})
    problems = {p["path"]: p["message"] for p in field_problems(policy, _form("work_order"), _form("engineer"))}
    assert "is textarea; expected one of geolocation" in problems["order.location"]
    assert "has no field 'no_such_field'" in problems["order.skill"]
    assert "is lookup" in problems["order.preferred_engineer"]
    assert "is text" in problems["engineer.capacity"]
    assert "subtable 'skills' has no field 'nope'" in problems["engineer.skill_level"]
    assert "engineer.on_duty" in problems


def test_haversine_known_distances():
    assert haversine_m(0, 0, 0, 0) == 0
    assert haversine_m(0, 0, 1, 0) == pytest.approx(111_195, rel=1e-3)  # one degree of latitude
    shanghai_beijing = haversine_m(31.2304, 121.4737, 39.9042, 116.4074)
    assert shanghai_beijing == pytest.approx(1_067_000, rel=0.01)
    assert haversine_m(10, 20, 30, 40) == pytest.approx(haversine_m(30, 40, 10, 20))
    assert haversine_m(0, 179.9, 0, -179.9) == pytest.approx(22_239, rel=1e-3)  # across the antimeridian


def test_point_reads_geolocation_values():
    assert point({"lat": 31.2, "lng": 121.5, "accuracy": 10}) == (31.2, 121.5)
    assert point({"lat": "31.2", "lng": 121.5}) == (31.2, 121.5)
    for bad in (None, {}, {"lat": 91, "lng": 0}, {"lat": "x", "lng": 1}, "31,121", [31, 121]):
        assert point(bad) is None
