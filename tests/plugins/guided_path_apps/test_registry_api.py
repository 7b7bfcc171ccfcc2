"""The Guided Path Apps allowlist over real HTTP, on both backends: admins register
apps with precise errors for bad input (and nothing written), agents read them,
other tenants never see them, and ``app`` steps must name one to be published."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

import guidepath.plugins.guided_path_apps as package
from guidepath.core.db import migrate
from guidepath.core.db.engines import make_engine
from guidepath.plugins.guided_path_apps import plugin
from guidepath.plugins.guided_path_apps.origins import app_origin
from guidepath.plugins.guided_path_apps.tables import guided_path_apps

APPS = "/api/v1/guided-path-apps"
PATHS = "/api/v1/guided-paths"
RUNS = "/api/v1/runs"
FOLDER = str(Path(package.__file__).parent / "migrations")

SPEED = {
    "key": "speed-test",
    "title": "Speed test",
    "url": "https://Apps.Example.com:443/speed/?lang=en",
    "input_schema": {"type": "object", "properties": {"server": {"type": "string"}}},
    "output_schema": {"type": "object", "required": ["mbps"],
                      "properties": {"mbps": {"type": "number", "minimum": 0}}},
}


def rows(tenant) -> list:
    with tenant.context().engine.connect() as conn:
        return [tuple(map(str, r)) for r in conn.execute(select(guided_path_apps)).all()]


def error(response, status):
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()["error"]


def app_path(app_id: str = "speed-test") -> dict:
    return {
        "schema_version": 1, "id": "measure", "title": "Measure the line",
        "variables": {"speed": {"type": "object"}},
        "start": "measure",
        "steps": {
            "measure": {"type": "app", "app_id": app_id, "input": {"server": "eu"},
                        "output_schema": {"type": "object"}, "store_as": "speed", "next": "done"},
            "done": {"type": "end", "outcome": "resolved"},
        },
    }


def test_register_read_change_and_remove(tenant):
    admin = tenant.admin
    response = admin.post(APPS, json=SPEED)
    assert response.status_code == 201, response.text
    app = response.json()
    assert app["id"].startswith("gpa_") and response.headers["Location"] == f"{APPS}/{app['id']}"
    assert app["origin"] == "https://apps.example.com" and app["usable"] is True
    assert {k: app[k] for k in SPEED} == SPEED

    agent_key = admin.new_api_key(role="agent")
    agent = tenant.client().with_api_key(agent_key)
    assert agent.get(APPS).json()["items"] == [app]
    assert agent.get(f"{APPS}/speed-test").json() == app
    assert error(agent.post(APPS, json={**SPEED, "key": "other"}), 403)["code"] == "forbidden"

    changed = admin.patch(f"{APPS}/{app['id']}", json={"title": "Line speed", "url": "https://speed.example.net/x"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "Line speed" and changed.json()["origin"] == "https://speed.example.net"
    replaced = admin.put(f"{APPS}/speed-test", json={**SPEED, "key": "speed"})
    assert replaced.status_code == 200 and replaced.json()["key"] == "speed"

    assert admin.delete(f"{APPS}/speed").status_code == 204
    assert error(admin.get(f"{APPS}/speed"), 404)["code"] == "not_found"
    assert rows(tenant) == []


@pytest.mark.parametrize("change, field, words", [
    ({"key": "Speed Test"}, "key", "does not match"),
    ({"title": ""}, "title", "should be non-empty"),
    ({"url": "http://apps.example.com/x"}, "url", "must use https://"),
    ({"url": "http://127.0.0.1:9000/app"}, "url", "allow_loopback_http"),
    ({"url": "ftp://apps.example.com/x"}, "url", "https://"),
    ({"url": "https://user:pw@apps.example.com/"}, "url", "user name or password"),
    ({"url": "https://apps.example.com:99999/"}, "url", "cannot be parsed"),
    ({"url": "https://äpps.example.com/"}, "url", "punycode"),
    ({"input_schema": {"type": "nothing"}}, "input_schema.type", "not a valid JSON Schema"),
    ({"output_schema": {"properties": {"x": {"pattern": "("}}}}, "output_schema.properties.x.pattern", "regex"),
    ({"output_schema": "object"}, "output_schema", "not of type"),
    ({"extra": 1}, "extra", "unknown field"),
])
def test_bad_registrations_are_refused_precisely_and_change_nothing(tenant, change, field, words):
    admin = tenant.admin
    before = rows(tenant)
    found = error(admin.post(APPS, json={**SPEED, **change}), 422)
    assert found["field"] == field and words in found["message"], found
    assert rows(tenant) == before


def test_missing_fields_and_taken_keys(tenant):
    admin = tenant.admin
    body = dict(SPEED)
    del body["output_schema"]
    assert error(admin.post(APPS, json=body), 422)["field"] == "output_schema"
    assert admin.post(APPS, json=SPEED).status_code == 201
    taken = error(admin.post(APPS, json=SPEED), 409)
    assert taken["code"] == "key_taken" and taken["field"] == "key"
    before = rows(tenant)
    assert error(admin.patch(f"{APPS}/speed-test", json={"url": "http://example.com"}), 422)["field"] == "url"
    assert error(admin.post(APPS, data="{", headers={"Content-Type": "application/json"}), 400)["code"] == "malformed_json"
    assert rows(tenant) == before


def test_loopback_http_needs_the_setting_and_only_loopback(tenant, enable_plugin):
    admin = tenant.admin
    local = {**SPEED, "url": "http://127.0.0.1:8123/app.html"}
    assert error(admin.post(APPS, json=local), 422)["field"] == "url"
    enable_plugin(tenant, "guided_path_apps", {"allow_loopback_http": True})
    app = admin.post(APPS, json=local).json()
    assert app["origin"] == "http://127.0.0.1:8123" and app["usable"]
    assert error(admin.post(APPS, json={**SPEED, "key": "lan", "url": "http://10.0.0.5/app"}), 422)["field"] == "url"
    published = admin.post(f"{PATHS}/import", params={"publish": "true"}, json=app_path())
    assert published.status_code == 201, published.text

    # Switched off again: the app stays listed but unusable, and cannot be published.
    enable_plugin(tenant, "guided_path_apps", {"allow_loopback_http": False})
    assert admin.get(f"{APPS}/speed-test").json()["usable"] is False
    doc = {**app_path(), "title": "Measure again"}
    refused = error(admin.post(f"{PATHS}/import", params={"publish": "true"}, json=doc), 422)
    assert refused["issues"][0]["code"] == "app.not_allowed"
    assert "allow_loopback_http" in refused["issues"][0]["message"]


def test_publishing_needs_the_app_on_this_tenants_allowlist(tenant_factory):
    a, b = tenant_factory(), tenant_factory()
    assert a.admin.post(APPS, json=SPEED).status_code == 201
    assert a.admin.post(f"{PATHS}/import", params={"publish": "true"}, json=app_path()).status_code == 201
    # Tenant b has no such app: neither the registration nor the path is visible there.
    assert b.admin.get(APPS).json() == {"items": [], "next": None}
    assert error(b.admin.get(f"{APPS}/speed-test"), 404)["code"] == "not_found"
    refused = error(b.admin.post(f"{PATHS}/import", params={"publish": "true"}, json=app_path()), 422)
    assert refused["issues"] == [{"pointer": "/steps/measure/app_id", "code": "app.unknown_app",
                                  "message": "app 'speed-test' is not registered for this account; an admin "
                                             "registers Guided Path Apps with POST /api/v1/guided-path-apps"}]
    assert b.admin.get(PATHS).json()["items"] == []
    # The draft reports it too, before anyone tries to publish.
    draft = a.admin.post(PATHS, json={**app_path("nope"), "id": "draft-only"}).json()
    assert [i["code"] for i in draft["issues"]] == ["app.unknown_app"]


def test_an_input_that_does_not_fit_the_app_is_refused_at_publish_or_when_shown(tenant):
    admin = tenant.admin
    assert admin.post(APPS, json=SPEED).status_code == 201
    # A constant input is checked at publish, with the pointer to the field.
    constant = app_path()
    constant["steps"]["measure"]["input"] = {"server": 5}
    refused = error(admin.post(f"{PATHS}/import", params={"publish": "true"}, json=constant), 422)
    assert [(i["pointer"], i["code"]) for i in refused["issues"]] == [("/steps/measure/input/server", "app.input_invalid")]
    assert "5 is not of type 'string'" in refused["issues"][0]["message"]
    assert admin.get(PATHS).json()["items"] == []
    # One built from variables is only known at run time: the app is not shown, the
    # run says why, and it waits (nothing of the app's reaches the variables).
    built = app_path()
    built["variables"]["server"] = {"type": "number", "default": 7}
    built["steps"]["measure"]["input"] = {"server": {"var": "vars.server"}}
    assert admin.post(f"{PATHS}/import", params={"publish": "true"}, json=built).status_code == 201
    run = admin.post(RUNS, json={"path_key": "measure", "mode": "agent"}).json()
    view = run["view"]
    assert view["type"] == "app" and view["app"] is None and view["input"] == {"server": 7}
    assert view["app_error"]["code"] == "app_input_invalid"
    assert "at /server: 7 is not of type 'string'" in view["app_error"]["message"]
    assert admin.get(f"{RUNS}/{run['id']}").json()["view"]["app_error"]["code"] == "app_input_invalid"


def test_disabled_plugin_means_no_apps_and_no_routes(tenant, enable_plugin):
    admin = tenant.admin
    assert admin.post(APPS, json=SPEED).status_code == 201
    enable_plugin(tenant, "guided_path_apps", enabled=False)
    assert admin.get(APPS).status_code == 404
    refused = error(admin.post(f"{PATHS}/import", params={"publish": "true"}, json=app_path()), 422)
    assert refused["issues"][0]["code"] == "app.unknown_app"


def test_the_openapi_document_describes_the_routes(tenant):
    document = tenant.client().get("/api/openapi.json").json()
    assert document["paths"][APPS]["post"]["requestBody"]["content"]["application/json"]["schema"]["required"] == [
        "key", "title", "url", "input_schema", "output_schema"]
    assert {"get", "put", "patch", "delete"} <= set(document["paths"][APPS + "/{ref}"])


def test_origins_are_serialized_like_browsers_do():
    assert app_origin("https://A.example.com/x", allow_loopback_http=False) == "https://a.example.com"
    assert app_origin("https://a.example.com:8443/", allow_loopback_http=False) == "https://a.example.com:8443"
    assert app_origin("http://[::1]:80/", allow_loopback_http=True) == "http://[::1]"
    assert app_origin("http://app.localhost:5000/", allow_loopback_http=True) == "http://app.localhost:5000"


def test_registered_by_entry_point_with_its_migrations(guidepath_kernel):
    info = guidepath_kernel.plugins.info("guided_path_apps")
    assert info.builtin and info.default_enabled and info.default_settings() == {"allow_loopback_http": False}
    assert plugin.register_migrations() == [FOLDER]
    assert FOLDER in guidepath_kernel.tenant_migrations


def test_the_migration_creates_exactly_the_table(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(f"sqlite:///{tmp_path / 'tenant.db'}")
    try:
        with engine.begin() as conn:
            migrate.upgrade("tenant", conn, extra_locations=[FOLDER])
        with engine.connect() as conn:
            assert "guided_path_apps" in inspect(conn).get_table_names()

            def include_object(obj, name, type_, reflected, compare_to):
                return type_ != "table" or name == "guided_path_apps"

            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
            assert compare_metadata(context, migrate.tenant_target_metadata()) == []
    finally:
        engine.dispose()



@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_a_host_name_longer_than_dns_allows_is_a_422_and_stores_nothing(tenant, method):
    """Found by the contract tester: a 300-character host overflowed the origin column
    on PostgreSQL (a 500); DNS allows 253, so such a URL is refused before storing."""
    admin = tenant.admin
    assert admin.post(APPS, json=SPEED).status_code == 201
    before = rows(tenant)
    url = "https://" + "a" * 254 + "/speed/"
    if method == "post":
        response = admin.post(APPS, json={**SPEED, "key": "other", "url": url})
    else:
        response = getattr(admin, method)(f"{APPS}/speed-test", json={**SPEED, "url": url} if method == "put"
                                          else {"url": url})
    found = error(response, 422)
    assert found["field"] == "url" and "253" in found["message"]
    assert rows(tenant) == before
