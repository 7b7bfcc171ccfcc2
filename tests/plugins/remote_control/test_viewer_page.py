"""The ``/nexus/{session_id}`` viewer page over real HTTP: who may open it, what it
renders (CSRF meta, kind, CSP naming the relay), and the scripts it ships."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[3]
SDK_CODEC = ROOT / "sdk_js" / "src" / "relay-codec.js"
SHIPPED_CODEC = ROOT / "plugins" / "remote_control" / "static" / "relay-codec.js"


class _Page(HTMLParser):
    """The bits of the page the tests look at: meta tags, ids, the JSON config."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.ids: dict[str, dict[str, str | None]] = {}
        self.scripts: list[str] = []
        self._in_config = False
        self.config_text = ""
        self.feed(html)
        self.config = json.loads(self.config_text) if self.config_text else None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "meta" and attributes.get("name"):
            self.meta[attributes["name"]] = attributes.get("content") or ""
        if attributes.get("id"):
            self.ids[attributes["id"]] = {"tag": tag, **attributes}
        if tag == "script" and attributes.get("src"):
            self.scripts.append(attributes["src"])
        self._in_config = attributes.get("id") == "gp-nexus-config"

    def handle_endtag(self, tag):
        self._in_config = False

    def handle_data(self, data):
        if self._in_config:
            self.config_text += data


def csp(response) -> dict[str, list[str]]:
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def new_session(client) -> dict:
    answer = client.post("/api/v1/sessions", json={})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_without_sign_in_the_page_is_a_sign_in_form(tenant):
    session = new_session(tenant.admin)
    response = tenant.client().get(f"/nexus/{session['id']}")
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("text/html")
    page = _Page(response.text)
    assert page.ids["gp-signin"]["action"] == "/api/v1/auth/login"
    assert {"gp-email", "gp-password"} <= set(page.ids)
    assert "csrf-token" not in page.meta and page.config is None
    assert page.scripts == ["/nexus/assets/nexus-signin.js"]
    assert csp(response)["script-src"] == ["'self'"]


def test_signed_in_the_page_carries_the_csrf_token_and_its_session(tenant, running_relay):
    session = new_session(tenant.admin)
    agent = tenant.client().login(tenant.admin_email, tenant.admin_password)
    response = agent.get(f"/nexus/{session['id']}")
    assert response.status_code == 200, response.text
    page = _Page(response.text)
    assert page.meta["csrf-token"] == agent.csrf_token
    assert page.config["session"]["id"] == session["id"]
    assert page.config["kind"] == "remote_control"
    assert page.config["tickets_url"] == f"/api/v1/sessions/{session['id']}/relay-tickets"
    assert page.ids["gp-canvas"]["data-interactive"] == "true" and "gp-clipboard" in page.ids
    assert page.scripts == ["/nexus/assets/nexus.js"]
    assert response.headers["Cache-Control"] == "no-store"
    # The CSRF token in the page is the one the API checks.
    ticket = tenant.client().login(tenant.admin_email, tenant.admin_password)
    ticket.session.cookies.update(agent.session.cookies)
    ticket.csrf_token = page.meta["csrf-token"]
    assert ticket.post(f"/api/v1/sessions/{session['id']}/relay-tickets",
                       json={"kind": "remote_control", "role": "device"}).status_code == 201


def test_the_csp_lets_the_page_reach_this_origin_and_the_relay_only(tenant, running_relay):
    session = new_session(tenant.admin)
    response = tenant.admin.get(f"/nexus/{session['id']}")
    policy = csp(response)
    relay = urlsplit(running_relay.ws_url)
    assert f"{relay.scheme}://{relay.netloc}" in policy["connect-src"]
    assert policy["connect-src"][0] == "'self'"
    assert all(src == "'self'" or re.fullmatch(r"wss?://[^ ;,]+", src) for src in policy["connect-src"])
    assert policy["script-src"] == ["'self'"]
    assert set(policy["img-src"]) >= {"blob:", "data:"}
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]


def test_camera_kind_is_view_only(tenant):
    session = new_session(tenant.admin)
    response = tenant.admin.get(f"/nexus/{session['id']}?kind=camera")
    assert response.status_code == 200
    page = _Page(response.text)
    assert page.config["kind"] == "camera"
    assert page.ids["gp-nexus"]["data-kind"] == "camera"
    assert page.ids["gp-canvas"]["data-interactive"] == "false"
    assert "gp-clipboard" not in page.ids
    bad = tenant.admin.get(f"/nexus/{session['id']}?kind=teleport")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "kind"


def test_unknown_and_other_tenants_sessions_are_not_found(tenant_factory):
    a, b = tenant_factory(), tenant_factory()
    theirs = new_session(b.admin)
    for session_id in ("ses_doesnotexist", theirs["id"]):
        response = a.admin.get(f"/nexus/{session_id}")
        assert response.status_code == 404
        page = _Page(response.text)
        assert page.config is None and "csrf-token" not in page.meta and "gp-canvas" not in page.ids
    assert b.admin.get(f"/nexus/{theirs['id']}").status_code == 200


def test_api_keys_cannot_open_the_viewer(tenant):
    session = new_session(tenant.admin)
    machine = tenant.admin.with_api_key(tenant.admin.new_api_key())
    assert machine.get(f"/nexus/{session['id']}").status_code == 403


def test_with_the_plugin_disabled_there_is_no_page(tenant, enable_plugin):
    session = new_session(tenant.admin)
    enable_plugin(tenant, "remote_control", enabled=False)
    try:
        assert tenant.admin.get(f"/nexus/{session['id']}").status_code == 404
        assert tenant.admin.get("/nexus/assets/nexus.js").status_code == 404
        assert tenant.client().get(f"/nexus/{session['id']}").status_code == 404
    finally:
        enable_plugin(tenant, "remote_control", enabled=True)
    assert tenant.admin.get(f"/nexus/{session['id']}").status_code == 200


@pytest.mark.parametrize("name", ["nexus.js", "nexus-signin.js", "relay-codec.js", "nexus.css"])
def test_assets_are_served_from_the_package(tenant, name):
    response = tenant.client().get(f"/nexus/assets/{name}")
    assert response.status_code == 200
    expected = "text/css" if name.endswith(".css") else "text/javascript"
    assert response.headers["Content-Type"].startswith(expected)
    assert response.content == (SHIPPED_CODEC.parent / name).read_bytes()


def test_unknown_assets_are_not_found(tenant):
    for name in ("viewer.py", "..%2Fviewer.py", "nope.js"):
        assert tenant.client().get(f"/nexus/assets/{name}").status_code == 404


def test_the_shipped_codec_is_the_sdk_codec():
    """static/relay-codec.js is a copy of sdk_js/src/relay-codec.js (which the SDK's node
    tests check against relay/protocol/vectors.json): `cp sdk_js/src/relay-codec.js
    plugins/remote_control/static/` after changing it."""
    assert SHIPPED_CODEC.read_bytes() == SDK_CODEC.read_bytes()
