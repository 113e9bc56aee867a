"""Installs the shipped after-sales app (definitions/after_sales) into a tenant, idempotently.

Used by the local stack (bootstrap_local) and by tests; a real tenant gets the same definitions
through the HTTP API (see README)."""
from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

from . import jsonutil
from .auth import issue_local_token
from .forms.definition import parse_form_definition
from .services import definitions
from .services.caller import Caller
from .storage import create_tables
from .storage import definitions as definition_store
from .storage import members as member_store

APP_DIR = Path(__file__).resolve().parent.parent / "definitions" / "after_sales"
INSPECTION_DIR = APP_DIR.parent / "inspection"  # the second shipped app, installed beside it
DEMO_TENANT = "demo"


def load_app_manifest(app_dir: Path = APP_DIR) -> dict:
    return json.loads((app_dir / "app.json").read_text())


def load_form(name: str, app_dir: Path = APP_DIR) -> dict:
    return json.loads((app_dir / "forms" / f"{name}.json").read_text())


def install_app(tenant: str, installer: str = "admin", app_dir: Path = APP_DIR) -> dict:
    """Upload each form whose published version differs from the shipped one; add demo members."""
    manifest = load_app_manifest(app_dir)
    caller = Caller(tenant=tenant, user_id=installer, roles=frozenset({"admin"}))
    installed = {}
    for name in manifest["forms"]:
        raw = load_form(name, app_dir)
        checksum = _checksum(raw)
        head = definition_store.get_head(tenant, "form", name, consistent=True)
        if head is not None and head.published:
            current = definition_store.get_version(tenant, "form", name, head.published)
            if current is not None and current.checksum == checksum:
                installed[name] = head.published
                continue
        installed[name] = definitions.upload(caller, "form", name, raw, publish=True)["version"]
    # kinds that hang off a form, in install order (each is named after its form)
    # (e-mail templates and dispatch policies first: the workflow's steps name them)
    for kind, folder in (("email_template", "email_templates"), ("dispatch_policy", "dispatch_policies"),
                         ("workflow", "workflows"), ("field_service", "field_services"), ("survey", "surveys"),
                         ("schedule", "schedules")):
        for name in manifest.get(folder, []):
            installed[f"{kind}:{name}"] = _install_definition(caller, tenant, kind, name,
                                                              jsonutil.loads((app_dir / folder / f"{name}.json").read_text()))
    # reports and the dashboards drawn from them; each report's aggregates are built (backfilled) now
    for kind, folder in (("report", "reports"), ("dashboard", "dashboards")):
        for name in manifest.get(folder, []):
            installed[f"{kind}:{name}"] = _install_definition(caller, tenant, kind, name,
                                                              jsonutil.loads((app_dir / folder / f"{name}.json").read_text()))
    if manifest.get("reports"):
        from .services import reports
        for name in manifest["reports"]:
            reports.rebuild(caller, name, budget_seconds=60.0)
    for user in manifest["demo_users"]:
        member_store.put_member(member_store.Member(tenant, user["user_id"], user["display_name"], user.get("email"),
                                                    user["roles"], True, user.get("attributes")))
    return installed


def _install_definition(caller, tenant: str, kind: str, name: str, raw: dict) -> int:
    """Upload unless the published version already has exactly this body (re-runs are no-ops)."""
    head = definition_store.get_head(tenant, kind, name, consistent=True)
    if head is not None and head.published:
        current = definition_store.get_version(tenant, kind, name, head.published)
        if current is not None and jsonutil.dumps(jsonutil.loads(current.body)) == jsonutil.dumps({**raw, "name": name}):
            return head.published
    return definitions.upload(caller, kind, name, raw, publish=True)["version"]


def _checksum(raw: dict) -> str:
    import hashlib
    parsed = parse_form_definition(raw)
    canonical = json.dumps(parsed.model_dump(mode="json", exclude_defaults=False), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def install_demo_data(tenant: str, app_dir: Path = APP_DIR, forms: Collection[str] | None = None) -> int:
    """Demo records (regions, warehouses, parts, engineers) and the opening stock of the warehouses
    made now; a record whose unique value exists already is skipped, so re-runs add nothing. `forms`
    keeps only those forms' records (tests: {"region", "engineer"}, the people without the stores)."""
    from .errors import ValidationFailed
    from .services import inventory, records

    caller = Caller(tenant=tenant, user_id="admin", roles=frozenset({"admin"}))
    demo = json.loads((app_dir / "demo_data.json").read_text())
    made: dict[tuple[str, str], str] = {}  # (form, unique code) → id of a record created in this run
    created = 0
    for item in demo["records"]:
        if forms is not None and item["form"] not in forms:
            continue
        data = dict(item["data"])
        refs = item.get("refs") or {}
        if any((ref["form"], ref["code"]) not in made and (forms is None or ref["form"] in forms) for ref in refs.values()):
            continue  # what it points to was made by an earlier run, and so was it (a form left out leaves the field empty)
        for field, ref in refs.items():
            if (ref["form"], ref["code"]) in made:
                data[field] = made[(ref["form"], ref["code"])]
        try:
            rec = records.create(caller, item["form"], {"data": data}, None)[0]
            created += 1
        except ValidationFailed as exc:
            if not any("already used" in d.get("message", "") for d in exc.details or []):
                raise
            continue
        code = data.get("code") or data.get("part_no") or data.get("user") or data.get("external_id")
        if code:
            made[(item["form"], code)] = rec["id"]
    for line in demo.get("stock", []):
        warehouse, part = made.get(("warehouse", line["warehouse"])), made.get(("spare_part", line["part"]))
        if warehouse and part:  # only into a warehouse made in this run: a re-run never receives twice
            inventory.move(caller, {"kind": "receipt", "warehouse": warehouse, "part": part,
                                    "quantity": line["quantity"], "reason": "opening stock"}, None)
    return created


def demo_tokens(tenant: str = DEMO_TENANT, app_dir: Path = APP_DIR) -> list[dict]:
    return [{"user": u["user_id"], "roles": u["roles"], "name": u["display_name"],
             "token": issue_local_token(tenant, u["user_id"], u["roles"], u["display_name"], attributes=u.get("attributes"))}
            for u in load_app_manifest(app_dir)["demo_users"]]


def bootstrap_local() -> list[dict]:
    """Local stack: tables, the shipped app in tenant 'demo', and a token per demo user."""
    create_tables()
    install_app(DEMO_TENANT)
    install_demo_data(DEMO_TENANT)
    install_app(DEMO_TENANT, app_dir=INSPECTION_DIR)
    install_demo_data(DEMO_TENANT, app_dir=INSPECTION_DIR)
    return demo_tokens() + demo_tokens(app_dir=INSPECTION_DIR)
