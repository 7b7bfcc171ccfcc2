"""Guided Paths as a guidepath plugin: tables, routes, events, CLI, step types.

Registered through the ``guidepath.plugins`` entry-point group like any partner's
plugin (``guided_paths = "guidepath.guided_paths.plugin"``); nothing in the kernel
knows it exists. A deployment can replace it by skipping it
(``GUIDEPATH_DISABLED_PLUGINS=guided_paths``) and installing its own.

Step types come from the built-ins plus every plugin's ``register_step_types``.
The registry is built per kernel (there is no module-global one: two apps in one
process never share step types) and per set of disabled plugins, so a tenant that
disabled a plugin cannot publish paths using that plugin's step types::

    registry = tenant_registry(ctx)          # in a request or a hook
    registry = registry_for(kernel)          # every installed plugin (CLI, tests)
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from guidepath.core.plugin_api import ConsoleLink, EventType, PluginError, PluginInfo, SessionPanel, hookimpl

from .hooks import PathHooks
from .sansio.step_types import BUILTIN_OWNER, DuplicateStepTypeError, StepTypeRegistry
from .sansio.validation import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:  # pragma: no cover
    import click
    from flask import Blueprint, Flask

    from guidepath.core.plugin_api import Kernel, PluginManager, Tenant, TenantContext

__version__ = "0.1.0"

log = logging.getLogger("guidepath.guided_paths")

NAME = BUILTIN_OWNER  # "guided_paths"

PLUGIN = PluginInfo(
    name=NAME,
    version=__version__,
    description="Guided Paths: step-by-step troubleshooting flows, their versions and runs.",
    builtin=True,
    default_enabled=True,
    settings_schema={
        "type": "object",
        "properties": {
            "max_document_bytes": {
                "type": "integer", "minimum": 1024, "maximum": DEFAULT_LIMITS.max_document_bytes,
                "default": DEFAULT_LIMITS.max_document_bytes,
                "description": "Largest Guided Path document (UTF-8 JSON) that may be saved.",
            },
            "allow_self_service": {
                "type": "boolean", "default": True,
                "description": "Whether customers may run published paths on their own (mode self_service).",
            },
            "max_media_bytes": {
                "type": "integer", "minimum": 1024, "maximum": 100 * 1024 * 1024,
                "default": 20 * 1024 * 1024,
                "description": "Largest Guided Path media file (image or video) an admin may upload.",
            },
            "handover_on_escalate": {
                "type": "boolean", "default": True,
                "description": "Whether a self-service run that ends with outcome 'escalate' is handed "
                               "over to the agents' queue (a waiting support session) at once.",
            },
        },
        "additionalProperties": False,
    },
)


# -- settings and step types ----------------------------------------------------


def settings(ctx: TenantContext) -> dict[str, Any]:
    """This tenant's settings of the plugin, defaults filled in."""
    return ctx.settings(NAME)


def limits_for(ctx: TenantContext) -> Limits:
    return replace(DEFAULT_LIMITS, max_document_bytes=settings(ctx)["max_document_bytes"])


_registries_lock = threading.Lock()
EXTENSION = "guidepath.guided_paths.step_types"


def registry_for(kernel: Kernel, disabled: Iterable[str] = ()) -> StepTypeRegistry:
    """The step types of ``kernel``'s plugins, leaving out ``disabled`` ones.

    Cached in ``kernel.extensions``, per plugin generation (registering a plugin
    for one test rebuilds it) and per disabled set. A plugin whose hook raises is
    logged by the plugin manager and left out; two plugins registering one name
    is a :class:`PluginError` naming both.
    """
    key = (kernel.plugins.generation, frozenset(disabled))
    with _registries_lock:
        cached = kernel.extensions.get(EXTENSION, {}).get(key)
    if cached is not None:
        return cached
    registry = StepTypeRegistry.with_builtins()
    for plugin_name, step_types in PathHooks(kernel.plugins.for_tenant(key[1])).step_types():
        if not isinstance(step_types, (list, tuple)):
            raise PluginError(plugin_name, "register_step_types must return a list of StepType")
        for step_type in step_types:
            try:
                registry.register(step_type, owner=plugin_name)
            except (DuplicateStepTypeError, TypeError) as exc:
                raise PluginError(plugin_name, str(exc)) from None
    with _registries_lock:
        current = {k: v for k, v in kernel.extensions.get(EXTENSION, {}).items() if k[0] == key[0]}
        current[key] = registry
        kernel.extensions[EXTENSION] = current
    return registry


def tenant_registry(ctx: TenantContext) -> StepTypeRegistry:
    """The step types of the plugins enabled for ``ctx``'s tenant."""
    disabled = [name for name, state in ctx.plugin_states().items() if not state.enabled]
    return registry_for(ctx.kernel, disabled)


def tenant_apps(ctx: TenantContext) -> dict[str, dict[str, Any]]:
    """``{app_id: app}``: the Guided Path Apps the tenant's enabled plugins allow
    (the ``list_guided_path_apps`` hook; the first plugin listing an id wins).

    Call it before opening a transaction: plugins read their own tables on their
    own connection, which on SQLite would wait for the transaction's write lock.
    Nothing listed (no such plugin enabled) means no app may be used."""
    apps: dict[str, dict[str, Any]] = {}
    for plugin_name, listed in PathHooks(ctx.hooks).guided_path_apps(ctx.tenant, ctx):
        if not isinstance(listed, (list, tuple)):
            log.error("list_guided_path_apps must return a list", extra={"plugin": plugin_name})
            continue
        for app in listed:
            if isinstance(app, dict) and isinstance(app.get("app_id"), str):
                apps.setdefault(app["app_id"], {**app, "provider": plugin_name})
    return apps


# -- events -----------------------------------------------------------------------


def _id(prefix: str) -> dict[str, Any]:
    return {"type": "string", "pattern": f"^{prefix}_[0-9a-z]{{26}}$"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": sorted(properties),
        "additionalProperties": False,
    }


_KEY = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"}
_STEP_ID = {"type": "string", "pattern": "^[a-z0-9_][a-z0-9_-]{0,62}$"}
_RUN = {"run_id": _id("run"), "path_id": _id("gp"), "version": {"type": "integer", "minimum": 1}}
OUTCOMES = ["resolved", "unresolved", "escalate"]

# Ids, states and outcomes only: no answers, variables or texts, which may hold
# what a customer typed. Consumers fetch the run through the API if they need more.
EVENT_TYPES = [
    EventType(
        "run.started",
        _object({**_RUN, "path_key": _KEY, "session_id": _nullable(_id("ses")),
                 "customer_id": _nullable(_id("cus")), "mode": {"enum": ["self_service", "agent"]}}),
        description="A Guided Path run started on a published version.",
    ),
    EventType(
        "run.step_completed",
        _object({**_RUN, "session_id": _nullable(_id("ses")), "seq": {"type": "integer", "minimum": 0},
                 "step_id": _STEP_ID,
                 "step_path_key": _KEY, "step_type": {"type": "string", "maxLength": 131},
                 "event": {"enum": ["answered", "completed"]}}),
        description="A run got past a step: an answer, an acknowledged message, an action's or an "
                    "app's result, a decision taken, an end reached (the value itself is not in the "
                    "event). step_path_key is the path owning the step: the run's own or a subpath's; "
                    "session_id the support session the run belongs to (null for a self-service run "
                    "not handed over), which puts the event in that session's timeline.",
    ),
    EventType(
        "run.action_requested",
        _object({**_RUN, "step_id": _STEP_ID, "action": {"type": "string", "maxLength": 131},
                 "session_id": _nullable(_id("ses"))}),
        description="A run waits for an action (diagnostics.collect, remote_control.request, a plugin's "
                    "non-interactive step type…). The plugin that does it reads the run's view for the "
                    "input and reports with POST /api/v1/runs/{run_id}/actions/{step_id}.",
    ),
    EventType(
        "run.completed",
        _object({**_RUN, "session_id": _nullable(_id("ses")), "status": {"enum": ["completed", "abandoned"]},
                 "outcome": _nullable({"enum": OUTCOMES}),
                 "steps": {"type": "integer", "minimum": 0},
                 "duration_ms": {"type": "integer", "minimum": 0}}),
        description="A run ended: completed at an end step with its outcome, or abandoned (outcome null).",
    ),
    EventType(
        "run.handed_over",
        _object({**_RUN, "session_id": _id("ses")}),
        description="A run was handed over to the agents: a support session in state 'waiting' has it attached.",
    ),
    EventType(
        "guided_path.published",
        _object({"path_id": _id("gp"), "path_key": _KEY, "version": {"type": "integer", "minimum": 1}}),
        description="A draft was published as a new immutable version.",
    ),
]


# -- hooks ------------------------------------------------------------------------


@hookimpl
def register_hookspecs(pluginmanager: PluginManager) -> None:
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def register_migrations() -> list[str]:
    return [str(Path(__file__).parent / "migrations")]


@hookimpl
def register_event_types() -> list[EventType]:
    return list(EVENT_TYPES)


@hookimpl
def register_routes() -> list[Blueprint]:
    from .api.documents import bp as documents
    from .api.media import bp as media
    from .api.runs import bp as runs
    from .admin_pages import bp as admin_pages
    from .run_page import bp as pages

    return [documents, runs, media, pages, admin_pages]


@hookimpl
def register_cli_commands(cli: click.Group) -> None:
    from .cli import paths

    cli.add_command(paths)


@hookimpl
def app_started(app: Flask) -> None:
    # Build the full registry now so a duplicate step type is logged at start-up,
    # naming both plugins, rather than on the first request that needs it.
    kernel = app.extensions["guidepath"]
    app.extensions["guided_paths.step_types"] = registry_for(kernel)


@hookimpl
def seed_demo(tenant: Tenant, ctx: TenantContext) -> None:
    from .demo import seed_demo_paths

    seed_demo_paths(ctx)


# -- the console --------------------------------------------------------------------

#: The admin menu's item for the Guided Path pages (admin_pages.py).
ADMIN_LINK = ConsoleLink(key="guided-paths", label="Guided Paths", href="/admin/guided-paths", section="admin",
                         order=40)
#: The runner on a session's page (static/runner-panel.js).
RUNNER_PANEL = SessionPanel(key="guided-path", title="Guided Path", module="/guided-paths/assets/runner-panel.js",
                            wide=True, order=10)


@hookimpl
def console_menu(principal: dict[str, Any]) -> list[ConsoleLink]:
    return [ADMIN_LINK] if principal.get("role") == "admin" else []


@hookimpl
def session_panels(session: dict[str, Any]) -> list[SessionPanel]:
    return [RUNNER_PANEL]
