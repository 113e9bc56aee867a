"""Form definitions: parsed with pydantic, then checked as a whole; every problem has a JSON path."""
from __future__ import annotations

from functools import cached_property
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import DefinitionError, ExpressionError
from ..locales import Translatable
from .fields import INDEXABLE_TYPES, NAME_PATTERN, FormField, SubTableField

MAX_INDEXES = 12  # the first 4 on GSIs, the rest as index entry items (see docs/ARCHITECTURE.md)
EXPRESSION_VARIABLES = ("$user", "$now", "$today")
# The record's own id and number, where expressions run over one record (field conditions, computed
# fields; workflows and reports too). On a create `$id` is already assigned but `$number` is null: the
# number is drawn as the record is stored, after its values are computed. Row rules (permissions.rows)
# are written over data alone, so they may not use them.
RECORD_VARIABLES = ("$id", "$number")
FIELD_VARIABLES = (*EXPRESSION_VARIABLES, *RECORD_VARIABLES)
ROLE_PATTERN = r"^(\*|[A-Za-z0-9_.\-]{1,64})$"


class FieldGrant(BaseModel):
    """What one role may not see (hidden) or not change (readonly) on this form."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)
    hidden: list[str] = Field(default_factory=list)
    readonly: list[str] = Field(default_factory=list)


class FormPermissions(BaseModel):
    """Which roles may do what on this form's records. '*' means every member of the tenant.
    `rows`: role → expression a record must satisfy for that role (e.g. engineers: their own orders).
    `fields`: role → hidden/readonly fields. Each of a caller's roles is evaluated on its own and the
    results are combined, so two roles never add up to a cell that neither role may see."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)
    create: list[str] = Field(default_factory=lambda: ["admin"])
    read: list[str] = Field(default_factory=lambda: ["admin"])
    update: list[str] = Field(default_factory=lambda: ["admin"])
    delete: list[str] = Field(default_factory=lambda: ["admin"])
    # Grants for the bulk and reporting features (export/import, reports, sharing): the roles named
    # here are the only ones those routes will admit, with the same row rules and field grants.
    export: list[str] = Field(default_factory=lambda: ["admin"])
    import_: list[str] = Field(default_factory=lambda: ["admin"], alias="import")
    report: list[str] = Field(default_factory=lambda: ["admin"])
    share: list[str] = Field(default_factory=lambda: ["admin"])
    rows: dict[str, str] = Field(default_factory=dict)
    fields: dict[str, FieldGrant] = Field(default_factory=dict)


class StorageOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)
    # Write sharding of this form's list indexes; fixed once the form exists (checked on upload).
    shards: int = Field(default=1, ge=1, le=16)


class FormDefinition(Translatable, BaseModel):
    translatable = ("title", "description")
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)
    name: str = Field(pattern=NAME_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    title_field: str | None = None
    fields: list[FormField] = Field(min_length=1, max_length=200)
    indexes: list[str] = Field(default_factory=list, max_length=MAX_INDEXES, description=(
        "fields records can be filtered by in lists (?filter.<field>=value); once published, an index keeps "
        "its place: new ones are appended"), json_schema_extra={"x-indexable-types": sorted(INDEXABLE_TYPES)})
    storage: StorageOptions = Field(default_factory=StorageOptions)
    permissions: FormPermissions = Field(default_factory=FormPermissions)

    def field(self, name: str):
        return self.fields_by_name.get(name)

    @cached_property
    def fields_by_name(self) -> dict:
        return {f.name: f for f in self.fields}

    @cached_property
    def validation_plan(self):
        """forms.engine.FormPlan: validate_record's checks for this version, built on first use."""
        from .engine import FormPlan
        return FormPlan(self)

    @cached_property
    def computed_inputs(self) -> dict[str, frozenset[str]]:
        """{computed field: every top-level field its value is derived from, through other computed
        fields too}. Access hides a computed field from a role that may not see any of its inputs
        (a price-with-tax would reveal the hidden price)."""
        from ..expressions import compile_expression
        direct: dict[str, set[str]] = {}
        for f in self.fields:
            if f.type == "computed":
                try:
                    direct[f.name] = set(compile_expression(f.expression).field_roots) & set(self.fields_by_name)
                except ExpressionError:
                    direct[f.name] = set()
        closed: dict[str, frozenset[str]] = {}

        def inputs(name: str, path: frozenset) -> frozenset[str]:
            if name in closed:
                return closed[name]
            out = set(direct[name])
            for dep in direct[name]:
                if dep in direct and dep not in path:
                    out |= inputs(dep, path | {dep})
            closed[name] = frozenset(out)
            return closed[name]

        for name in direct:
            inputs(name, frozenset({name}))
        return closed

    def hidden_closure(self, hidden) -> frozenset[str]:
        """`hidden` plus every computed field derived from one of them."""
        base = set(hidden)
        return frozenset(base | {c for c, ins in self.computed_inputs.items() if ins & base})

    @property
    def auto_number_field(self):
        return next((f for f in self.fields if f.type == "auto_number"), None)

    def index_slot(self, field_name: str) -> int | None:
        """1-based list-index slot of an indexed field (1-4: a GSI, 5+: index entry items), or None."""
        return self.indexes.index(field_name) + 1 if field_name in self.indexes else None


def json_path(loc: Iterable[Any], field_types: set[str] | None = None) -> str:
    """pydantic loc → 'fields[3].max_length' (dropping discriminated-union tags)."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif field_types and part in field_types:
            continue
        else:
            path += f".{part}" if path else str(part)
    return path


_FIELD_TYPES = {"text", "textarea", "number", "money", "percent", "date", "datetime", "time", "duration", "select",
                "multiselect", "checkbox", "rating", "phone", "email", "url", "geolocation", "image", "file",
                "signature", "user", "lookup", "computed", "subtable", "auto_number"}


def pydantic_problems(exc: ValidationError, prefix: str = "", model: Any = None) -> list[dict]:
    """Each error with its JSON path, in plain words (`model`, the validated model: an unknown key's
    message lists the keys allowed there)."""
    from ..plain_errors import message
    problems = []
    for err in exc.errors(include_url=False):
        path = json_path(err["loc"], _FIELD_TYPES)
        problems.append({"path": f"{prefix}{path}" if path else prefix.rstrip("."), "message": message(err, model)})
    return problems


def validated(model: Any, raw: Any, what: str, error: type = DefinitionError) -> Any:
    """`model.model_validate(raw)`; else `error` ("<what> is invalid") listing every problem with its JSON
    path, in plain words (pydantic_problems). The one way a definition or a request body is read."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(f"{what} is invalid", details=pydantic_problems(exc, model=model)) from exc


def parse_form_definition(raw: Any, *, previous: FormDefinition | None = None) -> FormDefinition:
    """Validate a form definition; raise DefinitionError listing every problem with its path."""
    if not isinstance(raw, dict):
        raise DefinitionError("a form definition must be a JSON object", details=[{"path": "", "message": "expected object"}])
    form = validated(FormDefinition, raw, "form definition")
    problems = semantic_problems(form, previous)
    if problems:
        raise DefinitionError("form definition is invalid", details=problems)
    return form


def semantic_problems(form: FormDefinition, previous: FormDefinition | None) -> list[dict]:
    from ..expressions import check_expression  # imported here: keeps definition import light
    from .values import default_problem

    problems: list[dict] = []
    top_names = [f.name for f in form.fields]
    by_top = {f.name: f for f in form.fields}

    def check_expr(path: str, source: str | None, known: list[str], variables: tuple[str, ...] = FIELD_VARIABLES) -> None:
        if source is None:
            return
        try:
            check_expression(source, known, variables)
        except ExpressionError as exc:
            problems.append({"path": path, "message": exc.message})

    def check_fields(fields, base: str, known: list[str], *, in_row: bool) -> None:
        seen: set[str] = set()
        for i, f in enumerate(fields):
            path = f"{base}[{i}]"
            if f.name in seen:
                problems.append({"path": f"{path}.name", "message": f"duplicate field name '{f.name}'"})
            seen.add(f.name)
            if f.server_owned and (in_row or f.computed_by_server or f.required):
                problems.append({"path": f"{path}.server_owned", "message": "server_owned applies to top-level fields that are "
                                 "neither computed nor required (a client could never supply a required one)"})
            if f.unique and (in_row or not f.supports_unique):
                problems.append({"path": f"{path}.unique", "message": f"unique is not supported on {'sub-table ' if in_row else ''}{f.type} fields"})
            for attr in ("visible_if", "required_if", "readonly_if"):
                check_expr(f"{path}.{attr}", getattr(f, attr), known)
            if f.type == "computed":
                check_expr(f"{path}.expression", f.expression, known)
            if f.default is not None:
                if f.computed_by_server or f.type == "subtable":
                    problems.append({"path": f"{path}.default", "message": f"{f.type} fields take no default"})
                else:
                    message = default_problem(f, f.default)
                    if message:
                        problems.append({"path": f"{path}.default", "message": message})
            for lo, hi in (("minimum", "maximum"), ("min_length", "max_length"), ("min_items", "max_items"), ("min_rows", "max_rows")):
                a, b = getattr(f, lo, None), getattr(f, hi, None)
                if a is not None and b is not None and a > b:
                    problems.append({"path": f"{path}.{lo}", "message": f"{lo} is greater than {hi}"})
            if f.type in ("select", "multiselect"):
                values = [o.value for o in f.options]
                if len(values) != len(set(values)):
                    problems.append({"path": f"{path}.options", "message": "option values must be unique"})
                if f.type == "multiselect" and f.min_items > len(values):
                    problems.append({"path": f"{path}.min_items", "message": "min_items is more than the number of options"})
            if f.fetch_from:
                source = by_top.get(f.fetch_from.split(".", 1)[0])
                if in_row or f.computed_by_server or f.type in ("subtable", "signature", "image", "file"):
                    problems.append({"path": f"{path}.fetch_from", "message": f"fetch_from applies to top-level fields a "
                                     f"value can be copied into, not to {'sub-table ' if in_row else ''}{f.type} fields"})
                elif source is None or source.type != "lookup":
                    problems.append({"path": f"{path}.fetch_from", "message": f"'{f.fetch_from.split('.', 1)[0]}' is not "
                                     "a lookup field of this form (write <lookup field>.<field of its form>)"})
            if f.type == "signature":
                for j, signed in enumerate(f.signs):
                    if signed not in top_names or signed == f.name:
                        problems.append({"path": f"{path}.signs[{j}]", "message": f"unknown field '{signed}' (a signature signs other fields of the form)"})
            if getattr(f, "total", False):
                if not in_row:
                    problems.append({"path": f"{path}.total", "message": "total sums a sub-table column at the foot of its "
                                     "table; this field is not in a sub-table"})
                elif f.type == "computed" and f.result != "number":
                    problems.append({"path": f"{path}.total", "message": f"total needs a number; this computed field's "
                                     f"result is {f.result}"})
            if f.type == "text" and f.pattern:
                problem = pattern_cost_problem(f.pattern, f.max_length)
                if problem:
                    problems.append({"path": f"{path}.pattern", "message": problem})
            if isinstance(f, SubTableField):
                row_known = known + [rf.name for rf in f.fields]
                check_fields(f.fields, f"{path}.fields", row_known, in_row=True)

    check_fields(form.fields, "fields", top_names, in_row=False)

    if sum(1 for f in form.fields if f.type == "auto_number") > 1:
        problems.append({"path": "fields", "message": "a form may have at most one auto_number field"})
    if form.title_field and form.title_field not in top_names:
        problems.append({"path": "title_field", "message": f"unknown field '{form.title_field}'"})
    by_name = {f.name: f for f in form.fields}
    for i, name in enumerate(form.indexes):
        f = by_name.get(name)
        if f is None:
            problems.append({"path": f"indexes[{i}]", "message": f"unknown field '{name}'"})
        elif f.type not in INDEXABLE_TYPES:
            problems.append({"path": f"indexes[{i}]", "message": f"{f.type} fields cannot be indexed"})
    if len(form.indexes) != len(set(form.indexes)):
        problems.append({"path": "indexes", "message": "indexed fields must be unique"})
    problems.extend(_computed_cycles(form))
    problems.extend(_permission_problems(form, check_expr, top_names))
    problems.extend(expression_cost_problems(form))
    if previous is not None:
        if previous.storage.shards != form.storage.shards:
            problems.append({"path": "storage.shards", "message": f"shards cannot change once a form exists (was {previous.storage.shards})"})
        if previous.indexes != form.indexes[: len(previous.indexes)]:
            problems.append({"path": "indexes", "message": f"existing indexes must keep their order; append new ones (was {previous.indexes})"})
    return problems


def expression_cost_problems(form: FormDefinition) -> list[dict]:
    """The worst case of one record's expressions must fit in one request's expression budget: computed
    fields and visible/required/readonly conditions (those of sub-table fields once per row, up to the
    sub-table's max_rows) plus every role's row rule, each estimated from its node count times the longest
    list it can walk (a referenced sub-table's max_rows, a multiselect's options). Over the budget → the
    costliest expressions' paths. Also notes where each expression comes from, for runtime messages."""
    from ..expressions import compile_expression
    from ..expressions.budget import estimate_steps, note_origin
    from ..expressions.limits import MAX_REQUEST_STEPS

    def list_length(f) -> int:
        if isinstance(f, SubTableField):
            return f.max_rows
        return len(f.options) if f.type == "multiselect" else 0

    top = {f.name: list_length(f) for f in form.fields}
    costs: list[tuple[int, str]] = []

    def add(path: str, source: str | None, lengths: dict[str, int], times: int) -> None:
        if not source:
            return
        try:
            expression = compile_expression(source)
        except ExpressionError:
            return  # reported by the expression checks
        note_origin(source, f"form '{form.name}'", path)
        longest = max((lengths.get(name, 0) for name in expression.field_roots), default=0)
        costs.append((estimate_steps(expression, longest) * times, path))

    def walk(fields, base: str, lengths: dict[str, int], times: int) -> None:
        for i, f in enumerate(fields):
            path = f"{base}[{i}]"
            for attr in ("visible_if", "required_if", "readonly_if", "expression"):
                add(f"{path}.{attr}", getattr(f, attr, None), lengths, times)
            if isinstance(f, SubTableField):
                walk(f.fields, f"{path}.fields", {**lengths, **{rf.name: list_length(rf) for rf in f.fields}},
                     times * f.max_rows)

    walk(form.fields, "fields", top, 1)
    for role, rule in form.permissions.rows.items():
        add(f"permissions.rows.{role}", rule, top, 1)
    total = sum(cost for cost, _path in costs)
    if total <= MAX_REQUEST_STEPS:
        return []
    problems, left = [], total
    for cost, path in sorted(costs, key=lambda c: -c[0]):  # the costliest first, until the rest would fit
        problems.append({"path": path, "message": f"this expression may take up to {cost} evaluation steps per record; "
                         f"the form's expressions together may take {total}, more than one request's budget of "
                         f"{MAX_REQUEST_STEPS} (fewer list walks, lower max_rows, or fewer computed fields)"})
        left -= cost
        if left <= MAX_REQUEST_STEPS or len(problems) == 5:
            break
    return problems


def pattern_cost_problem(pattern: str, max_length: int) -> str | None:
    """A text pattern runs as a search (JSON Schema semantics) on up to max_length characters:
    the same worst-case budget as matches() applies."""
    from ..expressions.limits import MATCH_BACKTRACK_BUDGET
    from ..expressions.patterns import compile_pattern

    if compile_pattern(pattern).worst_case(max_length, search=True) <= MATCH_BACKTRACK_BUDGET:
        return None
    return (f"pattern can backtrack too much on {max_length} characters; lower max_length, anchor it "
            "with ^ or use fewer open-ended repetitions")


def _permission_problems(form: FormDefinition, check_expr, top_names: list[str]) -> list[dict]:
    import re
    problems: list[dict] = []
    perms = form.permissions
    role_re = re.compile(ROLE_PATTERN)
    for action in ("create", "read", "update", "delete", "export", "import_", "report", "share"):
        for i, role in enumerate(getattr(perms, action)):
            if not role_re.fullmatch(role):
                problems.append({"path": f"permissions.{action.rstrip('_')}[{i}]", "message": "role names are letters, digits, _ . - (or *)"})
    for role, rule in perms.rows.items():
        check_expr(f"permissions.rows.{role}", rule, top_names, EXPRESSION_VARIABLES)  # into semantic_problems' list
        if not role_re.fullmatch(role):
            problems.append({"path": f"permissions.rows.{role}", "message": "not a role name"})
    known = set(top_names)
    for role, grant in perms.fields.items():
        for kind in ("hidden", "readonly"):
            for i, name in enumerate(getattr(grant, kind)):
                if name not in known:
                    problems.append({"path": f"permissions.fields.{role}.{kind}[{i}]", "message": f"unknown field '{name}'"})
    return problems


def _computed_cycles(form: FormDefinition) -> list[dict]:
    from ..expressions import compile_expression

    computed = {f.name: f for f in form.fields if f.type == "computed"}
    deps: dict[str, set[str]] = {}
    for name, f in computed.items():
        try:
            deps[name] = set(compile_expression(f.expression).field_roots) & set(computed)
        except ExpressionError:
            deps[name] = set()  # already reported
    problems, done, active = [], set(), set()

    def visit(name: str) -> bool:
        if name in done:
            return False
        if name in active:
            return True
        active.add(name)
        cyclic = any(visit(d) for d in deps[name])
        active.discard(name)
        done.add(name)
        return cyclic

    for name in computed:
        if name not in done and visit(name):
            idx = next(i for i, f in enumerate(form.fields) if f.name == name)
            problems.append({"path": f"fields[{idx}].expression", "message": f"computed field '{name}' depends on itself"})
    return problems


def computed_order(form: FormDefinition) -> list:
    """Computed fields in dependency order (cycles were rejected at upload)."""
    from ..expressions import compile_expression

    computed = {f.name: f for f in form.fields if f.type == "computed"}
    ordered, seen = [], set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for dep in compile_expression(computed[name].expression).field_roots & set(computed):
            visit(dep)
        ordered.append(computed[name])

    for name in computed:
        visit(name)
    return ordered
