"""Per-tenant plugin enablement and settings (admins)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ...domain.errors import NotFound
from ..auth import actor_id, require
from ..body import json_body
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
def list_plugins():
    kernel = current_app.extensions["guidepath"]
    states = tenant_ctx().plugin_states()
    return jsonify({"items": [_describe(i, states[i.name]) for i in kernel.plugins.infos()], "next": None})


@bp.get("/<name>")
@require("agent")
def get_plugin(name: str):
    kernel = current_app.extensions["guidepath"]
    if not kernel.plugins.has(name):
        raise NotFound(f"no plugin named {name!r} is installed", field="name")
    return jsonify(_describe(kernel.plugins.info(name), tenant_ctx().plugin_states()[name]))


@bp.put("/<name>")
@require("admin")
def put_plugin(name: str):
    kernel = current_app.extensions["guidepath"]
    data = json_body()
    state = kernel.configure_plugin(tenant_ctx(), name, data, actor=actor_id())
    return jsonify(_describe(kernel.plugins.info(name), state))
