"""The run page over HTTP (the browser half is in
tests/plugins/guided_path_apps/test_app_in_browser.py): its CSP, its assets, and
the SDK modules it serves, which must stay identical to sdk_js/src."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures_api import RUNS, published, register_app

ROOT = Path(__file__).resolve().parents[2]
PACKAGED = ROOT / "guided_paths" / "static" / "sdk"


@pytest.mark.parametrize("name", ["app-channel.js", "json-value.js", "json-schema-lite.js"])
def test_the_packaged_sdk_modules_are_the_sdks_own(name):
    assert (PACKAGED / name).read_bytes() == (ROOT / "sdk_js" / "src" / name).read_bytes(), (
        f"guided_paths/static/sdk/{name} differs from sdk_js/src/{name}: copy it again "
        f"(cp sdk_js/src/{name} guided_paths/static/sdk/)")


def app_doc() -> dict:
    return {
        "schema_version": 1, "id": "with-app", "title": "With an app", "start": "hello",
        "steps": {
            "hello": {"type": "message", "text": "Hi <b>there</b>", "next": "measure"},
            "measure": {"type": "app", "app_id": "speed", "output_schema": {"type": "object"}, "next": "done"},
            "done": {"type": "end", "outcome": "resolved"},
        },
    }


def test_the_page_frames_only_the_current_apps_origin(tenant):
    admin = tenant.admin
    register_app(admin, "speed", url="https://apps.example.com:8443/speed?x=1")
    published(admin, app_doc())
    run = admin.post(RUNS, json={"path_key": "with-app"}).json()

    page = admin.get(f"/guided-paths/runs/{run['id']}")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "frame-src 'none'" in page.headers["Content-Security-Policy"]
    assert "Hi &lt;b&gt;there&lt;/b&gt;" in page.text  # texts are escaped, never HTML

    admin.post(f"{RUNS}/{run['id']}/answers", json={"step_id": "hello", "value": {"ack": True}})
    page = admin.get(f"/guided-paths/runs/{run['id']}")
    csp = page.headers["Content-Security-Policy"]
    assert "frame-src https://apps.example.com:8443;" in csp and "script-src 'self';" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert '"sandbox": "allow-scripts allow-forms"' in page.text
    # Not signed in: the sign-in page, which comes back here (not a JSON 401).
    anonymous = tenant.client().get(f"/guided-paths/runs/{run['id']}", allow_redirects=False)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].endswith(f"/signin?next=/guided-paths/runs/{run['id']}")


def test_the_page_shows_the_paths_title_on_the_consoles_design(tenant):
    admin = tenant.admin
    register_app(admin, "speed", url="https://apps.example.com/speed")
    published(admin, {**app_doc(), "title": {"en": "With <i>an</i> app", "de": "Mit App"}, "locales": ["en", "de"]})
    run = admin.post(RUNS, json={"path_key": "with-app"}).json()
    assert run["path_title"] == "With <i>an</i> app"
    page = admin.get(f"/guided-paths/runs/{run['id']}")
    assert '<h1 id="gp-run-title">With &lt;i&gt;an&lt;/i&gt; app</h1>' in page.text
    assert "/console/assets/console.css" in page.text and "guided-paths.css" in page.text
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    embedded = admin.get(f"/guided-paths/runs/{run['id']}", params={"embed": "1"})
    assert "frame-ancestors 'self'" in embedded.headers["Content-Security-Policy"]
    assert embedded.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_assets_are_served_from_an_allowlist(tenant):
    client = tenant.client()
    for name in ("run-page.js", "step-view.js", "runner-panel.js", "sdk/app-channel.js"):
        response = client.get(f"/guided-paths/assets/{name}")
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/javascript")
    assert client.get("/guided-paths/assets/guided-paths.css").headers["Content-Type"].startswith("text/css")
    assert client.get("/guided-paths/assets/../plugin.py").status_code == 404
    assert client.get("/guided-paths/assets/run_page.py").status_code == 404
