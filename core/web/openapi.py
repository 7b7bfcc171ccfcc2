"""``GET /api/openapi.json``: the OpenAPI 3.1 document of the REST API.

Paths and methods come from the live URL map, so the document cannot list a
route that does not exist; summaries and request schemas come from ``OPERATIONS``
(keyed by endpoint), and a test fails when a route has no entry there — so a new
route cannot ship undocumented. Plugins document their routes with the
:func:`documented` decorator (re-exported by ``guidepath.core.plugin_api``), which
is the one way to do it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from .. import __version__
from ..domain import api_keys, support_sessions, users
from ..domain.customers import CUSTOMERS
from ..domain.devices import DEVICES
from ..domain.plugin_settings import PUT_SCHEMA
from .api import relay_tickets
from .api.auth import LOGIN_SCHEMA
from .contract import documented  # noqa: F401 - where plugins have found it so far
from .openapi_operations import add_links, build_operation, component_schemas, error_responses, openapi_path

bp = Blueprint("openapi", __name__)

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": ["string", "null"]},
        "issues": {"type": "array", "description": "every problem at once, where there can be many",
                   "items": {"type": "object", "properties": {
                       "pointer": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}}}},
    }, "required": ["code", "message", "field"]}},
    "required": ["error"],
}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _records(name: str, resource) -> dict[str, dict]:
    return {
        f"{name}.list_records": {"summary": f"List {name} (paginated)"},
        f"{name}.create_record": {"summary": f"Create a {resource.name}", "requestBody": _body(resource.create_schema())},
        f"{name}.get_record": {"summary": f"Get a {resource.name}"},
        f"{name}.replace_record": {"summary": f"Replace a {resource.name}", "requestBody": _body(resource.create_schema())},
        f"{name}.patch_record": {"summary": f"Update some fields of a {resource.name}", "requestBody": _body(resource.patch_schema())},
        f"{name}.delete_record": {"summary": f"Delete a {resource.name}"},
    }


OPERATIONS: dict[str, dict[str, Any]] = {
    "health.healthz": {"summary": "Liveness", "security": []},
    "health.readyz": {"summary": "Readiness of every configured backend", "security": []},
    "openapi.openapi_document": {"summary": "This document", "security": []},
    "auth.login": {"summary": "Log in; sets the session cookie and returns the CSRF token",
                   "requestBody": _body(LOGIN_SCHEMA), "security": []},
    "auth.logout": {"summary": "Log out (cookie sessions send X-CSRF-Token)"},
    "auth.me": {"summary": "The authenticated caller"},
    "users.list_users": {"summary": "List users"},
    "users.create_user": {"summary": "Create a user (admin)", "requestBody": _body(users.USER_CREATE_SCHEMA)},
    "users.get_user": {"summary": "Get a user"},
    "users.replace_user": {"summary": "Replace a user (admin)", "requestBody": _body(users.USER_CREATE_SCHEMA)},
    "users.patch_user": {"summary": "Update a user (admin)", "requestBody": _body(users.USER_PATCH_SCHEMA)},
    "users.delete_user": {"summary": "Delete a user (admin)"},
    "api_keys.list_keys": {"summary": "List API keys (admin)"},
    "api_keys.create_key": {"summary": "Create an API key; the key is returned once",
                            "requestBody": _body(api_keys.API_KEY_CREATE_SCHEMA)},
    "api_keys.get_key": {"summary": "Get an API key's metadata"},
    "api_keys.revoke_key": {"summary": "Revoke an API key"},
    **_records("customers", CUSTOMERS),
    **_records("devices", DEVICES),
    "sessions.list_sessions": {"summary": "List sessions: ?state=live or since/until/state/agent filters"},
    "sessions.create_session": {"summary": "Open a support session",
                                "requestBody": _body(support_sessions.SESSION_CREATE_SCHEMA)},
    "sessions.get_session": {"summary": "Get a session with its capabilities"},
    "sessions.patch_session": {"summary": "Assign agent, customer or device",
                               "requestBody": _body(support_sessions.SESSION_PATCH_SCHEMA)},
    "sessions.change_state": {"summary": "Move the session through its state machine (409 if illegal)",
                              "requestBody": _body(support_sessions.STATE_CHANGE_SCHEMA)},
    "relay_tickets.issue_ticket": {
        "summary": "A single-use ticket to the relay for remote control or camera (404 if not enabled)",
        "requestBody": _body(relay_tickets.TICKET_REQUEST_SCHEMA)},
    "plugins.list_plugins": {"summary": "Installed plugins with their state for this tenant"},
    "plugins.get_plugin": {"summary": "One plugin's state and settings schema"},
    "plugins.put_plugin": {"summary": "Enable, disable or configure a plugin (admin)",
                           "requestBody": _body(PUT_SCHEMA)},
    "events.event_types": {"summary": "Every event type with its JSON Schema"},
    "audit.list_audit_log": {"summary": "The audit log of admin actions, newest first (admin)"},
    "__flask_sock.agent_socket": {"summary": "The agent's real-time WebSocket (GET with Upgrade: websocket)"},
}

def build_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in current_app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = current_app.view_functions.get(rule.endpoint)
        legacy = OPERATIONS.get(rule.endpoint) or getattr(view, "openapi", None)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(openapi_path(rule), {})[method.lower()] = build_operation(rule, method, view, legacy)
    add_links(paths)
    return {
        "openapi": "3.1.0",
        "info": {"title": "guidepath API", "version": __version__,
                 "description": "The REST API of one guidepath account (tenant), on the account's "
                                "own host. Versioning and deprecation: docs/api.md."},
        # The instance that served this document first; the template says where others live.
        "servers": [
            {"url": request.host_url.rstrip("/"), "description": "this account, as reached now"},
            {"url": "https://{tenant}." + current_app.extensions["guidepath"].config.base_domain,
             "variables": {"tenant": {"default": "acme"}}},
        ],
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, **component_schemas(current_app.view_functions.values())},
            "responses": error_responses(),
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "gp_session"},
            },
        },
        "security": [{"apiKey": []}, {"session": []}],
        "paths": dict(sorted(paths.items())),
    }


@bp.get("/api/openapi.json")
def openapi_document():
    return jsonify(build_document())
