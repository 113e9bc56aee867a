"""What moving records to new definition versions does to a report's numbers (pure).

The stream keeps a report's aggregates as the sum of every record's contribution (contribution.py):
when a record is written again — as a migration writes each record it moves onto a newer form or
workflow version — its contribution is re-applied as (new − old) (maintenance.py). So the reports whose
numbers a migration rebuilds are exactly those for which some moved record's contribution differs
before and after; nothing else about a report changes, and no report is recomputed as a whole. A
record is *regrouped* when it is counted in other groups afterwards (it moves between groups, or
enters or leaves the report by its filter), *remeasured* when it stays in the same groups with other
measure inputs (a sum's field changed, a `where` now holds...).

Besides what the walked records show, two things are read from the definitions alone: a report that
reads a field the target form version removes or retypes, and one whose expressions compare `$state`
with a state the target workflow no longer has (records that will never again match it).

An *impact* is a JSON-able accumulator (stored on the migration job between its pages): `new_impact`,
then `add_record` per moved record and `add_static` per finding, `view` for the answer.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from .contribution import Contribution
from .definition import ReportDefinition

MAX_MOVES = 20  # distinct (from group → to group) pairs kept per report; every record is counted all the same
_PRECEDENCE = {"removed": 3, "retyped": 2, "value": 1}  # a field's reason: what the definitions say beats what values show


def _place(path: str, report: ReportDefinition) -> str:
    """`dimensions[1].field` → `dimension:status`, `measures[0].where` → `measure:urgent`, `filter`."""
    if path.startswith("dimensions["):
        return f"dimension:{report.dimensions[int(path[11:path.index(']')])].name}"
    if path.startswith("measures["):
        return f"measure:{report.measures[int(path[9:path.index(']')])].name}"
    return path


_READS: dict[int, tuple[ReportDefinition, dict[str, list[str]]]] = {}


def reads(report: ReportDefinition) -> dict[str, list[str]]:
    """{input: [where the report reads it]}: every field name (a sub-table line's own fields included, by
    name) and record variable (`$state`, `$updated_at`...) its expressions read, its scope fields and its
    `rows` sub-table, with the parts that read each — `filter`, `dimension:<name>`, `measure:<name>`,
    `scope`, `rows`."""
    found = _READS.get(id(report))
    if found is not None and found[0] is report:
        return found[1]
    from ..expressions import compile_expression
    out: dict[str, list[str]] = {}

    def add(name: str, place: str) -> None:
        places = out.setdefault(name, [])
        if place not in places:
            places.append(place)

    for path, source in report.expressions():
        expression = compile_expression(source)
        for name in sorted(expression.field_roots | expression.variables):
            add(name, _place(path, report))
    for name in report.scope:
        add(name, "scope")
    if report.rows is not None:
        add(report.rows, "rows")
    if len(_READS) >= 256:
        _READS.clear()
    _READS[id(report)] = (report, out)  # the entry holds the definition: its id cannot be reused while cached
    return out


def state_names(report: ReportDefinition) -> dict[str, list[str]]:
    """{text literal: [where]} of the expressions that read `$state` (the state names they compare it with)."""
    from ..expressions import compile_expression
    out: dict[str, list[str]] = {}
    for path, source in report.expressions():
        expression = compile_expression(source)
        if "$state" in expression.variables:
            for text in sorted(expression.strings):
                places = out.setdefault(text, [])
                if _place(path, report) not in places:
                    places.append(_place(path, report))
    return out


def new_impact(name: str, version: int, titles: dict[str, str]) -> dict:
    return {"report": name, "version": version, "titles": titles, "records": 0, "regrouped": 0, "remeasured": 0,
            "why": {}, "moves": {}}


def add_static(impact: dict, report: ReportDefinition, kind: str, input_name: str, **extra: Any) -> None:
    """A reason read from the definitions: `removed` / `retyped` (extra: types={"from", "to"}) for a field
    the report reads, `state_named` (extra: names=[state]) for states its `$state` tests name."""
    places = list(reads(report).get(input_name, [])) if kind != "state_named" else extra.pop("read_by")
    key = f"{input_name}#named" if kind == "state_named" else input_name
    why = impact["why"].get(key)
    if why is None:
        why = impact["why"][key] = {"input": input_name, "kind": kind, "read_by": places, "records": 0}
    elif _PRECEDENCE.get(kind, 0) > _PRECEDENCE.get(why["kind"], 0):
        why["kind"] = kind
    if kind == "state_named":
        why["names"] = sorted(set(why.get("names", [])) | set(extra.get("names", [])))
    elif "types" in extra and why["kind"] == kind:
        why["types"] = extra["types"]


def _dimension_sets(report: ReportDefinition, contribution: Contribution) -> list[list]:
    """The distinct dimension values (scope values left out) of a contribution's groups, sorted."""
    dims = len(report.dimensions)
    found = {json.dumps(json.loads(key)[:dims], ensure_ascii=False) for key in contribution}
    return [json.loads(text) for text in sorted(found)]


def add_record(impact: dict, report: ReportDefinition, old: Contribution, new: Contribution, changed: Iterable[str],
               states: tuple[str, str] | None = None) -> bool:
    """One moved record: its contribution before (`old`) and after (`new`), the inputs whose value the move
    changes (field names, `$state`, `$updated_at`) and its (old, new) state. False when the report's
    numbers do not change."""
    if old == new:
        return False
    impact["records"] += 1
    regrouped = set(old) != set(new)
    impact["regrouped" if regrouped else "remeasured"] += 1
    read = reads(report)
    for name in sorted(set(changed) & set(read)):
        is_state = name == "$state"
        why = impact["why"].get(name)
        if why is None:
            why = impact["why"][name] = {"input": name, "kind": "state" if is_state else "value", "read_by": list(read[name]),
                                         "records": 0}
        why["records"] += 1
        if is_state and states is not None:
            moved = why.setdefault("states", {}).setdefault(states[0], {})
            moved[states[1]] = moved.get(states[1], 0) + 1
    if regrouped:
        before, after = _dimension_sets(report, old), _dimension_sets(report, new)
        if len(before) <= 1 and len(after) <= 1 and before != after:  # one group each side (not a sub-table's many)
            key = json.dumps([before[0] if before else None, after[0] if after else None], ensure_ascii=False)
            if key in impact["moves"] or len(impact["moves"]) < MAX_MOVES:
                impact["moves"][key] = impact["moves"].get(key, 0) + 1
    return True


def affects(impact: dict) -> bool:
    return impact["records"] > 0 or bool(impact["why"])


def view(impact: dict, language: str) -> dict:
    """The answer's entry: the title in the caller's language (and in each, for a page that switches); why
    (most records first: what the records show before what only the definitions say), the records counted
    and the group moves (most records first)."""
    titles = impact.get("titles") or {}
    whys = sorted(impact["why"].values(), key=lambda w: (-w["records"], w["input"], w["kind"]))
    moves = sorted(((json.loads(k), n) for k, n in impact["moves"].items()), key=lambda m: (-m[1], json.dumps(m[0])))
    return {"report": impact["report"], "version": impact["version"],
            "title": titles.get(language) or titles.get("en") or impact["report"],
            "titles": {lang: text for lang, text in titles.items() if text},
            "why": [dict(w) for w in whys], "records": impact["records"], "regrouped": impact["regrouped"],
            "remeasured": impact["remeasured"],
            "moves": [{"from": pair[0], "to": pair[1], "records": n} for pair, n in moves]}
