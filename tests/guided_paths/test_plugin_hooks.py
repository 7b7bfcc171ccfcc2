"""Guided Paths as a plugin: found through its entry point, its event types and
routes documented, and step types gathered from every plugin per kernel."""

from __future__ import annotations

import pytest

from guidepath.core.plugins import PluginError, PluginInfo, hookimpl
from guidepath.guided_paths import plugin
from guidepath.guided_paths.sansio.step_types import StepType




def step_type(name: str) -> StepType:
    return StepType(name=name, config_schema={"type": "object"}, description="test")


class Reboot:
    PLUGIN = PluginInfo(name="test-reboot")

    @hookimpl
    def register_step_types(self):
        return [step_type("acme.reboot")]


class AlsoReboot:
    PLUGIN = PluginInfo(name="test-also-reboot")

    @hookimpl
    def register_step_types(self):
        return [step_type("acme.reboot")]


class Broken:
    PLUGIN = PluginInfo(name="test-broken-steps")

    @hookimpl
    def register_step_types(self):
        raise RuntimeError("boom")


def test_loaded_from_the_entry_point_as_a_builtin(guidepath_kernel):
    info = guidepath_kernel.plugins.info("guided_paths")
    assert info.builtin and info.default_enabled
    assert info.default_settings() == {"max_document_bytes": 2 * 1024 * 1024, "allow_self_service": True,
                                       "max_media_bytes": 20 * 1024 * 1024,
                                       "handover_on_escalate": True}
    assert plugin.register_migrations()[0] in guidepath_kernel.tenant_migrations


def test_registry_per_kernel_follows_registered_plugins(guidepath_kernel, register_plugin):
    base = plugin.registry_for(guidepath_kernel)
    assert plugin.registry_for(guidepath_kernel) is base  # cached
    assert "acme.reboot" not in base and "question" in base
    register_plugin(Reboot())
    register_plugin(Broken())  # logged by the plugin manager and left out
    with_plugin = plugin.registry_for(guidepath_kernel)
    assert "acme.reboot" in with_plugin and with_plugin.owner("acme.reboot") == "test-reboot"
    assert "acme.reboot" not in plugin.registry_for(guidepath_kernel, ["test-reboot"])


def test_duplicate_step_types_name_both_plugins(guidepath_kernel, register_plugin):
    register_plugin(Reboot())
    register_plugin(AlsoReboot())
    with pytest.raises(PluginError) as refused:
        plugin.registry_for(guidepath_kernel)
    message = str(refused.value)
    assert "test-reboot" in message and "test-also-reboot" in message and "acme.reboot" in message


def test_event_types_are_published(tenant):
    types = {t["name"]: t for t in tenant.admin.get("/api/v1/events/types").json()["items"]}
    for name in ("run.started", "run.step_completed", "run.action_requested", "run.completed",
                 "run.handed_over", "guided_path.published"):
        assert name in types, name
        assert types[name]["schema"]["additionalProperties"] is False


def test_every_route_is_documented(tenant):
    document = tenant.client().get("/api/openapi.json").json()
    ours = {path: item for path, item in document["paths"].items()
            if path.startswith(("/api/v1/guided-paths", "/api/v1/runs"))}
    assert len(ours) >= 15
    for path, item in ours.items():
        for method, operation in item.items():
            assert operation["summary"] and operation["summary"] != "(undocumented)", (method, path)
    assert "requestBody" in ours["/api/v1/runs/{run_id}/answers"]["post"]


def test_listed_in_the_plugins_api(tenant):
    listed = tenant.admin.get("/api/v1/plugins").json()
    items = listed["items"] if isinstance(listed, dict) else listed
    guided = next(p for p in items if p["name"] == "guided_paths")
    assert guided["enabled"] is True
