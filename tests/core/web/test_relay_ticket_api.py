"""POST /api/v1/sessions/{id}/relay-tickets: what the kernel checks before any plugin
is asked, and how the ``issue_relay_ticket`` hook's answers and refusals come back.

The built-in remote_control/camera_share plugins are tested in tests/plugins; here a
test plugin answers for a made-up relay so the kernel's part is tested on its own.
"""

from __future__ import annotations

from typing import Any

import pytest

from guidepath.core.domain.errors import Conflict
from guidepath.core.plugins import PluginInfo, hookimpl


class CameraGrant:
    """Answers for ``camera`` only, refusing viewers of sessions marked 'busy'."""

    PLUGIN = PluginInfo(name="test_camera_grant", default_enabled=True)

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str]] = []

    @hookimpl
    def issue_relay_ticket(self, session: dict, kind: str, role: str, principal: dict) -> dict | None:
        self.asked.append((session["id"], kind, role))
        if kind != "camera":
            return None
        if session["resolution"] == "busy":
            raise Conflict("the camera is busy", field="kind")
        return {"relay": {"ws": "ws://relay.test/"}, "ticket": "tok", "key": "k",
                "connection_id": "con_1", "expires_at": 1, "for": principal["kind"]}


@pytest.fixture
def grant(register_plugin) -> CameraGrant:
    plugin = CameraGrant()
    register_plugin(plugin)
    return plugin


def without_builtin_relay_plugins(tenant) -> None:
    """Only the test plugin may answer: the built-in remote_control and camera_share
    (installed with guidepath) are switched off for the tenant."""
    for name in ("remote_control", "camera_share"):
        response = tenant.admin.put(f"/api/v1/plugins/{name}", json={"enabled": False})
        assert response.status_code in (200, 404), response.text  # 404: not installed here
    tenant.kernel.forget_plugin_states(tenant.id)


def active_session(tenant) -> dict[str, Any]:
    without_builtin_relay_plugins(tenant)
    me = tenant.admin.get("/api/v1/auth/me").json()
    session = tenant.admin.post("/api/v1/sessions", json={}).json()
    tenant.admin.patch(f"/api/v1/sessions/{session['id']}", json={"agent_id": me["id"]})
    tenant.admin.post(f"/api/v1/sessions/{session['id']}/state", json={"state": "waiting"})
    assert tenant.admin.post(f"/api/v1/sessions/{session['id']}/state",
                             json={"state": "active"}).status_code == 200
    return session


def tickets(client, session_id: str, **body: Any):
    return client.post(f"/api/v1/sessions/{session_id}/relay-tickets", json=body)


def test_the_plugin_answering_for_the_kind_gives_the_ticket(tenant, grant):
    session = active_session(tenant)
    answer = tickets(tenant.admin, session["id"], kind="camera", role="viewer")
    assert answer.status_code == 201, answer.text
    assert answer.json()["ticket"] == "tok" and answer.json()["for"] == "user"
    audit = tenant.admin.get("/api/v1/audit-log").json()["items"]
    assert any(a["action"] == "relay.viewer_ticket_issued" and a["target"] == session["id"] for a in audit)


def test_a_kind_nobody_answers_for_is_404_naming_it(tenant, grant):
    session = active_session(tenant)
    answer = tickets(tenant.admin, session["id"], kind="remote_control", role="viewer")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "capability_unavailable"
    assert "remote control" in answer.json()["error"]["message"]


def test_a_disabled_plugin_is_not_asked(tenant, grant):
    session = active_session(tenant)
    tenant.admin.put("/api/v1/plugins/test_camera_grant", json={"enabled": False})
    grant.asked.clear()
    assert tickets(tenant.admin, session["id"], kind="camera", role="viewer").status_code == 404
    assert grant.asked == []


def test_a_plugins_refusal_reaches_the_caller_with_its_reason(tenant, grant):
    session = active_session(tenant)
    with tenant.context().begin() as conn:  # the test plugin's own "busy" marker
        from sqlalchemy import text

        conn.execute(text("UPDATE support_sessions SET resolution = 'busy' WHERE id = :id"), {"id": session["id"]})
    answer = tickets(tenant.admin, session["id"], kind="camera", role="viewer")
    assert answer.status_code == 409 and answer.json()["error"]["message"] == "the camera is busy"


@pytest.mark.parametrize("body, field", [
    ({}, "kind"),
    ({"kind": "camera"}, "role"),
    ({"kind": "screen", "role": "viewer"}, "kind"),
    ({"kind": "camera", "role": "owner"}, "role"),
    ({"kind": "camera", "role": "viewer", "extra": 1}, "extra"),
])
def test_bad_bodies_are_refused_naming_the_field(tenant, grant, body, field):
    session = active_session(tenant)
    grant.asked.clear()
    answer = tickets(tenant.admin, session["id"], **body)
    assert answer.status_code == 422, answer.text
    assert field in (answer.json()["error"]["field"] or "") + answer.json()["error"]["message"]
    assert grant.asked == []


def test_viewers_must_be_the_sessions_agent_on_an_active_session(tenant, grant):
    without_builtin_relay_plugins(tenant)
    session = tenant.admin.post("/api/v1/sessions", json={}).json()
    not_taken = tickets(tenant.admin, session["id"], kind="camera", role="viewer")
    assert not_taken.status_code == 409 and "active" in not_taken.json()["error"]["message"]

    session = active_session(tenant)
    tenant.admin.post("/api/v1/users", json={"email": "other@example.com", "password": "long-enough-pw",
                                             "role": "agent"})
    other = tenant.client().login("other@example.com", "long-enough-pw")
    refused = tickets(other, session["id"], kind="camera", role="viewer")
    assert refused.status_code == 403 and "session's agent" in refused.json()["error"]["message"]

    machine = tenant.client().with_api_key(tenant.admin.new_api_key(role="admin"))
    assert tickets(machine, session["id"], kind="camera", role="viewer").status_code == 403
    device = tickets(machine, session["id"], kind="camera", role="device")
    assert device.status_code == 201 and device.json()["for"] == "api_key"


def test_no_ticket_for_an_ended_or_unknown_session(tenant, grant):
    session = active_session(tenant)
    tenant.admin.post(f"/api/v1/sessions/{session['id']}/state", json={"state": "ended", "resolution": "fixed"})
    ended = tickets(tenant.admin, session["id"], kind="camera", role="device")
    assert ended.status_code == 409 and "ended" in ended.json()["error"]["message"]
    assert tickets(tenant.admin, "ses_" + "0" * 26, kind="camera", role="device").status_code == 404


def test_another_tenants_session_is_not_found(tenant_factory, grant):
    a, b = tenant_factory(), tenant_factory()
    session = active_session(a)
    assert tickets(b.admin, session["id"], kind="camera", role="device").status_code == 404
