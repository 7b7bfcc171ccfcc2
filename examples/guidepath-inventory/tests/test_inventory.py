"""The inventory plugin against the real guidepath kernel, over real HTTP, with the
built-in it replaces disabled — as a partner's CI runs it:

    GUIDEPATH_DISABLED_PLUGINS=diagnostics pytest

The fixtures (``tenant``, ``enable_plugin``, …) come from guidepath's pytest plugin.
"""

from __future__ import annotations

from typing import Any

from guidepath_inventory import SAMPLE_PATH

RUNS = "/api/v1/runs"


def publish(admin) -> None:
    created = admin.post("/api/v1/guided-paths", json=SAMPLE_PATH)
    assert created.status_code == 201, created.text
    published = admin.post(f"/api/v1/guided-paths/{created.json()['id']}/publish", json={})
    assert published.status_code in (200, 201), published.text


def session_with_device(admin, **device: Any) -> str:
    customer = admin.post("/api/v1/customers", json={"email": "ada@example.com"}).json()
    made = admin.post("/api/v1/devices", json={"customer_id": customer["id"], **device}).json()
    session = admin.post("/api/v1/sessions", json={"customer_id": customer["id"], "device_id": made["id"]})
    assert session.status_code == 201, session.text
    return session.json()["id"]


def test_the_built_in_is_disabled_and_this_plugin_answers(tenant):
    names = {p["name"] for p in tenant.admin.get("/api/v1/plugins").json()["items"]}
    assert "inventory" in names and "diagnostics" not in names

    publish(tenant.admin)
    session_id = session_with_device(tenant.admin, manufacturer="Acme", model="X1",
                                     os_name="Android", os_version="15", serial_number="SN-1")
    run = tenant.admin.post(RUNS, json={"path_key": "check-device", "session_id": session_id})

    assert run.status_code == 201, run.text
    assert run.json()["outcome"] == "resolved"
    diagnostics = run.json()["variables"]["diagnostics"]
    assert diagnostics["source"] == "inventory"
    assert diagnostics["model"] == "X1" and diagnostics["serial_number"] == "SN-1"


def test_its_settings_can_fail_the_step(tenant, enable_plugin):
    enable_plugin(tenant, "inventory", {"require_serial_number": True})
    publish(tenant.admin)
    session_id = session_with_device(tenant.admin, model="No serial")

    run = tenant.admin.post(RUNS, json={"path_key": "check-device", "session_id": session_id}).json()

    assert run["outcome"] == "escalate"
    assert run["variables"]["diagnostics"] == {}  # a failed action stores nothing: on_error took over
