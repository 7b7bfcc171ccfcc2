"""The hook contract between guidepath's kernel and its plugins.

This module is the single source of truth: every hook is documented here and in a
section of ``docs/plugins.md`` (a test fails when one is missing). Hooks are grouped
by when they are called. Unless a hook says otherwise it is called **for one
tenant** and reaches only the plugins enabled for that tenant; a plugin that raises
is logged with its name and skipped, so it cannot take the request or the event
pipeline down.

Implement a hook with ``@hookimpl`` from :mod:`guidepath.core.plugins`; your
function may take any subset of the arguments listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .plugins.markers import _hookspec as hookspec

if TYPE_CHECKING:  # pragma: no cover
    import click
    from flask import Blueprint, Flask

    from .events.envelope import Event
    from .events.registry import EventType
    from .kernel import Kernel
    from .tenancy.context import TenantContext
    from .tenancy.directory import Tenant


# ---------------------------------------------------------------------------
# Start-up: called once per application, for every installed plugin
# (enabled or not for any tenant), in registration order reversed.
# ---------------------------------------------------------------------------


@hookspec
def register_routes() -> list[Blueprint]:
    """Return Flask blueprints to mount on the application.

    Called once at start-up. Routes are registered for all tenants; a request to
    a route of a plugin that is disabled for the request's tenant answers 404, so
    your view code never runs for such a tenant.
    """


@hookspec
def register_event_types() -> list[EventType]:
    """Return the event types this plugin emits, each with its JSON Schema.

    Called once at start-up. Names must be unique across all plugins (a duplicate
    stops start-up with both plugins named). Emitted events are validated against
    the schema; the types appear in ``GET /api/v1/events/types``.
    """


@hookspec
def register_cli_commands(cli: click.Group) -> None:
    """Add commands to the ``guidepath`` command line.

    Called once when the CLI starts. Add a ``click`` command or group to ``cli``.
    """


@hookspec
def register_migrations() -> list[str]:
    """Return folders of Alembic revisions for this plugin's tenant tables.

    Called once at start-up. Each folder holds revisions on the plugin's own
    branch (``branch_labels = ("my_plugin",)``, the first with ``depends_on`` the
    kernel's ``"0001_tenant"``); ``guidepath db upgrade`` and tenant creation
    apply them to every tenant schema (or embedded file) with the kernel's own.
    Tables are defined on ``guidepath.core.db.metadata.tenant_metadata``.
    """


@hookspec
def register_step_types() -> list[Any]:
    """Return Guided Path step types this plugin adds.

    Called once at start-up by the Guided Paths package. Each item is a
    ``guidepath.guided_paths.step_types.StepType`` (name, JSON Schema of the step's
    config, whether it waits for an answer and the answer's schema). Names must be
    unique across plugins; a document using the type is validated against its
    config schema at save and publish time.
    """


@hookspec
def app_started(app: Flask) -> None:
    """The web application has been built; called once per app instance.

    Use it to read configuration or warm caches. Do not start threads that outlive
    the app; the kernel owns the background workers (see ``register_workers``).
    """


@hookspec
def register_workers(kernel: Kernel) -> list[Any]:
    """Return background workers the kernel should run beside its own.

    Called once per kernel when it starts its workers (``guidepath run`` and every
    app built with ``start_workers=True``; not by one-off CLI commands). Each item
    has ``start()`` and ``stop()``; the kernel starts them after its event workers
    and stops them, in reverse order, before it closes its backends. A worker acts
    for many tenants: for one tenant's database, cache or files use
    ``kernel.context(tenant)``. ``start()`` must return quickly (start a thread);
    a worker whose ``start()`` raises is logged with the plugin's name and skipped.
    """


# ---------------------------------------------------------------------------
# Tenant lifecycle: called for one tenant.
# ---------------------------------------------------------------------------


@hookspec
def tenant_created(tenant: Tenant, ctx: TenantContext) -> None:
    """A tenant was provisioned (its schema, role, key and files exist).

    Called for the plugins enabled by default. Seed per-tenant data here through
    ``ctx`` (``with ctx.begin() as conn: …``, ``ctx.cache``, ``ctx.files``).
    """


@hookspec
def seed_demo(tenant: Tenant, ctx: TenantContext) -> None:
    """Add this plugin's demo content to a freshly made demo tenant.

    Called by ``guidepath run --demo`` (``make run``) once, when it creates the demo
    tenant, after the kernel's demo users, customers and sessions exist. Only
    for plugins enabled for the demo tenant.
    """


@hookspec
def plugin_settings_changed(
    tenant: Tenant, plugin_name: str, enabled: bool, settings: dict[str, Any], ctx: TenantContext
) -> None:
    """An admin enabled, disabled or configured a plugin for ``tenant``.

    Called after the change is committed and already validated against the
    plugin's settings schema. Called for every plugin enabled for the tenant after
    the change, plus the plugin that was just disabled (last, on its own).
    """


# ---------------------------------------------------------------------------
# Support sessions and events: called for one tenant.
# ---------------------------------------------------------------------------


@hookspec
def session_capabilities(tenant: Tenant, session: dict[str, Any]) -> list[str]:
    """Return the capabilities this plugin adds to a support session.

    Called when a session is shown to an agent. Return a list of short names such
    as ``["remote_control"]``; the agent UI offers a button for each. The results
    of all enabled plugins are merged, duplicates removed, order kept.
    """


@hookspec
def list_guided_path_apps(tenant: Tenant, ctx: TenantContext) -> list[dict[str, Any]]:
    """Return the Guided Path Apps registered for ``tenant`` (its allowlist).

    Called for one tenant by the Guided Paths package when it validates a
    document (``app`` steps must name a listed app) and when a run shows or
    completes an ``app`` step. Each item is a dict with ``app_id``, ``title``,
    ``url``, ``origin``, ``input_schema`` and ``output_schema`` (JSON Schemas),
    and optionally ``error``: a message saying why the listed app may not be
    used now. When two plugins list the same ``app_id`` the first one called
    wins. No plugin enabled for the tenant means no app may be used.
    """


@hookspec
def perform_action(
    tenant: Tenant, action: str, action_input: Any, run: dict[str, Any], ctx: TenantContext
) -> dict[str, Any] | None:
    """Do what a Guided Path ``action`` step asks, if this plugin can, right away.

    Called by Guided Paths after a request left a run waiting on an action step
    (the transaction has committed), once per action step reached. ``action`` is the
    step's action name (``diagnostics.collect``…), ``action_input`` its evaluated
    input, ``run`` the run as the API shows it (``id``, ``session_id``, ``mode``,
    ``variables``…). Return ``None`` unless you handle ``action`` (the run then
    waits for ``POST /api/v1/runs/{id}/actions/{step_id}``); otherwise
    ``{"ok": bool, "result": {…}}``: the result lands in the step's ``store_as``
    variable, and ``ok: false`` continues at the step's ``on_error``. The first
    plugin that answers wins. Must not block for long: it runs in the request.
    """


@hookspec
def issue_relay_ticket(
    tenant: Tenant, session: dict[str, Any], kind: str, role: str, principal: dict[str, Any],
    ctx: TenantContext,
) -> dict[str, Any] | None:
    """Grant a relay connection (remote control, camera) for a support session.

    Called by ``POST /api/v1/sessions/{id}/relay-tickets`` after the kernel has
    checked the body, that the session exists and is not ended, and that
    ``principal`` may take ``role`` (``"viewer"``: an agent or admin; ``"device"``:
    any authenticated caller of the tenant, e.g. the consumer app's backend).
    Return ``None`` unless you handle ``kind``; otherwise the response body: at
    least ``relay`` (addresses), ``ticket`` (opaque token), ``key`` (base64url of the
    256-bit connection key), ``connection_id`` and ``expires_at``. The first
    plugin that answers wins; if none does (no enabled plugin handles ``kind``)
    the caller gets a 404. Raise a ``DomainError`` for a refusal with a reason.
    """


@hookspec
def handle_event(tenant: Tenant, event: Event, ctx: TenantContext) -> None:
    """An event of ``tenant`` was published on the bus.

    Called by the kernel's event dispatcher, at least once per event (use
    ``event.id`` to de-duplicate). ``ctx`` gives the tenant's database, cache and
    files. An exception is logged with the plugin name and the event is retried
    later; it never blocks other plugins.
    """
