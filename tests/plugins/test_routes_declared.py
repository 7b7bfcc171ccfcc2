"""The built-in plugins' routes keep their declarations (``@documented``): the query
string is checked before a view runs (an undeclared parameter or a bad value is a
422 naming it), and each answer is what ``GET /api/openapi.json`` declares for it —
JSON bodies match their schemas, pages and files have their own media types."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guidepath.plugins.guided_path_apps.api import URL_PATTERN
from guidepath.plugins.guided_path_apps.origins import MAX_URL_LENGTH, app_origin
from openapi_declared import check_declared

APPS = "/api/v1/guided-path-apps"
SESSIONS = "/api/v1/sessions"
APP = {"key": "speed-test", "title": "Speed test", "url": "https://apps.example.com/speed",
       "input_schema": {"type": "object"}, "output_schema": {"type": "object"}}


@pytest.fixture
def openapi(tenant) -> dict[str, Any]:
    return tenant.client().get("/api/openapi.json").json()


@pytest.fixture
def session(tenant) -> dict[str, Any]:
    created = tenant.admin.post(SESSIONS, json={})
    assert created.status_code == 201, created.text
    return created.json()


def _error(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()["error"]


@pytest.mark.parametrize("method, template", [
    ("GET", APPS),
    ("POST", APPS),
    ("GET", f"{APPS}/speed-test"),
    ("PATCH", f"{APPS}/speed-test"),
    ("DELETE", f"{APPS}/speed-test"),
    ("GET", f"{SESSIONS}/{{session}}/diagnostics"),
    ("PUT", f"{SESSIONS}/{{session}}/diagnostics"),
    ("GET", f"{SESSIONS}/{{session}}/recordings"),
    ("GET", f"{SESSIONS}/{{session}}/recordings/fil_x"),
    ("GET", "/nexus/{session}"),
    ("GET", "/nexus/assets/nexus.js"),
])
def test_an_undeclared_query_parameter_is_a_422_naming_it(tenant, session, method, template):
    tenant.admin.post(APPS, json=APP)
    response = tenant.admin.request(method, template.format(session=session["id"]), params={"colour": "red"},
                                    json={"model": "X"} if "diagnostics" in template else {"title": "Changed"})
    err = _error(response, 422)
    assert err["field"] == "colour" and err["message"].startswith("unknown query parameter 'colour'")
    # Nothing was changed on the way.
    assert tenant.admin.get(f"{APPS}/speed-test").json()["title"] == "Speed test"
    assert tenant.admin.get(f"{SESSIONS}/{session['id']}/diagnostics").json()["model"] is None


@pytest.mark.parametrize("raw", ["0", "-1", "abc", "²", "201", "9223372036854775808"])
def test_a_bad_limit_is_a_422(tenant, raw):
    assert _error(tenant.admin.get(APPS, params={"limit": raw}), 422)["field"] == "limit"


def test_the_apps_list_pages_with_its_declared_parameters(tenant):
    for key in ("one", "two", "three"):
        assert tenant.admin.post(APPS, json={**APP, "key": key}).status_code == 201
    first = tenant.admin.get(APPS, params={"limit": "2"}).json()
    rest = tenant.admin.get(APPS, params={"limit": "2", "cursor": first["next"]}).json()
    assert [a["key"] for a in first["items"] + rest["items"]] == ["one", "two", "three"] and rest["next"] is None


def test_the_viewer_kind_is_checked_before_anything_else(tenant, session):
    err = _error(tenant.client().get(f"/nexus/{session['id']}", params={"kind": "screen"}), 422)
    assert err["field"] == "kind" and "remote_control, camera" in err["message"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.from_regex(URL_PATTERN, fullmatch=True).filter(lambda url: len(url) <= MAX_URL_LENGTH))
def test_every_url_the_documented_pattern_admits_is_accepted(url):
    """The app URL pattern in the OpenAPI document states the https:// rule without
    admitting anything the server refuses (a contract tester sends such URLs)."""
    app_origin(url, allow_loopback_http=False)


@pytest.mark.parametrize("url", ["http://apps.example.com/", "ftp://a/", "https://user:pw@a/", "https://a:99999/",
                                 "https://äpps.example.com/", "https://a b/", "https:///x", "apps.example.com"])
def test_urls_the_server_refuses_are_outside_the_pattern(url):
    assert not re.fullmatch(URL_PATTERN, url)


def test_the_document_states_the_rules_and_media_types(openapi):
    paths = openapi["paths"]
    create = paths[APPS]["post"]
    assert "https://" in create["description"] and "201" in create["responses"] and "409" in create["responses"]
    for path, method in [(APPS, "post"), (f"{APPS}/{{ref}}", "put"), (f"{APPS}/{{ref}}", "patch")]:
        body = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert body["properties"]["url"]["pattern"] == URL_PATTERN
    assert create["responses"]["201"]["links"]  # to the operations on the created app
    assert paths[f"{APPS}/{{ref}}"]["delete"]["responses"]["204"] == {"description": "Success"}
    nexus = paths["/nexus/{session_id}"]["get"]
    assert {s: set(r.get("content", {})) for s, r in nexus["responses"].items() if "content" in r} == {
        "200": {"text/html"}, "401": {"text/html"}, "404": {"text/html"}}
    assert {"403", "422"} <= set(nexus["responses"]) and nexus["security"] == [{"session": []}]
    [kind] = [p for p in nexus["parameters"] if p["in"] == "query"]
    assert kind["schema"] == {"type": "string", "enum": ["remote_control", "camera"], "default": "remote_control"}
    assets = paths["/nexus/assets/{name}"]["get"]["responses"]["200"]["content"]
    assert set(assets) == {"text/css", "text/javascript"}
    recording = paths[f"{SESSIONS}/{{session_id}}/recordings/{{file_id}}"]["get"]["responses"]["200"]["content"]
    assert set(recording) == {"application/x-guidepath-recording"}
    diagnostics = paths[f"{SESSIONS}/{{session_id}}/diagnostics"]
    assert "409" in diagnostics["put"]["responses"] and "422" in diagnostics["get"]["responses"]


def test_answers_are_what_the_document_declares(tenant, openapi, session):
    admin = tenant.admin

    def call(method: str, template: str, status: int, *, client=None, values: dict | None = None, **kwargs):
        response = (client or admin).request(method, template.format(**(values or {})), **kwargs)
        assert response.status_code == status, (method, template, response.status_code, response.text)
        check_declared(openapi, method, template, response)
        return response

    one = f"{APPS}/{{ref}}"
    app = call("POST", APPS, 201, json=APP).json()
    call("POST", APPS, 409, json=APP)
    call("POST", APPS, 422, json={**APP, "key": "plain", "url": "http://apps.example.com/speed"})
    call("GET", APPS, 200)
    call("GET", one, 200, values={"ref": app["id"]})
    call("PUT", one, 200, values={"ref": "speed-test"}, json={**APP, "title": "Faster"})
    call("PATCH", one, 200, values={"ref": "speed-test"}, json={"title": "Fastest"})
    call("DELETE", one, 204, values={"ref": "speed-test"})
    call("GET", one, 404, values={"ref": "speed-test"})

    at = {"session_id": session["id"]}
    diagnostics = f"{SESSIONS}/{{session_id}}/diagnostics"
    call("GET", diagnostics, 200, values=at)
    call("PUT", diagnostics, 200, values=at, json={"model": "Pixel 9", "memory_bytes": 8 << 30,
                                                    "extra": {"battery": 81}})
    call("PUT", diagnostics, 422, values=at, json={"model": "x" * 101})
    call("GET", diagnostics, 200, values=at)
    call("GET", f"{SESSIONS}/{{session_id}}/recordings", 200, values=at)
    call("GET", f"{SESSIONS}/{{session_id}}/recordings/{{file_id}}", 404, values={**at, "file_id": "fil_nothing"})

    page = "/nexus/{session_id}"
    call("GET", page, 200, values=at)
    call("GET", page, 200, values=at, params={"kind": "camera"})
    call("GET", page, 401, values=at, client=tenant.client())
    call("GET", page, 404, values={"session_id": "ses_doesnotexist"})
    call("GET", page, 403, values=at, client=admin.with_api_key(admin.new_api_key()))
    call("GET", "/nexus/assets/{name}", 200, values={"name": "nexus.css"}, client=tenant.client())

    admin.post(f"{SESSIONS}/{session['id']}/state", json={"state": "ended", "resolution": "ok"})
    call("PUT", diagnostics, 409, values=at, json={"model": "after"})
