"""Cold start (issue 19): every Lambda of the app imports the whole route table (`import app`), so the
engines a route uses load on its first request, not at import. No timing here (bench.cold_start
measures); these check which modules an import loads, in a fresh process."""
from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Engines that a route imports on first use (api.common.LazyModule or an import inside the view).
ENGINES = (
    "chalicelib.forms.definition", "chalicelib.forms.fields", "chalicelib.forms.engine", "chalicelib.locales",
    "chalicelib.services.definitions", "chalicelib.services.definition_schemas", "chalicelib.services.records",
    "chalicelib.services.workflow", "chalicelib.services.dispatch", "chalicelib.services.fieldwork",
    "chalicelib.services.inventory", "chalicelib.services.surveys", "chalicelib.services.notifications",
    "chalicelib.services.uploads", "chalicelib.storage.records",
    "pydantic.main",  # no pydantic model is built while the route table is
)


def _loaded_by(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "AUTH_MODE": "local"})
    assert out.returncode == 0, out.stderr[-2000:]
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_import_app_leaves_the_engines_to_the_first_request():
    loaded = _loaded_by("import app")
    assert "chalicelib.api.records" in loaded  # the route table itself is there
    assert sorted(m for m in ENGINES if m in loaded) == []


def test_services_definitions_does_not_import_the_form_engine():
    """A definition route that parses no form (list, describe, get a version) does not build the field models."""
    loaded = _loaded_by("import chalicelib.services.definitions")
    assert "chalicelib.forms.definition" not in loaded and "chalicelib.forms.fields" not in loaded


def test_every_lazy_service_of_the_routes_exists():
    """A LazyModule's name is only imported on a request: a typo would show there, so check them all here."""
    from chalicelib.api import BLUEPRINTS  # noqa: F401  (imports every route module)
    from chalicelib.api.common import LazyModule
    names = [value._name for mod_name, mod in sorted(sys.modules.items()) if mod_name.startswith("chalicelib.api.")
             for value in vars(mod).values() if isinstance(value, LazyModule)]
    assert len(names) >= 10
    for name in names:
        importlib.import_module(name)


def test_name_pattern_is_the_one_the_field_models_use():
    from chalicelib.forms import fields, names
    assert fields.NAME_PATTERN is names.NAME_PATTERN
