"""The camera sharing plugin's hooks."""

from __future__ import annotations

from guidepath.core.plugin_api import ConsoleLink, PluginInfo, SessionPanel, hookimpl
from guidepath.relay.capability import RelayCapability
from guidepath.relay.hosting import settings_schema

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


# The hooks every relay capability shares (see guidepath.relay.capability).
_relay = RelayCapability(NAME, KIND)
session_capabilities = _relay.session_capabilities
issue_relay_ticket = _relay.issue_relay_ticket
register_event_types = _relay.register_event_types
register_workers = _relay.register_workers



@hookimpl
def session_panels(session: dict) -> list[SessionPanel] | None:
    """A button on a live session's page opening the camera viewer in a new tab."""
    if session["state"] == "ended" or KIND not in session.get("capabilities", ()):
        return None
    link = ConsoleLink(key="camera-open", label="View camera", href=f"/nexus/{session['id']}?kind={KIND}",
                       new_tab=True)
    return [SessionPanel(key="camera", title="Camera", links=(link,), order=30)]
