"""guidepath-inventory: an example plugin that replaces part of a built-in.

Guided Paths run ``action`` steps by asking plugins (the ``perform_action`` hook,
first answer wins). The built-in ``diagnostics`` plugin answers
``diagnostics.collect`` with what the customer's device reported over the relay.
An installation whose devices are managed elsewhere disables the built-in
(``GUIDEPATH_DISABLED_PLUGINS=diagnostics``) and installs this plugin instead: it
answers the same action from the account's device inventory — the device records
the company's own systems keep current through ``/api/v1/devices`` — so every
published Guided Path keeps working unchanged.

It imports only ``guidepath.core.plugin_api``, the stable partner module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guidepath.core.plugin_api import DEVICES, PluginInfo, hookimpl, support_sessions

if TYPE_CHECKING:  # pragma: no cover
    from guidepath.core.plugin_api import TenantContext

__version__ = "1.0.0"

ACTION = "diagnostics.collect"

#: The device fields a path may test (``vars.diagnostics.os_version``…).
FIELDS = ("manufacturer", "brand", "model", "os_name", "os_version", "memory_bytes",
          "processor", "device_name", "serial_number")

#: A Guided Path using the action, to try the plugin with (``POST /api/v1/guided-paths``):
#: it stores the device's fields in ``diagnostics`` and resolves, or escalates when
#: the inventory cannot answer.
SAMPLE_PATH = {
    "schema_version": 1, "id": "check-device", "title": "Check the device",
    "variables": {"diagnostics": {"type": "object", "default": {}}},
    "start": "collect",
    "steps": {
        "collect": {"type": "action", "action": ACTION, "input": {},
                    "store_as": "diagnostics", "next": "done", "on_error": "unknown"},
        "done": {"type": "end", "outcome": "resolved"},
        "unknown": {"type": "end", "outcome": "escalate"},
    },
}

PLUGIN = PluginInfo(
    name="inventory",
    version=__version__,
    description="Answers the Guided Path action diagnostics.collect from the account's device "
                "inventory (for installations that disable the built-in diagnostics plugin).",
    settings_schema={
        "type": "object",
        "properties": {
            "require_serial_number": {
                "type": "boolean", "default": False,
                "description": "Fail the action (the path's on_error) for a device with no serial number.",
            },
        },
        "additionalProperties": False,
    },
    default_enabled=True,
)


# optionalhook: perform_action is a Guided Paths hook; the plugin still loads (and
# does nothing) on an installation without Guided Paths.
@hookimpl(optionalhook=True)
def perform_action(action: str, run: dict[str, Any], ctx: TenantContext) -> dict[str, Any] | None:
    if action != ACTION or not run.get("session_id"):
        return None  # not ours: another plugin, or the customer's app, may answer
    with ctx.engine.connect() as conn:
        session = support_sessions.get(conn, run["session_id"])
        device = DEVICES.get(conn, session["device_id"]) if session.get("device_id") else None
    if device is None:
        return {"ok": False, "result": {"reason": "the session has no device in the inventory"}}
    if ctx.settings(PLUGIN.name)["require_serial_number"] and not device.get("serial_number"):
        return {"ok": False, "result": {"reason": "the device has no serial number in the inventory"}}
    known = {name: device[name] for name in FIELDS if device.get(name) is not None}
    return {"ok": True, "result": {**(device.get("extra") or {}), **known,
                                   "device_id": device["id"], "source": "inventory"}}
