"""``/api/v1/guided-path-apps``: admins register the apps ``app`` steps may embed.

Any agent reads the list (the agent console shows app titles); only admins change
it. Every view is ``@documented``: the declaration checks the query string before
the view runs and is what ``GET /api/openapi.json`` says about the route.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from guidepath.core.plugin_api import PAGING, actor_id, documented, json_body, page_of, query_args, require, tenant_ctx

from . import registry
from .origins import MAX_HOST_LENGTH
from .plugin import allow_loopback_http

bp = Blueprint("guided_path_apps", __name__)

APPS = "/api/v1/guided-path-apps"

_TIME = {"type": "string", "format": "date-time"}

# The https:// rule of origins.app_origin as a pattern, for the OpenAPI document only
# (the server checks with app_origin, whose messages say what is wrong): a host of
# printable ASCII without userinfo and at most MAX_HOST_LENGTH long, an optional port up to 65535, then any printable
# ASCII. IPv6 literals ([::1]) and, with allow_loopback_http, plain http:// to loopback
# hosts are accepted too but left out of the pattern. test_routes_declared.py checks
# that every URL it matches is accepted.
_HOST = r'[!"$-.0-9;->A-Z\\^-~]{1,%d}' % MAX_HOST_LENGTH
_PORT = r"(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})?)?"
URL_PATTERN = rf"^[Hh][Tt][Tt][Pp][Ss]://{_HOST}{_PORT}(?:[/?#][!-~]*)?$"


def _documented(schema: dict) -> dict:
    url = {**schema["properties"]["url"], "pattern": URL_PATTERN}
    return {**schema, "properties": {**schema["properties"], "url": url}}


APP_BODY, PATCH_BODY = _documented(registry.APP_SCHEMA), _documented(registry.PATCH_SCHEMA)
#: An app as every route answers it.
APP = {
    "type": "object",
    "required": ["id", "key", "title", "url", "origin", "input_schema", "output_schema", "created_by",
                 "created_at", "updated_at", "usable"],
    "properties": {
        "id": {"type": "string", "pattern": "^gpa_[0-9a-z]{26}$"},
        **{name: registry.APP_SCHEMA["properties"][name] for name in ("key", "title", "url")},
        "origin": {"type": "string", "description": "The URL's origin: what the run page's frame-src allows"},
        "input_schema": registry.APP_SCHEMA["properties"]["input_schema"],
        "output_schema": registry.APP_SCHEMA["properties"]["output_schema"],
        "created_by": {"type": ["string", "null"]},
        "created_at": _TIME,
        "updated_at": _TIME,
        "usable": {"type": "boolean", "description": "false when the URL is no longer allowed (an http:// URL "
                   "after allow_loopback_http was switched off): app steps refuse it"},
    },
}
_RULES = (
    "`url` must be an https:// URL with a host and no user name or password (422); plain http:// is accepted "
    "only for loopback hosts (localhost, 127.0.0.1, [::1]) while the plugin setting allow_loopback_http is on. "
    "`input_schema` and `output_schema` must be valid JSON Schemas (2020-12; 422 naming the field). `key` "
    "is unique in the account (409 `key_taken`)."
)


@bp.get(APPS)
@require("agent")
@documented("List the Guided Path Apps registered for this account (paginated, oldest first)",
            description="`usable` is false when the URL is no longer allowed (e.g. http after "
                        "allow_loopback_http was switched off).", query=PAGING, returns=page_of(APP))
def list_apps():
    ctx = tenant_ctx()
    loopback = allow_loopback_http(ctx)
    with ctx.engine.connect() as conn:
        page = registry.list_apps(conn, **query_args(), allow_loopback_http=loopback)
    return jsonify(page.as_dict())


@bp.post(APPS)
@require("admin")
@documented("Register a Guided Path App (admin)",
            description="`key` is what app steps name in `app_id`; the app page is embedded in a sandboxed "
                        "iframe and its output is checked on the server. " + _RULES,
            query=[], body=APP_BODY, returns=APP, status=201, errors=[409])
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
@documented("Get a Guided Path App by id or key", query=[], returns=APP)
def get_app(ref: str):
    ctx = tenant_ctx()
    loopback = allow_loopback_http(ctx)
    with ctx.engine.connect() as conn:
        return jsonify(registry.get(conn, ref, allow_loopback_http=loopback))


@bp.put(f"{APPS}/<ref>")
@require("admin")
@documented("Replace a Guided Path App (admin)", description=_RULES, query=[], body=APP_BODY,
            returns=APP, errors=[409])
def replace_app(ref: str):
    data = json_body()
    ctx = tenant_ctx()
    loopback = allow_loopback_http(ctx)
    with ctx.begin() as conn:
        return jsonify(registry.replace(conn, ref, data, actor=actor_id(), allow_loopback_http=loopback))


@bp.patch(f"{APPS}/<ref>")
@require("admin")
@documented("Change some fields of a Guided Path App (admin)",
            description="Fields left out keep their value; the result is checked as a whole. " + _RULES,
            query=[], body=PATCH_BODY, returns=APP, errors=[409])
def patch_app(ref: str):
    data = json_body()
    ctx = tenant_ctx()
    loopback = allow_loopback_http(ctx)
    with ctx.begin() as conn:
        return jsonify(registry.patch(conn, ref, data, actor=actor_id(), allow_loopback_http=loopback))


@bp.delete(f"{APPS}/<ref>")
@require("admin")
@documented("Remove a Guided Path App from the allowlist (admin)",
            description="Paths using it can no longer be published and their runs refuse its output (409 "
                        "`app_not_allowed`).", query=[], status=204)
def delete_app(ref: str):
    with tenant_ctx().begin() as conn:
        registry.delete(conn, ref, actor=actor_id())
    return "", 204
