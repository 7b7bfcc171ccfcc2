"""The webhooks plugin: its declaration and its hooks.

* ``register_migrations``, ``register_routes`` (the API and the admin page),
  ``register_event_types`` (``webhook.subscription_disabled``);
* ``handle_event``: a pending delivery for each enabled subscription of the
  tenant whose patterns match (idempotent by subscription and event id: the
  dispatcher delivers at least once), then a nudge to this process's worker;
* ``register_workers``: the delivery worker (:mod:`.worker`);
* ``register_cli_commands``: ``guidepath worker webhooks``, the same worker as a
  process of its own;
* ``console_menu``: the admin menu's "Webhooks".
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from guidepath.core.plugin_api import ConsoleLink, EventType, PluginInfo, hookimpl

from . import store
from .options import state_for
from .worker import DISABLED_EVENT, DeliveryWorker

if TYPE_CHECKING:  # pragma: no cover
    import click
    from flask import Blueprint

    from guidepath.core.plugin_api import Event, Kernel, TenantContext

__version__ = "0.1.0"
NAME = "webhooks"

PLUGIN = PluginInfo(
    name=NAME,
    version=__version__,
    description="Webhooks: admins subscribe HTTPS endpoints to the account's events (Standard Webhooks).",
    builtin=True,
    default_enabled=True,
)

ADMIN_LINK = ConsoleLink(key="webhooks", label="Webhooks", href="/admin/webhooks", section="admin", order=60)


@hookimpl
def register_migrations() -> list[str]:
    return [str(Path(__file__).parent / "migrations")]


@hookimpl
def register_routes() -> list[Blueprint]:
    from .api import bp
    from .pages import bp as pages

    return [bp, pages]


@hookimpl
def register_event_types() -> list[EventType]:
    return [EventType(
        DISABLED_EVENT,
        {
            "type": "object",
            "properties": {
                "subscription_id": {"type": "string", "maxLength": 40},
                "reason": {"type": "string", "enum": ["gone", "failing"]},
            },
            "required": ["subscription_id", "reason"],
            "additionalProperties": False,
        },
        description="A webhook subscription was switched off by the delivery worker: its endpoint answered "
                    "410 Gone ('gone'), or every delivery failed for days ('failing'). Also in the audit log.",
    )]


@hookimpl
def handle_event(event: Event, ctx: TenantContext) -> None:
    with ctx.begin() as conn:
        subscriptions = store.matching_subscriptions(conn, event.type)
        if not subscriptions:
            return
        added = store.record_event(conn, event.id, event.type, event.to_json(), subscriptions)
    if added:
        state_for(ctx.kernel).nudge(ctx.id)


@hookimpl
def register_workers(kernel: Kernel) -> list[Any]:
    return [DeliveryWorker(kernel)]


@hookimpl
def register_cli_commands(cli: click.Group) -> None:
    from .cli import add_commands

    add_commands(cli)


@hookimpl
def console_menu(principal: dict[str, Any]) -> list[ConsoleLink]:
    return [ADMIN_LINK] if principal.get("role") == "admin" else []
