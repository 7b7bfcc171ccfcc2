"""The camera sharing plugin's hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guidepath.core.events import EventType
from guidepath.core.plugins import PluginInfo, hookimpl
from guidepath.relay.hosting import event_types, grant_for_plugin, report_workers, settings_schema

if TYPE_CHECKING:  # pragma: no cover
    from guidepath.core.kernel import Kernel
    from guidepath.core.tenancy.context import TenantContext
    from guidepath.core.tenancy.directory import Tenant

__version__ = "0.1.0"
NAME = "camera_share"
KIND = "camera"

PLUGIN = PluginInfo(
    name=NAME,
    version=__version__,
    description="Camera sharing: agents see the customer's camera through the relay.",
    builtin=True,
    default_enabled=True,
    settings_schema=settings_schema(what="camera", max_fps=15, max_width=1280, max_height=720),
)


@hookimpl
def session_capabilities(session: dict[str, Any]) -> list[str]:
    return [KIND] if session["state"] != "ended" else []


@hookimpl
def issue_relay_ticket(tenant: Tenant, session: dict[str, Any], kind: str, role: str,
                       ctx: TenantContext) -> dict[str, Any] | None:
    if kind != KIND:
        return None
    return grant_for_plugin(NAME, tenant, session, kind, role, ctx)


@hookimpl
def register_event_types() -> list[EventType]:
    return event_types()


@hookimpl
def register_workers(kernel: Kernel) -> list[Any]:
    return report_workers(kernel, NAME, KIND)
