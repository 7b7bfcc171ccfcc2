"""PUT/GET /api/v1/sessions/{id}/diagnostics: a device's report, validated as a whole,
stored on the session's device, or refused naming the field with nothing stored."""

from __future__ import annotations

import pytest

REPORT = {
    "manufacturer": "Samsung", "brand": "Galaxy", "model": "SM-S921B", "os_name": "Android",
    "os_version": "15", "memory_bytes": 8 * 1024**3, "processor": "Snapdragon 8 Gen 3",
    "device_name": "Eve's S24", "serial_number": "R5CX12345", "extra": {"battery_percent": 81, "charging": False},
}


def diagnostics(session_id: str) -> str:
    return f"/api/v1/sessions/{session_id}/diagnostics"


def test_a_report_creates_the_sessions_device_and_reads_back(tenant):
    customer = tenant.admin.post("/api/v1/customers", json={"first_name": "Eve"}).json()
    session = tenant.admin.post("/api/v1/sessions", json={"customer_id": customer["id"]}).json()
    empty = tenant.admin.get(diagnostics(session["id"])).json()
    assert empty["device_id"] is None and empty["model"] is None

    stored = tenant.admin.put(diagnostics(session["id"]), json=REPORT)
    assert stored.status_code == 200, stored.text
    view = stored.json()
    assert {k: view[k] for k in REPORT} == REPORT
    device = tenant.admin.get(f"/api/v1/devices/{view['device_id']}").json()
    assert device["customer_id"] == customer["id"] and device["serial_number"] == "R5CX12345"
    assert tenant.admin.get(f"/api/v1/sessions/{session['id']}").json()["device_id"] == view["device_id"]


def test_fields_left_out_are_kept(tenant):
    session = tenant.admin.post("/api/v1/sessions", json={}).json()
    tenant.admin.put(diagnostics(session["id"]), json=REPORT)
    again = tenant.admin.put(diagnostics(session["id"]), json={"os_version": "16"}).json()
    assert again["os_version"] == "16" and again["serial_number"] == "R5CX12345"


@pytest.mark.parametrize("bad, field", [
    ({"model": "x" * 101}, "model"),
    ({"device_name": "line\nbreak"}, "device_name"),
    ({"memory_bytes": -1}, "memory_bytes"),
    ({"memory_bytes": "8GB"}, "memory_bytes"),
    ({"colour": "red"}, "colour"),
    ({"extra": {"nested": {"a": 1}}}, "extra"),
    ({"extra": {"bad key!": 1}}, "extra"),
    ({"extra": {f"k{i}": "v" * 200 for i in range(60)}}, "extra"),
    ({}, ""),
])
def test_a_bad_report_is_refused_naming_the_field_and_nothing_is_stored(tenant, bad, field):
    session = tenant.admin.post("/api/v1/sessions", json={}).json()
    refused = tenant.admin.put(diagnostics(session["id"]), json={**{"model": "ok"}, **bad}
                               if bad else bad)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert field in ((error["field"] or "") + error["message"])
    assert tenant.admin.get(diagnostics(session["id"])).json()["device_id"] is None


def test_an_ended_session_keeps_its_device_as_it_was(tenant):
    session = tenant.admin.post("/api/v1/sessions", json={}).json()
    tenant.admin.put(diagnostics(session["id"]), json={"model": "before"})
    tenant.admin.post(f"/api/v1/sessions/{session['id']}/state", json={"state": "ended", "resolution": "ok"})
    refused = tenant.admin.put(diagnostics(session["id"]), json={"model": "after"})
    assert refused.status_code == 409
    assert tenant.admin.get(diagnostics(session["id"])).json()["model"] == "before"


def test_another_tenants_session_is_not_found(tenant_factory):
    a, b = tenant_factory(), tenant_factory()
    session = a.admin.post("/api/v1/sessions", json={}).json()
    assert b.admin.put(diagnostics(session["id"]), json=REPORT).status_code == 404
    assert b.admin.get(diagnostics(session["id"])).status_code == 404


def test_disabled_for_the_tenant_the_routes_are_gone(tenant):
    session = tenant.admin.post("/api/v1/sessions", json={}).json()
    tenant.admin.put("/api/v1/plugins/diagnostics", json={"enabled": False})
    tenant.kernel.forget_plugin_states(tenant.id)
    assert tenant.admin.get(diagnostics(session["id"])).status_code == 404
    assert "diagnostics" not in tenant.admin.get(f"/api/v1/sessions/{session['id']}").json()["capabilities"]
