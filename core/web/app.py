"""The Flask application factory.

    from guidepath.core.web.app import create_app
    app = create_app()            # configuration from the environment

Every request is resolved to its tenant from the host name before any view runs;
plugin routes answer 404 for tenants that have the plugin disabled. JSON in and out
is strict (``json_provider``), ``<int:…>`` path segments are bounded to signed 64
bits (``converters``), for plugins' routes too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from ..config import Config, load_config
from ..kernel import Kernel
from . import errors
from .api import (
    api_keys, audit, auth, canned_responses, events, health, invites, me, plugins, records, relay_tickets,
    session_messages, sessions, users,
)
from .converters import Int64Converter
from .json_provider import StrictJSONProvider, StrictJSONRequest
from .tenant import resolve_request_tenant, UnknownTenant
from .ws import authenticate_handshake, sock

CORE_BLUEPRINTS = (
    health.bp, auth.bp, users.bp, api_keys.bp, records.customers_bp, records.devices_bp,
    sessions.bp, relay_tickets.bp, plugins.bp, events.bp, audit.bp,
    me.bp, session_messages.bp, invites.bp, canned_responses.bp,
)


def create_app(
    config: Config | None = None,
    *,
    kernel: Kernel | None = None,
    start_workers: bool = True,
    **overrides: Any,
) -> Flask:
    """Build the app. Pass a ``kernel`` to share one (tests, ``guidepath run``)."""
    if kernel is None:
        kernel = Kernel(config or load_config(**overrides))
        if kernel.config.embedded:
            kernel.upgrade_global()
    # root_path/instance_path are explicit: guidepath is a namespace package mapped
    # onto several top-level folders, which Flask cannot locate on its own.
    app = Flask("guidepath.core.web", static_folder=None, root_path=str(Path(__file__).parent),
                instance_path=str((kernel.config.data_dir / "instance").resolve()))
    app.config.update(
        MAX_CONTENT_LENGTH=kernel.config.max_request_bytes,
        SECRET_KEY=kernel.config.secret_key
        or hashlib.sha256(kernel.master_key.derive("flask-secret", "t0000000000000000")).hexdigest(),
        JSON_SORT_KEYS=False,
    )
    app.json = StrictJSONProvider(app)
    app.request_class = StrictJSONRequest
    # Before any blueprint adds a rule: rules bind their converter when added.
    app.url_map.converters["int"] = Int64Converter
    app.extensions["guidepath"] = kernel

    errors.install(app)
    app.before_request(resolve_request_tenant)
    app.before_request(_guard_plugin_routes)
    app.before_request(authenticate_handshake)
    app.after_request(_security_headers)
    app.after_request(_no_content_has_no_type)

    for bp in CORE_BLUEPRINTS:
        app.register_blueprint(bp)
    sock.init_app(app)

    plugin_of_blueprint: dict[str, str] = {}
    for plugin_name, bp in kernel.plugins.all.register_routes():
        app.register_blueprint(bp)
        plugin_of_blueprint[bp.name] = plugin_name
    app.extensions["guidepath.plugin_blueprints"] = plugin_of_blueprint

    from ..console.blueprint import install as install_console
    from .openapi import bp as openapi_bp

    app.register_blueprint(openapi_bp)
    install_console(app)
    if kernel.config.trusted_proxies:
        # Behind nginx the app sees plain HTTP from 127.0.0.1; the proxy's headers say
        # what the browser used, which decides secure cookies and HSTS.
        n = kernel.config.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    kernel.plugins.all.app_started(app)
    if start_workers:
        kernel.start_workers()
    return app


def _guard_plugin_routes() -> None:
    blueprint = request.blueprint
    if not blueprint:
        return
    owner = current_app.extensions["guidepath.plugin_blueprints"].get(blueprint.split(".")[0])
    if owner is None:
        return
    ctx = g.get("tenant_ctx")
    if ctx is None or not ctx.plugin_enabled(owner):
        raise UnknownTenant("not found")


def _no_content_has_no_type(response):
    """A 204 has no body, so no media type (Flask gives ``return "", 204`` text/html)."""
    if response.status_code == 204:
        response.headers.pop("Content-Type", None)
    return response


def _security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    )
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")
    return response
