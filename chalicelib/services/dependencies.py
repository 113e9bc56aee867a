"""Cross-definition checks at upload and publish: a definition against the published definitions it
depends on, and against the published definitions that depend on it.

- Depends on: a workflow's `CreateRecord` forms (published, fields known and the
  required ones given), `Lookup` forms (published; MatchField indexed; UserField a user field),
  `SendEmail` templates and `Dispatch` policies/engineer forms; a survey's e-mail templates.
- Depended on: every published definition whose body names the candidate (`"<name>"` in its JSON)
  is re-checked by its own parser twice — against what is published now and as if the candidate
  were published (`definitions._candidates`). What only the candidate makes fail is refused, naming
  the dependant and its path (a form version that drops a field its workflow writes, a role its
  report reads by); what only the candidate makes suspicious is returned as a warning.

Pure apart from reading published definitions (`definitions.published`, the heads Query in
`storage.definitions`); nothing here writes."""
from __future__ import annotations

import json
from typing import Any

from .. import jsonutil
from ..errors import AppError, DefinitionError
from ..storage import definitions as store
from . import definitions


_published = definitions.published_or_none


# ---------------------------------------------------------------------------------- depends on

def _lookup_sites(wf):
    """(path, LookupRule) of every assignee rule of the workflow, Fallbacks included."""
    from ..workflow.checks import rule_sites
    sites = list(rule_sites(wf)) + ([("Fallback", wf.Fallback, "fallback")] if wf.Fallback is not None else [])
    for path, rule, _what in sites:
        while rule is not None:
            if rule.Lookup is not None:
                yield f"{path}.Lookup", rule.Lookup
            rule, path = rule.Fallback, f"{path}.Fallback"


def workflow_problems(tenant: str, wf) -> tuple[list[dict], list[dict]]:
    """(problems, warnings) of a workflow against the published definitions its steps and rules name."""
    from ..workflow.definition import ActionState
    problems: list[dict] = []
    warnings: list[dict] = []

    def form_at(path: str, name: Any):
        found = _published(tenant, "form", name)
        if found is None:
            problems.append({"path": path, "message": f"no published form '{name}'"})
        return found

    for path, lookup in _lookup_sites(wf):
        target = form_at(f"{path}.Form", lookup.Form)
        if target is None:
            continue
        fields = target.fields_by_name
        if lookup.MatchField not in fields:
            problems.append({"path": f"{path}.MatchField", "message": f"unknown field '{lookup.MatchField}' on form {target.name}"})
        elif target.index_slot(lookup.MatchField) is None:
            problems.append({"path": f"{path}.MatchField", "message": f"field '{lookup.MatchField}' is not among the "
                             f"indexes of form {target.name}: the lookup would find nobody"})
        user = fields.get(lookup.UserField)
        if user is None:
            problems.append({"path": f"{path}.UserField", "message": f"unknown field '{lookup.UserField}' on form {target.name}"})
        elif user.type != "user":
            problems.append({"path": f"{path}.UserField", "message": f"field '{lookup.UserField}' of form {target.name} must be of type user"})
    for name, state in wf.States.items():
        if not isinstance(state, ActionState):
            continue
        for i, step in enumerate(state.Steps):
            path = f"States.{name}.Steps[{i}]"
            if hasattr(step, "CreateRecord"):
                problems += _create_record_problems(tenant, f"{path}.CreateRecord", step.CreateRecord)
            elif hasattr(step, "SendEmail"):
                template = step.SendEmail.get("Template")
                found = _published(tenant, "email_template", template) if template else None
                if template and found is None:
                    problems.append({"path": f"{path}.SendEmail.Template", "message": f"no published email_template '{template}'"})
                elif found is not None:
                    warnings += _placeholder_warnings(tenant, wf.name, step.SendEmail.get("ToField"), found,
                                                      f"{path}.SendEmail.Template")
            elif hasattr(step, "Dispatch"):
                policy = step.Dispatch.get("Policy")
                if policy is not None and _published(tenant, "dispatch_policy", policy) is None:
                    problems.append({"path": f"{path}.Dispatch.Policy", "message": f"no published dispatch_policy '{policy}'"})
                if step.Dispatch.get("Form") is not None:
                    form_at(f"{path}.Dispatch.Form", step.Dispatch["Form"])
    return problems, warnings


# What the mail worker (services.mail) puts beside the record's fields when it renders a SendEmail.
MAIL_NAMES = {"number", "form"}
SURVEY_NAMES = {"survey_url", "optout_url"}


def _placeholder_warnings(tenant: str, form_name: str, to_field: Any, template, path: str) -> list[dict]:
    """A placeholder naming nothing the mail will carry renders empty in every mail sent: the form's
    fields, number and form, `customer.<field>` of the record ToField points to, a survey's links."""
    from ..surveys.templates import PLACEHOLDER
    form = _published(tenant, "form", form_name)
    if form is None:
        return []
    known = set(form.fields_by_name) | MAIL_NAMES | SURVEY_NAMES  # a survey may be published after its workflow
    recipient = form.fields_by_name.get(to_field) if isinstance(to_field, str) else None
    target = _published(tenant, "form", recipient.form) if getattr(recipient, "form", None) else None
    unknown: dict[str, str] = {}
    for locale, body in template.locales.items():
        for part in ("subject", "html", "text"):
            for name in PLACEHOLDER.findall(getattr(body, part)):
                head, _, rest = name.partition(".")
                if head == "customer" and rest:
                    ok = target is not None and rest.split(".")[0] in target.fields_by_name
                else:
                    ok = not rest and head in known
                if not ok:
                    unknown.setdefault(name, f"{locale}.{part}")
    carried = f"the fields of {form_name}, number, form, survey_url, optout_url" + \
        (f", customer.<a field of {target.name}>" if target is not None else "")
    return [{"path": path, "message": f"email_template {template.name} uses {{{{{name}}}}} ({at}), which the mail does "
             f"not carry ({carried}): it renders empty in every mail"} for name, at in sorted(unknown.items())]


def _create_record_problems(tenant: str, path: str, spec: dict) -> list[dict]:
    """What `services.workflow.related_creates` would refuse at fire time, refused at upload."""
    name, data = spec.get("Form"), spec.get("Data", {})
    if not isinstance(name, str) or not isinstance(data, dict):
        return []  # shape reported by the workflow checks
    target = _published(tenant, "form", name)
    if target is None:
        return [{"path": f"{path}.Form", "message": f"no published form '{name}'"}]
    problems = []
    fields = target.fields_by_name
    for key in data:
        field = fields.get(key)
        if field is None:
            problems.append({"path": f"{path}.Data.{key}", "message": f"unknown field '{key}' on form {name}"})
        elif field.computed_by_server:
            problems.append({"path": f"{path}.Data.{key}", "message": f"field '{key}' of form {name} is computed, never written"})
    for field in target.fields:
        if (field.required and field.default is None and field.visible_if is None and not field.computed_by_server
                and field.name not in data):
            problems.append({"path": f"{path}.Data", "message": f"form {name} requires '{field.name}': every created record would be refused"})
    return problems


def survey_problems(tenant: str, survey) -> tuple[list[dict], list[dict]]:
    """(problems, warnings): a survey's mails name published e-mail templates (else the mail worker
    records template_missing); its answer takes `action` in `await_state` of the form's published
    workflow (else every answer is logged as not taken); the workflow sends its `template`."""
    from ..workflow.definition import ActionState, TaskState
    problems, warnings = [], []
    for path, template in (("template", survey.template), ("reminder_template", survey.reminder_template)):
        if template and _published(tenant, "email_template", template) is None:
            problems.append({"path": path, "message": f"no published email_template '{template}'"})
    wf = _published(tenant, "workflow", survey.name)
    if wf is None:
        if survey.await_state:
            warnings.append({"path": "await_state", "message": f"form {survey.name} has no published workflow: "
                             "answers are recorded but take no step"})
        return problems, warnings
    if survey.await_state:
        state = wf.States.get(survey.await_state)
        if not isinstance(state, TaskState):
            problems.append({"path": "await_state", "message": f"workflow {survey.name} has no Task state '{survey.await_state}'"})
        elif survey.action and survey.action not in state.Actions:
            problems.append({"path": "action", "message": f"state {survey.await_state} of workflow {survey.name} has no "
                             f"action '{survey.action}' ({', '.join(state.Actions)})"})
    sends = {step.SendEmail.get("Template") for s in wf.States.values() if isinstance(s, ActionState)
             for step in s.Steps if hasattr(step, "SendEmail")}
    if survey.template not in sends:
        warnings.append({"path": "template", "message": f"workflow {survey.name} sends no '{survey.template}' mail "
                         "(SendEmail): the survey never starts"})
    return problems, warnings


def field_service_problems(tenant: str, fs) -> list[dict]:
    """The other forms field service reads: the part form's price, the van lookup (user field
    indexed, warehouse field) and the warehouse form's keeper — else parts lines lose their price,
    an engineer's van is never found, or a van is open to anybody, silently."""
    problems: list[dict] = []
    parts = fs.parts
    if parts is None:
        return problems

    def form_with(path: str, name: str, needs: list[tuple[str, str | None, tuple[str, ...]]]):
        form = _published(tenant, "form", name)
        if form is None:
            problems.append({"path": path, "message": f"no published form '{name}'"})
            return None
        for where, field_name, types in needs:
            field = form.fields_by_name.get(field_name) if field_name else None
            if field_name is None:
                continue
            if field is None:
                problems.append({"path": where, "message": f"unknown field '{field_name}' on form {name}"})
            elif types and field.type not in types:
                problems.append({"path": where, "message": f"field '{field_name}' of form {name} must be of type {'/'.join(types)}"})
        return form

    form_with("parts.part_form", parts.part_form, [("parts.price_field", parts.price_field, ("number", "money"))])
    form_with("parts.warehouse_form", parts.warehouse_form, [("parts.keeper_field", parts.keeper_field, ("user",))])
    if parts.van is not None:
        van = form_with("parts.van.form", parts.van.form, [("parts.van.user_field", parts.van.user_field, ("user",)),
                                                            ("parts.van.warehouse_field", parts.van.warehouse_field, ("lookup",))])
        if van is not None and parts.van.user_field in van.fields_by_name and van.index_slot(parts.van.user_field) is None:
            problems.append({"path": "parts.van.user_field", "message": f"field '{parts.van.user_field}' is not among the "
                             f"indexes of form {van.name}: an engineer's van would never be found"})
    return problems


# ---------------------------------------------------------------------------------- depended on

def _findings(tenant: str, kind: str, raw: Any, candidates: dict | None) -> tuple[set, set]:
    """(problem, warning) (path, message) pairs of re-parsing a published definition, with `candidates`
    standing in for the published versions they name."""
    token = definitions._candidates.set(candidates)
    try:
        _parsed, warnings = definitions.split_warnings(definitions.PARSERS[kind](raw, None, tenant))
        return set(), {(w.get("path", ""), w.get("message", "")) for w in warnings}
    except DefinitionError as exc:
        return {(d.get("path", ""), d.get("message", "")) for d in exc.details or []} or {("", exc.message)}, set()
    except AppError as exc:
        return {("", exc.message)}, set()
    finally:
        definitions._candidates.reset(token)


def _about(kind: str, d_kind: str, d_name: str, path: str, message: str) -> dict:
    where = ("permissions" if "role" in message.lower() else "fields") if kind == "form" else ""
    return {"path": where, "message": f"{d_kind} {d_name} depends on this {kind}: {message}" + (f" ({path})" if path else ""),
            "dependant": {"kind": d_kind, "name": d_name, "path": path}}


def dependant_findings(tenant: str, kind: str, name: str, candidate: Any, version: int) -> tuple[list[dict], list[dict]]:
    """(problems, warnings) the candidate would give the published definitions that name it."""
    problems: list[dict] = []
    warnings: list[dict] = []
    for d_kind, d_name, _version, body in store.published_mentioning(tenant, json.dumps(name)):
        if (d_kind, d_name) == (kind, name) or d_kind not in definitions.PARSERS:
            continue
        raw = jsonutil.loads(body)
        now_problems, now_warnings = _findings(tenant, d_kind, raw, None)
        then_problems, then_warnings = _findings(tenant, d_kind, raw, {(tenant, kind, name): (version, candidate)})
        problems += [_about(kind, d_kind, d_name, p, m) for p, m in sorted(then_problems - now_problems)]
        warnings += [_about(kind, d_kind, d_name, p, m) for p, m in sorted(then_warnings - now_warnings)]
    return problems, warnings


def check_dependants(tenant: str, kind: str, name: str, candidate: Any, version: int) -> list[dict]:
    """Refuse (422) a version that would break a published dependant; return its new warnings."""
    problems, warnings = dependant_findings(tenant, kind, name, candidate, version)
    if problems:
        raise DefinitionError(f"this {kind} would break published definitions that depend on it", details=problems)
    return warnings
