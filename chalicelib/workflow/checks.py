"""Whole-definition checks of a workflow, each problem with its JSON path: targets exist, every
state is reachable, no loop made only of automatic states, names refer to real form fields."""
from __future__ import annotations

from ..errors import ExpressionError
from ..expressions import check_expression
from .definition import (AUTOMATIC_TYPES, ActionState, ApprovalState, ChoiceState, EXPRESSION_VARIABLES,
                         TaskState, WaitState, WorkflowDefinition)

EXTRA_VARIABLES = (*EXPRESSION_VARIABLES, "$state")


def graph_problems(wf: WorkflowDefinition, form) -> tuple[list[dict], list[dict]]:
    problems: list[dict] = []
    warnings: list[dict] = []
    states = wf.States
    if wf.StartAt not in states:
        problems.append({"path": "StartAt", "message": f"unknown state '{wf.StartAt}'"})
    for name, state in states.items():
        base = f"States.{name}"
        if not _valid_name(name):
            problems.append({"path": base, "message": "state names are letters, digits and _ (max 64)"})
        for target, where in _targets(state):
            if target not in states:
                problems.append({"path": f"{base}.{where}", "message": f"unknown state '{target}'"})
        if isinstance(state, ActionState) and bool(state.Next) == state.End:
            problems.append({"path": base, "message": "an Action state needs exactly one of Next, End"})
        if isinstance(state, ChoiceState) and not state.Default:
            warnings.append({"path": f"{base}.Default", "message": "no Default: a record matching no choice stops with an error"})
        if isinstance(state, ChoiceState):
            for i, rule in enumerate(state.Choices):
                if not rule.Next:
                    problems.append({"path": f"{base}.Choices[{i}].Next", "message": "a top-level choice rule needs Next"})
        deadlines = [d.Name for d in getattr(state, "Deadlines", [])]
        if len(deadlines) != len(set(deadlines)):
            problems.append({"path": f"{base}.Deadlines", "message": "deadline names must be unique in a state"})
    for d_i, deadline in enumerate(wf.Deadlines):
        for i, stop in enumerate(deadline.StopAt):
            if stop not in states:
                problems.append({"path": f"Deadlines[{d_i}].StopAt[{i}]", "message": f"unknown state '{stop}'"})
        for e_i, e in enumerate(deadline.Escalate):
            if e.Goto and e.Goto not in states:
                problems.append({"path": f"Deadlines[{d_i}].Escalate[{e_i}].Goto", "message": f"unknown state '{e.Goto}'"})
    if len({d.Name for d in wf.Deadlines}) != len(wf.Deadlines):
        problems.append({"path": "Deadlines", "message": "deadline names must be unique"})
    if problems:
        return problems, warnings
    reachable = _reachable(wf)
    for name in states:
        if name not in reachable:
            problems.append({"path": f"States.{name}", "message": "unreachable from StartAt"})
    cycle = _automatic_cycle(wf)
    if cycle:
        problems.append({"path": f"States.{cycle[0]}", "message": "loop made only of automatic states: " + " → ".join(cycle)})
    if form is not None:
        problems += step_problems(wf)
        problems += _field_problems(wf, form)
        more, notes = typing_problems(wf, form)
        problems += more
        warnings += notes
        warnings += assignee_warnings(wf, form)
        warnings += edit_rule_warnings(wf, form)
    return problems, warnings


def edit_rule_warnings(wf: WorkflowDefinition, form) -> list[dict]:
    """An edit rule granting a role that may not update the form's records never applies (PATCH,
    action data, uploads and sync all need the form's update permission first)."""
    updaters = set(form.permissions.update)
    warnings = []
    for name, s in wf.States.items():
        for r_i, rule in enumerate(getattr(s, "Edits", [])):
            for i, role in enumerate(rule.Roles or []):
                if role != "admin" and role not in updaters and "*" not in updaters:
                    warnings.append({"path": f"States.{name}.Edits[{r_i}].Roles[{i}]", "message": f"role '{role}' may not "
                                     f"update {form.name} records: this edit rule never applies to it"})
    return warnings


# The error names an automatic step can raise (what Retry/Catch ErrorEquals may name), and the keys
# each step kind reads: anything else is a typo that would never match or would be ignored.
STEP_ERRORS = {"States.ALL": "any error", "States.DataError": "a field write the form refuses",
               "States.ExpressionError": "an expression that cannot be evaluated",
               "Dispatch.NoCandidate": "no eligible engineer for a Dispatch step"}
STEP_KEYS = {"Dispatch": {"Field", "Policy", "Exclude", "SkillField", "Form"},
             "SendEmail": {"Template", "ToField"},
             "CreateRecord": {"Form", "Data", "IdField"}}
STEP_REQUIRED = {"SendEmail": ("Template", "ToField")}


def step_problems(wf: WorkflowDefinition) -> list[dict]:
    """Unknown keys inside Dispatch/SendEmail/CreateRecord steps; Retry/Catch error names the
    platform never raises (a misspelt `Dispatch.NoCandidat` catches nothing: the workflow fails)."""
    problems: list[dict] = []
    for name, s in wf.States.items():
        if not isinstance(s, ActionState):
            continue
        base = f"States.{name}"
        for i, step in enumerate(s.Steps):
            for kind, allowed in STEP_KEYS.items():
                spec = getattr(step, kind, None)
                if not isinstance(spec, dict):
                    continue
                for key in sorted(set(spec) - allowed):
                    problems.append({"path": f"{base}.Steps[{i}].{kind}.{key}",
                                     "message": f"unknown key '{key}' in {kind}: one of {', '.join(sorted(allowed))}"})
                for key in STEP_REQUIRED.get(kind, ()):
                    if not spec.get(key):
                        problems.append({"path": f"{base}.Steps[{i}].{kind}.{key}", "message": f"{kind} needs {key}"})
        for where, handlers in (("Retry", s.Retry), ("Catch", s.Catch)):
            for h_i, handler in enumerate(handlers):
                for e_i, error in enumerate(handler.ErrorEquals):
                    if error not in STEP_ERRORS:
                        problems.append({"path": f"{base}.{where}[{h_i}].ErrorEquals[{e_i}]",
                                         "message": f"unknown error '{error}': steps raise "
                                         + ", ".join(f"{k} ({v})" for k, v in STEP_ERRORS.items())})
                if "States.ALL" in handler.ErrorEquals and (len(handler.ErrorEquals) > 1 or h_i != len(handlers) - 1):
                    problems.append({"path": f"{base}.{where}[{h_i}].ErrorEquals",
                                     "message": "States.ALL must stand alone, in the last handler"})
    return problems


# Which field types each Choice operator can match (a value of another type never matches).
_STRING_TYPES = {"text", "textarea", "select", "phone", "email", "url", "user", "lookup", "auto_number", "time",
                 "date", "datetime"}
_NUMBER_TYPES = {"number", "money", "percent", "duration", "rating"}
_OPERATOR_TYPES = {"String": (_STRING_TYPES, {"text", "date"}), "Numeric": (_NUMBER_TYPES, {"number"}),
                   "Boolean": ({"checkbox"}, {"boolean"}), "Timestamp": ({"date", "datetime"}, {"date"})}


def _value_type(field) -> str:
    return f"computed {field.result}" if field.type == "computed" else field.type


def _fits(operator: str, field) -> bool:
    family = next((k for k in _OPERATOR_TYPES if operator.startswith(k)), None)
    if family is None:  # IsPresent, IsNull: any field
        return True
    plain, computed = _OPERATOR_TYPES[family]
    return field.result in computed if field.type == "computed" else field.type in plain


def _options(field) -> list[str] | None:
    return [o.value for o in field.options] if field.type in ("select", "multiselect") else None


def typing_problems(wf: WorkflowDefinition, form) -> tuple[list[dict], list[dict]]:
    """Choice comparisons whose operator cannot match the field's type (NumericLessThan on a select
    never matches, so the record silently takes the Default), StringEquals on a select with a value
    that is not one of its options, and priority-keyed duration maps (`SecondsBy.Map`) whose keys
    are not the field's options (errors); options with no duration and no Default (a warning)."""
    problems: list[dict] = []
    warnings: list[dict] = []
    fields = form.fields_by_name

    def choice(path: str, c) -> None:
        for key in ("And", "Or"):
            for i, sub in enumerate(getattr(c, key) or []):
                choice(f"{path}.{key}[{i}]", sub)
        if c.Not:
            choice(f"{path}.Not", c.Not)
        if not c.Variable:
            return
        name = c.Variable[2:] if c.Variable.startswith("$.") else c.Variable
        field = fields.get(name)
        if field is None:  # unknown (reported elsewhere) or a path into a value: not checked here
            return
        (operator, expected), = c.comparisons.items()
        if not _fits(operator, field):
            problems.append({"path": f"{path}.{operator}", "message": f"{operator} never matches field '{name}' "
                             f"({_value_type(field)}): use an operator for its type"})
        elif operator == "StringEquals" and field.type == "select" and expected not in _options(field):
            problems.append({"path": f"{path}.StringEquals", "message": f"'{expected}' is not an option of field "
                             f"'{name}' ({', '.join(_options(field))}): the rule never matches"})

    def durations(path: str, d) -> None:
        by = d.SecondsBy
        field = fields.get(by.Field_) if by else None
        if field is None:
            return
        options = _options(field) if field.type == "select" else (["true", "false"] if field.type == "checkbox" else None)
        if options is None:
            return
        for key in by.Map:
            if key not in options:
                problems.append({"path": f"{path}.SecondsBy.Map.{key}", "message": f"'{key}' is not an option of "
                                 f"field '{by.Field_}' ({', '.join(options)}): this duration never applies"})
        missing = [o for o in options if o not in by.Map]
        if missing and by.Default is None:
            warnings.append({"path": f"{path}.SecondsBy", "message": f"no duration for {', '.join(missing)} and no "
                             f"Default: records with that {by.Field_} get no {d.Name} deadline"})

    for d_i, d in enumerate(wf.Deadlines):
        durations(f"Deadlines[{d_i}]", d)
    for name, s in wf.States.items():
        base = f"States.{name}"
        for d_i, d in enumerate(getattr(s, "Deadlines", [])):
            durations(f"{base}.Deadlines[{d_i}]", d)
        if isinstance(s, ChoiceState):
            for i, c in enumerate(s.Choices):
                choice(f"{base}.Choices[{i}]", c)
    return problems, warnings


def rule_sites(wf: WorkflowDefinition):
    """(path, rule, what) of every assignee rule: tasks, approval seats, reassignments, notices."""
    for d_i, d in enumerate(wf.Deadlines):
        for e_i, e in enumerate(d.Escalate):
            if e.Notify:
                yield f"Deadlines[{d_i}].Escalate[{e_i}].Notify", e.Notify, "notice"
            if e.Reassign:
                yield f"Deadlines[{d_i}].Escalate[{e_i}].Reassign", e.Reassign, "task"
    for name, s in wf.States.items():
        base = f"States.{name}"
        if isinstance(s, TaskState) and s.Assignee is not None:
            yield f"{base}.Assignee", s.Assignee, "task"
        if isinstance(s, ApprovalState):
            if s.Approvers is not None:
                yield f"{base}.Approvers", s.Approvers, "task"
            for i, level in enumerate(s.Levels or []):
                yield f"{base}.Levels[{i}]", level, "task"
        for d_i, d in enumerate(getattr(s, "Deadlines", [])):
            for e_i, e in enumerate(d.Escalate):
                if e.Notify:
                    yield f"{base}.Deadlines[{d_i}].Escalate[{e_i}].Notify", e.Notify, "notice"
                if e.Reassign:
                    yield f"{base}.Deadlines[{d_i}].Escalate[{e_i}].Reassign", e.Reassign, "task"


def assignee_warnings(wf: WorkflowDefinition, form) -> list[dict]:
    """Where a record could be stranded: a rule that may find nobody with no Fallback to catch it,
    or a role (a Fallback above all) that may not open the record it is given."""
    warnings: list[dict] = []
    perms = form.permissions
    readers = set(perms.read)

    def roles_of(path: str, rule):
        link, where = rule, path
        while link is not None:
            if link.Role is not None and link.Role != "admin":
                yield where, link.Role
            link, where = link.Fallback, f"{where}.Fallback"

    def may_be_empty(rule) -> bool:
        link = rule
        while link is not None:
            if link.Role is not None or link.Users:
                return False
            link = link.Fallback
        return True

    sites = list(rule_sites(wf))
    if wf.Fallback is not None:
        sites.append(("Fallback", wf.Fallback, "fallback"))
        if may_be_empty(wf.Fallback):
            warnings.append({"path": "Fallback", "message": "the workflow's Fallback may itself find nobody: "
                             "end it with a Role (or Users) that is always staffed"})
    for path, rule, what in sites:
        if what != "fallback" and wf.Fallback is None and may_be_empty(rule):
            whom = "the notice reaches nobody" if what == "notice" else "the record waits in nobody's inbox"
            warnings.append({"path": path, "message": f"this rule may find nobody (an empty field, a lookup "
                             f"without a user) and then {whom}: add a Fallback, or a workflow-level Fallback"})
        for where, role in roles_of(path, rule):
            if role not in readers and "*" not in readers:
                warnings.append({"path": f"{where}.Role", "message": f"role '{role}' may not read {form.name} "
                                 "records: its holders would be given a record they cannot open"})
            elif role in perms.rows:
                warnings.append({"path": f"{where}.Role", "message": f"role '{role}' reads only the {form.name} "
                                 f"records its row rule admits ({perms.rows[role]}): a record it does not admit "
                                 "would wait with people who cannot open it; prefer a role that reads every record"})
    return warnings


def _valid_name(name: str) -> bool:
    import re
    return re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", name) is not None


def _targets(state) -> list[tuple[str, str]]:
    out = []
    if isinstance(state, TaskState):
        out += [(a.Next, f"Actions.{key}.Next") for key, a in state.Actions.items()]
    elif isinstance(state, ApprovalState):
        out += [(state.OnApprove, "OnApprove"), (state.OnReject, "OnReject")]
    elif isinstance(state, ChoiceState):
        out += [(c.Next, f"Choices[{i}].Next") for i, c in enumerate(state.Choices) if c.Next]
        if state.Default:
            out.append((state.Default, "Default"))
    elif isinstance(state, WaitState):
        if state.Next:
            out.append((state.Next, "Next"))
        out += [(e.Next, f"Events.{name}.Next") for name, e in state.Events.items()]
    elif isinstance(state, ActionState):
        if state.Next:
            out.append((state.Next, "Next"))
        out += [(c.Next, f"Catch[{i}].Next") for i, c in enumerate(state.Catch)]
    for d_i, deadline in enumerate(getattr(state, "Deadlines", [])):
        out += [(e.Goto, f"Deadlines[{d_i}].Escalate[{e_i}].Goto") for e_i, e in enumerate(deadline.Escalate) if e.Goto]
    return out


def _reachable(wf: WorkflowDefinition) -> set[str]:
    seen, stack = set(), [wf.StartAt] + [e.Goto for d in wf.Deadlines for e in d.Escalate if e.Goto]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack += [target for target, _ in _targets(wf.States[name])]
    return seen


def _automatic_cycle(wf: WorkflowDefinition) -> list[str] | None:
    """A cycle through Choice/Action states only would spin without a human or a timer."""
    auto = {n for n, s in wf.States.items() if s.Type in AUTOMATIC_TYPES}
    graph = {n: [t for t, _ in _targets(wf.States[n]) if t in auto] for n in auto}
    color: dict[str, int] = {}
    for root in sorted(auto):
        if color.get(root):
            continue
        stack = [(root, iter(graph[root]))]
        path = [root]
        color[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                color[node] = 2
                stack.pop()
                path.pop()
            elif color.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not color.get(child):
                color[child] = 1
                stack.append((child, iter(graph[child])))
                path.append(child)
    return None


def _field_problems(wf: WorkflowDefinition, form) -> list[dict]:
    problems: list[dict] = []
    fields = form.fields_by_name
    known = list(fields)

    def need_field(path: str, name: str | None, types: tuple[str, ...] | None = None) -> None:
        if name is None:
            return
        root = name[2:] if name.startswith("$.") else name
        root = root.split(".")[0].split("[")[0]
        if root not in fields:
            problems.append({"path": path, "message": f"unknown field '{root}' on form {form.name}"})
        elif types and fields[root].type not in types:
            problems.append({"path": path, "message": f"field '{root}' must be of type {'/'.join(types)}"})

    def need_editable(path: str, name: str) -> None:
        """An edit rule may name only fields a client can write: not computed, numbered or server-owned."""
        before = len(problems)
        need_field(path, name)
        f = fields.get(name)
        if len(problems) == before and f is not None and (f.computed_by_server or getattr(f, "server_owned", False)):
            problems.append({"path": path, "message": f"field '{name}' is set by the platform, never edited"})

    def need_expr(path: str, source: str | None) -> None:
        if source is None:
            return
        try:
            check_expression(source, known, EXTRA_VARIABLES)
        except ExpressionError as exc:
            problems.append({"path": path, "message": exc.message})

    def rule(path: str, r) -> None:
        if r is None:
            return
        need_field(f"{path}.Field", r.Field_, ("user",))
        if r.Lookup:
            need_field(f"{path}.Lookup.ValueField", r.Lookup.ValueField)
        rule(f"{path}.Fallback", r.Fallback)

    def choice(path: str, c) -> None:
        need_field(f"{path}.Variable", c.Variable)
        need_expr(f"{path}.Condition", c.Condition)
        for key in ("And", "Or"):
            for i, sub in enumerate(getattr(c, key) or []):
                choice(f"{path}.{key}[{i}]", sub)
        if c.Not:
            choice(f"{path}.Not", c.Not)

    for d_i, d in enumerate(wf.Deadlines):
        if d.SecondsBy:
            need_field(f"Deadlines[{d_i}].SecondsBy.Field", d.SecondsBy.Field_)
        for e_i, e in enumerate(d.Escalate):
            rule(f"Deadlines[{d_i}].Escalate[{e_i}].Notify", e.Notify)
            rule(f"Deadlines[{d_i}].Escalate[{e_i}].Reassign", e.Reassign)
    for name, s in wf.States.items():
        base = f"States.{name}"
        for d_i, d in enumerate(getattr(s, "Deadlines", [])):
            if d.SecondsBy:
                need_field(f"{base}.Deadlines[{d_i}].SecondsBy.Field", d.SecondsBy.Field_)
            for e_i, e in enumerate(d.Escalate):
                rule(f"{base}.Deadlines[{d_i}].Escalate[{e_i}].Notify", e.Notify)
                rule(f"{base}.Deadlines[{d_i}].Escalate[{e_i}].Reassign", e.Reassign)
        for r_i, er in enumerate(getattr(s, "Edits", [])):
            for i, f in enumerate(er.Fields):
                need_editable(f"{base}.Edits[{r_i}].Fields[{i}]", f)
            for i, f in enumerate(er.UserFields or []):
                need_field(f"{base}.Edits[{r_i}].UserFields[{i}]", f, ("user",))
        if isinstance(s, ApprovalState):
            for i, f in enumerate(s.SeparationOfDuties.ExcludeFields):
                need_field(f"{base}.SeparationOfDuties.ExcludeFields[{i}]", f, ("user",))
        if isinstance(s, TaskState):
            rule(f"{base}.Assignee", s.Assignee)
            for i, f in enumerate(s.Editable or []):
                need_editable(f"{base}.Editable[{i}]", f)
            for key, a in s.Actions.items():
                for i, f in enumerate(a.Requires):
                    need_field(f"{base}.Actions.{key}.Requires[{i}]", f)
                need_expr(f"{base}.Actions.{key}.Condition", a.Condition)
        elif isinstance(s, ApprovalState):
            rule(f"{base}.Approvers", s.Approvers)
            for i, level in enumerate(s.Levels or []):
                rule(f"{base}.Levels[{i}]", level)
        elif isinstance(s, ChoiceState):
            for i, c in enumerate(s.Choices):
                choice(f"{base}.Choices[{i}]", c)
        elif isinstance(s, WaitState):
            need_field(f"{base}.TimestampField", s.TimestampField, ("datetime", "date"))
            for event, spec in s.Events.items():
                need_field(f"{base}.Events.{event}.Key", spec.Key)
                for field_name, source in spec.SetFields.items():
                    need_field(f"{base}.Events.{event}.SetFields.{field_name}", field_name)
                    try:
                        check_expression(source, known, (*EXTRA_VARIABLES, "$event"))
                    except ExpressionError as exc:
                        problems.append({"path": f"{base}.Events.{event}.SetFields.{field_name}", "message": exc.message})
        elif isinstance(s, ActionState):
            for i, step in enumerate(s.Steps):
                path = f"{base}.Steps[{i}]"
                for field_name, source in getattr(step, "SetFields", {}).items():
                    need_field(f"{path}.SetFields.{field_name}", field_name)
                    need_expr(f"{path}.SetFields.{field_name}", source)
                if hasattr(step, "Dispatch"):
                    need_field(f"{path}.Dispatch.Field", step.Dispatch.get("Field", "assigned_engineer"), ("user",))
                    for key in ("Exclude", "SkillField"):
                        if isinstance(step.Dispatch.get(key), str):
                            need_field(f"{path}.Dispatch.{key}", step.Dispatch[key])
                if hasattr(step, "SendEmail"):
                    need_field(f"{path}.SendEmail.ToField", step.SendEmail.get("ToField"))
                if hasattr(step, "Signal"):
                    need_expr(f"{path}.Signal.Key", step.Signal.Key)
                if hasattr(step, "CreateRecord"):
                    spec = step.CreateRecord
                    if not isinstance(spec.get("Form"), str) or not isinstance(spec.get("Data", {}), dict):
                        problems.append({"path": f"{path}.CreateRecord", "message": "needs Form (name) and Data ({field: expression})"})
                    else:
                        for field_name, source in spec.get("Data", {}).items():
                            need_expr(f"{path}.CreateRecord.Data.{field_name}", source if isinstance(source, str) else "null")
                        id_field = spec.get("IdField")
                        if id_field is not None:  # this record's lookup that takes the new record's id
                            need_field(f"{path}.CreateRecord.IdField", id_field if isinstance(id_field, str) else "", ("lookup",))
                            target = fields.get(id_field) if isinstance(id_field, str) else None
                            if target is not None and target.type == "lookup" and target.form != spec["Form"]:
                                problems.append({"path": f"{path}.CreateRecord.IdField", "message": f"'{id_field}' looks up "
                                                 f"{target.form} records, not {spec['Form']}"})
    return problems
