"""Rendering a console page: the shared context, the menu and the security headers.

Every page gets the signed-in user, the menus (the console's own items plus what
plugins add through ``console_menu``), the CSRF token for the page's fetches (in
``<meta name="csrf-token">``) and ``page_context``: a JSON object the page's
scripts read from ``<script type="application/json" id="gp-context">`` — data,
never code, so the Content-Security-Policy can forbid inline scripts.
"""

from __future__ import annotations

from typing import Any

from flask import make_response, render_template, request
from flask import Response

from ..domain import users
from ..domain.errors import NotFound
from ..web.tenant import tenant_ctx
from .assets import asset_url
from .records import ConsoleLink

#: The console's own menu; plugins' items join these through ``console_menu``.
OWN_MENU = (
    ConsoleLink(key="queue", label="Queue", href="/queue", order=10, shortcut="g q"),
    ConsoleLink(key="start", label="Start session", href="/sessions/new", order=20, shortcut="n"),
    ConsoleLink(key="history", label="History", href="/history", order=30, shortcut="g h"),
    ConsoleLink(key="users", label="Users", href="/admin/users", section="admin", order=10),
    ConsoleLink(key="api-keys", label="API keys", href="/admin/api-keys", section="admin", order=20),
    ConsoleLink(key="plugins", label="Plugins", href="/admin/plugins", section="admin", order=30),
    ConsoleLink(key="canned", label="Canned responses", href="/admin/canned-responses", section="admin", order=50),
    ConsoleLink(key="audit", label="Audit log", href="/admin/audit", section="admin", order=90),
)


def content_security_policy(*, frame_ancestors: str = "'none'", frame_src: str = "'self'") -> str:
    # connect-src names the WebSocket origin explicitly: older browsers do not let
    # 'self' cover ws:/wss:.
    scheme = "wss" if request.is_secure else "ws"
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            f"media-src 'self' blob:; connect-src 'self' {scheme}://{request.host}; font-src 'self'; "
            f"object-src 'none'; frame-src {frame_src}; frame-ancestors {frame_ancestors}; "
            "base-uri 'none'; form-action 'self'")


def menu_for(principal: dict[str, Any]) -> dict[str, list[ConsoleLink]]:
    ctx = tenant_ctx()
    links = sorted([*OWN_MENU, *ctx.hooks.console_menu(ctx.tenant, principal)],
                   key=lambda link: (link.order, link.label))
    return {
        "agent": [link for link in links if link.section == "agent"],
        "admin": [link for link in links if link.section == "admin"] if principal["role"] == "admin" else [],
    }


def current_user_record(principal: dict[str, Any]) -> dict[str, Any]:
    """The signed-in user as the users API shows it (name, availability, …)."""
    try:
        with tenant_ctx().engine.connect() as conn:
            return users.get(conn, principal["id"])
    except NotFound:  # deleted while signed in: the next request is refused anyway
        return {"id": principal["id"], "email": principal.get("email"), "name": ""}


def render_page(
    template: str,
    *,
    title: str,
    page_name: str,
    principal: dict[str, Any] | None,
    status: int = 200,
    page_context: dict[str, Any] | None = None,
    frame_ancestors: str = "'none'",
    **context: Any,
) -> Response:
    ctx = tenant_ctx()
    me = current_user_record(principal) if principal else {}
    me.setdefault("availability", "offline")
    shared = {
        "tenant": ctx.tenant.slug,
        "user": ({"id": principal["id"], "email": principal.get("email"), "role": principal["role"],
                  "name": me.get("name") or "", "availability": me["availability"]} if principal else None),
        **(page_context or {}),
    }
    html = render_template(
        template, title=title, page_name=page_name, principal=principal, me=me,
        menu=menu_for(principal) if principal else {"agent": [], "admin": []},
        csrf_token=(principal or {}).get("csrf_token", ""), tenant_name=ctx.tenant.slug,
        asset=asset_url, page_context=shared, **context,
    )
    response = make_response(html, status)
    response.headers["Content-Security-Policy"] = content_security_policy(frame_ancestors=frame_ancestors)
    response.headers["Cache-Control"] = "no-store"
    if frame_ancestors != "'none'":
        # Browsers obey CSP frame-ancestors over X-Frame-Options; a SAMEORIGIN header
        # keeps old browsers that only know the latter from framing it anywhere.
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
