"""What the console shows a caller: the menus of the tenant's published definitions they may use.

Generic over apps: every published form the caller may read (its title, list columns, the indexed
fields they may filter on, whether they may create, whether a workflow runs on it) and every
published dashboard and report. The console draws menus, lists, boards and dashboards from this and
from each form's JSON Schema; it holds no knowledge of any particular app. Cost: one Query of the
tenant's definition heads plus cached parses (services.definitions)."""
from __future__ import annotations

from typing import Any

from typing_extensions import NotRequired, TypedDict

from ..errors import NotFound
from ..storage import definitions as definition_store
from . import definitions
from .caller import Caller
from .records import access_for

LIST_COLUMNS = 6
LISTABLE = {"text", "select", "number", "money", "percent", "date", "datetime", "rating", "phone", "email", "user",
            "lookup", "auto_number", "checkbox", "computed", "duration", "time"}


RESTING = {"Task", "Approval", "Wait", "Succeed", "Fail"}


# GET /navigation's answer: the function's return type and the OpenAPI document's response schema.
class Column(TypedDict):
    name: str
    label: str
    type: str


class Option(TypedDict):
    value: Any
    label: str | None


class Filter(Column):
    options: NotRequired[list[Option]]  # select fields
    form: NotRequired[str]  # lookup fields: the form they name


class BoardState(TypedDict):
    name: str
    label: str | None
    type: str
    final: bool


class FormMenu(TypedDict):
    name: str
    title: str | None
    description: str | None
    title_field: str | None
    columns: list[Column]
    filters: list[Filter]
    can_create: bool
    can_update: bool
    workflow: str | None
    states: list[BoardState]
    deadlines: dict[str, str | None]
    actions: dict[str, str]
    field_service: dict[str, Any] | None


class NavUser(TypedDict):
    id: str
    name: str | None
    roles: list[str]
    tenant: str
    attributes: dict[str, Any]


class Named(TypedDict):
    name: str


class DashboardMenu(Named):
    title: str | None


class Navigation(TypedDict):
    user: NavUser
    forms: list[FormMenu]
    language: str
    dashboards: list[DashboardMenu]
    reports: list[Named]
    admin: bool


def _workflow(tenant: str, name: str, language: str) -> tuple[list[dict], dict[str, dict[str, str]]]:
    """The states a record can be seen in (the board's columns), in definition order, with their
    labels in the caller's language; and the labels of every deadline and action by name (history
    and clocks name them)."""
    try:
        _version, wf = definitions.published(tenant, "workflow", name)
    except NotFound:
        return [], {"deadlines": {}, "actions": {}}
    states = [{"name": n, "label": wf.state_label(n, language), "type": st.Type, "final": st.Type in ("Succeed", "Fail")}
              for n, st in wf.States.items() if st.Type in RESTING]
    deadlines = [d for st in wf.States.values() for d in getattr(st, "Deadlines", None) or []] + list(wf.Deadlines)
    actions: dict[str, str] = {}
    for st in wf.States.values():
        for key, action in (getattr(st, "Actions", None) or {}).items():
            actions.setdefault(key, action.text("Label", language) or key)
    return states, {"deadlines": {d.Name: d.text("Label", language) or d.Name for d in deadlines}, "actions": actions}


def _dashboard(tenant: str, name: str, language: str) -> dict:
    """A dashboard's menu entry: its name and title (the console's sidebar shows the title)."""
    try:
        return {"name": name, "title": definitions.published(tenant, "dashboard", name)[1].text("title", language) or name}
    except NotFound:
        return {"name": name, "title": name}


def _field_service(tenant: str, name: str, form) -> dict | None:
    """What the record page needs to offer check-in/out and parts (field names are the tenant's)."""
    from .fieldwork import settings_for
    fs = settings_for(tenant, name)
    if fs is None:
        return None
    checkin = fs.checkin and {"states": fs.checkin.states, "radius_m": fs.checkin.radius_m,
                              "location_field": fs.checkin.location_field, "visits_field": fs.checkin.visits_field,
                              "columns": fs.checkin.columns.model_dump(), "on_action": fs.checkin.on_action,
                              "checkout_action": fs.checkin.checkout_action}
    van = fs.parts.van if fs.parts else None
    parts = fs.parts and {"lines_field": fs.parts.lines_field, "part_form": fs.parts.part_form,
                          "warehouse_form": fs.parts.warehouse_form, "columns": fs.parts.columns.model_dump(),
                          "van": van is not None,
                          # where the engineer's own van is found: a field device shows what it holds
                          "van_lookup": van and {"form": van.form, "user_field": van.user_field,
                                                 "warehouse_field": van.warehouse_field}}
    engineer = form.fields_by_name.get(fs.engineer_field)
    # who works these records in the field (the engineer field's role): their phones open the field view
    return {"engineer_field": fs.engineer_field, "engineer_role": getattr(engineer, "role", None),
            "checkin": checkin, "parts": parts}


def navigation(caller: Caller) -> Navigation:
    heads = definition_store.list_heads(caller.tenant)
    published = {(h.kind, h.name) for h in heads if h.published}
    forms = []
    lang = caller.language
    for kind, name in sorted(published):
        if kind != "form":
            continue
        try:
            _version, form = definitions.published(caller.tenant, "form", name)
        except NotFound:
            continue
        access = access_for(caller, form)
        if not access.can("read"):
            continue
        hidden = access.hidden_everywhere()
        shown = [f for f in form.fields if f.name not in hidden]
        columns = ([form.title_field] if form.title_field and form.title_field not in hidden else [])
        columns += [f.name for f in shown if f.type in LISTABLE and f.name not in columns][:LIST_COLUMNS - len(columns)]
        labels = {f.name: f.text("label", lang) or f.name for f in shown}
        states, named = _workflow(caller.tenant, name, lang) if ("workflow", name) in published else ([], {"deadlines": {}, "actions": {}})
        forms.append({
            "name": name, "title": form.text("title", lang), "description": form.text("description", lang),
            "title_field": form.title_field if form.title_field not in hidden else None,
            "columns": [{"name": c, "label": labels.get(c, c), "type": form.fields_by_name[c].type} for c in columns],
            "filters": [{"name": i, "label": labels.get(i, i), "type": form.fields_by_name[i].type,
                         **({"options": [{"value": o.value, "label": o.text("label", lang)} for o in form.fields_by_name[i].options]}
                            if hasattr(form.fields_by_name[i], "options") else {}),
                         **({"form": form.fields_by_name[i].form} if form.fields_by_name[i].type == "lookup" else {})}
                        for i in form.indexes if i not in hidden],
            "can_create": access.can("create"), "can_update": access.can("update"),
            "workflow": name if ("workflow", name) in published else None,
            "states": states, **named,
            "field_service": _field_service(caller.tenant, name, form) if ("field_service", name) in published else None,
        })
    return {"user": {"id": caller.user_id, "name": caller.name, "roles": sorted(caller.roles), "tenant": caller.tenant,
                     "attributes": dict(caller.attributes)},  # the console's $user for live conditions
            "forms": forms,
            "language": lang,
            "dashboards": [_dashboard(caller.tenant, n, lang) for k, n in sorted(published) if k == "dashboard"],
            "reports": [{"name": n} for k, n in sorted(published) if k == "report"],
            "admin": "admin" in caller.roles}


__all__ = ["navigation"]
