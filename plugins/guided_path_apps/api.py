"""``/api/v1/guided-path-apps``: admins register the apps ``app`` steps may embed.

Any agent reads the list (the agent console shows app titles); only admins change
it. Every view is ``@documented`` for ``GET /api/openapi.json``.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from guidepath.core.plugin_api import Invalid, actor_id, documented, json_body, page_limit, require, tenant_ctx

from . import registry
from .plugin import allow_loopback_http

bp = Blueprint("guided_path_apps", __name__)

APPS = "/api/v1/guided-path-apps"


@bp.get(APPS)
@require("agent")
@documented("List the Guided Path Apps registered for this account (paginated: limit, cursor); "
            "`usable` is false when the URL is no longer allowed (e.g. http after allow_loopback_http was switched off)")
def list_apps():
    unknown = set(request.args) - {"limit", "cursor"}
    if unknown:
        name = sorted(unknown)[0]
        raise Invalid(f"unknown query parameter {name!r}; allowed: cursor, limit", field=name)
    ctx = tenant_ctx()
    loopback = allow_loopback_http(ctx)
    with ctx.engine.connect() as conn:
        page = registry.list_apps(conn, limit=page_limit(request.args.get("limit")),
                                  cursor=request.args.get("cursor") or None, allow_loopback_http=loopback)
    return jsonify(page.as_dict())


@bp.post(APPS)
@require("admin")
@documented("Register a Guided Path App (admin): key (what app steps name in app_id), title, https "
            "url, input_schema and output_schema (JSON Schemas)", body=registry.APP_SCHEMA)
def create_app():
    data = json_body()
    ctx = tenant_ctx()
    loopback = allow_loopback_http(ctx)  # before the transaction (SQLite: one writer)
    with ctx.begin() as conn:
        app = registry.create(conn, data, actor=actor_id(), allow_loopback_http=loopback)
    response = jsonify(app)
    response.headers["Location"] = f"{APPS}/{app['id']}"
    return response, 201


@bp.get(f"{APPS}/<ref>")
@require("agent")
@documented("Get a Guided Path App by id or key")
def get_app(ref: str):
    ctx = tenant_ctx()
    loopback = allow_loopback_http(ctx)
    with ctx.engine.connect() as conn:
        return jsonify(registry.get(conn, ref, allow_loopback_http=loopback))


@bp.put(f"{APPS}/<ref>")
@require("admin")
@documented("Replace a Guided Path App (admin)", body=registry.APP_SCHEMA)
def replace_app(ref: str):
    data = json_body()
    ctx = tenant_ctx()
    loopback = allow_loopback_http(ctx)
    with ctx.begin() as conn:
        return jsonify(registry.replace(conn, ref, data, actor=actor_id(), allow_loopback_http=loopback))


@bp.patch(f"{APPS}/<ref>")
@require("admin")
@documented("Change some fields of a Guided Path App (admin)", body=registry.PATCH_SCHEMA)
def patch_app(ref: str):
    data = json_body()
    ctx = tenant_ctx()
    loopback = allow_loopback_http(ctx)
    with ctx.begin() as conn:
        return jsonify(registry.patch(conn, ref, data, actor=actor_id(), allow_loopback_http=loopback))


@bp.delete(f"{APPS}/<ref>")
@require("admin")
@documented("Remove a Guided Path App from the allowlist (admin); paths using it can no longer "
            "be published and their runs refuse its output (409 app_not_allowed)")
def delete_app(ref: str):
    with tenant_ctx().begin() as conn:
        registry.delete(conn, ref, actor=actor_id())
    return "", 204
