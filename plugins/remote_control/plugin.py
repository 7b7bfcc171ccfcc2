"""The remote control plugin's hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from guidepath.core.plugin_api import ConsoleLink, PluginInfo, SessionPanel, hookimpl
from guidepath.relay.capability import RelayCapability
from guidepath.relay.hosting import settings_schema

if TYPE_CHECKING:  # pragma: no cover
    import click
    from flask import Blueprint

__version__ = "0.1.0"
NAME = "remote_control"
KIND = "remote_control"

PLUGIN = PluginInfo(
    name=NAME,
    version=__version__,
    description="Remote control: agents see and drive the customer's screen through the relay.",
    builtin=True,
    default_enabled=True,
    settings_schema=settings_schema(what="remote control", max_fps=15, max_width=1920, max_height=1080),
)


# The hooks every relay capability shares (see guidepath.relay.capability).
_relay = RelayCapability(NAME, KIND)
session_capabilities = _relay.session_capabilities
issue_relay_ticket = _relay.issue_relay_ticket
register_event_types = _relay.register_event_types
register_workers = _relay.register_workers


@hookimpl
def register_routes() -> list[Blueprint]:
    from .api import bp
    from .viewer import bp as viewer_bp

    return [bp, viewer_bp]


@hookimpl
def register_cli_commands(cli: click.Group) -> None:
    from guidepath.relay.cli import device_command, relay_command

    cli.add_command(relay_command, "relay")
    cli.add_command(device_command, "device")



@hookimpl
def session_panels(session: dict) -> list[SessionPanel] | None:
    """A button on the session's page opening the viewer (``/nexus``) in a new tab;
    once the session has ended, the same page plays its recordings."""
    href = f"/nexus/{session['id']}?kind={KIND}"
    if session["state"] == "ended":
        link = ConsoleLink(key="remote-control-recordings", label="Recordings", href=href, new_tab=True)
    elif KIND in session.get("capabilities", ()):
        link = ConsoleLink(key="remote-control-open", label="Open remote control", href=href, new_tab=True)
    else:
        return None
    return [SessionPanel(key="remote-control", title="Remote control", links=(link,), order=20)]
