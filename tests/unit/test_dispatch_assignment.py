"""Batch assignment: the min-cost flow is exactly optimal (brute force on small random cases),
respects capacities, trades scarce capacity by priority, and says why an order stays unassigned."""
import itertools
import random
import time
from array import array

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.dispatch import UNASSIGNED, Engineer, parse_policy, plan, solve
from chalicelib.dispatch.batch import slot_costs
from chalicelib.dispatch.scoring import evaluate

NOW = "2026-11-25T12:00:00.000Z"


def brute_force(arcs, slots, unassigned):
    best = None
    options = [[UNASSIGNED, *sorted(a)] for a in arcs]
    for choice in itertools.product(*options):
        used = [0] * len(slots)
        total = 0.0
        for i, j in enumerate(choice):
            if j == UNASSIGNED:
                total += unassigned[i]
            else:
                if used[j] >= len(slots[j]):
                    break
                total += arcs[i][j] + slots[j][used[j]]
                used[j] += 1
        else:
            best = total if best is None else min(best, total)
    return best


@st.composite
def problems(draw):
    n = draw(st.integers(1, 6))
    m = draw(st.integers(1, 4))
    cost = st.floats(0, 10, allow_nan=False).map(lambda x: round(x, 3))
    arcs = [draw(st.dictionaries(st.integers(0, m - 1), cost, max_size=m)) for _ in range(n)]
    slots = [sorted(draw(st.lists(st.floats(0, 3).map(lambda x: round(x, 3)), max_size=3))) for _ in range(m)]
    unassigned = [draw(st.sampled_from([2.0, 5.0, 20.0])) for _ in range(n)]
    return arcs, slots, unassigned


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(problems())
def test_solve_is_optimal_against_brute_force(problem):
    arcs, slots, unassigned = problem
    result = solve(arcs, slots, unassigned)
    assert result.total_cost == pytest.approx(brute_force(arcs, slots, unassigned), abs=1e-4)
    loads = result.loads(len(slots))
    assert all(loads[j] <= len(slots[j]) for j in range(len(slots)))  # capacities
    assert all(j == UNASSIGNED or j in arcs[i] for i, j in enumerate(result.engineer_of))  # only eligible pairs


def test_global_beats_greedy_one_by_one():
    # Greedy gives order 0 its cheapest engineer A; then order 1 (only A eligible) is left out.
    arcs = [{0: 1.0, 1: 2.0}, {0: 1.0}]
    result = solve(arcs, [[0.0], [0.0]], [50.0, 50.0])
    assert result.engineer_of == [1, 0] and result.total_cost == 3.0


def test_scarce_capacity_goes_to_the_costlier_to_leave_order():
    result = solve([{0: 3.0}, {0: 1.0}], [[0.0]], [400.0, 100.0])  # order 0 urgent
    assert result.engineer_of == [0, UNASSIGNED]


def test_convex_slots_spread_the_load():
    arcs = [{0: 0.0, 1: 0.1}] * 4
    result = solve(arcs, [[0.0, 0.2, 0.4, 0.6], [0.0, 0.2, 0.4, 0.6]], [10.0] * 4)
    assert result.loads(2) == [2, 2]


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        solve([{0: -1.0}], [[0.0]], [1.0])
    with pytest.raises(ValueError):
        solve([{0: 1.0}], [[0.5, 0.1]], [1.0])
    with pytest.raises(ValueError):
        solve([{0: 1.0}], [[0.5]], [])
    assert solve([], [], []).engineer_of == []


POLICY = parse_policy({"rules": {"neighbours": {"north": ["east"]}}})


def eng(user, **kw):
    return Engineer(**{"user": user, "region": "north", "skills": {"hvac": 3}, "location": (31.2, 121.4), "capacity": 2, **kw})


def order(**kw):
    return {"region": "north", "product_line": "hvac", "service_location": {"lat": 31.2, "lng": 121.4}, **kw}


def test_plan_respects_capacity_and_explains_the_unassigned():
    crew = [eng("a", capacity=2, load=1), eng("b", capacity=1), eng("off", on_duty=False)]
    orders = [("o1", order()), ("o2", order()), ("o3", order(priority="urgent")), ("o4", order(region="south")),
              ("o5", order(product_line="medical")), ("o6", order(region=None))]
    out = {p.order_id: p for p in plan(POLICY, orders, crew, NOW)}
    assigned = [p for p in out.values() if p.engineer]
    assert len(assigned) == 2 and {p.engineer for p in assigned} == {"a", "b"}
    assert out["o3"].engineer is not None  # urgent wins the scarce capacity
    left = [o for o in ("o1", "o2") if out[o].engineer is None]
    assert len(left) == 1 and "capacity went to other orders" in out[left[0]].reason
    assert out["o4"].reason == "no engineers in region(s) south"
    assert out["o5"].reason == "no eligible engineer among 3 (excluded by skill: 3, on_duty: 1)"
    assert out["o6"].reason == "the order has no region"
    body = out["o3"].to_dict()
    assert body["assigned"] and set(body["parts"]) >= {"distance", "load", "skill"}
    assert out["o4"].to_dict() == {"record_id": "o4", "assigned": False, "engineer": None,
                                   "reason": "no engineers in region(s) south", "eligible_engineers": 0}


def test_plan_honours_exclusions_and_is_deterministic():
    crew = [eng("a"), eng("b")]
    orders = [("o1", order(rejected_engineers="a,")), ("o2", order(rejected_engineers="b,"))]
    first = plan(POLICY, orders, crew, NOW)
    assert [p.engineer for p in first] == ["b", "a"]
    again = plan(POLICY, list(orders), list(reversed(crew)), NOW)
    assert [p.to_dict() for p in again] == [p.to_dict() for p in first]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(0, 10_000))
def test_plan_is_optimal_for_its_policy_costs(seed):
    """The whole batch path (rules + scoring + flow) against brute force on the same costs."""
    rnd = random.Random(seed)
    crew = [eng(f"e{k}", region=rnd.choice(["north", "east", "south"]), capacity=rnd.randint(1, 2), load=rnd.randint(0, 1),
                skills={"hvac": rnd.randint(0, 5)}, location=(31 + rnd.random(), 121 + rnd.random())) for k in range(3)]
    orders = [(f"o{k}", order(region=rnd.choice(["north", "east"]), priority=rnd.choice(["urgent", "low"]),
                              service_location={"lat": 31 + rnd.random(), "lng": 121 + rnd.random()})) for k in range(5)]
    result = plan(POLICY, orders, crew, NOW)
    roster = sorted(crew, key=lambda e: e.user)
    arcs = [{j: c.pair_cost for j, e in enumerate(roster) for c in [evaluate(POLICY, data, e, NOW)] if c.eligible}
            for _id, data in orders]
    slots = [slot_costs(POLICY, e, len(orders)) for e in roster]
    unassigned = [POLICY.unassigned_cost(data) for _id, data in orders]
    index = {e.user: j for j, e in enumerate(roster)}
    total, used = 0.0, [0] * len(roster)
    for i, p in enumerate(result):
        if p.engineer is None:
            total += unassigned[i]
        else:
            j = index[p.engineer]
            total += arcs[i][j] + slots[j][used[j]]
            used[j] += 1
    assert total == pytest.approx(brute_force(arcs, slots, unassigned), abs=1e-4)


def test_a_thousand_orders_stay_fast():
    """Guards the shape of the algorithm (bench/dispatch.py measures it properly)."""
    from bench.dispatch import NOW as BENCH_NOW, engineers, orders, policy
    rnd = random.Random(3)
    crew, work = engineers(rnd, 200), orders(rnd, 1000, 200)
    start = time.perf_counter()
    result = plan(policy(), work, crew, BENCH_NOW)
    assert time.perf_counter() - start < 10  # ~0.5 s on a laptop core; generous for shared CI machines
    assert sum(p.engineer is not None for p in result) == min(len(work), sum(e.remaining for e in crew if e.on_duty))


def random_problem(rnd: random.Random):
    """Capacity shortage or slack, sparse or full eligibility, tied costs, convex slots, mixed priorities."""
    n, m = rnd.randint(1, 40), rnd.randint(1, 12)
    density = rnd.choice([0.1, 0.3, 0.7, 1.0])
    ties = rnd.random() < 0.4
    cost = (lambda: rnd.choice([0.0, 0.5, 1.0, 1.5])) if ties else (lambda: round(rnd.uniform(0, 3), 4))
    arcs = [{j: cost() for j in range(m) if rnd.random() < density} for _ in range(n)]
    slots = []
    for _ in range(m):
        free = rnd.choice([0, 1, 1, 2, 3, 5])
        step = rnd.choice([0.0, 0.2, 0.5])
        slots.append([round(rnd.uniform(0, 0.5) + step * k, 4) for k in range(free)] if not ties else [step * k for k in range(free)])
        slots[-1].sort()
    unassigned = [rnd.choice([1.0, 2.5, 5.0, 50.0, 100.0]) for _ in range(n)]
    return arcs, slots, unassigned


@pytest.mark.parametrize("candidates,per_engineer,rounds", [(16, 3, 20), (1, 0, 20), (2, 1, 20), (1, 0, 1)])
def test_pruned_solver_matches_the_dense_reference(monkeypatch, candidates, per_engineer, rounds):
    """Differential: the pruned, repaired solver against the dense exact one it replaced, on random
    instances; tiny candidate lists force the repair, one round forces the fallback."""
    from chalicelib.dispatch import assignment
    from tests.unit.reference_assignment import solve as reference

    monkeypatch.setattr(assignment, "CANDIDATES", candidates)
    monkeypatch.setattr(assignment, "PER_ENGINEER", per_engineer)
    monkeypatch.setattr(assignment, "ROUNDS", rounds)
    rnd = random.Random(candidates * 1000 + per_engineer * 10 + rounds)
    for _ in range(400):
        arcs, slots, unassigned = random_problem(rnd)
        ours, exact = solve(arcs, slots, unassigned), reference(arcs, slots, unassigned)
        assert ours.total_cost == pytest.approx(exact.total_cost, abs=1e-6)
        loads = ours.loads(len(slots))
        assert all(loads[j] <= len(slots[j]) for j in range(len(slots)))
        assert all(j == UNASSIGNED or j in arcs[i] for i, j in enumerate(ours.engineer_of))
        assert solve(arcs, slots, unassigned).engineer_of == ours.engineer_of  # deterministic


def test_pruned_solver_matches_the_reference_on_the_bench_shapes():
    """Dense, tight (all eligible, capacity = orders) and regional shortage, at a size that prunes."""
    from bench.dispatch import NOW as BENCH_NOW, engineers, orders, policy
    from chalicelib.dispatch import batch as batch_module
    from tests.unit.reference_assignment import solve as reference

    for uniform in (True, False):
        rnd = random.Random(11)
        crew, work = engineers(rnd, 40, uniform), orders(rnd, 200, 40, uniform)
        seen = []
        real = batch_module.solve
        try:
            batch_module.solve = lambda *inputs: seen.append(inputs) or real(*inputs)
            plan(policy(), work, crew, BENCH_NOW)
        finally:
            batch_module.solve = real
        assert solve(*seen[0]).total_cost == pytest.approx(reference(*seen[0]).total_cost, abs=1e-6)


def test_bulk_pair_costs_equal_evaluate():
    """Differential: the plan's bulk pair costs (static rules and fixed parts per engineer, buckets
    per region and skill) against `evaluate` pair by pair, over every rule and objective."""
    from chalicelib.dispatch.batch import _Pairs
    from chalicelib.dispatch.rules import Context

    policy = parse_policy({"order": {"preferred_engineer": "preferred", "required_engineer": "required"},
                           "rules": {"neighbours": {"north": ["east", "south"]}, "max_distance_km": 60,
                                     "min_skill_level_by_skill": {"medical": 3}}})
    rnd = random.Random(5)
    crew = [eng(f"e{k}", region=rnd.choice(["north", "east", "south", None]), capacity=rnd.randint(1, 3),
                load=rnd.randint(0, 3), on_duty=rnd.random() > 0.2,
                skills={s: rnd.randint(0, 5) for s in rnd.sample(["hvac", "medical"], rnd.randint(0, 2))},
                location=None if rnd.random() < 0.15 else (31 + rnd.random(), 121 + rnd.random()),
                last_assigned_at=rnd.choice([None, "2026-11-25T09:30:00.000Z", "2026-11-24T09:00:00.000Z"]),
                absences=(("2026-11-25T11:00:00Z", "2026-11-25T13:00:00Z"),) if rnd.random() < 0.2 else ())
            for k in range(30)]
    roster = sorted(crew, key=lambda e: e.user)
    pairs, seen = _Pairs(policy, roster, NOW), 0
    for _ in range(300):
        data = order(region=rnd.choice(["north", "east", "south", None]), product_line=rnd.choice(["hvac", "medical", None]),
                     service_location=None if rnd.random() < 0.1 else {"lat": 31 + rnd.random(), "lng": 121 + rnd.random()})
        if rnd.random() < 0.3:
            data["rejected_engineers"] = ",".join(rnd.sample([e.user for e in crew], 3))
        if rnd.random() < 0.2:
            data["preferred"] = rnd.choice(crew).user
        if rnd.random() < 0.1:
            data["required"] = rnd.choice(crew).user
        row = pairs.row(data, Context.of(policy, data, NOW))
        expected = {j: c.pair_cost for j, e in enumerate(roster) for c in [evaluate(policy, data, e, NOW)] if c.eligible}
        assert row.keys() == expected.keys()
        seen += len(row)
        assert all(row[j] == pytest.approx(expected[j], abs=1e-9) for j in row)
    assert seen > 200  # eligible pairs compared


def auction_problem(rnd: random.Random):
    """Random instances for the auction: dense or sparse eligibility, ties, tight or loose capacity,
    unassigned cheaper than any engineer, engineers without free slots."""
    n, m = rnd.randint(1, 40), rnd.randint(1, 12)
    free = rnd.choice([[0, 1, 1, 2], [1, 2, 3, 5], [n], [0], "exact", "exact"])  # short, loose, plenty, none, = n
    density = 1.0 if free == "exact" and rnd.random() < 0.7 else rnd.choice([0.3, 0.7, 1.0, 1.0])
    ties = rnd.random() < 0.4
    cost = (lambda: rnd.choice([0.0, 0.5, 1.0, 1.5])) if ties else (lambda: round(rnd.uniform(0, 3), 4))
    arcs = [{j: cost() for j in range(m) if rnd.random() < density} for _ in range(n)]
    sizes = [rnd.choice(free) for _ in range(m)] if free != "exact" else [0] * m
    for k in range(n if free == "exact" else 0):  # as many slots as orders: the auction's case
        sizes[rnd.randrange(m)] += 1
    slots = []
    for size in sizes:
        step = rnd.choice([0.0, 0.2, 0.5])
        base = 0.0 if ties else round(rnd.uniform(0, 0.5), 4)
        slots.append([round(base + step * k, 4) for k in range(size)])
    cheap = rnd.random() < 0.2  # leaving an order is sometimes cheaper than any engineer
    unassigned = [rnd.choice([0.1, 0.25] if cheap else [1.0, 2.5, 5.0, 50.0, 100.0]) for _ in range(n)]
    return arcs, slots, unassigned


@pytest.mark.parametrize("candidates", [1, 2, 16])
def test_auction_is_within_its_proven_bound_of_the_reference(monkeypatch, candidates):
    """Differential: the epsilon-scaling auction (forced on small instances; it takes those with as
    many slots as orders, the rest and those it cannot prove go to the exact solver) against the
    dense exact solver. Its lower bound is a real one (<= the optimum), its total within AUCTION_GAP of
    it, capacities and eligibility hold, and the same input gives the same plan."""
    from chalicelib.dispatch import assignment
    from tests.unit.reference_assignment import solve as reference

    monkeypatch.setattr(assignment, "AUCTION_MIN_ARCS", 0)
    monkeypatch.setattr(assignment, "AUCTION_CANDIDATES", candidates)
    rnd = random.Random(100 + candidates)
    auctioned = 0
    for _ in range(400):
        arcs, slots, unassigned = auction_problem(rnd)
        ours, exact = solve(arcs, slots, unassigned), reference(arcs, slots, unassigned)
        loads = ours.loads(len(slots))
        assert all(loads[j] <= len(slots[j]) for j in range(len(slots)))
        assert all(j == UNASSIGNED or j in arcs[i] for i, j in enumerate(ours.engineer_of))
        assert solve(arcs, slots, unassigned).engineer_of == ours.engineer_of  # deterministic
        assert ours.total_cost >= exact.total_cost - 1e-6  # it is a plan: never below the optimum
        if ours.lower_bound is None:  # the auction gave up: the exact solver answered
            assert ours.total_cost == pytest.approx(exact.total_cost, abs=1e-6)
            continue
        auctioned += 1
        assert ours.lower_bound <= exact.total_cost + 1e-6  # the bound is sound
        assert ours.total_cost <= exact.total_cost * (1 + assignment.AUCTION_GAP) + 1e-6
        assert ours.total_cost - ours.lower_bound <= assignment.AUCTION_GAP * ours.lower_bound + 1e-6
        assert ours.gap <= assignment.AUCTION_GAP + 1e-9
    assert auctioned > 10  # the auction itself answered some (the bench shape: the next test)


def test_auction_takes_the_dense_bench_shape_and_proves_its_gap():
    """All eligible and tight (capacity = orders), at a size above AUCTION_MIN_ARCS per order."""
    from bench.dispatch import NOW as BENCH_NOW, engineers, orders, policy
    from chalicelib.dispatch import assignment
    from chalicelib.dispatch import batch as batch_module
    from tests.unit.reference_assignment import solve as reference

    rnd = random.Random(11)
    crew, work = engineers(rnd, 80, True), orders(rnd, 400, 80, True)
    seen = []
    real = batch_module.solve
    try:
        batch_module.solve = lambda *inputs: seen.append(inputs) or real(*inputs)
        plan(policy(), work, crew, BENCH_NOW)
    finally:
        batch_module.solve = real
    ours, exact = solve(*seen[0]), reference(*seen[0])
    assert ours.lower_bound is not None  # the auction answered
    assert ours.lower_bound <= exact.total_cost + 1e-6 <= ours.total_cost + 2e-6
    assert ours.total_cost <= exact.total_cost * (1 + assignment.AUCTION_GAP)


def test_bulk_pair_costs_fast_path_equals_evaluate_and_the_pair_loop():
    """Differential: buckets whose engineers all have a location cost an order in bulk (no distance
    limit, no preferred or required engineer, nobody away in them when windows count); exclusions are
    taken out after. Same costs as `evaluate`, and exactly the pair-by-pair loop's (same arithmetic)."""
    from chalicelib.dispatch.batch import _Pairs
    from chalicelib.dispatch.rules import Context

    class Never(dict):  # a cache that keeps nothing: every order takes the pair-by-pair loop
        def __setitem__(self, key, value):
            pass

    policy = parse_policy({"rules": {"neighbours": {"north": ["east", "south"]}, "min_skill_level_by_skill": {"medical": 3}}})
    rnd = random.Random(8)
    crew = [eng(f"e{k}", region=rnd.choice(["north", "east", "south"]), capacity=rnd.randint(1, 3),
                load=rnd.randint(0, 3), on_duty=rnd.random() > 0.2,
                skills={s: rnd.randint(0, 5) for s in rnd.sample(["hvac", "medical"], rnd.randint(0, 2))},
                location=(31 + rnd.random(), 121 + rnd.random()),
                last_assigned_at=rnd.choice([None, "2026-11-25T09:30:00.000Z"]),
                absences=(("2026-11-25T11:00:00Z", "2026-11-25T13:00:00Z"),) if k % 7 == 3 else ())
            for k in range(30)]
    roster = sorted(crew, key=lambda e: e.user)
    fast, slow, seen = _Pairs(policy, roster, NOW), _Pairs(policy, roster, NOW), 0
    slow.columns = Never()
    for _ in range(300):
        data = order(region=rnd.choice(["north", "east", "south"]), product_line=rnd.choice(["hvac", "medical", None]),
                     service_location={"lat": 31 + rnd.random(), "lng": 121 + rnd.random()})
        if rnd.random() < 0.3:
            data["rejected_engineers"] = ",".join(rnd.sample([e.user for e in crew] + ["nobody"], 3))
        ctx = Context.of(policy, data, NOW)
        row = fast.row(data, ctx)
        assert row == slow.row(data, ctx) and list(row) == list(slow.row(data, ctx))  # same values, same order
        expected = {j: c.pair_cost for j, e in enumerate(roster) for c in [evaluate(policy, data, e, NOW)] if c.eligible}
        assert row.keys() == expected.keys()
        assert all(row[j] == pytest.approx(expected[j], abs=1e-9) for j in row)
        seen += len(row)
    assert fast.columns and seen > 200
    # Without availability checks, a bucket with someone away takes the fast path too.
    relaxed = parse_policy({"rules": {"neighbours": {"north": ["east", "south"]}, "require_available": False}})
    pairs = _Pairs(relaxed, roster, NOW)
    data = order(service_location={"lat": 31.5, "lng": 121.5})
    row = pairs.row(data, Context.of(relaxed, data, NOW))
    expected = {j: c.pair_cost for j, e in enumerate(roster) for c in [evaluate(relaxed, data, e, NOW)] if c.eligible}
    assert row.keys() == expected.keys() and all(row[j] == pytest.approx(expected[j], abs=1e-9) for j in row)


@pytest.mark.parametrize("seed", range(4))
def test_auction_on_partly_eligible_mid_size_problems(monkeypatch, seed):
    """Differential, at a size where candidates are re-chosen and the price snapshots raise the floors:
    rows with every engineer, full rows with ineligible gaps and sparse rows (fewer than half), as
    many slots as orders. The auction's answer is within its proven bound of the exact optimum."""
    from chalicelib.dispatch import assignment
    from tests.unit.reference_assignment import solve as reference

    monkeypatch.setattr(assignment, "AUCTION_MIN_ARCS", 0)
    monkeypatch.setattr(assignment, "AUCTION_CANDIDATES", 4)  # 8 candidates (a fifth of the engineers)
    rnd = random.Random(seed)
    n, m = 240, 40
    arcs = []
    for i in range(n):
        density = rnd.choice([1.0, 0.8, 0.3])
        row = {j: round(rnd.uniform(0, 2), 4) for j in range(m) if density == 1.0 or rnd.random() < density}
        arcs.append(row or {rnd.randrange(m): 1.0})
    sizes = [0] * m
    for _ in range(n):
        sizes[rnd.randrange(m)] += 1
    slots = [[round(0.1 * k, 4) for k in range(size)] for size in sizes]
    unassigned = [rnd.choice([50.0, 100.0, 200.0]) for _ in range(n)]
    ours, exact = solve(arcs, slots, unassigned), reference(arcs, slots, unassigned)
    loads = ours.loads(m)
    assert all(loads[j] <= len(slots[j]) for j in range(m))
    assert all(j == UNASSIGNED or j in arcs[i] for i, j in enumerate(ours.engineer_of))
    assert ours.total_cost >= exact.total_cost - 1e-6
    if ours.lower_bound is not None:
        assert ours.lower_bound <= exact.total_cost + 1e-6
        assert ours.total_cost <= exact.total_cost * (1 + assignment.AUCTION_GAP) + 1e-6
    else:
        assert ours.total_cost == pytest.approx(exact.total_cost, abs=1e-6)


def test_the_auction_bound_is_sound_for_any_prices():
    """`_bound` gives a lower bound on the optimum whatever the prices and candidate lists, as long as
    each floor is at most what the order's other arcs cost (here: random prices, random lists)."""
    from chalicelib.dispatch.assignment import _bound, _grow
    from tests.unit.reference_assignment import solve as reference

    rnd = random.Random(21)
    checked = 0
    for _ in range(300):
        n, m = rnd.randint(1, 14), rnd.randint(1, 6)
        arcs = [{j: round(rnd.uniform(0, 3), 3) for j in range(m) if rnd.random() < 0.8} for _ in range(n)]
        slots = [sorted(round(rnd.uniform(0, 1), 3) for _ in range(rnd.randint(0, 3))) for _ in range(m)]
        unassigned = [rnd.choice([0.5, 2.0, 10.0]) for _ in range(n)]
        heaps = [sorted((c + rnd.choice([0.0, 0.0, rnd.uniform(0, 2)]), k) for k, c in enumerate(s)) for s in slots]
        q = [h[0][0] if h else float("inf") for h in heaps]
        cand_j, cand_c, floor = [], [], []
        for a in arcs:
            js, cs, cut = _grow(list(a), array("d", a.values()), q, rnd.randint(1, 3))
            cand_j.append(js)
            cand_c.append(cs)
            floor.append(cut)
        eps = rnd.choice([0.001, 0.05, 0.5])
        bound = _bound(cand_j, cand_c, floor, unassigned, q, heaps, slots, eps)
        assert bound <= reference(arcs, slots, unassigned).total_cost + 1e-6
        checked += 1
    assert checked == 300
