"""The Guided Path Apps plugin: its settings, table, routes and its answer to the
``list_guided_path_apps`` hook (the tenant's allowlist, read by Guided Paths).

Why a table of its own rather than plugin settings: apps are objects admins add
and remove one at a time (``POST``/``PUT``/``PATCH``/``DELETE`` with ids, as every
other object of the API), their URLs and schemas need checks a settings schema
cannot express (a valid JSON Schema, an HTTPS origin), and publishing must see a
change at once, not after the two-second settings cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from guidepath.core.plugin_api import PluginInfo, hookimpl

from . import registry
from .origins import usable_problem

if TYPE_CHECKING:  # pragma: no cover
    from flask import Blueprint

    from guidepath.core.plugin_api import TenantContext

__version__ = "0.1.0"
NAME = "guided_path_apps"

PLUGIN = PluginInfo(
    name=NAME,
    version=__version__,
    description="Guided Path Apps: the allowlist of external apps that Guided Path app steps embed.",
    builtin=True,
    default_enabled=True,
    settings_schema={
        "type": "object",
        "properties": {
            "allow_loopback_http": {
                "type": "boolean", "default": False,
                "description": "Accept plain http:// app URLs on loopback hosts (localhost, 127.0.0.1): "
                               "for development and tests only. Apps elsewhere always need https://.",
            },
        },
        "additionalProperties": False,
    },
)


def allow_loopback_http(ctx: TenantContext) -> bool:
    return bool(ctx.settings(NAME)["allow_loopback_http"])


@hookimpl
def register_migrations() -> list[str]:
    return [str(Path(__file__).parent / "migrations")]


@hookimpl
def register_routes() -> list[Blueprint]:
    from .api import bp

    return [bp]


@hookimpl(optionalhook=True)  # a Guided Paths hook: loads without Guided Paths
def list_guided_path_apps(ctx: TenantContext) -> list[dict[str, Any]]:
    loopback = allow_loopback_http(ctx)
    with ctx.engine.connect() as conn:
        rows = registry.all_apps(conn)
    apps = []
    for row in rows:
        app = {"app_id": row.key, "title": row.title, "url": row.url, "origin": row.origin,
               "input_schema": row.input_schema, "output_schema": row.output_schema}
        problem = usable_problem(row.url, allow_loopback_http=loopback)
        if problem:
            app["error"] = problem
        apps.append(app)
    return apps
