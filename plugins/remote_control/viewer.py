"""``/nexus/{session_id}``: the agent's browser viewer of a customer's screen or camera.

Server-rendered shell plus small ES modules from this package's ``static/``:

* ``relay-codec.js`` — the viewer side of the relay protocol with WebCrypto (a copy of
  ``sdk_js/src/relay-codec.js``; a test keeps the two byte-identical, so an installed
  wheel serves the same code the SDK tests check against ``relay/protocol/vectors.json``);
* ``nexus.js`` — asks ``POST /api/v1/sessions/{id}/relay-tickets`` for a viewer ticket,
  connects to the relay's WebSocket, draws frames on a canvas, sends input (remote
  control only), shows device info and quality, reconnects with a new ticket when the
  connection drops, and plays the session's recordings back;
* ``nexus-signin.js`` — the sign-in form shown instead when nobody is signed in.

The page needs a signed-in agent (cookie session). Its fetch POSTs send the session's
CSRF token, rendered into ``<meta name="csrf-token">``. The Content-Security-Policy
allows scripts from this origin only and network connections to this origin and the
WebSocket origins of the live relays (the ticket names one of them), so the page can
talk to nobody else.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    make_response,
    render_template,
    send_from_directory,
)
from guidepath.core.plugin_api import (
    Forbidden,
    NotFound,
    Param,
    Unauthorized,
    current_principal,
    documented,
    query_args,
    support_sessions,
    tenant_ctx,
)
from guidepath.relay.hosting import hosting_for

log = logging.getLogger("guidepath.plugins.remote_control.viewer")

bp = Blueprint("remote_control_viewer", __name__, template_folder="templates")

STATIC = Path(__file__).parent / "static"
ASSETS = {
    "nexus.js": "text/javascript",
    "nexus-signin.js": "text/javascript",
    "relay-codec.js": "text/javascript",
    "nexus.css": "text/css",
}
KINDS = ("remote_control", "camera")
#: What a relay's advertised address may look like in a header (it comes from the registry).
_NETLOC = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def relay_ws_origins(kernel: Any) -> list[str]:
    """``ws://host:port`` of every live relay: where a viewer ticket may send the page."""
    try:
        relays = hosting_for(kernel).registry.live()
    except Exception as exc:  # noqa: BLE001 - no registry: the page says so when the ticket fails
        log.warning("cannot list the live relays (%s)", exc)
        return []
    origins = set()
    for relay in relays:
        parts = urlsplit(relay.ws_url or "")
        if parts.scheme in ("ws", "wss") and _NETLOC.match(parts.netloc or ""):
            origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)


def _csp(ws_origins: list[str]) -> str:
    connect = " ".join(["'self'", *ws_origins])
    return ("default-src 'self'; script-src 'self'; style-src 'self'; "
            f"img-src 'self' data: blob:; media-src 'none'; connect-src {connect}; object-src 'none'; "
            "frame-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def _page(template: str, status: int, ws_origins: list[str] | None = None, **context: Any):
    response = make_response(render_template(template, **context), status)
    response.headers["Content-Security-Policy"] = _csp(ws_origins or [])
    response.headers["Cache-Control"] = "no-store"
    return response


HTML = {"type": "string", "description": "An HTML page"}


@bp.get("/nexus/<session_id>")
@documented(
    "HTML page viewing a session's device through the relay and playing its recordings",
    description="For signed-in agents (session cookie): without one the page is a sign-in form (401, HTML); "
                "an API key is refused (403): keys cannot watch a device. A session that does not exist in "
                "this account is an HTML notice (404).",
    query=[Param("kind", {"type": "string", "enum": list(KINDS), "default": "remote_control"},
                 "What to view: the device's screen (remote control) or its camera")],
    returns=HTML, returns_media_type="text/html", responses={401: HTML, 404: HTML}, errors=[403],
    security=[{"session": []}],
)
def nexus_page(session_id: str):
    kind = query_args()["kind"]
    ctx = tenant_ctx()
    try:
        principal = current_principal()
    except Unauthorized:
        return _page("nexus-signin.html", 401, title="Sign in to view this session")
    if principal["kind"] != "user":
        raise Forbidden("the viewer is for signed-in agents; API keys cannot watch a device")
    try:
        with ctx.engine.connect() as conn:
            session = support_sessions.get(conn, session_id)
    except NotFound:
        return _page("nexus-notice.html", 404, title="Session not found",
                     message=f"There is no session {session_id} in this account.")
    config = {
        "session": {"id": session["id"], "state": session["state"], "agent_id": session.get("agent_id")},
        "kind": kind,
        "user": {"id": principal["id"], "email": principal.get("email"), "role": principal.get("role")},
        "tickets_url": f"/api/v1/sessions/{session['id']}/relay-tickets",
        "recordings_url": f"/api/v1/sessions/{session['id']}/recordings",
        "device_url": f"/api/v1/devices/{session['device_id']}" if session.get("device_id") else None,
    }
    return _page("nexus.html", 200, relay_ws_origins(ctx.kernel), config=config, session=session, kind=kind,
                 csrf_token=principal.get("csrf_token") or "",
                 title=("Camera" if kind == "camera" else "Remote control") + f" · {session['id']}")


@bp.get("/nexus/assets/<name>")
@documented("The viewer page's scripts and styles",
            description=f"One of: {', '.join(ASSETS)} (404 for anything else).",
            query=[], returns={"type": "string"}, returns_media_type=sorted(set(ASSETS.values())),
            responses={304: None}, security=[])
def nexus_asset(name: str):
    mimetype = ASSETS.get(name)
    if mimetype is None:
        abort(404)
    return send_from_directory(STATIC, name, mimetype=mimetype, max_age=300)
