"""Per-tenant plugin enablement and settings (admins)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ...domain.errors import NotFound
from ...domain.plugin_settings import PLUGIN_OUTPUT_SCHEMA, PUT_SCHEMA
from ..auth import actor_id, require
from ..body import json_body
from ..contract import documented, page_of
from ..tenant import tenant_ctx

bp = Blueprint("plugins", __name__, url_prefix="/api/v1/plugins")


def _describe(info, state) -> dict:
    return {
        "name": info.name, "version": info.version, "description": info.description,
        "builtin": info.builtin, "enabled": state.enabled, "settings": state.settings,
        "settings_schema": info.settings_schema,
    }


@bp.get("")
@require("agent")
@documented("Installed plugins with their state for this account (one page: `next` is always null)",
            query=[], returns=page_of(PLUGIN_OUTPUT_SCHEMA))
def list_plugins():
    kernel = current_app.extensions["guidepath"]
    states = tenant_ctx().plugin_states()
    return jsonify({"items": [_describe(i, states[i.name]) for i in kernel.plugins.infos()], "next": None})


@bp.get("/<name>")
@require("agent")
@documented("One plugin's state, settings and settings schema", description="404 if no plugin of that name "
            "is installed.", query=[], returns=PLUGIN_OUTPUT_SCHEMA)
def get_plugin(name: str):
    kernel = current_app.extensions["guidepath"]
    if not kernel.plugins.has(name):
        raise NotFound(f"no plugin named {name!r} is installed", field="name")
    return jsonify(_describe(kernel.plugins.info(name), tenant_ctx().plugin_states()[name]))


@bp.put("/<name>")
@require("admin")
@documented("Enable, disable or configure a plugin (admin)",
            description="`settings`, when given, replaces the account's settings and must satisfy the plugin's "
                        "`settings_schema` (see GET /api/v1/plugins/{name}; 422 naming the field otherwise). "
                        "Audited, and announced as a `plugin.settings_changed` event. 404 if no plugin of that "
                        "name is installed.",
            query=[], body=PUT_SCHEMA, returns=PLUGIN_OUTPUT_SCHEMA)
def put_plugin(name: str):
    kernel = current_app.extensions["guidepath"]
    data = json_body()
    state = kernel.configure_plugin(tenant_ctx(), name, data, actor=actor_id())
    return jsonify(_describe(kernel.plugins.info(name), state))
