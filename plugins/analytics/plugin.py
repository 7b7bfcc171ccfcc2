"""The analytics plugin: its declaration and its hooks.

* ``register_migrations``, ``register_routes`` (the API and the dashboard);
* ``handle_event``: the ETL (:func:`.etl.apply`) in one transaction per event;
* ``register_cli_commands``: ``guidepath analytics rebuild``;
* ``console_menu``: the admin menu's "Analytics".
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from guidepath.core.plugin_api import ConsoleLink, PluginInfo, hookimpl

from . import etl

if TYPE_CHECKING:  # pragma: no cover
    import click
    from flask import Blueprint

    from guidepath.core.plugin_api import Event, TenantContext

__version__ = "0.1.0"
NAME = "analytics"

PLUGIN = PluginInfo(
    name=NAME,
    version=__version__,
    description="Analytics: sessions, wait and handle times, agents, Guided Path funnels and relay use, "
                "updated as events arrive.",
    builtin=True,
    default_enabled=True,
)

ADMIN_LINK = ConsoleLink(key="analytics", label="Analytics", href="/admin/analytics", section="admin", order=55)


@hookimpl
def register_migrations() -> list[str]:
    return [str(Path(__file__).parent / "migrations")]


@hookimpl
def register_routes() -> list[Blueprint]:
    from .api import bp
    from .pages import bp as pages

    return [bp, pages]


@hookimpl
def handle_event(event: Event, ctx: TenantContext) -> None:
    if not etl.wanted(event):
        return
    with ctx.begin() as conn:
        etl.apply(conn, event)


@hookimpl
def register_cli_commands(cli: click.Group) -> None:
    from .cli import analytics_group

    cli.add_command(analytics_group)


@hookimpl
def console_menu(principal: dict[str, Any]) -> list[ConsoleLink]:
    return [ADMIN_LINK] if principal.get("role") == "admin" else []
