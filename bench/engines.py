"""Our engines beside the libraries a user would pick instead, in one process (the ratios are what count
on a noisy machine). Peers are development packages (requirements-dev.txt), never in the Lambda bundle.

    python -m bench.engines [--repeat 5]

Expressions: a 5-clause condition evaluated with its parse cached (ours compiled into closures, our
tree walker — the reference — simpleeval, jmespath, a Python lambda), and the same condition parsed
uncached. Prints a table (median of `--repeat` runs of many calls each) and the ratios.
"""
from __future__ import annotations

import argparse
import statistics
import time
from decimal import Decimal
from typing import Any, Callable

CONDITION = "priority == 'urgent' and region in ['north', 'east'] and amount > 1000 and not closed and customer.tier != 'basic'"
SIMPLEEVAL = "priority == 'urgent' and region in ['north', 'east'] and amount > 1000 and not closed and customer['tier'] != 'basic'"
JMESPATH = "priority == 'urgent' && contains(['north', 'east'], region) && amount > `1000` && !closed && customer.tier != 'basic'"
RECORD = {"priority": "urgent", "region": "east", "amount": 2500, "closed": False, "customer": {"tier": "gold"}}


def per_call_us(action: Callable[[], Any], repeat: int, calls: int) -> float:
    """Median over `repeat` runs of the mean time of one call, in µs."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(calls):
            action()
        runs.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(runs)


def expressions(repeat: int) -> list[tuple[str, str, float]]:
    import jmespath
    import simpleeval

    from chalicelib.expressions import compile_expression
    from chalicelib.expressions.evaluator import evaluate as walk
    from chalicelib.expressions.parser import parse
    from chalicelib.expressions.compiler import program

    ours_record = {**RECORD, "amount": Decimal(RECORD["amount"])}  # records hold exact decimals
    expression = compile_expression(CONDITION)
    tree = parse(CONDITION)
    assert expression.evaluate(ours_record) is True and walk(tree, ours_record) is True
    evaluator = simpleeval.EvalWithCompoundTypes(names=RECORD)
    parsed = evaluator.parse(SIMPLEEVAL)
    assert evaluator.eval(SIMPLEEVAL, previously_parsed=parsed) is True
    jp = jmespath.compile(JMESPATH)
    assert jp.search(RECORD) is True
    native = lambda r: (r["priority"] == "urgent" and r["region"] in ("north", "east") and r["amount"] > 1000  # noqa: E731
                        and not r["closed"] and r["customer"]["tier"] != "basic")
    assert native(RECORD) is True
    n = 20_000
    rows = [
        ("evaluate (parse cached)", "ours: compiled closures", per_call_us(lambda: expression.evaluate(ours_record), repeat, n)),
        ("evaluate (parse cached)", "ours: tree walker (before)", per_call_us(lambda: walk(tree, ours_record, CONDITION), repeat, n)),
        ("evaluate (parse cached)", "simpleeval 1.0", per_call_us(lambda: evaluator.eval(SIMPLEEVAL, previously_parsed=parsed), repeat, n)),
        ("evaluate (parse cached)", "jmespath", per_call_us(lambda: jp.search(RECORD), repeat, n)),
        ("evaluate (parse cached)", "Python lambda", per_call_us(lambda: native(RECORD), repeat, n)),
    ]
    m = 2_000
    rows += [
        ("parse (uncached)", "ours: parse", per_call_us(lambda: parse(CONDITION), repeat, m)),
        ("parse (uncached)", "ours: parse + compile", per_call_us(lambda: program(parse(CONDITION)), repeat, m)),
        ("parse (uncached)", "simpleeval 1.0", per_call_us(lambda: evaluator.parse(SIMPLEEVAL), repeat, m)),
        ("parse (uncached)", "jmespath (its cache off)", per_call_us(lambda: jmespath.parser.Parser()._do_parse(JMESPATH), repeat, m)),
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = expressions(args.repeat)
    print(f"condition: {CONDITION}")
    print(f"{'what':28} {'engine':30} {'µs per call':>12} {'vs ours':>10}")
    ours = {what: us for what, engine, us in rows if engine.startswith("ours") and "before" not in engine
            and engine != "ours: parse + compile"}
    for what, engine, us in rows:
        ratio = us / ours[what]
        print(f"{what:28} {engine:30} {us:12.2f} {ratio:9.1f}×")


if __name__ == "__main__":
    main()
