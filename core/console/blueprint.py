"""The console's blueprint: its pages, its assets, and HTML errors for browsers.

Page views live in one module per screen (``auth_pages``, ``queue_page``,
``session_page``, …), all on this blueprint. :func:`install` adds it to the app,
with the HTML answers browsers get instead of JSON: a 404 page on a host that is
no account (saying how accounts are reached, naming none), and error pages for
the console's own views (403 for an agent on an admin page, …).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, g, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from ..domain.errors import DomainError
from ..web.errors import error_response
from ..web.contract import Param, documented, is_page, query_args
from ..web.tenant import UnknownTenant
from .assets import asset_url, send_asset

bp = Blueprint("console", __name__, template_folder="templates")


@bp.get("/console/assets/<path:name>")
@documented("The console's scripts, styles and icons", description="Cached for a year: pages link them with "
            "a content hash (`?v=`), so a new release changes the URL. 404 for anything else.",
            query=[Param("v", {"type": "string", "maxLength": 64}, "The file's content hash (for caches)")],
            returns={"type": "string"},
            returns_media_type=["text/javascript", "text/css", "image/svg+xml"], responses={304: None},
            security=[])
def asset(name: str):
    # ``v`` is for caches only; any value is served the current file.
    return send_asset(name, versioned=bool(query_args()["v"]))


def _wants_html() -> bool:
    """A browser navigating to a page (it names text/html) gets an HTML error; API
    clients (``*/*``, JSON) and routes that are not pages (assets, the API) keep the
    JSON error their contract documents."""
    if request.path.startswith("/api/") or request.path == "/ws":
        return False
    if request.endpoint is not None and not is_page(current_app.view_functions.get(request.endpoint)):
        return False
    return any(value == "text/html" and quality > 0 for value, quality in request.accept_mimetypes)


def error_page(status: int, title: str, message: str, *, hint: str = "") -> Response:
    from .rendering import content_security_policy

    html = render_template("console/error.html", title=title, message=message, hint=hint, status=status,
                           asset=asset_url)
    response = make_response(html, status)
    response.headers["Content-Security-Policy"] = content_security_policy()
    response.headers["Cache-Control"] = "no-store"
    return response




def install(app: Flask) -> None:
    """Register the console on ``app`` (after the kernel's JSON error handlers)."""
    from . import admin, auth_pages, embed_page, history_page, join_page, queue_page, session_page, start_page  # noqa: F401

    app.register_blueprint(bp)
    domain_handler = app.error_handler_spec[None][None][DomainError]

    @app.errorhandler(UnknownTenant)
    def _unknown(exc: UnknownTenant):
        return _not_found_page(exc) if _wants_html() else domain_handler(exc)

    http_handler = app.error_handler_spec[None][None][HTTPException]

    @app.errorhandler(404)
    def _no_route(exc: HTTPException):
        if _wants_html() and g.get("tenant_ctx") is not None:
            return error_page(404, "Not found", "There is no page at this address.")
        return http_handler(exc)


@bp.errorhandler(DomainError)
def _page_error(exc: DomainError):
    """A console view's refusal, as a page for browsers (JSON for anyone else)."""
    if not _wants_html():
        return error_response(exc.status, exc.code, exc.message, exc.field, **exc.details)
    if isinstance(exc, UnknownTenant):  # raised before the view: the host or a disabled plugin
        return _not_found_page(exc)
    titles = {401: "Sign in", 403: "Not allowed", 404: "Not found", 409: "Conflict", 422: "Not valid"}
    return error_page(exc.status, titles.get(exc.status, "Something went wrong"), exc.message)


def _not_found_page(exc: UnknownTenant) -> Response:
    if g.get("tenant_ctx") is None:  # the host is no account: say how accounts are reached, name none
        base = current_app.extensions["guidepath"].config.base_domain
        port = urlsplit(f"//{request.host}").port
        port = f":{port}" if port else ""
        return error_page(404, "No account here",
                           "This address is not a guidepath account. Each account has its own address.",
                           hint=f"{request.scheme}://{{account}}.{base}{port}/")
    return error_page(404, "Not found", "There is no page at this address.")
