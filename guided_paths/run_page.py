"""``/guided-paths/runs/{run_id}``: a page that shows a run's current step and answers it.

Server-rendered on the console's design system (it extends ``console/base.html``)
plus small ES modules: ``static/step-view.js`` draws the step — the same module the
agent console's runner panel uses, so a message, every kind of question, back, the
end and the errors at the field look and behave the same in both — and
``static/run-page.js`` wires it to the runs API and hosts Guided Path Apps:

* an ``app`` step embeds the registered app (see the ``list_guided_path_apps``
  hook) in ``<iframe sandbox="allow-scripts allow-forms">`` — no
  ``allow-same-origin``, so the app never gets our origin's cookies or storage —
  talks to it with the SDK's ``app-channel.js`` (context: run id, step id, the
  step's evaluated ``input``) and posts its output to
  ``POST /api/v1/runs/{id}/apps/{step_id}``, which validates it on the server.

The Content-Security-Policy allows frames from the current app's origin only
(``frame-src``), so the iframe cannot be navigated to any other site, and scripts
and styles only from this origin. ``?embed=1`` is the bare page the runner panel
frames for an app step (``frame-ancestors 'self'``; otherwise ``'none'``). Someone
not signed in is sent to the sign-in page, which comes back here. The SDK modules
are served from this package (``static/sdk/``, copies of ``sdk_js/src``; a test
keeps them identical), so an installed wheel serves them too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, redirect, request, send_from_directory

from guidepath.core.plugin_api import (
    Param,
    Unauthorized,
    current_principal,
    documented,
    query_args,
    render_page,
    tenant_ctx,
)

from . import run_store
from .api.schemas import HTML
from .plugin import tenant_apps

bp = Blueprint("guided_paths_pages", __name__, template_folder="templates")

STATIC = Path(__file__).parent / "static"
#: Every file the asset route serves, with its media type.
ASSETS = {
    "run-page.js": "text/javascript",
    "step-view.js": "text/javascript",
    "runner-panel.js": "text/javascript",
    "admin-paths.js": "text/javascript",
    "path-editor.js": "text/javascript",
    "guided-paths.css": "text/css",
    "sdk/app-channel.js": "text/javascript",
    "sdk/json-value.js": "text/javascript",
    "sdk/json-schema-lite.js": "text/javascript",
}
SANDBOX = "allow-scripts allow-forms"


def csp(frame_origin: str | None, *, frame_ancestors: str = "'none'") -> str:
    """The run page's policy: the console's, with frames from the app's origin only."""
    scheme = "wss" if request.is_secure else "ws"
    return ("default-src 'self'; script-src 'self'; style-src 'self'; "
            "img-src 'self' data: blob:; media-src 'self' blob:; "
            f"connect-src 'self' {scheme}://{request.host}; font-src 'self'; object-src 'none'; "
            f"frame-src {frame_origin or chr(39) + 'none' + chr(39)}; "
            f"frame-ancestors {frame_ancestors}; base-uri 'none'; form-action 'self'")


def sign_in_redirect():
    """Someone who is not signed in goes to the sign-in page, which brings them back."""
    return redirect(f"/signin?next={quote(request.full_path.rstrip('?'), safe='/')}")


@bp.get("/guided-paths/runs/<run_id>")
@documented("HTML page showing a run's current step",
            description="The path's title, the current step with a form to answer it (a message with its "
                        "media, every kind of question), back, and the end; an app step shows the step's Guided "
                        "Path App in a sandboxed iframe (Content-Security-Policy frame-src: the app's origin "
                        "only). The page answers through the runs API with the session's CSRF token. Not "
                        "signed in: a redirect (302) to the sign-in page. `?embed=1`: the bare step, for the "
                        "console's runner panel to frame (frame-ancestors 'self').",
            query=[Param("embed", {"type": "boolean", "default": False},
                         "The bare step, framed by the console's runner panel")],
            returns=HTML, returns_media_type="text/html",
            responses={302: {"type": "string", "description": "A redirect to /signin?next=… (a short HTML note)"}})
def run_page(run_id: str):
    try:
        principal = current_principal()
    except Unauthorized:
        return sign_in_redirect()
    embed = query_args()["embed"]
    ctx = tenant_ctx()
    apps = tenant_apps(ctx)  # before the connection: plugins read their own tables
    with ctx.engine.connect() as conn:
        run = run_store.get(conn, run_id)
    view = run.get("view") or {}
    app: dict[str, Any] | None = None
    app_error = None
    if view.get("type") == "app":
        app, problem = run_store.app_for_view(view, apps)
        app_error = problem["message"] if problem else None
        view["app"], view["app_error"] = app, problem
    config = {
        "run": run,
        "app": app,
        "app_error": app_error,
        "sandbox": SANDBOX,
        "csrf_token": principal.get("csrf_token"),
        "embed": embed,
    }
    title = run.get("path_title") or run["path_key"]
    response = render_page(
        "run-page.html", title=title, page_name="guided-path-run-embed" if embed else "guided-path-run",
        principal=principal, config=config, run=run, view=view, path_title=title, embed=embed,
        # Embedded: no live socket of its own (the panel around it has one).
        page_context={"user": None} if embed else None,
    )
    ancestors = "'self'" if embed else "'none'"
    response.headers["Content-Security-Policy"] = csp(app["origin"] if app else None, frame_ancestors=ancestors)
    if embed:
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/guided-paths/assets/<path:name>")
@documented("The Guided Path pages' scripts and styles",
            description=f"One of: {', '.join(sorted(ASSETS))} (404 for anything else).",
            query=[], returns={"type": "string", "description": "An ES module, or a style sheet"},
            returns_media_type=["text/javascript", "text/css"], responses={304: None}, security=[])
def asset(name: str):
    if name not in ASSETS:
        abort(404)
    response = send_from_directory(STATIC, name, mimetype=ASSETS[name], max_age=0)
    # Revalidated each time (ETag, 304): pages import these modules by plain URL, and a
    # module imported twice under two URLs would run twice.
    response.cache_control.no_cache = True
    return response
