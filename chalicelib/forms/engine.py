"""Validate a record against a form version: defaults, visibility, required/read-only rules,
value checks, computed fields. Pure: returns what storage must check (references, unique values)."""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from itertools import compress
from decimal import Decimal
from typing import Any, NamedTuple

from ..errors import AppError, ValidationFailed
from ..expressions import compile_expression
from ..expressions.budget import expression_budget
from .definition import FormDefinition, computed_order
from .values import Invalid, computed_result, number_bound, settle_number, value_check, value_settle


@dataclass(frozen=True)
class Reference:
    """A value that must exist when the record is written: a tenant member or a record of a form."""

    kind: str  # "user" | "record"
    target: str  # user id or record id
    form: str | None = None
    role: str | None = None
    path: str = dc_field(default="", compare=False)  # where it was found, for error messages


@dataclass
class ValidatedRecord:
    data: dict
    references: list[Reference] = dc_field(default_factory=list)
    unique_values: dict[str, Any] = dc_field(default_factory=dict)
    changed_fields: list[str] = dc_field(default_factory=list)


def _truthy(value: Any) -> bool:
    if value is True:  # a condition's usual answers first: the tests below compare with five values and 0
        return True
    if value is False or value is None:
        return False
    return value not in (None, False, "", [], {}) and value != 0


_WRITTEN, _COMPUTED, _PLATFORM = "written", "computed", "platform"  # who writes a top-level field
_NEVER = object()  # an expression that does not compile: a condition never met, a computed value unknown


def _expression(source: str | None) -> Any:
    """The compiled condition or computation; None without a source, _NEVER when it does not compile."""
    if not source:
        return None
    try:
        return compile_expression(source)
    except AppError:
        return _NEVER


def _condition(expression: Any, context: dict, default: bool) -> bool:
    if expression is None:
        return default
    if expression is _NEVER:
        return False
    try:
        return _truthy(expression.evaluate(context))
    except AppError:
        # A condition that cannot be evaluated on this data (e.g. type mismatch) counts as not met.
        return False


# Functions whose result depends only on the values of their arguments (numbers by value, not by how
# they are written: 1280 and 1280.00 alike), never on the clock or on other fields read by name.
_VALUE_FUNCTIONS = frozenset({"sum", "avg", "count", "min", "max", "abs", "floor", "ceil", "round", "is_empty",
                              "coalesce", "if"})
_AGAIN = object()  # Computed.settle: work the value out again


class _Computed:
    """A computed field: its expression and how its result is cleaned."""

    __slots__ = ("name", "expression", "boolean", "number", "bound", "step", "result", "scale", "roots",
                 "settleable", "absent")

    def __init__(self, f) -> None:
        self.name, self.expression, self.result, self.scale = f.name, _expression(f.expression), f.result, f.scale
        self.boolean, self.number = f.result == "boolean", f.result == "number"
        self.bound, self.step = number_bound(f.scale), Decimal(1).scaleb(-f.scale)
        e = self.expression
        self.roots = e.field_roots if e is not None and e is not _NEVER else frozenset()
        # Its stored value can be taken again (settle) when the fields it reads hold the same values as
        # when it was worked out: a number or boolean result of an expression over values alone (no
        # $variable, no clock, no field read by name, no text made of a number).
        self.settleable = e is not None and e is not _NEVER and not e.variables and self.result in ("number", "boolean") \
            and e.functions <= _VALUE_FUNCTIONS
        # Its value when none of the fields it reads has one (a context holding none of its roots): an
        # expression over values alone gives the same answer for every such context, worked out once here
        # (in a budget of its own). _AGAIN: not such an expression, evaluate it.
        self.absent = _AGAIN
        if e is not None and e is not _NEVER and not e.variables and e.functions <= _VALUE_FUNCTIONS:
            try:
                with expression_budget(fresh=True):
                    self.absent = self.value({})
            except AppError:  # (its budget exhausted: cannot happen for one evaluation, but then: evaluate it)
                self.absent = _AGAIN

    def settle(self, stored: Any) -> Any:
        """value() again, from the value it gave before (as stored: a JSON round trip turns 445.10 into 445.1
        and 136.00 into 136) over inputs equal in value; _AGAIN for a zero, whose sign the store drops."""
        if stored is None or self.boolean:
            return stored
        if stored.__class__ is int:
            return Decimal(stored).quantize(self.step) if stored else _AGAIN
        return stored.quantize(self.step) if stored.__class__ is Decimal and stored else _AGAIN

    def value(self, context: dict) -> Any:
        if self.expression is _NEVER:
            return None
        try:
            value = self.expression.evaluate(context)
        except AppError:
            return None  # e.g. a division by zero on this data: the value is simply unknown
        if value is None:
            return None
        if self.boolean:
            return _truthy(value)
        if self.number:  # computed_result("number"), its bound and step computed once
            if value.__class__ is not Decimal and not isinstance(value, Decimal) or not value.is_finite() \
                    or value.copy_abs() >= self.bound:
                return None
            return value.quantize(self.step)
        return computed_result(self.result, self.scale, value)


class _Field(NamedTuple):
    """One field's rules read once (a tuple: the loops unpack it)."""

    name: str
    path: str  # of a top-level field
    check: Any  # value -> normalised value, or raises Invalid; None for a sub-table
    settle: Any  # a value check returned (and stored) -> what check returns for it again; None: the value itself
    rows: Any  # _Rows of a sub-table
    visible_if: Any
    may_be_required: bool  # required, or has a required_if
    required: bool
    required_if: Any
    read_only: bool
    readonly_if: Any
    reference: tuple | None  # (kind, form, role) of a user or lookup field


def _field(f) -> _Field:
    rows = _Rows(f) if f.type == "subtable" else None
    required_if = _expression(f.required_if)
    reference = ("user", None, f.role) if f.type == "user" else ("record", f.form, None) if f.type == "lookup" else None
    return _Field(f.name, f"data.{f.name}", None if rows else value_check(f), value_settle(f), rows,
                  _expression(f.visible_if),
                  f.required or required_if is not None, f.required, required_if, f.read_only,
                  _expression(f.readonly_if), reference)


class _Bulk(NamedTuple):
    """A run of fields without conditions or rows, checked in one pass when nothing is wrong with them: every
    required one holds a truthy value and no check raises. Then the careful walk would keep exactly each
    value's check(value), in field order, and note the references in that order; on any doubt (a required
    value missing or falsy, a value refused) it runs instead, over `fields`, for its exact problems."""

    checks: tuple  # (name, check) of each field
    required: tuple  # names of the required ones
    references: tuple  # (name, path, kind, form, role) of the user and lookup fields, in field order
    fields: tuple  # their _Field tuples


def _bulk(fields) -> _Bulk:
    return _Bulk(tuple((p.name, p.check) for p in fields), tuple(p.name for p in fields if p.required),
                 tuple((p.name, p.path) + p.reference for p in fields if p.reference is not None), tuple(fields))


def _steps(fields) -> tuple:
    """A create's walk: runs of plain fields (no condition, no rows) as one _Bulk each, the others alone."""
    steps, run = [], []
    for p in fields:
        if p.rows is None and p.visible_if is None and p.required_if is None:
            run.append(p)
            continue
        if run:
            steps.append(_bulk(run))
            run = []
        steps.append(p)
    if run:
        steps.append(_bulk(run))
    return tuple(steps)


class _Rows:
    """A sub-table's row fields."""

    __slots__ = ("min_rows", "max_rows", "count", "names", "fields", "computed", "defaults", "conditional",
                 "first_pass", "local", "reads_before", "settled", "bulk")

    def __init__(self, f) -> None:
        self.min_rows, self.max_rows = f.min_rows, f.max_rows
        self.count = f"must have between {f.min_rows} and {f.max_rows} rows"
        self.names = {rf.name for rf in f.fields}
        self.fields = tuple(_field(rf) for rf in f.fields if not rf.computed_by_server)
        self.computed = tuple(_Computed(rf) for rf in f.fields if rf.type == "computed")
        self.defaults = tuple((rf.name, rf.default) for rf in f.fields if rf.default is not None and not rf.computed_by_server)
        # A row's context is built only for its visible/required conditions, and its computed values are
        # worked out before the checks only when one of those conditions reads them.
        self.conditional = any(p.visible_if is not None or p.required_if is not None for p in self.fields)
        conditions = [e for p in self.fields for e in (p.visible_if, p.required_if)]
        self.first_pass = bool(self.computed) and (bool(_reads(conditions) & {c.name for c in self.computed})
                                                   or _reads_by_name(conditions))
        # The fields the row's computed values read, when they read nothing but the row's own checked fields
        # and the computed values before them (no $variable, no field by name): a row holding all of those
        # fields is their whole context.
        checked, known, local = {p.name for p in self.fields}, set(), bool(self.computed)
        for c in self.computed:
            local = local and c.expression is not _NEVER and not c.expression.variables \
                and "signature_valid" not in c.expression.source and c.roots <= checked | known
            known.add(c.name)
        self.local = frozenset(set().union(*(c.roots for c in self.computed)) & checked) if local else None
        self.reads_before = any(p.readonly_if is not None for p in self.fields)
        # Stored rows of a table without conditions, settled: (name, settle, reference) in field order.
        self.settled = None if self.conditional else tuple((p.name, p.settle, p.reference) for p in self.fields)
        # A new row of a table without conditions (nothing is read-only in it yet), checked in one pass.
        self.bulk = None if self.conditional else _bulk(self.fields)


class FormPlan:
    """validate_record's checks for one form version, built once (FormDefinition.validation_plan)."""

    __slots__ = ("fields", "kinds", "server_computed", "defaults", "computed_defaults", "computed", "preview", "unique",
                 "reads_before", "restamped", "written", "optional_platform", "create_steps", "all_steps", "settle_steps")

    def __init__(self, form: FormDefinition) -> None:
        self.fields = tuple(_field(f) for f in form.fields if not f.computed_by_server)
        self.kinds = {f.name: _COMPUTED if f.computed_by_server else _PLATFORM if f.platform_written else _WRITTEN
                      for f in form.fields}
        self.server_computed = frozenset(f.name for f in form.fields if f.computed_by_server)
        self.written = frozenset(name for name, kind in self.kinds.items() if kind is _WRITTEN)
        self.defaults = tuple((f.name, f.default) for f in form.fields if f.default is not None)
        self.computed_defaults = any(name in self.server_computed for name, _ in self.defaults)
        self.computed = tuple(_Computed(f) for f in computed_order(form))
        # Computed values are worked out before the checks only when something reading the record's
        # context does read one: a visible/required condition, or a sub-table's condition or computation.
        readers = [e for p in self.fields for e in (p.visible_if, p.required_if)]
        for p in self.fields:
            if p.rows is not None:
                readers += [e for rp in p.rows.fields for e in (rp.visible_if, rp.required_if)]
                readers += [c.expression for c in p.rows.computed]
        self.preview = bool(_reads(readers) & self.server_computed) or _reads_by_name(readers)
        self.unique = tuple(f for f in form.fields if f.unique)
        # Whether a read-only condition anywhere needs the record as it was ({**previous, **variables}).
        self.reads_before = any(p.readonly_if is not None or p.rows is not None and p.rows.reads_before
                                for p in self.fields)
        # Fields a stored record may hold a later value of than its computed values were worked out from: a
        # signature gets its signed_* keys after validation (services.uploads). The incremental update takes
        # them as changed.
        self.restamped = frozenset(f.name for f in form.fields if f.type == "signature")
        # A create asks nothing of a platform-written field it does not hold that is never required: while
        # it holds none of those, its walk leaves them out.
        optional = {p.name for p in self.fields if self.kinds[p.name] is _PLATFORM and not p.may_be_required}
        self.optional_platform = frozenset(optional)
        self.create_steps = _steps(p for p in self.fields if p.name not in optional)
        self.all_steps = _steps(self.fields)
        # The incremental update's walk: (name, settle, simple, field). `simple`: a stored value of the field
        # is settled and kept as it is, with nothing else to check or note (no condition, never required, no
        # rows, no reference).
        self.settle_steps = tuple((p.name, p.settle, p.visible_if is None and not p.may_be_required and p.rows is None
                                   and p.reference is None, p) for p in self.fields)


def _reads(expressions) -> set[str]:
    """The top-level names some of these expressions read."""
    return {name for e in expressions if e is not None and e is not _NEVER for name in e.field_roots}


def _reads_by_name(expressions) -> bool:
    """Whether one of them calls signature_valid(), which reads the fields a signature signs by name."""
    return any(e is not None and e is not _NEVER and "signature_valid" in e.source for e in expressions)


def record_variables(record: Any) -> dict:
    """`$id` and `$number` of a record (a stored record, or a dict with "id" / "number"); {} for None. Added to the variables wherever expressions run over that record (see RECORD_VARIABLES)."""
    if record is None:
        return {}
    if isinstance(record, dict):
        return {"$id": record.get("id"), "$number": record.get("number")}
    return {"$id": getattr(record, "id", None), "$number": getattr(record, "number", None)}


def validate_record(form: FormDefinition, patch: Any, *, previous: dict | None = None,
                    variables: dict | None = None, system: bool = False,
                    server_written: frozenset[str] | tuple[str, ...] = (), record: Any = None,
                    previous_checked: bool = False) -> ValidatedRecord:
    """Create when previous is None, else a partial update: keys in patch replace, null clears.
    system=True is the workflow writing (SetFields): read-only rules, which guard users, do not apply.
    Server-owned fields (and signatures) are refused from anyone else, except those named in
    `server_written` (the platform's own write in a user's request, e.g. a confirmed signature upload);
    an update echoing a server-owned value unchanged is harmless and ignored.
    `record`: the record being written (its .id and .number become `$id` / `$number`); without it they
    are null, as on a create whose number is not drawn yet.
    `previous_checked`: `previous` is data this form version's validate_record returned (as stored: after
    the JSON round trip too), so its values are valid as they are. The fields the patch leaves alone are
    then not checked again, and the computed values that read none of what changed are taken over;
    everything else — conditions, required rules, the patch's values, what depends on them — runs as on a
    full check, with the same result (tests/unit/test_form_engine_compiled.py holds the two together)."""
    if not isinstance(patch, dict):
        raise ValidationFailed("record data must be an object", details=[{"path": "data", "message": "expected object"}])
    plan: FormPlan = form.validation_plan
    if record is not None:
        variables = {**(variables or {}), **record_variables(record)}
    variables = variables or {}
    problems: list[dict] = []
    kinds, server_computed = plan.kinds, plan.server_computed
    old_data = previous or {}
    if plan.written.issuperset(patch) and _no_none(patch):
        merged: dict[str, Any] = {**old_data, **patch}  # every key a field a client writes, none cleared
        patch_items = ()
    else:
        merged = dict(old_data)
        patch_items = patch.items()
    for key, value in patch_items:
        kind = kinds.get(key)
        if kind is None:
            problems.append({"path": f"data.{key}", "message": "unknown field"})
        elif kind is _COMPUTED:
            continue  # set by the server; a client echoing it back is harmless
        elif kind is _PLATFORM and not system and key not in server_written:
            if value is None and old_data.get(key) is None or previous is not None and value == previous.get(key):
                continue  # nothing supplied: an echo of the stored value (or of nothing)
            problems.append({"path": f"data.{key}", "message": "is set by the platform and cannot be written"})
        elif value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if previous is None:
        for name, default in plan.defaults:
            if name not in merged and name not in patch:
                merged[name] = default

    # on a create only a default can have put a computed field in merged (definition.py refuses those)
    if previous or plan.computed_defaults:  # the stored computed values, in the record's order (filtered in C)
        out = {k: merged[k] for k in compress(merged, map(server_computed.__contains__, merged))}
    else:
        out = {}
    references: dict[tuple, str] = {}  # (kind, target, form, role) -> the path it was first found at
    # Conditions see computed values as of this input (not absent on create nor stale on update);
    # the stored ones are computed again below from the checked values.
    if plan.preview:
        context = _apply_computed(plan, dict(merged), variables)
    else:  # merged is not changed below: the conditions may read it as it is
        context = {**merged, **variables} if variables else merged
    if previous is None:
        _check_created(plan, merged, context, out, problems, references)
        settling = False
    else:
        settling = previous_checked and bool(previous)
        dirty: set | None = {*plan.restamped, *patch} if settling else None
        _check_updated(plan, patch, merged, previous, context, variables, system, settling, dirty, out, problems,
                       references)

    if problems:
        raise ValidationFailed("record is invalid", details=problems)
    if settling:
        _settle_computed(plan, out, variables, dirty)
        # only what is dirty can differ from the stored record; a stored key no longer there is a change
        changed = {k for k in dirty if not _equal(previous.get(k), out.get(k))}
        if not out.keys() >= previous.keys():  # (compared in C, no sets built)
            changed |= {k for k in previous.keys() - out.keys() if previous[k] is not None}
        changed = sorted(changed)
    else:
        _apply_computed(plan, out, variables)
        if previous:
            changed = sorted(k for k in set(out) | set(previous) if not _equal(previous.get(k), out.get(k)))
        elif not _no_none(out):
            changed = sorted(k for k, v in out.items() if v is not None)  # _equal(None, v) only for None
        else:
            changed = sorted(out)
    unique = {f.name: f.unique_key(out[f.name]) for f in plan.unique if out.get(f.name) is not None}
    return ValidatedRecord(data=out, references=[_reference(kind, target, target_form, role, path)
                                                 for (kind, target, target_form, role), path in references.items()],
                           unique_values=unique, changed_fields=changed)


def _check_created(plan: FormPlan, merged: dict, context: dict, out: dict, problems: list, references: dict) -> None:
    """validate_record's field walk on a create: every field's value checked (nothing is read-only yet)."""
    get = merged.get
    for step in plan.create_steps if plan.optional_platform.isdisjoint(merged) else plan.all_steps:
        if step.__class__ is _Bulk:
            if all(map(get, step.required)):
                try:
                    checked = {name: check(value) for name, check in step.checks if (value := get(name)) is not None}
                except Invalid:
                    checked = None
                if checked is not None:
                    out.update(checked)
                    for name, path, kind, form, role in step.references:
                        value = checked.get(name)
                        if value is not None and (kind, value, form, role) not in references:
                            references[(kind, value, form, role)] = path
                    continue
            fields = step.fields  # the careful walk, for its problems
        else:
            fields = (step,)
        for name, path, check, _, rows, visible_if, may_be_required, required, required_if, _, _, reference in fields:
            value = get(name)
            if value is None:
                # hidden fields are never required; `required` means "has a value"
                if may_be_required and (visible_if is None or _condition(visible_if, context, True)) and (
                        required or _condition(required_if, context, False)):
                    problems.append({"path": path, "message": "is required"})
                continue
            if visible_if is not None and not _condition(visible_if, context, True):
                continue  # hidden fields keep no value
            try:
                normalized = check(value) if rows is None else _new_rows(rows, value, path, context, problems, references)
            except Invalid as exc:
                problems.append({"path": path, "message": str(exc)})
                continue
            # (`not value` first: a value equal to "" or [] is falsy, and most values are not)
            if may_be_required and not value and (value == "" or value == []) and (
                    required or _condition(required_if, context, False)):
                problems.append({"path": path, "message": "is required"})
            else:
                out[name] = normalized
                if reference is not None:
                    key = (reference[0], normalized, reference[1], reference[2])
                    if key not in references:
                        references[key] = path


def _check_updated(plan: FormPlan, patch: dict, merged: dict, previous: dict, context: dict, variables: dict,
                   system: bool, settling: bool, dirty: set | None, out: dict, problems: list, references: dict) -> None:
    """validate_record's field walk on an update: read-only rules guard the patch's fields (unless system);
    settling (previous_checked): a field the patch leaves alone keeps its stored value, settled rather than
    checked, and `dirty` gathers what may differ from the stored record (for the computed values after)."""
    guarding = not system
    before = {**previous, **variables} if guarding and plan.reads_before else None
    get = merged.get
    for name, settle, simple, field in plan.settle_steps:
        value = get(name)
        if settling and name not in patch:  # a stored value: valid as it is, but its conditions run again
            if simple:  # nothing else to it
                if value is not None:
                    if settle is None:
                        out[name] = value
                    elif settle is settle_number:
                        out[name] = Decimal(value) if value.__class__ is int else value
                    else:
                        out[name] = settle(value)
                continue
            _, path, _, _, rows, visible_if, may_be_required, required, required_if, _, _, reference = field
            if value is None:
                if may_be_required and (visible_if is None or _condition(visible_if, context, True)) and (
                        required or _condition(required_if, context, False)):
                    problems.append({"path": path, "message": "is required"})
                continue
            if visible_if is not None and not _condition(visible_if, context, True):
                dirty.add(name)  # a stored value the field's condition now hides
                continue
            if rows is not None:
                try:
                    normalized, exact = _settle_rows(rows, value, path, context, problems, references)
                except Invalid as exc:
                    problems.append({"path": path, "message": str(exc)})
                    continue
                if not exact:
                    dirty.add(name)
            elif settle is None:
                normalized = value
            elif settle is settle_number:
                normalized = Decimal(value) if value.__class__ is int else value
            else:
                normalized = settle(value)
            if may_be_required and not value and (value == "" or value == []) and (
                    required or _condition(required_if, context, False)):
                problems.append({"path": path, "message": "is required"})
                continue
            out[name] = normalized
            if reference is not None:
                key = (reference[0], normalized, reference[1], reference[2])
                if key not in references:
                    references[key] = path
            continue
        _, path, check, _, rows, visible_if, may_be_required, required, required_if, read_only, readonly_if, \
            reference = field
        guarded = guarding and name in patch
        if value is None and not may_be_required and not guarded:
            continue  # nothing there and nothing asked of it
        if visible_if is not None and not _condition(visible_if, context, True):
            continue  # hidden fields keep no value and are never required (a field of the patch: dirty already)
        locked = guarded and (read_only or readonly_if is not None and _condition(readonly_if, before, False))
        if value is None:
            # `required` means "has a value": an empty text or list satisfies it no more than null does
            if locked and previous.get(name) is not None:
                problems.append({"path": path, "message": "is read-only"})
            elif required or _condition(required_if, context, False):  # may_be_required here
                problems.append({"path": path, "message": "is required"})
            continue
        try:
            if rows is not None:
                normalized = _check_rows(rows, value, path, context, before, previous.get(name) if guarded else None,
                                         problems, references)[0]
            else:
                normalized = check(value)
        except Invalid as exc:
            # Normalised values are compared: the same instant in another offset is not a change.
            problems.append({"path": path, "message": "is read-only" if locked else str(exc)})
            continue
        if locked and not _equal(previous.get(name), normalized):
            problems.append({"path": path, "message": "is read-only"})
        # (`not value` first: a value equal to "" or [] is falsy, and most values are not)
        elif may_be_required and not value and (value == "" or value == []) and (
                required or _condition(required_if, context, False)):
            problems.append({"path": path, "message": "is required"})
        else:
            out[name] = normalized
            if reference is not None:
                key = (reference[0], normalized, reference[1], reference[2])
                if key not in references:
                    references[key] = path


_new = object.__new__


def _reference(kind: str, target: Any, form: str | None, role: str | None, path: str) -> Reference:
    """Reference(kind, target, form=form, role=role, path=path) without the frozen dataclass's
    per-attribute object.__setattr__ calls."""
    reference = _new(Reference)
    reference.__dict__.update(kind=kind, target=target, form=form, role=role, path=path)
    return reference


def _check_rows(rows_plan: _Rows, rows: Any, path: str, parent: dict, before: dict | None, old_rows: Any,
                problems: list, references: dict, settling: bool = False) -> tuple[list, bool]:
    """(rows, exact). Rows have no ids: on an update row i is matched with previous row i, so a read-only
    row field may not change at an existing position; rows beyond the previous count are new.
    settling: `rows` are stored (checked) rows, not guarded: their values are settled, not checked, and a
    computed value over the row's own fields alone is taken over; `exact` tells whether every row came
    out holding the same fields, equal in value, as stored."""
    if not isinstance(rows, list):
        raise Invalid("must be a list of rows")
    if not rows_plan.min_rows <= len(rows) <= rows_plan.max_rows:
        raise Invalid(rows_plan.count)
    old_rows = old_rows if isinstance(old_rows, list) else ()
    out_rows = []
    exact = settling
    row_names, computed, defaults = rows_plan.names, rows_plan.computed, rows_plan.defaults
    conditional, first_pass, local, fields = rows_plan.conditional, rows_plan.first_pass, rows_plan.local, rows_plan.fields
    bulk = rows_plan.bulk
    context = parent
    for i, row in enumerate(rows):
        if row.__class__ is not dict and not isinstance(row, dict):
            problems.append({"path": f"{path}[{i}]", "message": "must be an object"})
            continue
        if not defaults and row_names.issuperset(row) and _no_none(row):
            clean = row  # nothing to drop or add (and nothing below changes it)
        else:
            for key in set(row) - row_names:
                problems.append({"path": f"{path}[{i}].{key}", "message": "unknown field"})
            clean = {k: v for k, v in row.items() if k in row_names and v is not None}
            for name, default in defaults:
                if name not in clean:
                    clean[name] = default
        if conditional:
            context = {**parent, **clean}
            if first_pass:
                for c in computed:  # row conditions see the row's computed values too
                    context[c.name] = c.value(context)
        old = old_rows[i] if i < len(old_rows) and isinstance(old_rows[i], dict) else None
        get = clean.get
        out_row = None
        if bulk is not None and old is None and not settling and all(map(get, bulk.required)):
            try:
                out_row = {name: check(value) for name, check in bulk.checks if (value := get(name)) is not None}
            except Invalid:
                pass  # the walk below says what
        if out_row is not None:
            for name, _, kind, form, role in bulk.references:
                value = out_row.get(name)
                if value is not None and (kind, value, form, role) not in references:
                    references[(kind, value, form, role)] = f"{path}[{i}].{name}"
            fields_left = ()
        else:
            out_row = {}
            fields_left = fields
        # The careful walk (every row the one pass above did not take): conditions, read-only rules against
        # the row at the same position before (a new row, old None, is never locked), required fields.
        for name, _, check, settle, _, visible_if, may_be_required, required, required_if, read_only, readonly_if, \
                reference in fields_left:
            if visible_if is not None and not _condition(visible_if, context, True):
                continue
            value = get(name)
            locked = old is not None and (read_only or readonly_if is not None
                                          and _condition(readonly_if, {**before, **old}, False))
            if value is None:
                if locked and old.get(name) is not None:
                    problems.append({"path": f"{path}[{i}].{name}", "message": "is read-only"})
                elif may_be_required and (required or _condition(required_if, context, False)):
                    problems.append({"path": f"{path}[{i}].{name}", "message": "is required"})
                continue
            try:
                normalized = check(value) if not settling else value if settle is None else settle(value)
            except Invalid as exc:
                problems.append({"path": f"{path}[{i}].{name}", "message": "is read-only" if locked else str(exc)})
                continue
            if locked and not _equal(old.get(name), normalized):
                problems.append({"path": f"{path}[{i}].{name}", "message": "is read-only"})
            elif may_be_required and not value and (value == "" or value == []) and (
                    required or _condition(required_if, context, False)):
                problems.append({"path": f"{path}[{i}].{name}", "message": "is required"})
            else:
                out_row[name] = normalized
                if reference is not None:
                    key = (reference[0], normalized, reference[1], reference[2])
                    if key not in references:
                        references[key] = f"{path}[{i}].{name}"
        if computed:
            # computed values over the row's own fields alone need no copy of the record around them
            row_context = out_row if local is not None and local.issubset(out_row) else {**parent, **out_row}
            if settling and row_context is out_row:
                for c in computed:
                    if c.settleable:
                        value = c.settle(row.get(c.name))
                        out_row[c.name] = c.value(out_row) if value is _AGAIN else value
                    else:  # worked out again: what reads it may see another value than stored
                        exact = False
                        out_row[c.name] = c.value(out_row)
            else:
                exact = False
                for c in computed:
                    row_context[c.name] = out_row[c.name] = c.value(row_context)
        if exact and len(out_row) != len(row):
            exact = False  # a stored field the row no longer holds
        out_rows.append(out_row)
    return out_rows, exact


def _new_rows(rows_plan: _Rows, rows: Any, path: str, parent: dict, problems: list, references: dict) -> list:
    """_check_rows(...)[0] of a create's rows: a table without conditions or defaults takes each row in one
    pass (its fields' checks in field order, then its computed values) while every row is an object of known
    fields without nulls whose required fields hold truthy values and no check refuses one; then the
    references in row and field order, as the walk notes them. On any doubt the walk itself, for its problems."""
    bulk = rows_plan.bulk
    if bulk is None or rows_plan.defaults or rows.__class__ is not list or \
            not rows_plan.min_rows <= len(rows) <= rows_plan.max_rows:
        return _check_rows(rows_plan, rows, path, parent, None, None, problems, references)[0]
    checks, required, names, computed, local = bulk.checks, bulk.required, rows_plan.names, rows_plan.computed, \
        rows_plan.local
    out_rows = []
    try:
        for row in rows:
            if row.__class__ is not dict or not names.issuperset(row) or not _no_none(row):
                raise Invalid("")  # (caught below: the walk says what)
            get = row.get
            if required and not all(map(get, required)):
                raise Invalid("")
            out_row = {name: check(value) for name, check in checks if (value := get(name)) is not None}
            if computed:
                context = out_row if local is not None and local.issubset(out_row) else {**parent, **out_row}
                for c in computed:
                    context[c.name] = out_row[c.name] = c.value(context)
            out_rows.append(out_row)
    except Invalid:
        return _check_rows(rows_plan, rows, path, parent, None, None, problems, references)[0]
    if bulk.references:
        for i, out_row in enumerate(out_rows):
            for name, _, kind, form, role in bulk.references:
                value = out_row.get(name)
                if value is not None and (kind, value, form, role) not in references:
                    references[(kind, value, form, role)] = f"{path}[{i}].{name}"
    return out_rows


def _settle_rows(rows_plan: _Rows, rows: Any, path: str, parent: dict, problems: list, references: dict) -> tuple[list, bool]:
    """_check_rows(settling=True) of stored rows: a table without conditions takes each row's fields in
    field order, settled, and its computed values over the row alone, without the checks a stored row
    passed already (row count, objects, known fields, required ones)."""
    settled, computed, local = rows_plan.settled, rows_plan.computed, rows_plan.local
    if settled is None or rows.__class__ is not list or (computed and local is None):
        return _check_rows(rows_plan, rows, path, parent, None, None, problems, references, True)
    out_rows = []
    exact = True
    for i, row in enumerate(rows):
        if row.__class__ is not dict:
            return _check_rows(rows_plan, rows, path, parent, None, None, problems, references, True)
        out_row: dict[str, Any] = {}
        get = row.get
        for name, settle, reference in settled:
            value = get(name)
            if value is not None:
                if settle is None:
                    out_row[name] = value
                elif settle is settle_number:  # inline: most row values are numbers
                    out_row[name] = value = Decimal(value) if value.__class__ is int else value
                else:
                    out_row[name] = value = settle(value)
                if reference is not None:
                    key = (reference[0], value, reference[1], reference[2])
                    if key not in references:
                        references[key] = f"{path}[{i}].{name}"
        if computed:
            if local.issubset(out_row):
                for c in computed:
                    if c.settleable:  # Computed.settle, inline
                        stored = get(c.name)
                        if stored is None or c.boolean:
                            out_row[c.name] = stored
                        elif stored and (stored.__class__ is Decimal or stored.__class__ is int):
                            out_row[c.name] = (stored if stored.__class__ is Decimal else Decimal(stored)).quantize(c.step)
                        else:
                            out_row[c.name] = c.value(out_row)
                    else:
                        exact = False
                        out_row[c.name] = c.value(out_row)
            else:
                exact = False
                row_context = {**parent, **out_row}
                for c in computed:
                    row_context[c.name] = out_row[c.name] = c.value(row_context)
        if len(out_row) != len(row):
            exact = False
        out_rows.append(out_row)
    return out_rows, exact


def _settle_computed(plan: FormPlan, data: dict, variables: dict, dirty: set) -> None:
    """_apply_computed for settled data: a computed value that reads nothing dirty is taken over from the
    stored one (in `data`), the others are worked out again (and are dirty themselves)."""
    context = None
    for c in plan.computed:
        value = c.settle(data.get(c.name)) if c.settleable and c.roots.isdisjoint(dirty) else _AGAIN
        if value is _AGAIN:
            if context is None:
                context = {**data, **variables}
            value = c.value(context) if c.absent is _AGAIN or not c.roots.isdisjoint(context) else c.absent
            dirty.add(c.name)
        if value is None:
            data.pop(c.name, None)
            if context is not None and c.name not in variables:
                context.pop(c.name, None)
        else:
            data[c.name] = value
            if context is not None and c.name not in variables:
                context[c.name] = value


def _apply_computed(plan: FormPlan, data: dict, variables: dict) -> dict:
    """Set (or drop) `data`'s computed fields in dependency order; returns {**data, **variables} (`data`
    itself without variables: the two would be changed alike)."""
    context = {**data, **variables} if variables else data
    for c in plan.computed:
        # none of what it reads is there: its value over nothing (Computed.absent), if it has one
        value = c.value(context) if c.absent is _AGAIN or not c.roots.isdisjoint(context) else c.absent
        if value is None:
            data.pop(c.name, None)
            if context is not data and c.name not in variables:
                context.pop(c.name, None)
        else:
            data[c.name] = value
            if context is not data and c.name not in variables:
                context[c.name] = value
    return context


def _no_none(data: dict) -> bool:
    """None not in data.values(), answered at once when every value is truthy (the `in` test compares each
    value with None: a Decimal's comparison is slow)."""
    return all(data.values()) or None not in data.values()


def _equal(a: Any, b: Any) -> bool:
    return a == b and type(a) is type(b) or (isinstance(a, (int, Decimal)) and isinstance(b, (int, Decimal)) and not isinstance(a, bool) and not isinstance(b, bool) and a == b)
