"""``/api/v1/webhooks``: validation, the secret shown once and sealed at rest, the
address rules (at subscription and at delivery), audit, and the migration."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from webhook_support import wait_until, HOOKS, deliveries, make_event, subscribe

from guidepath.plugins.webhooks import plugin, store


def _error(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()["error"]


def test_create_answers_the_secret_once_and_stores_it_sealed(tenant, webhook_options):
    hook = subscribe(tenant, "http://127.0.0.1:9/x", ["session.*", "run.*"],
                     description="CRM")
    assert hook["event_types"] == ["session.*", "run.*"] and hook["enabled"] and hook["description"] == "CRM"
    raw = base64.b64decode(hook["secret"].removeprefix("whsec_"))
    assert len(raw) == 32
    listed = tenant.admin.get(HOOKS).json()
    assert [h["id"] for h in listed["items"]] == [hook["id"]] and "secret" not in listed["items"][0]
    with tenant.context().engine.connect() as conn:
        row = conn.execute(select(store.S)).first()
    assert hook["secret"].encode() not in bytes(row.secret) and raw not in bytes(row.secret)
    audit = tenant.admin.get("/api/v1/audit-log").json()["items"]
    assert audit[0]["action"] == "webhook.created" and audit[0]["target"] == hook["id"]


@pytest.mark.parametrize("types, field, code", [
    (["nope.*"], "event_types.0", "unknown_event_type"),
    (["session.*", "session.exploded"], "event_types.1", "unknown_event_type"),
    (["Session"], "event_types.0", "invalid"),
    ([], "event_types", "invalid"),
])
def test_unknown_event_types_are_422_naming_them(tenant, webhook_options, types, field, code):
    err = _error(tenant.admin.post(HOOKS, json={"url": "http://127.0.0.1:9/", "event_types": types}), 422)
    assert err["field"] == field and err["code"] == code
    if code == "unknown_event_type":
        assert types[-1] in err["message"]


def test_patch_changes_and_disables(tenant, webhook_options):
    hook = subscribe(tenant, "http://127.0.0.1:9/a", ["session.*"])
    changed = tenant.admin.patch(f"{HOOKS}/{hook['id']}", json={"event_types": ["*"], "enabled": False})
    assert changed.status_code == 200, changed.text
    assert changed.json()["event_types"] == ["*"] and not changed.json()["enabled"]
    assert changed.json()["disabled_reason"] == "admin"
    again = tenant.admin.patch(f"{HOOKS}/{hook['id']}", json={"enabled": True}).json()
    assert again["enabled"] and again["disabled_reason"] is None
    assert _error(tenant.admin.patch(f"{HOOKS}/{hook['id']}", json={"event_types": ["x.y"]}), 422)["field"] \
        == "event_types.0"
    assert tenant.admin.delete(f"{HOOKS}/{hook['id']}").status_code == 204
    assert _error(tenant.admin.get(f"{HOOKS}/{hook['id']}"), 404)["field"] == "id"


@pytest.mark.parametrize("url", ["http://93.184.216.34/hook", "ftp://example.com/", "https://user:pw@example.com/",
                                 "https://127.0.0.1/hook", "https://[::1]/", "https://169.254.169.254/latest",
                                 "https://10.1.2.3/", "https://localhost/hook", "https://224.0.0.1/"])
def test_unsafe_urls_are_refused_without_the_operator_flag(tenant, webhook_options, url):
    webhook_options(allow_private=False,
                    resolver=lambda host, port: ["127.0.0.1"] if host == "localhost" else ["93.184.216.34"])
    err = _error(tenant.admin.post(HOOKS, json={"url": url, "event_types": ["*"]}), 422)
    assert err["field"] == "url"


def test_a_public_https_url_is_accepted(tenant, webhook_options):
    webhook_options(allow_private=False, resolver=lambda host, port: ["93.184.216.34"])
    assert subscribe(tenant, "https://hooks.example.com/guidepath")["url"] == "https://hooks.example.com/guidepath"


def test_a_name_that_resolves_to_loopback_later_is_refused_at_delivery(tenant, receiver, webhook_options):
    """DNS rebinding: public when subscribing, 127.0.0.1 when delivering — refused, and
    nothing reaches the receiver listening there."""
    answers = {"rebound.example.com": ["93.184.216.34"]}
    webhook_options(allow_private=False, resolver=lambda host, port: answers[host], schedule=(0.0,))
    hook = subscribe(tenant, f"https://rebound.example.com:{receiver.port}/hook", ["customer.created"])
    answers["rebound.example.com"] = ["127.0.0.1"]
    make_event(tenant)
    item = wait_until(lambda: [d for d in deliveries(tenant, hook["id"]) if d["status"] == "failed"],
                      what="refused")[0]
    attempt = item["attempts"][0]
    assert attempt["status_code"] is None and "127.0.0.1" in attempt["error"] and "loopback" in attempt["error"]
    time.sleep(0.2)
    assert receiver.received() == []


def test_an_endpoint_at_127_0_0_1_is_refused_at_delivery_once_the_flag_is_off(tenant, receiver, webhook_options):
    hook = subscribe(tenant, receiver.url(), ["customer.created"])   # accepted while the flag is on
    webhook_options(allow_private=False, schedule=(0.0,))
    make_event(tenant)
    item = wait_until(lambda: [d for d in deliveries(tenant, hook["id"]) if d["status"] == "failed"],
                      what="refused")[0]
    assert "http" in item["attempts"][0]["error"] or "loopback" in item["attempts"][0]["error"]
    assert receiver.received() == []


def test_agents_cannot_use_the_api(tenant, webhook_options):
    from console_support import agent

    client, _ = agent(tenant)
    assert client.get(HOOKS).status_code == 403
    assert client.post(HOOKS, json={"url": "http://127.0.0.1:9/", "event_types": ["*"]}).status_code == 403


def test_the_plugin_is_builtin_and_enabled_by_default(guidepath_kernel):
    info = guidepath_kernel.plugins.info("webhooks")
    assert info.builtin and info.default_enabled
    assert "webhook.subscription_disabled" in guidepath_kernel.event_types


def test_the_migration_creates_exactly_the_tables(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from guidepath.core.db import migrate
    from guidepath.core.db.engines import make_engine

    folder = plugin.register_migrations()[0]
    engine = make_engine(f"sqlite:///{tmp_path / 'tenant.db'}")
    ours = {"webhook_subscriptions", "webhook_deliveries", "webhook_attempts"}
    try:
        with engine.begin() as conn:
            migrate.upgrade("tenant", conn, extra_locations=[folder])
        with engine.connect() as conn:
            assert ours <= set(inspect(conn).get_table_names())

            def include_object(obj, name, type_, reflected, compare_to):
                table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
                return table in ours

            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
            assert compare_metadata(context, migrate.tenant_target_metadata()) == []
    finally:
        engine.dispose()
