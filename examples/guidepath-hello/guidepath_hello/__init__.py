"""guidepath-hello: the example partner plugin for guidepath.

It has every part a real plugin has:

* ``PLUGIN``: the plugin's name, version and per-tenant settings schema; it is
  disabled until a tenant's admin enables it;
* ``register_routes``: ``GET /hello/`` greets the calling agent with the tenant's
  greeting and emits a ``hello.greeted`` event; ``GET /hello/stats`` reports how
  many session state changes the plugin has seen for the tenant;
* ``register_event_types``: the JSON Schema of ``hello.greeted``;
* ``handle_event``: counts the tenant's ``session.state_changed`` events in the
  tenant's cache (reached through the ``ctx`` the kernel passes in).

guidepath finds it through the ``guidepath.plugins`` entry point in
``pyproject.toml``. The guide is ``docs/plugins.md`` in the guidepath repository.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, jsonify

from guidepath.core.plugin_api import EventType, PluginInfo, actor_id, documented, hookimpl, require, tenant_ctx

if TYPE_CHECKING:  # pragma: no cover
    from guidepath.core.plugin_api import Event, Tenant, TenantContext

__version__ = "1.0.0"

PLUGIN = PluginInfo(
    name="hello",
    version=__version__,
    description="Greets agents with a per-tenant greeting and counts session state changes.",
    settings_schema={
        "type": "object",
        "properties": {
            "greeting": {"type": "string", "default": "Hello", "maxLength": 100},
            "shout": {"type": "boolean", "default": False},
        },
        "additionalProperties": False,
    },
    default_enabled=False,
)

GREETED = "hello.greeted"
STATE_CHANGES_KEY = "hello:state_changes"
# Events arrive at least once; remembering ids for a week covers any redelivery.
SEEN_TTL_SECONDS = 7 * 24 * 3600


# -- routes -------------------------------------------------------------------

bp = Blueprint("hello", __name__, url_prefix="/hello")


# ``@documented`` goes innermost, below ``@require``: it declares what the route takes
# and answers. ``query=[]`` means "no query parameters": any other is refused (422)
# before the view runs. The declaration is also the route's entry in the OpenAPI
# document (GET /api/openapi.json).
@bp.get("/")
@require("agent")
@documented(
    "Greet the calling agent with the tenant's greeting (hello plugin)",
    description="The greeting is the plugin setting `greeting` (upper case with `shout`); each call emits "
                "the event hello.greeted.",
    query=[],
    returns={"type": "object", "required": ["message", "tenant"], "properties": {
        "message": {"type": "string"}, "tenant": {"type": "string", "description": "The account's slug"}}},
)
def greet():
    # guidepath has already answered 404 if the tenant has this plugin disabled,
    # and 401 if the caller is not logged in: this code runs only when both pass.
    ctx = tenant_ctx()
    settings = ctx.settings(PLUGIN.name)  # schema defaults filled in
    message = settings["greeting"].upper() if settings["shout"] else settings["greeting"]
    with ctx.begin() as conn:
        # Written to the tenant's outbox in this transaction, published after commit.
        ctx.emit(conn, GREETED, {"message": message, "actor": actor_id()})
    return jsonify({"message": message, "tenant": ctx.tenant.slug})


@bp.get("/stats")
@require("agent")
@documented(
    "How many session state changes the hello plugin has counted",
    query=[],
    returns={"type": "object", "required": ["state_changes"], "properties": {
        "state_changes": {"type": "integer", "minimum": 0}}},
)
def stats():
    raw = tenant_ctx().cache.get(STATE_CHANGES_KEY)
    return jsonify({"state_changes": int(raw or 0)})


@hookimpl
def register_routes() -> list[Blueprint]:
    return [bp]


# -- events -------------------------------------------------------------------


@hookimpl
def register_event_types() -> list[EventType]:
    return [
        EventType(
            GREETED,
            {
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "actor": {"type": "string", "maxLength": 100},
                },
                "required": ["message", "actor"],
                "additionalProperties": False,
            },
            description="An agent opened GET /hello/ and was greeted ('actor' is 'user:<id>' "
            "or 'api_key:<id>').",
        )
    ]


@hookimpl
def handle_event(tenant: Tenant, event: Event, ctx: TenantContext) -> None:
    # Runs in the kernel's event dispatcher, outside any request: ``ctx`` is the
    # tenant's context (its database, cache and files).
    if event.type != "session.state_changed":
        return
    cache = ctx.cache
    # Delivery is at least once: count an event only the first time its id is seen.
    if cache.incr(f"hello:seen:{event.id}", ttl=SEEN_TTL_SECONDS) == 1:
        cache.incr(STATE_CHANGES_KEY)
