"""The hello plugin against the real guidepath kernel, over real HTTP.

The fixtures (``tenant``, ``enable_plugin``, …) come from guidepath's pytest
plugin, which is installed with guidepath: no conftest.py is needed. Install this
package first (``pip install -e .``) so that the kernel the fixtures build loads it.
"""

from __future__ import annotations

import time


def test_disabled_until_an_admin_enables_it(tenant):
    assert tenant.admin.get("/hello/").status_code == 404


def test_greets_with_the_tenants_settings(tenant, enable_plugin):
    enable_plugin(tenant, "hello", {"greeting": "Hi", "shout": True})

    response = tenant.admin.get("/hello/")

    assert response.status_code == 200
    assert response.json() == {"message": "HI", "tenant": tenant.slug}


def test_needs_a_logged_in_agent(tenant, enable_plugin):
    enable_plugin(tenant, "hello")
    assert tenant.client().get("/hello/").status_code == 401


def test_refuses_settings_that_break_the_schema(tenant):
    response = tenant.admin.put(
        "/api/v1/plugins/hello", json={"enabled": True, "settings": {"greeting": 5}}
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "settings.greeting"


def test_counts_session_state_changes(tenant, enable_plugin):
    enable_plugin(tenant, "hello")
    session = tenant.admin.post("/api/v1/sessions", json={}).json()

    changed = tenant.admin.post(f"/api/v1/sessions/{session['id']}/state", json={"state": "waiting"})
    assert changed.status_code == 200

    # Events reach handle_event asynchronously (through the outbox and the bus).
    deadline = time.monotonic() + 15
    count = 0
    while count < 1 and time.monotonic() < deadline:
        count = tenant.admin.get("/hello/stats").json()["state_changes"]
        time.sleep(0.05)
    assert count == 1
