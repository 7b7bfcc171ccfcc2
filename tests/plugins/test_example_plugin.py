"""The example plugin package (``examples/guidepath-hello``), installed with pip and
exercised over real HTTP against a kernel that loaded it through its entry point.

What a partner's plugin gets from guidepath is checked here end to end: discovery,
per-tenant enablement and settings (validated, errors naming the field), 404 for
tenants that have it disabled, its event type in the catalogue, its events on the
bus, ``handle_event`` for the tenants that enabled it, and its OpenAPI summaries.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from guidepath.core.plugins import PluginInfo, hookimpl
from guidepath.core.testing.pytest_plugin import TestTenant
from openapi_declared import check_declared

HELLO_SCHEMA = {
    "type": "object",
    "properties": {
        "greeting": {"type": "string", "default": "Hello", "maxLength": 100},
        "shout": {"type": "boolean", "default": False},
    },
    "additionalProperties": False,
}

# Events travel through the outbox and the bus. On the Kafka-protocol bus every new
# tenant's events go to new topics, which the dispatcher's pattern subscription
# finds only at its next metadata refresh (30 s) and group rebalance: up to a
# minute here. Generous, but every wait below is bounded.
EVENT_WAIT_SECONDS = 120.0


def wait_for(check: Callable[[], Any], *, timeout: float = EVENT_WAIT_SECONDS, interval: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy; that value, or the last one."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = check()
    return value


def configure(tenant: TestTenant, body: dict[str, Any]):
    return tenant.admin.put("/api/v1/plugins/hello", json=body)


def hello_item(tenant: TestTenant) -> dict[str, Any]:
    response = tenant.admin.get("/api/v1/plugins")
    assert response.status_code == 200, response.text
    [item] = [i for i in response.json()["items"] if i["name"] == "hello"]
    return item


# -- discovery and defaults --------------------------------------------------------


def test_the_installed_plugin_is_listed_disabled_with_its_defaults(hello_tenant):
    assert hello_item(hello_tenant) == {
        "name": "hello",
        "version": "1.0.0",
        "description": "Greets agents with a per-tenant greeting and counts session state changes.",
        "builtin": False,
        "enabled": False,
        "settings": {"greeting": "Hello", "shout": False},
        "settings_schema": HELLO_SCHEMA,
    }


def test_the_kernel_loaded_it_from_the_entry_point(hello_kernel, hello_installed):
    module = hello_kernel.plugins.plugin("hello")
    assert Path(module.__file__).is_relative_to(hello_installed)
    assert not hello_kernel.plugins.load_failures


@pytest.mark.parametrize("path", ["/hello/", "/hello/stats"])
def test_its_routes_answer_404_while_it_is_disabled(hello_tenant, path):
    for client in (hello_tenant.admin, hello_tenant.client()):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


# -- enabling and configuring over the API -------------------------------------------


def test_an_admin_enables_and_configures_it_over_the_api(hello_tenant):
    response = configure(hello_tenant, {"enabled": True, "settings": {"greeting": "Hi"}})

    assert response.status_code == 200, response.text
    assert response.json()["enabled"] is True
    assert response.json()["settings"] == {"greeting": "Hi", "shout": False}
    greeting = hello_tenant.admin.get("/hello/")
    assert greeting.status_code == 200
    assert greeting.json() == {"message": "Hi", "tenant": hello_tenant.slug}

    assert configure(hello_tenant, {"settings": {"greeting": "Hi", "shout": True}}).status_code == 200
    assert hello_tenant.admin.get("/hello/").json()["message"] == "HI"

    assert configure(hello_tenant, {"enabled": False}).status_code == 200
    assert hello_tenant.admin.get("/hello/").status_code == 404


def test_once_enabled_its_routes_still_need_a_login(hello_tenant):
    configure(hello_tenant, {"enabled": True})
    response = hello_tenant.client().get("/hello/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_an_api_key_works_like_a_login(hello_tenant):
    configure(hello_tenant, {"enabled": True})
    machine = hello_tenant.admin.with_api_key(hello_tenant.admin.new_api_key(role="agent"))
    assert machine.get("/hello/").json()["message"] == "Hello"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"greeting": 5}, "settings.greeting"),
        ({"nope": 1}, "settings.nope"),
        ({"greeting": "x" * 101}, "settings.greeting"),
        ({"shout": "yes"}, "settings.shout"),
    ],
)
def test_settings_that_break_the_schema_are_refused_and_nothing_is_written(hello_tenant, settings, field):
    assert configure(hello_tenant, {"enabled": True, "settings": {"greeting": "Hi"}}).status_code == 200

    response = configure(hello_tenant, {"enabled": False, "settings": settings})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["field"] == field
    assert field in error["message"] and "hello" in error["message"]
    # Neither half of the refused change was stored.
    item = hello_item(hello_tenant)
    assert item["enabled"] is True
    assert item["settings"] == {"greeting": "Hi", "shout": False}
    assert hello_tenant.admin.get("/hello/").json()["message"] == "Hi"


def test_only_admins_configure_it(hello_tenant):
    created = hello_tenant.admin.post("/api/v1/users", json={
        "email": f"agent@{hello_tenant.slug}.example.com", "password": "another-horse-battery",
        "role": "agent",
    })
    assert created.status_code == 201, created.text
    agent = hello_tenant.client().login(f"agent@{hello_tenant.slug}.example.com", "another-horse-battery")

    response = agent.put("/api/v1/plugins/hello", json={"enabled": True})

    assert response.status_code == 403
    assert hello_item(hello_tenant)["enabled"] is False


def test_a_tenant_that_has_it_disabled_still_gets_404(hello_tenant_factory):
    enabled, disabled = hello_tenant_factory(), hello_tenant_factory()
    assert configure(enabled, {"enabled": True, "settings": {"greeting": "Hi"}}).status_code == 200

    assert enabled.admin.get("/hello/").json() == {"message": "Hi", "tenant": enabled.slug}
    assert disabled.admin.get("/hello/").status_code == 404
    assert hello_item(disabled)["enabled"] is False
    assert hello_item(disabled)["settings"] == {"greeting": "Hello", "shout": False}


# -- events ---------------------------------------------------------------------------


def test_its_event_type_is_in_the_catalogue(hello_tenant):
    response = hello_tenant.admin.get("/api/v1/events/types")
    assert response.status_code == 200
    [greeted] = [t for t in response.json()["items"] if t["name"] == "hello.greeted"]
    assert greeted["version"] == 1
    assert greeted["schema"]["required"] == ["message", "actor"]
    assert greeted["schema"]["additionalProperties"] is False


class EventRecorder:
    """A second plugin that records the events it is handed, per tenant."""

    PLUGIN = PluginInfo(name="test-event-recorder")

    def __init__(self) -> None:
        self.events: list[Any] = []

    @hookimpl
    def handle_event(self, tenant, event):
        self.events.append((tenant.id, event))

    def of(self, tenant_id: str, event_type: str) -> list[Any]:
        return [e for t, e in list(self.events) if t == tenant_id and e.type == event_type]


@pytest.fixture
def event_recorder(hello_kernel) -> Any:
    recorder = EventRecorder()
    hello_kernel.plugins.register(recorder)
    try:
        yield recorder
    finally:
        hello_kernel.plugins.unregister(recorder.PLUGIN.name)


def test_a_greeting_emits_its_event(hello_tenant, event_recorder):
    configure(hello_tenant, {"enabled": True, "settings": {"greeting": "Hi", "shout": True}})
    me = hello_tenant.admin.get("/api/v1/auth/me").json()

    assert hello_tenant.admin.get("/hello/").status_code == 200

    [event] = wait_for(lambda: event_recorder.of(hello_tenant.id, "hello.greeted"))
    assert event.data == {"message": "HI", "actor": f"user:{me['id']}"}
    assert event.tenant_id == hello_tenant.id


def session_state_changes(tenant: TestTenant, states: list[str]) -> None:
    session = tenant.admin.post("/api/v1/sessions", json={})
    assert session.status_code == 201, session.text
    for state in states:
        changed = tenant.admin.post(f"/api/v1/sessions/{session.json()['id']}/state", json={"state": state})
        assert changed.status_code == 200, changed.text


def test_handle_event_counts_state_changes_of_the_tenants_that_enabled_it(hello_tenant_factory, event_recorder):
    counting, other = hello_tenant_factory(), hello_tenant_factory()
    configure(counting, {"enabled": True})
    assert counting.admin.get("/hello/stats").json() == {"state_changes": 0}

    session_state_changes(counting, ["waiting", "ended"])
    session_state_changes(other, ["ended"])

    count = wait_for(lambda: counting.admin.get("/hello/stats").json()["state_changes"] == 2)
    assert count, counting.admin.get("/hello/stats").json()
    # The other tenant's event was dispatched (the recorder saw it) but never
    # reached hello, which it has disabled: nothing was counted for it.
    assert wait_for(lambda: event_recorder.of(other.id, "session.state_changed"))
    configure(other, {"enabled": True})
    assert other.admin.get("/hello/stats").json() == {"state_changes": 0}
    assert counting.admin.get("/hello/stats").json() == {"state_changes": 2}


# -- the rest of what a partner relies on ------------------------------------------------


def test_its_routes_are_in_the_openapi_document(hello_tenant):
    openapi = hello_tenant.client().get("/api/openapi.json").json()
    paths = openapi["paths"]
    assert paths["/hello/"]["get"]["summary"].startswith("Greet the calling agent")
    assert paths["/hello/stats"]["get"]["summary"].startswith("How many session state changes")
    # Declared answers, and the statuses inferred from @require and the declared query.
    assert {"200", "401", "403", "422"} <= set(paths["/hello/"]["get"]["responses"])
    configure(hello_tenant, {"enabled": True})
    for path in ("/hello/", "/hello/stats"):
        check_declared(openapi, "GET", path, hello_tenant.admin.get(path))


@pytest.mark.parametrize("path", ["/hello/", "/hello/stats"])
def test_its_routes_refuse_a_query_parameter_they_do_not_declare(hello_tenant, path):
    configure(hello_tenant, {"enabled": True})
    response = hello_tenant.admin.get(path, params={"colour": "red"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "colour"


@pytest.mark.slow
def test_the_examples_own_partner_tests_pass(hello_installed, example_source, guidepath_backend):
    """The package's tests (the ones docs/plugins.md shows) pass, run as a partner
    runs them: pytest in the package's folder, with guidepath's pytest plugin."""
    if guidepath_backend != "embedded":
        pytest.skip("the partner tests run on the default backend; once is enough")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(hello_installed), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "GUIDEPATH_TEST_BACKEND": "embedded"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=example_source, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert "5 passed" in result.stdout
