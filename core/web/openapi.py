"""``GET /api/openapi.json``: the OpenAPI 3.1 document of the REST API.

Paths and methods come from the live URL map, so the document cannot list a
route that does not exist; everything else comes from each view's
:func:`~.contract.documented` declaration (core's, plugins' and Guided Paths',
through ``guidepath.core.plugin_api``), the same declaration that checks the
view's query string — so the document and the checks cannot drift apart. A test
fails when a route has no declaration, so a new route cannot ship undocumented.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, jsonify, request

from .. import __version__
from .contract import documented, is_page
from .openapi_operations import add_links, build_operation, component_schemas, error_responses, openapi_path

bp = Blueprint("openapi", __name__)

DEFAULT_PORTS = {"http": 80, "https": 443}

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


DOCUMENT_SCHEMA = {
    "type": "object",
    "required": ["openapi", "info", "paths"],
    "properties": {
        "openapi": {"type": "string", "pattern": "^3\\.1\\."},
        "info": {"type": "object", "required": ["title", "version"]},
        "servers": {"type": "array", "items": {"type": "object", "required": ["url"]}},
        "paths": {"type": "object"},
        "components": {"type": "object"},
        "security": {"type": "array", "items": {"type": "object"}},
    },
    "description": "An OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0)",
}


def build_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in current_app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = current_app.view_functions.get(rule.endpoint)
        if is_page(view):  # a browser page, not an API operation
            continue
        legacy = getattr(view, "openapi", None)  # a dict: the old way, deprecated in partner API 1.0 (docs/CHANGELOG.md)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(openapi_path(rule), {})[method.lower()] = build_operation(rule, method, view, legacy)
    add_links(paths)
    return {
        "openapi": "3.1.0",
        "info": {"title": "guidepath API", "version": __version__,
                 "description": "The REST API of one guidepath account (tenant), on the account's "
                                "own host. Versioning and deprecation: docs/api.md."},
        "servers": servers(),
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, **component_schemas(current_app.view_functions.values())},
            "responses": error_responses(),
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "gp_session"},
                "customerToken": {
                    "type": "http", "scheme": "bearer",
                    "description": "A customer's token (`gpc_…`) from `POST /api/v1/invites/redeem`: only its own "
                                   "session's summary, chat and queue position; 403 anywhere else",
                },
            },
        },
        "security": [{"apiKey": []}, {"session": []}],
        "paths": dict(sorted(paths.items())),
    }


def servers() -> list[dict[str, Any]]:
    """Where the API is: first the scheme, host and port this request reached (as the
    client used them; behind ``trusted_proxies`` proxies, as the client reached the
    proxy), then the same for any account, with the account as the ``tenant`` variable."""
    here = urlsplit(request.host_url)
    port = f":{here.port}" if here.port and here.port != DEFAULT_PORTS.get(here.scheme) else ""
    ctx = getattr(g, "tenant_ctx", None)
    slug = ctx.tenant.slug if ctx is not None else "acme"
    base_domain = current_app.extensions["guidepath"].config.base_domain
    return [
        {"url": f"{here.scheme}://{here.netloc}", "description": "this account, as reached by this request"},
        {"url": f"{here.scheme}://{{tenant}}.{base_domain}{port}", "description": "any account, by its slug",
         "variables": {"tenant": {"default": slug, "description": "the account's (tenant's) slug"}}},
    ]


@bp.get("/api/openapi.json")
@documented("This document", description="Built from the running instance: its routes (plugins' included), "
            "and `servers` naming the host this request reached.", query=[], returns=DOCUMENT_SCHEMA, security=[])
def openapi_document():
    return jsonify(build_document())
