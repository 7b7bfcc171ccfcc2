"""The hook contract between guidepath's kernel and its plugins.

Each spec's docstring *is* the hook's documentation: ``make docs`` (``python -m
guidepath.core.plugins.reference``) renders them, under this module's banner
comments, into the Hook reference of ``docs/plugins.md``, and a test fails when
that text is stale or a hook has no docstring. The docstrings are therefore
Markdown: a one-sentence summary, then **When**, **Arguments** and **Returns**
paragraphs and an example implementing the hook, importing from
``guidepath.core.plugin_api`` only.

Unless a hook says otherwise it is called **for one tenant** and reaches only the
plugins enabled for that tenant. A plugin that raises is logged with its name and
skipped, so the plugins after it still answer; what the caller then does (carry
on, retry an event, stop start-up) is in each hook's **Returns**.

Plugins implement these hooks with ``@hookimpl`` from
:mod:`guidepath.core.plugin_api`; a function may take any subset of the arguments.
A feature adds hooks of its own through ``register_hookspecs`` (Guided Paths:
``guidepath.guided_paths.hookspecs``); the kernel never needs its vocabulary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .plugins.markers import _hookspec as hookspec

if TYPE_CHECKING:  # pragma: no cover
    import click
    from flask import Blueprint, Flask

    from .console.records import ConsoleLink, SessionPanel
    from .events.envelope import Event
    from .events.registry import EventType
    from .kernel import Kernel
    from .plugins.manager import PluginManager
    from .tenancy.context import TenantContext
    from .tenancy.directory import Tenant


# ---------------------------------------------------------------------------
# Start-up: called once per application, for every installed plugin
# (enabled or not for any tenant), in registration order reversed.
# ---------------------------------------------------------------------------


@hookspec(historic=True)
def register_hookspecs(pluginmanager: PluginManager) -> None:
    """Add the hook specifications of a feature this plugin provides.

    **When**: once for every installed plugin as it is registered, before any other
    hook is called, whether or not any tenant has the plugin enabled. It is a
    *historic* hook, like pytest's `pytest_addhooks`: a plugin registered later gets
    the call too. Hook implementations are checked against the specs only once every
    plugin is loaded (`PluginManager.check_pending()`, when the kernel is built), so
    the order plugins load in does not matter.

    **Arguments**: `pluginmanager`, the application's `PluginManager`. Call its
    `add_hookspecs(module)` with a module of functions marked `@hookspec` (from
    `guidepath.core.plugin_api`), each typed and with a docstring in the form of
    this one.

    **Returns**: nothing. An exception is logged with your plugin's name and your
    specs are not added; a plugin implementing them without `optionalhook=True` then
    stops start-up.

    Call your hooks in one place, through a small typed facade of your own, so that
    their names are spelt once: `hooks.call("name", **kwargs)` returns a record
    whose `answers` are `(plugin_name, result)` pairs, in call order, of the plugins
    that returned something other than `None` (a plugin that raised is logged and
    left out). `ctx.hooks` reaches the plugins enabled for `ctx`'s tenant,
    `kernel.plugins.all` every plugin. Mark a "first answer wins" hook
    `@hookspec(firstresult=True)`. Other plugins implement your hooks with
    `@hookimpl(optionalhook=True)`, so that they still load where your feature is
    not installed or is left out of the deployment. Guided Paths adds its hooks this
    way.

    *New in plugin API 1.0.*

    ```python
    # acme_widgets/hookspecs.py: the hooks acme_widgets offers to other plugins
    from guidepath.core.plugin_api import hookspec


    @hookspec
    def register_widgets() -> list[dict]:
        '''Return the dashboard widgets this plugin adds.

        **When**: … **Arguments**: … **Returns**: … and an example implementing it.
        '''


    # acme_widgets/__init__.py: the feature adds its hooks and calls them
    from guidepath.core.plugin_api import PluginInfo, hookimpl

    PLUGIN = PluginInfo(name="acme_widgets")


    @hookimpl
    def register_hookspecs(pluginmanager):
        from . import hookspecs

        pluginmanager.add_hookspecs(hookspecs)


    def widgets(ctx):
        # The one call of the hook: the widgets of the plugins enabled for ctx's tenant.
        return [w for _plugin, listed in ctx.hooks.call("register_widgets").answers for w in listed]
    ```
    """


@hookspec
def register_routes() -> list[Blueprint]:
    """Return Flask blueprints to mount on the application.

    **When**: once per application, while `create_app()` builds it, after guidepath's
    own routes; for every installed plugin, enabled for any tenant or not.

    **Arguments**: none.

    **Returns**: a list of `flask.Blueprint`s. Blueprint names must be unique in the
    app (use your plugin's name) and URL paths must not collide with anyone else's:
    give yours a prefix of your own, such as `/hello` or `/api/v1/hello`. The routes
    exist for all tenants; for a tenant that has your plugin disabled, every one of
    them answers 404 before your view runs. An exception stops start-up with a
    `PluginError` naming your plugin (once the other plugins have been asked): an
    app with half a plugin mounted is worse than one that does not start.

    A view runs in a request for the tenant of the host name: `tenant_ctx()` is that
    tenant's context, and `ctx.settings("hello")` your plugin's settings for it, with
    the schema's defaults filled in. Guard each view with `@require("agent")` or
    `@require("admin")` (a cookie session, with CSRF on writes, or an API key) and
    describe it with `@documented(summary, body=SCHEMA)`, written under the route
    decorator, so that it appears in `GET /api/openapi.json` (a view without one is
    listed as "(undocumented)"). `json_body()` reads a JSON object body or answers a
    clear 4xx; `validate(schema, data)` and the errors `Invalid` (422), `NotFound`
    (404), `Conflict` (409) and `Forbidden` (403) answer in guidepath's error shape.

    ```python
    from flask import Blueprint, jsonify

    from guidepath.core.plugin_api import documented, hookimpl, json_body, require, tenant_ctx, validate

    bp = Blueprint("hello", __name__, url_prefix="/hello")

    ECHO_SCHEMA = {
        "type": "object",
        "properties": {"text": {"type": "string", "maxLength": 200}},
        "required": ["text"],
        "additionalProperties": False,
    }


    @bp.get("/")
    @require("agent")
    @documented("Greet the calling agent")
    def greet():
        settings = tenant_ctx().settings("hello")      # this tenant's, defaults filled in
        return jsonify({"message": settings["greeting"]})


    @bp.post("/echo")
    @require("admin")
    @documented("Echo a text (admin)", body=ECHO_SCHEMA)
    def echo():
        data = json_body()                # a JSON object, or a clear 4xx
        validate(ECHO_SCHEMA, data)       # 422 naming the field that is wrong
        return jsonify({"text": data["text"]})


    @hookimpl
    def register_routes():
        return [bp]
    ```
    """


@hookspec
def register_event_types() -> list[EventType]:
    """Return the event types this plugin emits, each with the JSON Schema of its data.

    **When**: once per kernel, while it is built (before the app); for every installed
    plugin.

    **Arguments**: none.

    **Returns**: a list of `EventType(name, schema, version=1, description="")`, each
    with a JSON Schema (Draft 2020-12) of the event's `data`. Names are dotted
    lowercase (`hello.greeted`); the part before the first dot is the stream (the
    Kafka topic is `gp.{tenant_id}.{stream}`), so start yours with your plugin's
    name. Names are global: two plugins may declare one type only with the same
    schema and version; a different declaration of a taken name, or an exception,
    stops start-up with an error naming the plugins.

    Emitting an event validates its data against the schema, so consumers can rely
    on its shape; the types are listed with their schemas in
    `GET /api/v1/events/types`. Emit inside the transaction that made the change
    (`with ctx.begin() as conn: ctx.emit(conn, …)`): the event is published if and
    only if the change is committed. Keep personal data out of events (carry ids;
    consumers fetch the rest through the API), and bump `version` when you change a
    schema incompatibly: it travels with every event as `schema_version`.

    ```python
    from guidepath.core.plugin_api import EventType, actor_id, hookimpl, tenant_ctx


    @hookimpl
    def register_event_types():
        return [
            EventType(
                "hello.greeted",
                {
                    "type": "object",
                    "properties": {"message": {"type": "string"},
                                   "actor": {"type": "string", "maxLength": 100}},
                    "required": ["message", "actor"],
                    "additionalProperties": False,
                },
                description="An agent was greeted by GET /hello/.",
            )
        ]


    def greet_and_record(message):          # called from a view
        ctx = tenant_ctx()
        with ctx.begin() as conn:
            ctx.emit(conn, "hello.greeted", {"message": message, "actor": actor_id()})
    ```
    """


@hookspec
def register_cli_commands(cli: click.Group) -> None:
    """Add commands to the `guidepath` command line.

    **When**: when the command line needs plugin commands: for `--help`, or when the
    command given is not a built-in. Called on a plugin manager of its own, with no
    kernel and no app (printing help must not open databases), for every installed
    plugin.

    **Arguments**: `cli`, the root `click.Group`: add a command or a group with
    `cli.add_command(…)`.

    **Returns**: nothing. A command named like a built-in is ignored with a warning.
    An exception is logged with your plugin's name and the other plugins' commands
    still load.

    A command reaches the configuration and a kernel, built on first use, through
    `pass_state`; `state.tenant_context(slug)` gives a tenant and its context (an
    error naming the slug if there is no such tenant).

    ```python
    import click

    from guidepath.core.plugin_api import hookimpl, pass_state


    @click.group(help="The hello plugin.")
    def hello():
        pass


    @hello.command("stats", help="How many session state changes hello has counted for SLUG.")
    @click.option("--tenant", "slug", required=True, metavar="SLUG")
    @pass_state
    def stats(state, slug):
        _tenant, ctx = state.tenant_context(slug)
        click.echo(int(ctx.cache.get("hello:state_changes") or 0))


    @hookimpl
    def register_cli_commands(cli):
        cli.add_command(hello)
    ```

    `guidepath hello stats --tenant acme` then prints the count.
    """


@hookspec
def register_migrations() -> list[str]:
    """Return folders of Alembic revisions for this plugin's tenant tables.

    **When**: once per kernel, while it is built; for every installed plugin.

    **Arguments**: none.

    **Returns**: a list of folders holding Alembic revisions for the plugin's
    **tenant tables**. Revisions sit on the plugin's own branch
    (`branch_labels = ("my_plugin",)`), and the first one depends on the kernel's
    initial tenant revision (`depends_on = "0001_tenant"`). Tenant creation and
    `guidepath db upgrade` apply them, with the kernel's own, to every tenant schema
    (PostgreSQL) or tenant file (embedded), since a tenant's own database role may
    run no DDL. Define the tables on `tenant_metadata`, without a schema name. An
    exception stops start-up with a `PluginError` naming your plugin.

    In `my_plugin/__init__.py`:

    ```python
    from pathlib import Path

    import sqlalchemy as sa

    from guidepath.core.plugin_api import hookimpl, tenant_metadata

    notes = sa.Table(
        "my_plugin_notes", tenant_metadata,
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
    )


    @hookimpl
    def register_migrations():
        return [str(Path(__file__).parent / "migrations")]
    ```

    and in `my_plugin/migrations/0001_my_plugin_notes.py`:

    ```python
    from alembic import op
    import sqlalchemy as sa

    revision = "0001_my_plugin"
    down_revision = None
    branch_labels = ("my_plugin",)
    depends_on = "0001_tenant"


    def upgrade() -> None:
        op.create_table(
            "my_plugin_notes",
            sa.Column("id", sa.String(40), primary_key=True),
            sa.Column("text", sa.Text(), nullable=False),
        )


    def downgrade() -> None:
        op.drop_table("my_plugin_notes")
    ```
    """


@hookspec
def app_started(app: Flask) -> None:
    """The web application has been built; called once per application.

    **When**: at the end of `create_app()`, after every blueprint is mounted and
    before the kernel's workers start; for every installed plugin.

    **Arguments**: `app`, the `flask.Flask` application. `app.extensions["guidepath"]`
    is the application's `Kernel` (its `config`, `plugins`, `directory`,
    `event_types`, `extensions`, and `context(tenant)`).

    **Returns**: nothing. An exception is logged with your plugin's name and the app
    starts without whatever your hook did.

    Use it to read configuration or build what your plugin shares across requests.
    Keep such state in `kernel.extensions` under a key of your own, as Flask
    extensions use `app.extensions`, never in a module global: two apps in one
    process (a test suite) each have their own kernel, and the state goes with it.
    Hooks that run outside requests get a tenant context as their `ctx` argument, so
    there is no need to keep the kernel. Do not start threads here: the kernel owns
    the background workers (see `register_workers`).

    ```python
    import logging

    from guidepath.core.plugin_api import hookimpl

    log = logging.getLogger("guidepath_hello")


    @hookimpl
    def app_started(app):
        kernel = app.extensions["guidepath"]
        # Per-kernel state, never a module global; views and hooks read it back as
        # ctx.kernel.extensions["hello"].
        kernel.extensions.setdefault("hello", {"base_domain": kernel.config.base_domain})
        log.info("hello is ready; tenants live at *.%s", kernel.config.base_domain)
    ```
    """


@hookspec
def register_workers(kernel: Kernel) -> list[Any]:
    """Return background workers the kernel should run beside its own.

    **When**: once per kernel, when it starts its background workers: in
    `guidepath run` and in every app built with `create_app(start_workers=True)` (the
    default), right after the kernel's own outbox publisher and event dispatcher.
    Not in one-off CLI commands. For every installed plugin.

    **Arguments**: `kernel`, the process's `Kernel`.

    **Returns**: a list of workers, each an object with `start()` and `stop()`. The
    kernel calls `start()` on each (it must return quickly: start a thread there)
    and, when it closes, `stop()` in reverse order, before its database pools, cache
    and bus close. An exception in the hook is logged with your plugin's name and
    your workers are not run; a worker whose `start()` raises is logged and skipped.
    Either way the app still starts.

    A worker acts for many tenants: for one tenant's database, cache and files use
    `kernel.context(kernel.directory.get(tenant_id))`, and emit that tenant's events
    in its transaction (`with ctx.begin() as conn: ctx.emit(conn, …)`).

    ```python
    import logging
    import threading

    from guidepath.core.plugin_api import hookimpl

    log = logging.getLogger("guidepath_hello")


    class Heartbeat:
        # Logs the number of tenants once a minute until the kernel stops it.

        def __init__(self, kernel):
            self.kernel, self._stop, self._thread = kernel, threading.Event(), None

        def start(self):
            self._thread = threading.Thread(target=self._run, name="hello-heartbeat", daemon=True)
            self._thread.start()

        def stop(self):
            self._stop.set()
            self._thread.join(5)

        def _run(self):
            while not self._stop.wait(60):
                log.info("tenants: %d", len(self.kernel.directory.list()))


    @hookimpl
    def register_workers(kernel):
        return [Heartbeat(kernel)]
    ```
    """


# ---------------------------------------------------------------------------
# Tenant lifecycle: called for one tenant.
# ---------------------------------------------------------------------------


@hookspec
def tenant_created(tenant: Tenant, ctx: TenantContext) -> None:
    """A tenant was provisioned: its schema, role, key and files exist.

    **When**: once, right after a tenant has been provisioned (its database schema,
    role, data key and file store exist, its first admin is created if one was given,
    and it is active), in the process that created it: the admin console's or
    `guidepath tenants create`. For one tenant: it reaches the plugins enabled for a
    new tenant, which are those with `default_enabled=True`.

    **Arguments**: `tenant`, the `Tenant` record (`id`, `slug`, `name`, `status`,
    `container_id`, `created_at`); `ctx`, the tenant's `TenantContext` (database,
    cache, files, settings).

    **Returns**: nothing. An exception is logged with your plugin's name and the
    tenant is created all the same, so make seeding something you can also do
    lazily later.

    ```python
    import logging

    from guidepath.core.plugin_api import hookimpl

    log = logging.getLogger("guidepath_welcome")


    @hookimpl
    def tenant_created(tenant, ctx):
        log.info("welcome, %s (%s)", tenant.slug, tenant.id)
        ctx.cache.set_json("welcome:shown", False)
    ```
    """


@hookspec
def seed_demo(tenant: Tenant, ctx: TenantContext) -> None:
    """Add this plugin's demo content to a freshly made demo tenant.

    **When**: once, when `guidepath run --demo` (what `make run` does) creates the
    demo tenant, after the kernel's own demo users, customers and sessions exist.
    For the demo tenant: it reaches the plugins enabled there.

    **Arguments**: `tenant`, the demo tenant; `ctx`, its context.

    **Returns**: nothing. Every plugin is asked even when one fails; then a failure
    stops the demo with a `PluginError` naming the plugin, so that `make run` never
    starts with half the demo missing.

    ```python
    from guidepath.core.plugin_api import hookimpl


    @hookimpl
    def seed_demo(ctx):
        with ctx.begin() as conn:
            ctx.emit(conn, "hello.greeted", {"message": "Welcome to the demo", "actor": "system"})
    ```
    """


@hookspec
def plugin_settings_changed(
    tenant: Tenant, plugin_name: str, enabled: bool, settings: dict[str, Any], ctx: TenantContext
) -> None:
    """An admin enabled, disabled or configured a plugin for `tenant`.

    **When**: after an admin changed a plugin's state for a tenant
    (`PUT /api/v1/plugins/{name}`, or `guidepath plugins enable|disable|configure`),
    once the change is committed. For one tenant: it reaches every plugin enabled for
    the tenant after the change, then, on its own, the plugin that was just disabled
    (so that it can clean up).

    **Arguments**: `tenant`, the tenant; `plugin_name`, the plugin that changed (often
    not yours: check it); `enabled`, its new state; `settings`, its new settings,
    already validated against its schema, with defaults filled in; `ctx`, the
    tenant's context.

    **Returns**: nothing. An exception is logged with your plugin's name; the change
    stays committed. Other processes see the new settings within two seconds
    (`ctx.settings(…)` is cached that long); this hook is how to react at once.

    ```python
    from guidepath.core.plugin_api import hookimpl


    @hookimpl
    def plugin_settings_changed(plugin_name, enabled, settings, ctx):
        if plugin_name != "hello":
            return
        if not enabled:
            ctx.cache.delete_prefix("hello:")             # forget this tenant's counters
        else:
            ctx.cache.set_json("hello:greeting", settings["greeting"])
    ```
    """


# ---------------------------------------------------------------------------
# Support sessions and events: called for one tenant.
# ---------------------------------------------------------------------------


@hookspec
def session_capabilities(tenant: Tenant, session: dict[str, Any]) -> list[str]:
    """Return the capabilities this plugin adds to a support session.

    **When**: each time a support session is shown to an agent
    (`POST /api/v1/sessions`, `GET /api/v1/sessions/{id}`), in that request. For one
    tenant.

    **Arguments**: `tenant`, the tenant; `session`, the session as the API shows it
    (`id`, `customer_id`, `device_id`, `agent_id`, `state`, `resolution`,
    `created_at`, `updated_at`, `ended_at`). Do not change it.

    **Returns**: a list of short capability names, such as `["remote_control"]`, or
    `None` for none; the agent UI offers a button for each. The lists of all enabled
    plugins are merged in call order, duplicates removed, into the session's
    `capabilities`. An exception is logged with your plugin's name and the session
    is shown without your capabilities. It runs on every session view: keep it fast
    and free of network calls.

    ```python
    from guidepath.core.plugin_api import hookimpl


    @hookimpl
    def session_capabilities(session):
        if session["device_id"] and session["state"] == "active":
            return ["remote_control", "camera"]
        return []
    ```
    """


@hookspec(firstresult=True)
def issue_relay_ticket(
    tenant: Tenant, session: dict[str, Any], kind: str, role: str, principal: dict[str, Any],
    ctx: TenantContext,
) -> dict[str, Any] | None:
    """Grant a relay connection (remote control, camera) for a support session.

    **When**: in `POST /api/v1/sessions/{id}/relay-tickets`, after the kernel has
    validated the body (`kind` is `remote_control` or `camera`, `role` is `device` or
    `viewer`), found the session, refused an ended one (409), and checked that the
    caller may take the role: a viewer must be a signed-in user who is the session's
    agent (or an admin) on an `active` session; a device may be any authenticated
    caller of the tenant (the consumer app's backend, say). For one tenant.

    **Arguments**: `tenant`; `session`, the session as the API shows it; `kind`;
    `role`; `principal`, the caller (`id`, `role`, and `kind`: `user` or
    `api_key`); `ctx`, the tenant's context.

    **Returns**: `None` unless your plugin handles `kind`; otherwise the JSON body the
    caller gets (201): at least `relay` (where to connect: `tcp` for devices, `ws` for
    viewers), `ticket` (the opaque single-use token), `key` (base64url of the fresh
    256-bit connection key), `connection_id` and `expires_at`. A first-answer hook
    (`firstresult`): plugins are asked in call order and the first answer other than
    `None` wins; no plugin after it is called. If no enabled plugin answers, the
    caller gets a 404 `capability_unavailable` naming the kind. Raise a
    `DomainError` (`Conflict`, `Forbidden`, …) to refuse with a reason: it reaches
    the caller as it is. Any other exception is a bug: it is logged with your
    plugin's name and the next plugin is asked. Viewer tickets are written to the
    audit log by the kernel, with the name of the plugin that granted them.

    The built-in `remote_control` and `camera_share` plugins answer for their kind.
    To replace one, disable it and answer for the same kind.

    *Changed in plugin API 1.0*: a first-answer hook; an exception other than a
    `DomainError` skips the plugin instead of failing the request.

    ```python
    from guidepath.core.plugin_api import Conflict, hookimpl


    @hookimpl
    def issue_relay_ticket(session, kind, role, ctx):
        if kind != "camera":
            return None
        if role == "viewer" and not ctx.settings("acme_video")["viewers_allowed"]:
            raise Conflict("camera viewing is switched off for this account", field="role")
        return my_video_service.grant(session["id"], role)  # {"relay": …, "ticket": …, …}
    ```
    """


@hookspec
def handle_event(tenant: Tenant, event: Event, ctx: TenantContext) -> None:
    """An event of `tenant` was published on the bus.

    **When**: for every event of a tenant published on the bus (the kernel's own,
    such as `session.created`, `session.state_changed`, `customer.created`,
    `device.updated`, `plugin.settings_changed`, and every plugin's) by the kernel's
    event dispatcher, outside any request, in a background thread. For one tenant.
    Delivery is **at least once**: the same event may arrive again.

    **Arguments**: `tenant`, the tenant; `event`, an `Event` with `id` (`evt_…`,
    unique), `tenant_id`, `type`, `time` (UTC ISO-8601), `schema_version` and `data`
    (valid against its type's schema, as listed in `GET /api/v1/events/types`);
    `ctx`, the tenant's context (database, cache, files, settings).

    **Returns**: nothing. If a plugin raises, the others still run; the failure is
    logged with the plugin's name and the event is delivered again after a short
    back-off, to every enabled plugin, up to five attempts in all (then it is logged
    as a dead letter). Make your handler idempotent: de-duplicate by `event.id`.
    There is no `tenant_ctx()` or Flask `g` here: use `ctx`.

    ```python
    from guidepath.core.plugin_api import hookimpl


    @hookimpl
    def handle_event(event, ctx):
        if event.type != "session.state_changed":
            return
        # Count each event once, however often it is delivered.
        if ctx.cache.incr(f"hello:seen:{event.id}", ttl=7 * 24 * 3600) == 1:
            ctx.cache.incr("hello:state_changes")
    ```
    """


# ---------------------------------------------------------------------------
# The agent and admin console: called for one tenant, while a page renders.
# ---------------------------------------------------------------------------


@hookspec
def console_menu(tenant: Tenant, principal: dict[str, Any]) -> list[ConsoleLink]:
    """Add items to the console's menu (the agent's, or the admin's).

    **When**: each time a console page renders for a signed-in user, in that
    request. For one tenant.

    **Arguments**: `tenant`; `principal`, the signed-in user (`id`, `email`, `role`:
    `agent` or `admin`).

    **Returns**: a list of `ConsoleLink` records (or `None`): `key` (unique, stable),
    `label`, `href` (a path on the tenant's host, usually one of your plugin's
    routes, whose pages extend the `console/base.html` template), `section`
    (`"agent"`: the main menu; `"admin"`: the admin menu, shown to admins only —
    your page must still refuse agents itself, with `require("admin")`), `order`
    (lower first; the console's own items are 10, 20, 30…). An exception is logged
    with your plugin's name and the menu is shown without your items.

    *Added in plugin API 1.1.*

    ```python
    from guidepath.core.plugin_api import ConsoleLink, hookimpl


    @hookimpl
    def console_menu(principal):
        return [ConsoleLink(key="hello-stats", label="Greetings", href="/hello/stats", section="admin")]
    ```
    """


@hookspec
def session_panels(tenant: Tenant, session: dict[str, Any], principal: dict[str, Any]) -> list[SessionPanel]:
    """Add a panel to a support session's page in the agent console.

    **When**: each time a session's page renders (`/sessions/{id}`, live or read
    only from the history), in that request. For one tenant.

    **Arguments**: `tenant`; `session`, the session as the API shows it, with its
    `capabilities` (see `session_capabilities`); `principal`, the signed-in user.

    **Returns**: a list of `SessionPanel` records (or `None`): `key`, `title`,
    `links` (`ConsoleLink` buttons rendered on the server, e.g. "Remote control"
    opening your viewer in a new tab), `module` (the path of an ES module on the
    tenant's host: the page imports it and calls its `mount(element, context)` with
    the panel's element and `{session, csrfToken, readOnly, socket}`), `wide`
    (`True` puts the panel in the main column), `order`. Panels are shown in
    `order`; a panel's script runs under the page's Content-Security-Policy
    (scripts from the tenant's host only, no inline script). An exception is logged
    with your plugin's name and the page is shown without your panel.

    *Added in plugin API 1.1.*

    ```python
    from guidepath.core.plugin_api import ConsoleLink, SessionPanel, hookimpl


    @hookimpl
    def session_panels(session):
        if "remote_control" not in session["capabilities"]:
            return []
        view = ConsoleLink(key="view-screen", label="View screen", new_tab=True,
                           href=f"/nexus/{session['id']}?kind=remote_control")
        return [SessionPanel(key="remote", title="Remote support", links=(view,))]
    ```
    """
