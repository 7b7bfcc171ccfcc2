"""The diagnostics plugin's hooks: its route, its event, its capability and the worker
that stores what devices report over the relay."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guidepath.core.plugin_api import EventType, PluginInfo, hookimpl

from . import store
from .fields import FIELDS
from .store import EVENT, SOURCES

if TYPE_CHECKING:  # pragma: no cover
    from flask import Blueprint

    from guidepath.core.plugin_api import Kernel, TenantContext

__version__ = "0.1.0"
NAME = "diagnostics"
COLLECT = "diagnostics.collect"

PLUGIN = PluginInfo(
    name=NAME,
    version=__version__,
    description="Device diagnostics: manufacturer, model, OS, memory, processor, name and serial "
                "number reported by the customer's device, kept on the session's device.",
    builtin=True,
    default_enabled=True,
    settings_schema={"type": "object", "properties": {}, "additionalProperties": False},
)

EVENT_TYPES = [
    EventType(
        EVENT,
        {
            "type": "object",
            "properties": {
                "session_id": {"type": "string", "maxLength": 40},
                "device_id": {"type": "string", "maxLength": 40},
                "source": {"enum": list(SOURCES)},
                "changed": {"type": "array", "items": {"enum": FIELDS}, "uniqueItems": True},
            },
            "required": ["session_id", "device_id", "source", "changed"],
            "additionalProperties": False,
        },
        description="A device reported its diagnostics (over the relay: source 'device'; over "
                    "HTTPS: 'app'); changed lists the fields whose value changed.",
    ),
]


@hookimpl
def register_routes() -> list[Blueprint]:
    from .api import bp

    return [bp]


@hookimpl
def register_event_types() -> list[EventType]:
    return EVENT_TYPES


@hookimpl
def session_capabilities(session: dict[str, Any]) -> list[str]:
    return ["diagnostics"] if session["state"] != "ended" else []


@hookimpl
def register_workers(kernel: Kernel) -> list[Any]:
    from .worker import device_reports

    return [device_reports(kernel)]


@hookimpl(optionalhook=True)  # a Guided Paths hook: loads without Guided Paths
def perform_action(action: str, run: dict[str, Any], ctx: TenantContext) -> dict[str, Any] | None:
    """``diagnostics.collect``: the session's device report, flattened (its ``extra``
    keys beside the standard fields, so a path can test ``vars.diagnostics.battery_health``).

    A run without a session is left to the customer's app to report; a session whose
    device has not reported yet fails the step (``ok: false``: the path's ``on_error``).
    """
    if action != COLLECT or not run.get("session_id"):
        return None
    with ctx.engine.connect() as conn:
        report = store.view(conn, run["session_id"])
    if report["device_id"] is None:
        return {"ok": False, "result": {"reason": "the customer's device has not reported its diagnostics"}}
    fields = {name: report[name] for name in FIELDS if name != "extra" and report[name] is not None}
    return {"ok": True, "result": {**report["extra"], **fields, "device_id": report["device_id"]}}
