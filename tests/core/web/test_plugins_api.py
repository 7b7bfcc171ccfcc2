"""Per-tenant plugin settings over REST: validation names the field, nothing half-written."""

import types

import pytest

from guidepath.core.plugins import PluginInfo, hookimpl

SCHEMA = {
    "type": "object",
    "properties": {"max_fps": {"type": "integer", "minimum": 1, "maximum": 60, "default": 15},
                   "record": {"type": "boolean", "default": False}},
    "additionalProperties": False,
}


@pytest.fixture
def capability_plugin(register_plugin):
    module = types.ModuleType("spec_capabilities")

    @hookimpl
    def session_capabilities(tenant, session):
        return ["screen_share"]

    module.session_capabilities = session_capabilities
    module.PLUGIN = PluginInfo(name="spec-capabilities", version="1.2.3", settings_schema=SCHEMA,
                               default_enabled=False)
    register_plugin(module)
    return module


def _state(tenant):
    return tenant.admin.get("/api/v1/plugins/spec-capabilities").json()


def test_unknown_plugin_is_404_naming_it(tenant):
    response = tenant.admin.put("/api/v1/plugins/nope", json={"enabled": True})
    assert response.status_code == 404
    assert response.json()["error"]["field"] == "name" and "'nope'" in response.json()["error"]["message"]


def test_defaults_then_enable_and_configure(tenant, capability_plugin):
    assert _state(tenant)["enabled"] is False
    assert _state(tenant)["settings"] == {"max_fps": 15, "record": False}
    session = tenant.admin.post("/api/v1/sessions", json={}).json()
    assert "screen_share" not in session["capabilities"]
    ok = tenant.admin.put("/api/v1/plugins/spec-capabilities", json={"enabled": True, "settings": {"max_fps": 30}})
    assert ok.status_code == 200 and ok.json()["settings"] == {"max_fps": 30, "record": False}
    # The last registered plugin is asked first; the built-ins' capabilities follow.
    assert tenant.admin.get(f"/api/v1/sessions/{session['id']}").json()["capabilities"][0] == "screen_share"


@pytest.mark.parametrize("body, field", [
    ({"enabled": True, "settings": {"max_fps": 500}}, "settings.max_fps"),
    ({"enabled": True, "settings": {"max_fps": "fast"}}, "settings.max_fps"),
    ({"enabled": True, "settings": {"colour": "red"}}, "settings.colour"),
    ({"enabled": "yes"}, "enabled"),
    ({"enabled": True, "extra": 1}, "extra"),
])
def test_bad_settings_name_the_field_and_change_nothing(tenant, capability_plugin, body, field):
    before = _state(tenant)
    response = tenant.admin.put("/api/v1/plugins/spec-capabilities", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert _state(tenant) == before
    actions = [e["action"] for e in tenant.admin.get("/api/v1/audit-log").json()["items"]]
    assert "plugin.configured" not in actions


def test_settings_are_per_tenant(tenant_factory, capability_plugin):
    a, b = tenant_factory(), tenant_factory()
    a.admin.put("/api/v1/plugins/spec-capabilities", json={"enabled": True}).raise_for_status()
    assert _state(a)["enabled"] is True and _state(b)["enabled"] is False
    session_b = b.admin.post("/api/v1/sessions", json={}).json()
    assert "screen_share" not in session_b["capabilities"]
