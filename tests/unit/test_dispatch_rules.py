"""Hard rules (each one, with its reason) and the weighted objectives ("why this engineer")."""
import pytest

from chalicelib.dispatch import DispatchPolicy, Engineer, engineer_from_record, parse_policy, rank
from chalicelib.dispatch.rules import Context, violations
from chalicelib.dispatch.scoring import evaluate, why_none

NOW = "2026-11-25T12:00:00.000Z"
SITE = {"lat": 31.2304, "lng": 121.4737}
POLICY = parse_policy({"rules": {"neighbours": {"north": ["east"]}, "min_skill_level_by_skill": {"medical": 3}}})


def eng(user="e1", **kw):
    base = dict(user=user, region="north", skills={"hvac": 3}, location=(31.2304, 121.4737), capacity=5)
    return Engineer(**{**base, **kw})


def order(**kw):
    return {"region": "north", "product_line": "hvac", "service_location": SITE, **kw}


def rules_broken(engineer, data=None, policy=POLICY):
    data = data if data is not None else order()
    cand = evaluate(policy, data, engineer, NOW)
    return [r["rule"] for r in cand.excluded], cand


@pytest.mark.parametrize("engineer, data, rule, words", [
    (eng(region="south"), order(), "region", "not one of: north, east"),
    (eng(), order(region=None), "region", "no region"),
    (eng(skills={}), order(), "skill", "no hvac skill"),
    (eng(skills={"medical": 2}), order(product_line="medical"), "skill", "level 2 medical skill; needs level 3"),
    (eng(on_duty=False), order(), "on_duty", "not on duty"),
    (eng(load=5, capacity=5), order(), "capacity", "5 open of 5"),
    (eng(user="eng.zhang"), order(rejected_engineers="eng.li,eng.zhang,"), "excluded", "declined"),
    (eng(user="eng.zhang"), order(rejected_engineers=["eng.zhang"]), "excluded", "declined"),
])
def test_each_hard_rule_excludes_with_its_reason(engineer, data, rule, words):
    broken, cand = rules_broken(engineer, data)
    assert broken == [rule]
    assert words in cand.excluded[0]["message"]
    assert not cand.eligible


def test_neighbouring_region_is_allowed_with_a_cost():
    broken, cand = rules_broken(eng(region="east"))
    assert broken == [] and cand.parts["neighbour_region"]["cost"] == 0.5
    strict = parse_policy({"rules": {"same_region": False}})
    assert rules_broken(eng(region="far"), policy=strict)[0] == []


def test_required_and_preferred_engineer():
    policy = parse_policy({"order": {"required_engineer": "required_engineer", "preferred_engineer": "preferred_engineer"}})
    data = order(required_engineer="e2", preferred_engineer="e3")
    assert rules_broken(eng("e1"), data, policy)[0] == ["required_engineer"]
    broken, cand = rules_broken(eng("e2"), data, policy)
    assert broken == [] and cand.parts["preferred"]["cost"] == 0.5
    _b, preferred = rules_broken(eng("e3"), order(preferred_engineer="e3"), policy)
    assert preferred.parts["preferred"] == {**preferred.parts["preferred"], "value": True, "cost": 0.0}


def test_max_distance_rule_only_when_both_locations_known():
    policy = parse_policy({"rules": {"max_distance_km": 50}})
    far = eng(location=(39.9042, 116.4074))  # Beijing, ~1,067 km away
    broken, cand = rules_broken(far, policy=policy)
    assert broken == ["distance"] and "1067" in cand.excluded[0]["message"]
    assert rules_broken(eng(location=None), policy=policy)[0] == []
    assert rules_broken(far, order(service_location=None), policy)[0] == []


def test_rules_can_be_switched_off():
    lax = parse_policy({"rules": {"require_on_duty": False, "respect_capacity": False, "honour_exclusions": False,
                                  "min_skill_level": 0}})
    data = order(rejected_engineers="e1")
    assert rules_broken(eng(on_duty=False, load=9, skills={}), data, lax)[0] == []


def test_several_rules_reported_at_once():
    broken, _ = rules_broken(eng(region="south", on_duty=False, skills={}))
    assert broken == ["region", "skill", "on_duty"]


def test_score_parts_explain_the_cost():
    cand = evaluate(POLICY, order(), eng(load=2, capacity=4, skills={"hvac": 4}, location=(31.2304 + 0.09, 121.4737),
                                        last_assigned_at="2026-11-25T10:00:00.000Z"), NOW)
    parts = cand.parts
    assert parts["distance"]["value"] == pytest.approx(10.0, abs=0.1)  # 0.09 degree of latitude ≈ 10 km
    assert parts["distance"]["score"] == pytest.approx(10.0 / 35.0, abs=0.01)  # km / (km + 25)
    assert parts["load"]["score"] == 0.5 and parts["load"]["note"] == "2 open of 4"
    assert parts["skill"]["score"] == pytest.approx(0.2)
    assert parts["fairness"]["value"] == 2.0 and parts["fairness"]["score"] == pytest.approx(0.75)
    assert parts["neighbour_region"]["cost"] == 0 and parts["preferred"]["cost"] == 0
    assert cand.cost == pytest.approx(sum(p["weight"] * p["score"] for p in parts.values()), abs=1e-5)
    assert cand.pair_cost == pytest.approx(cand.cost - 0.5)


def test_unknown_locations():
    no_site = evaluate(POLICY, order(service_location=None), eng(), NOW).parts["distance"]
    assert no_site["score"] == 0 and "no site" in no_site["note"]
    nowhere = evaluate(POLICY, order(), eng(location=None), NOW).parts["distance"]
    assert nowhere["score"] == 1.0 and "unknown" in nowhere["note"]


def test_rank_orders_eligible_best_first_then_the_excluded():
    crew = [eng("far", location=(31.5, 121.47)), eng("near"), eng("busy", load=5), eng("south", region="south"),
            eng("expert", skills={"hvac": 5}, location=(31.25, 121.47))]
    ranked = rank(POLICY, order(), crew, NOW)
    assert [c.user for c in ranked if c.eligible] == ["expert", "near", "far"]
    assert [c.rank for c in ranked] == [1, 2, 3, None, None]
    assert {c.user for c in ranked if not c.eligible} == {"busy", "south"}
    body = ranked[0].to_dict()
    assert set(body) >= {"user", "rank", "eligible", "cost", "parts", "excluded", "load", "capacity"}


def test_ties_break_deterministically():
    twins = [eng("b"), eng("a"), eng("c", skills={"hvac": 3})]
    for crew in (twins, list(reversed(twins))):
        assert [c.user for c in rank(POLICY, order(), crew, NOW)] == ["a", "b", "c"]
    # same cost, higher skill first: lower skill made up for by being closer
    policy = parse_policy({"weights": {"skill": 0.0}})
    pair = [eng("x", skills={"hvac": 2}), eng("y", skills={"hvac": 4})]
    assert [c.user for c in rank(policy, order(), pair, NOW)] == ["y", "x"]


def test_duplicate_engineer_records_count_once():
    assert [c.user for c in rank(POLICY, order(), [eng("a"), eng("a", region="south")], NOW)] == ["a"]


def test_why_none_summarises_the_rules():
    ranked = rank(POLICY, order(), [eng("a", on_duty=False), eng("b", region="south"), eng("c", region="south")], NOW)
    assert why_none(ranked) == "no eligible engineer among 3 (excluded by region: 2, on_duty: 1)"
    assert why_none([]) == "no engineers to consider"


def test_engineer_from_record_reads_configured_fields():
    data = {"user": "eng.zhang", "name": "Zhang", "region": "north", "daily_capacity": 6, "on_duty": True,
            "skills": [{"product_line": "hvac", "level": 4}, {"product_line": "hvac", "level": 2}, {"level": 3}],
            "home_location": {"lat": 31.2, "lng": 121.5}}
    e = engineer_from_record(POLICY, "r1", data, load=2)
    # capacity counts the orders assigned today (none yet), not the 2 open ones
    assert (e.user, e.skills, e.capacity, e.location, e.load, e.remaining) == ("eng.zhang", {"hvac": 4}, 6, (31.2, 121.5), 2, 6)
    by_open = engineer_from_record(parse_policy({"rules": {"capacity_per": "open"}}), "r1", data, load=2)
    assert by_open.remaining == 4
    custom = DispatchPolicy(engineer={"location": "home_location", "current_location": "gps", "capacity": None})
    moved = engineer_from_record(custom, "r1", {**data, "gps": {"lat": 30.0, "lng": 120.0}})
    assert moved.location == (30.0, 120.0) and moved.capacity == custom.rules.default_capacity
    assert engineer_from_record(POLICY, "r2", {"name": "no login"}) is None
    assert engineer_from_record(POLICY, "r3", {"user": "u", "on_duty": False}).on_duty is False


def test_context_is_computed_once_per_order():
    ctx = Context.of(POLICY, order(rejected_engineers=" a , b,,"))
    assert ctx.excluded == frozenset({"a", "b"}) and ctx.regions == ["north", "east"] and ctx.has_site
    assert violations(POLICY, ctx, eng("a"), 0.0)[0]["rule"] == "excluded"


def test_rotation_spreads_orders_that_complete_before_the_next_arrives():
    """9 orders over 3 engineers, each finished before the next: by cost the nearest takes all 9
    (load is back to 0 each time); in rotation they go 3/3/3, in turn, whoever was given work least
    recently first. The position is each engineer's last assignment time, kept with the load."""
    from dataclasses import replace
    crew = [eng("near", location=(31.2304, 121.4737)), eng("mid", location=(31.30, 121.50)), eng("far", location=(31.40, 121.60))]
    for rotation, expected in ((False, ["near"] * 9), (True, ["near", "mid", "far"] * 3)):
        policy = parse_policy({"weights": {"fairness": 0}, "rules": {"rotation": rotation}})
        team, chosen = list(crew), []
        for i in range(9):
            best = rank(policy, order(), team, NOW)[0]
            chosen.append(best.user)
            team = [replace(e, last_assigned_at=f"2026-11-25T11:{i:02d}:00.000Z") if e.user == best.user else e for e in team]
        assert chosen == expected


def test_daily_capacity_and_the_open_order_limit_are_separate_rules():
    policy = parse_policy({"rules": {"max_open_orders": 3}})
    day = dict(per_day=True, max_open=3)  # as engineer_from_record sets them from this policy
    fresh, busy_day, many_open = eng("a", load=0, **day), eng("b", today=5, load=0, **day), eng("c", today=1, load=3, **day)
    assert rules_broken(fresh, policy=policy)[0] == []
    broken, cand = rules_broken(busy_day, policy=policy)
    assert broken == ["capacity"] and cand.excluded[0]["message"] == "at capacity (5 today of 5)"
    broken, cand = rules_broken(many_open, policy=policy)
    assert broken == ["open_limit"] and cand.excluded[0]["message"] == "3 open orders; at most 3 at once"
    assert cand.parts["load"]["note"] == "1 today of 5 (3 open)"


@pytest.mark.parametrize("zone, now, day", [
    ("UTC", "2026-12-06T23:30:00.000Z", "2026-12-06"),
    ("+08:00", "2026-12-06T16:30:00.000Z", "2026-12-07"),  # Shanghai's day starts at 16:00 UTC
    ("-05:00", "2026-12-07T03:00:00.000Z", "2026-12-06"),
    ("Asia/Shanghai", "2026-12-06T15:59:59.000Z", "2026-12-06"),
])
def test_the_working_day_is_the_policys_time_zone(zone, now, day):
    from chalicelib.dispatch.policy import work_day
    assert work_day(parse_policy({"rules": {"time_zone": zone}}), now) == day


def test_an_unknown_time_zone_is_refused_at_its_path():
    from chalicelib.errors import DefinitionError
    with pytest.raises(DefinitionError) as raised:
        parse_policy({"rules": {"time_zone": "Mars/Olympus"}})
    assert raised.value.details[0]["path"] == "rules.time_zone"
