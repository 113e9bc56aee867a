"""Definitions: upload (validate, then store as a new immutable version), list, get, publish.

Parsed versions are cached per process forever (they never change); which version is published
is re-checked at most every DEFINITION_CACHE_SECONDS with one small GetItem (the freshness check).
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Callable

from typing_extensions import NotRequired, TypedDict

from .. import json_patch, jsonutil, mergepatch
from ..config import get_settings
from ..errors import AppError, BadRequest, Conflict, DefinitionError, NotFound, ValidationFailed
from ..forms.names import NAME_PATTERN
from ..storage import definitions as store
from .caller import Caller
from .clock import utc_now

if TYPE_CHECKING:  # the form engine is imported where a form is parsed (_parse_form), not at import
    from ..forms.definition import FormDefinition

import re

_NAME = re.compile(NAME_PATTERN)
MAX_DEFINITION_BYTES = 300 * 1024  # DynamoDB items are at most 400 KB


# What the definition routes answer: the functions' return types and the OpenAPI document's response schemas.
class VersionUploaded(TypedDict):
    kind: str
    name: str
    version: int
    published: int | None  # the version in use now (this one when uploaded with ?publish=true)
    checksum: str
    warnings: list[dict[str, Any]]  # e.g. a rule that may find nobody; the version is stored all the same


class Published(TypedDict):
    kind: str
    name: str
    published: int
    migration: NotRequired[dict]  # the migration job started with it (publish with `migrate`)


class DefinitionHead(TypedDict):
    kind: str
    name: str
    latest: int
    published: int | None
    updated_at: str | None


class DefinitionList(TypedDict):
    items: list[DefinitionHead]


class VersionInfo(TypedDict):
    version: int
    checksum: str
    created_at: str
    created_by: str


class DefinitionVersions(TypedDict):
    kind: str
    name: str
    latest: int
    published: int | None
    versions: list[VersionInfo]


def _parse_form(raw: Any, previous: FormDefinition | None, tenant: str | None) -> FormDefinition:
    from ..forms.definition import parse_form_definition
    form = parse_form_definition(raw, previous=previous)
    if tenant is not None and any(f.fetch_from for f in form.fields):  # fields that follow a lookup
        from .lookups import fetch_problems
        problems = fetch_problems(form, lambda name: form if name == form.name else published_or_none(tenant, "form", name))
        if problems:
            raise DefinitionError("form definition is invalid", details=problems)
    return form


def form_named_by(raw: Any, tenant: str | None, what: str) -> FormDefinition | None:
    """The published form a definition is named after (workflow, field_service, ...), so its field
    names are checked at upload; None when re-parsing a stored version (it was checked then)."""
    if tenant is None:
        return None
    name = raw.get("name") if isinstance(raw, dict) else None
    try:
        return published(tenant, "form", name)[1]
    except NotFound as exc:
        raise DefinitionError(f"form '{name}' must exist before its {what}",
                              details=[{"path": "name", "message": "no published form of this name"}]) from exc


def _parse_workflow(raw: Any, previous: Any, tenant: str | None):
    from ..workflow import parse_workflow
    wf, warnings = parse_workflow(raw, form=form_named_by(raw, tenant, "workflow"), previous=previous)
    if tenant is not None:  # the forms, templates and policies its steps and rules name (services.dependencies)
        from .dependencies import workflow_problems
        problems, more = workflow_problems(tenant, wf)
        if problems:
            raise DefinitionError("workflow definition does not fit the published definitions it names", details=problems)
        warnings = warnings + more
    return wf, warnings


def _parse_field_service(raw: Any, previous: Any, tenant: str | None):
    from ..fieldservice import parse_field_service
    fs = parse_field_service(raw, form_named_by(raw, tenant, "field_service settings"))
    if tenant is not None:  # the part, van and warehouse forms it reads (services.dependencies)
        from .dependencies import field_service_problems
        problems = field_service_problems(tenant, fs)
        if problems:
            raise DefinitionError("field_service settings do not fit the forms they name", details=problems)
    return fs


# kind → parser(raw, previous parsed or None, tenant or None) → parsed or (parsed, warnings).
# Later engines (report, roles) register here and get versioning, publish, cache and the upload API.
PARSERS: dict[str, Callable[[Any, Any, str | None], Any]] = {"form": _parse_form, "workflow": _parse_workflow, "field_service": _parse_field_service}

_versions: dict[tuple, Any] = {}
_heads: dict[tuple, tuple[float, store.Head | None]] = {}
_lock = threading.Lock()


# kind → hook(tenant, name) run after a version of that kind is published (e.g. rebuild a report's
# aggregates for the new version while the old one keeps serving).
ON_PUBLISH: dict[str, Callable[[str, str], Any]] = {}


def register_kind(kind: str, parser: Callable[[Any, Any, str | None], Any],
                  on_publish: Callable[[str, str], Any] | None = None) -> None:
    PARSERS[kind] = parser
    if on_publish is not None:
        ON_PUBLISH[kind] = on_publish


def _published_hook(tenant: str, kind: str, name: str) -> None:
    hook = ON_PUBLISH.get(kind)
    if hook is None:
        return
    try:
        hook(tenant, name)
    except AppError as exc:  # the version is published; the follow-up can be retried (e.g. POST /reports/{name}/rebuild)
        import logging
        logging.getLogger("aftersales.definitions").warning("after publishing %s %s: %s", kind, name, exc.message)


def _parse_dispatch_policy(raw: Any, previous: Any, tenant: str | None):
    """Named after the form it dispatches; at upload the field names it uses are checked against
    that form's and the engineer form's published versions."""
    from ..dispatch import field_problems, parse_policy
    policy = parse_policy(raw)
    if tenant is not None:
        problems = []
        forms = {}
        for path, name in (("name", policy.name), ("engineer_form", policy.engineer_form)):
            try:
                forms[path] = published(tenant, "form", name)[1]
            except NotFound:
                problems.append({"path": path, "message": f"no published form '{name}'"})
        problems += field_problems(policy, forms["name"], forms["engineer_form"]) if len(forms) == 2 else []
        if problems:
            raise DefinitionError("dispatch policy does not fit its forms", details=problems)
    return policy


register_kind("dispatch_policy", _parse_dispatch_policy)


def _parse_integration_mapping(raw: Any, previous: Any, tenant: str | None):
    """Inbound message → record mapping; at upload its target fields are checked against the form."""
    from ..integration.mapping import parse_mapping
    form = None
    if tenant is not None:
        name = raw.get("form") if isinstance(raw, dict) else None
        try:
            _v, form = published(tenant, "form", name)
        except NotFound as exc:
            raise DefinitionError(f"form '{name}' must exist before a mapping into it",
                                  details=[{"path": "form", "message": "no published form of this name"}]) from exc
    other_form = (lambda name: published_or_none(tenant, "form", name)) if tenant is not None else None
    return parse_mapping(raw, form, other_form)


register_kind("integration_mapping", _parse_integration_mapping)


def _parse_report(raw: Any, previous: Any, tenant: str | None):
    """A report over one form (and its sub-table rows); checked against the published form at upload."""
    from .reports import parse_report_kind
    return parse_report_kind(raw, previous, tenant)


def _report_published(tenant: str, name: str) -> None:
    from .reports import on_publish
    on_publish(tenant, name)


def _parse_dashboard(raw: Any, previous: Any, tenant: str | None):
    """Charts bound to published reports (names checked at upload)."""
    from .reports import parse_dashboard_kind
    return parse_dashboard_kind(raw, previous, tenant)


def _parse_schedule(raw: Any, previous: Any, tenant: str | None):
    """Recurring work: records of a form on a calendar (checked against the forms it names)."""
    from .schedules import parse_schedule_kind
    return parse_schedule_kind(raw, previous, tenant)


def _schedule_published(tenant: str, name: str) -> None:
    from .schedules import on_publish
    on_publish(tenant, name)


register_kind("report", _parse_report, on_publish=_report_published)
register_kind("schedule", _parse_schedule, on_publish=_schedule_published)
register_kind("dashboard", _parse_dashboard)


def _parse_email_template(raw: Any, previous: Any, tenant: str | None):
    """Subject, HTML and text bodies per locale with {{field}} placeholders (surveys, notifications)."""
    from ..surveys import parse_email_template
    return parse_email_template(raw)


def _parse_survey(raw: Any, previous: Any, tenant: str | None):
    """Named after the surveyed form; at upload its field names are checked against the published forms."""
    from ..surveys import parse_survey
    from ..surveys.definition import check_against
    survey = parse_survey(raw)
    if tenant is not None:
        def _form(name):
            try:
                return published(tenant, "form", name)[1]
            except NotFound:
                return None
        target, survey_form = _form(survey.name), _form(survey.survey_form)
        lookup = target.field(survey.recipient.lookup_field) if target is not None else None
        customer = _form(lookup.form) if lookup is not None and getattr(lookup, "form", None) else None
        from .dependencies import survey_problems
        more, warnings = survey_problems(tenant, survey)
        problems = check_against(survey, target, survey_form, customer) + more
        if problems:
            raise DefinitionError("survey definition does not fit its forms", details=problems)
        return survey, warnings
    return survey


register_kind("email_template", _parse_email_template)
register_kind("survey", _parse_survey)


def _check_kind_and_name(kind: str, name: str) -> Callable:
    parser = PARSERS.get(kind)
    if parser is None:
        raise NotFound(f"unknown definition kind '{kind}'", details=[{"path": "kind", "message": f"one of {sorted(PARSERS)}"}])
    if not _NAME.fullmatch(name):
        raise BadRequest("definition names are lower-case identifiers", details=[{"path": "name", "message": f"must match {NAME_PATTERN}"}])
    return parser


def upload(caller: Caller, kind: str, name: str, raw: Any, *, publish: bool) -> VersionUploaded:
    caller.require_admin("uploading definitions")
    parser = _check_kind_and_name(kind, name)
    raw, text = _prepared(raw, name)
    head = store.get_head(caller.tenant, kind, name, consistent=True)
    return _add_version(caller, kind, name, parser, raw, text, head, publish=publish, action="upload")


def patch(caller: Caller, kind: str, name: str, patch_document: Any, *, base: int, publish: bool,
          operations: bool = False) -> VersionUploaded:
    """A JSON Merge Patch (RFC 7386) against version `base` — or, with `operations`, a JSON Patch
    (RFC 6902: add/remove/replace/move/copy/test, e.g. append one field) — stored as a new version
    exactly as an upload of the patched document would be (same checks, warnings, checksum, audit in
    the same transaction). Keys a merge patch leaves out keep the base version's values; null removes
    a key (the model's default applies then); arrays are replaced whole. `base` must be the latest
    version: a patch written against an older one is refused (409 naming the latest), so one admin's
    change is never silently built on a version another admin has since replaced."""
    caller.require_admin("changing definitions")
    parser = _check_kind_and_name(kind, name)
    if operations and not isinstance(patch_document, list):
        raise BadRequest("a JSON Patch is an array of operations", code="invalid_patch",
                         details=[{"path": "", "message": "expected an array"}])
    if not operations and not isinstance(patch_document, dict):
        raise BadRequest("a merge patch of a definition is a JSON object of the keys to change", code="invalid_patch",
                         details=[{"path": "", "message": "expected an object"}])
    head = store.get_head(caller.tenant, kind, name, consistent=True)
    if head is None:
        raise NotFound(f"{kind} '{name}' does not exist; upload its first version with POST .../versions")
    if base != head.latest:
        raise Conflict(f"version {base} is not the latest version of {kind} '{name}' (the latest is {head.latest}); "
                       f"read version {head.latest} and patch that", code="stale_base",
                       details=[{"path": "query.base", "message": f"the latest version is {head.latest}", "latest": head.latest}])
    stored = store.get_version(caller.tenant, kind, name, base)
    if stored is None:  # the head names it, so only a damaged table gets here
        raise NotFound(f"{kind} '{name}' has no version {base}")
    document = jsonutil.loads(stored.body)
    merged = _operations_applied(document, patch_document) if operations else mergepatch.merge(document, patch_document)
    if merged == document:
        raise ValidationFailed(f"the patch changes nothing in version {base}", code="empty_patch",
                               details=[{"path": "", "message": "no key is set or removed"}])
    raw, text = _prepared(merged, name)
    return _add_version(caller, kind, name, parser, raw, text, head, publish=publish, action="patch")


def _operations_applied(document: Any, operations: list) -> Any:
    try:
        return json_patch.apply(document, operations)
    except json_patch.PatchError as exc:
        error = Conflict if exc.failed_test else ValidationFailed  # a failed `test` is a precondition
        raise error(f"patch operation {exc.index} cannot be applied: {exc.message}",
                    code="patch_test_failed" if exc.failed_test else "invalid_patch",
                    details=[{"path": f"[{exc.index}].{exc.member}", "message": exc.message}]) from exc


def _prepared(raw: Any, name: str) -> tuple[Any, str]:
    """The document with the URL's name, and its stored JSON text; refused when it cannot be stored."""
    if isinstance(raw, dict) and raw.get("name", name) != name:
        raise DefinitionError("definition name does not match the URL", details=[{"path": "name", "message": f"expected '{name}'"}])
    if isinstance(raw, dict):
        raw = {**raw, "name": name}
    _check_numbers(raw)
    text = jsonutil.dumps(raw)
    if len(text.encode()) > MAX_DEFINITION_BYTES:
        raise DefinitionError(f"definition is larger than {MAX_DEFINITION_BYTES} bytes", details=[{"path": "", "message": "too large"}])
    return raw, text


def _add_version(caller: Caller, kind: str, name: str, parser: Callable, raw: Any, text: str, head: store.Head | None,
                 *, publish: bool, action: str) -> VersionUploaded:
    """Parse and check against the newest version, then store version latest+1 (conditioned on the
    head still naming `head.latest`, with its audit entry, in one transaction)."""
    previous = None
    if head is not None:
        # Compared with the newest version, not the published one: index slots and shards must
        # stay compatible with every version records may have been written under.
        previous = _load_version(caller.tenant, kind, name, head.latest)
    parsed, warnings = split_warnings(parser(raw, previous, caller.tenant))
    warnings = warnings + _dependants(caller.tenant, kind, name, parsed, (head.latest if head else 0) + 1)
    canonical = json.dumps(parsed.model_dump(mode="json", exclude_defaults=False), sort_keys=True, separators=(",", ":"))
    checksum = hashlib.sha256(canonical.encode()).hexdigest()
    version = store.add_version(caller.tenant, kind, name, text, checksum, caller.user_id, utc_now(),
                                head.latest if head else 0, publish, action=action)
    _forget_head(caller.tenant, kind, name)
    if publish:
        _published_hook(caller.tenant, kind, name)
    return {"kind": kind, "name": name, "version": version,
            "published": version if publish else (head.published if head else None),
            "checksum": checksum, "warnings": warnings}


class DraftChecked(TypedDict):
    valid: bool
    problems: list[dict]  # [{path, message}] (and `dependant` when a published definition would break)
    warnings: list[dict]
    preview: dict | None  # form: {"json_schema"}; workflow: {"diagram"}


def check_draft(caller: Caller, kind: str, name: str, raw: Any) -> DraftChecked:
    """An upload's checks — the kind's parser against the tenant's published definitions, and the
    published definitions that name it against the draft — without storing a version (a designer
    checks as the author types). Problems come back as data (`valid: false`), not as a 422."""
    return checked_draft(caller, kind, name, raw)[1]


def checked_draft(caller: Caller, kind: str, name: str, raw: Any, *, preview: bool = True) -> tuple[Any, DraftChecked]:
    """(the parsed draft, or None when it has problems; the check's answer) — check_draft's work, for
    whoever runs a draft too (a workflow's dry run on a record)."""
    from .dependencies import dependant_findings
    caller.require_admin("checking definitions")
    parser = _check_kind_and_name(kind, name)
    head = store.get_head(caller.tenant, kind, name, consistent=True)
    try:
        raw, _text = _prepared(raw, name)
        previous = _load_version(caller.tenant, kind, name, head.latest) if head is not None else None
        parsed, warnings = split_warnings(parser(raw, previous, caller.tenant))
    except DefinitionError as exc:
        return None, {"valid": False, "problems": list(exc.details or [{"path": "", "message": exc.message}]),
                      "warnings": [], "preview": None}
    version = (head.latest if head is not None else 0) + 1
    broken, more = dependant_findings(caller.tenant, kind, name, parsed, version)
    return (None if broken else parsed), {
        "valid": not broken, "problems": broken, "warnings": list(warnings) + more,
        "preview": _preview(caller, kind, name, parsed, version) if preview else None}


def _preview(caller: Caller, kind: str, name: str, parsed: Any, version: int) -> dict | None:
    from ..locales import localize
    if kind == "form":
        from ..forms.schema import form_json_schema
        return {"json_schema": form_json_schema(localize(parsed, caller.language), version, hidden=frozenset())}
    if kind == "workflow":
        from .workflow import diagram_of
        return {"diagram": diagram_of(parsed, name, version, caller.language, set())}
    return None


def _dependants(tenant: str, kind: str, name: str, parsed: Any, version: int) -> list[dict]:
    """Published definitions that name this one, re-checked against it: refused if it breaks them."""
    from .dependencies import check_dependants
    return check_dependants(tenant, kind, name, parsed, version)


def _check_numbers(raw: Any) -> None:
    """Definitions are stored as JSON text with numbers as doubles: refuse what would not survive."""
    from decimal import Decimal
    problems, stack = [], [(raw, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            stack.extend((v, f"{path}.{k}" if path else str(k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(node))
        elif isinstance(node, Decimal) and (not node.is_finite() or abs(node) > Decimal(10) ** 15
                                             or len(node.as_tuple().digits) > 15):
            problems.append({"path": path, "message": "numbers in definitions have at most 15 significant digits and magnitude below 1e15"})
    if problems:
        raise DefinitionError("definition has numbers that cannot be stored exactly", details=problems)


def split_warnings(result: Any) -> tuple[Any, list]:
    return result if isinstance(result, tuple) else (result, [])


def publish(caller: Caller, kind: str, name: str, version: int, migrate: Any = None) -> Published:
    """Publish a stored version. `migrate` (a form or workflow): the records to move onto it at once,
    as POST /forms/{form}/migrations takes them (state_map, set, filter, states, dry_run, notify); the
    job's first pages run in this request and its id comes back as `migration`."""
    caller.require_admin("publishing definitions")
    if migrate is not None and (kind not in ("form", "workflow") or not isinstance(migrate, dict)):
        raise ValidationFailed("migrate is an object, for a form or a workflow",
                               details=[{"path": "migrate", "message": "an object; forms and workflows only"}])
    parser = _check_kind_and_name(kind, name)
    stored = store.get_version(caller.tenant, kind, name, version)
    if stored is not None:  # re-checked now: what it names, and what names it, may have changed since its upload
        parsed, _warnings = split_warnings(parser(jsonutil.loads(stored.body), None, caller.tenant))
        _dependants(caller.tenant, kind, name, parsed, version)
    store.publish(caller.tenant, kind, name, version, utc_now(), caller.user_id)
    _forget_head(caller.tenant, kind, name)
    _published_hook(caller.tenant, kind, name)
    answer: Published = {"kind": kind, "name": name, "published": version}
    if migrate is not None:
        from .migrations import start
        target = {"to_version": version} if kind == "form" else {"workflow_version": version}
        answer["migration"] = start(caller, name, {**migrate, **target})
    return answer


def audit(caller: Caller, limit: int) -> dict:
    caller.require_admin("reading the audit log")
    if not 1 <= limit <= 500:
        raise BadRequest("limit must be between 1 and 500", details=[{"path": "query.limit", "message": "out of range"}])
    return {"items": store.list_audit(caller.tenant, limit)}


def list_definitions(caller: Caller, kind: str | None) -> DefinitionList:
    # Raw definitions carry row rules and field grants: admins only. Renderers use /forms/{form}/schema.
    caller.require_admin("reading definitions")
    heads = store.list_heads(caller.tenant, kind)
    return {"items": [{"kind": h.kind, "name": h.name, "latest": h.latest, "published": h.published,
                       "updated_at": h.updated_at} for h in heads]}


def describe(caller: Caller, kind: str, name: str) -> DefinitionVersions:
    caller.require_admin("reading definitions")
    _check_kind_and_name(kind, name)
    head = store.get_head(caller.tenant, kind, name)
    if head is None:
        raise NotFound(f"{kind} '{name}' does not exist")
    versions = store.list_versions(caller.tenant, kind, name)
    return {"kind": kind, "name": name, "latest": head.latest, "published": head.published,
            "versions": [{"version": v.version, "checksum": v.checksum, "created_at": v.created_at,
                          "created_by": v.created_by} for v in versions]}


def get_version_body(caller: Caller, kind: str, name: str, version: int) -> dict:
    caller.require_admin("reading definitions")
    _check_kind_and_name(kind, name)
    stored = store.get_version(caller.tenant, kind, name, version)
    if stored is None:
        raise NotFound(f"{kind} '{name}' has no version {version}")
    return {"kind": kind, "name": name, "version": version, "checksum": stored.checksum,
            "created_at": stored.created_at, "created_by": stored.created_by, "definition": jsonutil.loads(stored.body)}


# While a candidate is checked against the definitions that depend on it (services.dependencies),
# `published` answers the candidate for its own (tenant, kind, name): dependants re-parse against it.
_candidates: ContextVar[dict | None] = ContextVar("definition_candidates", default=None)


def published(tenant: str, kind: str, name: str) -> tuple[int, Any]:
    """(version, parsed definition) in use for new records. Cached; see module docstring."""
    candidates = _candidates.get()
    if candidates and (tenant, kind, name) in candidates:
        return candidates[(tenant, kind, name)]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise NotFound(f"{kind} '{str(name)[:64]}' does not exist")  # also keeps junk out of DynamoDB keys
    key = (tenant, kind, name)
    now = time.monotonic()
    with _lock:
        cached = _heads.get(key)
    if cached is not None and now - cached[0] <= get_settings().definition_cache_seconds:
        head = cached[1]
    elif cached is not None:
        head = store.get_head(tenant, kind, name)  # freshness check: a few bytes, no body
        with _lock:
            _heads[key] = (now, head)
    else:
        found = store.get_published(tenant, kind, name)  # cold: head and published body in one read
        head = found[0] if found else None
        if found and head.published and found[1]:
            _remember(tenant, kind, name, head.published, found[1])
        with _lock:
            _heads[key] = (now, head)
    if head is None or head.published is None:
        raise NotFound(f"{kind} '{name}' does not exist or has no published version")
    return head.published, _load_version(tenant, kind, name, head.published)


def published_or_none(tenant: str, kind: str, name: Any) -> Any:
    """The published definition of that name, or None when there is none."""
    try:
        return published(tenant, kind, name)[1]
    except NotFound:
        return None


def version_of(tenant: str, kind: str, name: str, version: int) -> Any:
    """A specific version (records are validated against the version they were made with)."""
    return _load_version(tenant, kind, name, version)


def _load_version(tenant: str, kind: str, name: str, version: int) -> Any:
    key = (tenant, kind, name, version)
    with _lock:
        if key in _versions:
            return _versions[key]
    stored = store.get_version(tenant, kind, name, version)
    if stored is None:
        raise NotFound(f"{kind} '{name}' has no version {version}")
    return _remember(tenant, kind, name, version, stored.body)


def _remember(tenant: str, kind: str, name: str, version: int, body: str) -> Any:
    key = (tenant, kind, name, version)
    with _lock:
        if key in _versions:
            return _versions[key]
    parsed, _warnings = split_warnings(PARSERS[kind](jsonutil.loads(body), None, None))
    with _lock:
        if len(_versions) > 2000:  # bounded: a warm Lambda serves many tenants
            _versions.clear()
        _versions[key] = parsed
    return parsed


def _forget_head(tenant: str, kind: str, name: str) -> None:
    with _lock:
        _heads.pop((tenant, kind, name), None)


def clear_caches() -> None:
    with _lock:
        _versions.clear()
        _heads.clear()
