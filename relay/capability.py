"""The hooks of a plugin that offers one relay capability to agents.

``remote_control`` and ``camera_share`` are the same plugin with a different
``kind`` (and settings defaults): each adds its capability to live sessions,
grants relay tickets of its kind, declares the relay's events and runs a worker
turning the relay's reports of its kind into events. Plugins never import each
other, so the common hooks live here, beside the hosting they use, as an object
whose methods are the ``@hookimpl`` functions; each plugin module binds them::

    _hooks = RelayCapability(NAME, KIND)
    session_capabilities = _hooks.session_capabilities
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guidepath.core.plugins import hookimpl

from .hosting import event_types, grant_for_plugin, report_workers

if TYPE_CHECKING:  # pragma: no cover
    from guidepath.core.events import EventType


class RelayCapability:
    """The hook implementations of the relay plugin ``plugin_name`` for ``kind``."""

    def __init__(self, plugin_name: str, kind: str) -> None:
        self.plugin_name = plugin_name
        self.kind = kind

    @hookimpl
    def session_capabilities(self, session: dict[str, Any]) -> list[str]:
        return [self.kind] if session["state"] != "ended" else []

    @hookimpl
    def issue_relay_ticket(self, tenant: Any, session: dict[str, Any], kind: str, role: str,
                           ctx: Any) -> dict[str, Any] | None:
        if kind != self.kind:
            return None
        return grant_for_plugin(self.plugin_name, tenant, session, kind, role, ctx)

    @hookimpl
    def register_event_types(self) -> list[EventType]:
        return event_types()

    @hookimpl
    def register_workers(self, kernel: Any) -> list[Any]:
        return report_workers(kernel, self.plugin_name, self.kind)
