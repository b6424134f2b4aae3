"""The console's assets: served by name from console/static only, with the
types a browser needs to run ES modules, and nothing outside the folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.console.test_http import run_with_backend

STATIC = Path(__file__).resolve().parents[2] / "console" / "static"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_assets_are_served_with_module_types_and_nothing_outside(database_url, tmp_path):
    async def body(http, backend):
        out = {}
        for path in ("/static/app.js", "/static/vendor/preact.mjs", "/static/app.css",
                     "/static/favicon.svg", "/static/../auth.py", "/static/%2e%2e/auth.py",
                     "/static/vendor/README.md", "/static/nope.js", "/static/lib/",
                     "/api/session"):
            async with http.get(path) as r:
                out[path] = (r.status, r.headers.get("Content-Type", ""),
                             await r.text() if r.status == 200 else "")
        return out

    out = run_with_backend(database_url, tmp_path, body)
    assert out["/static/app.js"][:2] == (200, "text/javascript; charset=utf-8")
    assert out["/static/vendor/preact.mjs"][:2] == (200, "text/javascript; charset=utf-8")
    assert out["/static/app.css"][:2] == (200, "text/css; charset=utf-8")
    assert out["/static/favicon.svg"][:2] == (200, "image/svg+xml")
    for refused in ("/static/../auth.py", "/static/%2e%2e/auth.py", "/static/vendor/README.md",
                    "/static/nope.js", "/static/lib/"):
        assert out[refused][0] == 404, refused
    assert out["/api/session"][0] == 200 and '"user": null' in out["/api/session"][2]


def test_every_module_import_names_a_file_that_exists():
    """A typo in an import path is a blank page in production: every relative
    import of every module resolves to a shipped file."""
    modules = [p for p in STATIC.rglob("*.js")] + [p for p in STATIC.rglob("*.mjs")]
    checked = 0
    for module in modules:
        source = module.read_text(encoding="utf-8")
        for target in re.findall(r'(?:from|import)\s*\(?\s*"(\.{1,2}/[^"]+)"', source):
            assert (module.parent / target).resolve().is_file(), f"{module}: {target}"
            checked += 1
    assert checked > 20
