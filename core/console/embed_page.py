"""``/embed/agent``: the agent view a partner's portal frames (docs/embedding.md).

**Who may frame it.** The tenant's admins list the origins in the settings of the
built-in plugin ``agent_embed`` (``allowed_origins``, ``https://`` only unless
``allow_loopback_http`` for development). The page answers with
``Content-Security-Policy: frame-ancestors <those origins>``; with the plugin
disabled or no origin listed it is a 403 page that may not be framed at all
(``frame-ancestors 'none'``). Its ``postMessage`` API (``embed.js``) talks only to
the listed origin that frames it, never ``'*'``.

**Signing in inside the frame.** The console's cookie is ``SameSite=Lax``, so a
browser never sends it to a frame on another site, and refuses to store it when a
cross-site frame sets it. The embed therefore signs the agent in *inside the frame*
(``POST /embed/agent/sign-in``, the same password check and lockout as
``/api/v1/auth/login``) and sets the same session cookie as ``SameSite=None;
Secure; Partitioned`` (CHIPS): the browser keeps it in a jar of its own for this
host site, so it exists only in frames under that site — not at the top level, not
in frames on other sites — and needs HTTPS (browsers treat ``localhost`` and
``*.localhost`` as secure, which is what the tests use). The host page never sees
the password or the cookie (the frame is cross-origin), and every write still needs
the page's CSRF token. Why not a token handed over by ``postMessage``: it would put
an agent's credential in the host page's JavaScript, where any script of that page
(or an XSS in it) could take it.
"""

from __future__ import annotations


from flask import jsonify, request

from ..domain import login_sessions
from ..domain.errors import Forbidden
from ..web.api.auth import LOGIN_RESPONSE_SCHEMA, LOGIN_SCHEMA, start_login_session
from ..web.auth import COOKIE_NAME
from ..web.body import json_body
from ..web.contract import documented, page
from ..web.tenant import tenant_ctx
from .access import signed_in_user
from .blueprint import error_page, bp
from .rendering import render_page

#: The plugin whose settings hold the allowed origins (looked up by name: the
#: console imports no plugin; a partner may replace it with one of the same name).
PLUGIN = "agent_embed"


def allowed_origins() -> list[str]:
    """The origins that may frame the embed for this tenant (empty: none)."""
    ctx = tenant_ctx()
    try:
        if not ctx.plugin_enabled(PLUGIN):
            return []
        settings = ctx.settings(PLUGIN)
    except KeyError:  # the plugin is not installed
        return []
    loopback_http = bool(settings.get("allow_loopback_http"))
    origins = [o for o in settings.get("allowed_origins") or [] if isinstance(o, str)]
    return [o for o in origins if o.startswith("https://") or (loopback_http and o.startswith("http://"))]


def _loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    return name in ("localhost", "127.0.0.1", "[::1]") or name.endswith(".localhost")


def _refused():
    return error_page(403, "Embedding is off",
                       "This account's admins have not listed any site that may show the agent view. "
                       "An admin can add one in the settings of the agent_embed plugin.")


@bp.get("/embed/agent")
@page("The embeddable agent view (framed by the origins the tenant's admins list; docs/embedding.md)")
def embed_page():
    origins = allowed_origins()
    if not origins:
        return _refused()
    principal = signed_in_user()
    return render_page(
        "console/embed.html", title="Agent", page_name="embed", principal=principal,
        frame_ancestors=" ".join(origins), secure_enough=request.is_secure or _loopback(request.host),
        page_context={"allowedOrigins": origins},
    )


@bp.post("/embed/agent/sign-in")
@documented("Sign in inside the embedded agent view",
            description="Like POST /api/v1/auth/login (same password check and lockout), but the session cookie "
                        "is `SameSite=None; Secure; Partitioned`, so it works in a frame on the host site and "
                        "only there. 403 when embedding is off for the account (no allowed origin), over plain "
                        "HTTP (except on loopback hosts), or when sent from another origin.",
            query=[], body=LOGIN_SCHEMA, returns=LOGIN_RESPONSE_SCHEMA, errors=[401, 403, 429], security=[])
def embed_sign_in():
    if not allowed_origins():
        raise Forbidden("embedding is off for this account")
    if not (request.is_secure or _loopback(request.host)):
        raise Forbidden("the embedded agent view needs HTTPS")
    sent_from = request.headers.get("Origin")
    if sent_from and sent_from != f"{request.scheme}://{request.host}":
        raise Forbidden("sign in from the agent view itself")
    user, token, csrf = start_login_session(json_body())
    response = jsonify({"csrf_token": csrf, "user": user})
    response.set_cookie(COOKIE_NAME, token, httponly=True, secure=True, samesite="None", partitioned=True,
                        max_age=int(login_sessions.SESSION_LIFETIME.total_seconds()), path="/")
    response.headers["Cache-Control"] = "no-store"
    return response
