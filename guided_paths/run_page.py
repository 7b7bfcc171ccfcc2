"""``/guided-paths/runs/{run_id}``: a page that shows where a run is, in a browser.

Server-rendered (the run's view comes from :func:`.run_store.get`, the same JSON as
``GET /api/v1/runs/{id}``) plus one small ES module, ``static/run-page.js``:

* a ``message`` step shows its text and media (``<img>``/``<video>`` from
  ``GET /api/v1/guided-paths/media/{file_id}``) and an OK button (``{"ack": true}``);
* an ``app`` step embeds the registered app (see the ``list_guided_path_apps``
  hook) in ``<iframe sandbox="allow-scripts allow-forms">`` — no
  ``allow-same-origin``, so the app never gets our origin's cookies or storage —
  talks to it with the SDK's ``app-channel.js`` (context: run id, step id, the
  step's evaluated ``input``) and posts its output to
  ``POST /api/v1/runs/{id}/apps/{step_id}``, which validates it on the server;
* anything else is described, with the run's status.

The Content-Security-Policy allows frames from the current app's origin only
(``frame-src``), so the iframe cannot be navigated to any other site, and
scripts only from this origin. The SDK modules are served from this package
(``static/sdk/``, copies of ``sdk_js/src``; a test keeps them identical), so an
installed wheel serves them too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, make_response, render_template, send_from_directory

from guidepath.core.plugin_api import current_principal, documented, require, tenant_ctx

from . import run_store
from .api.schemas import HTML
from .plugin import tenant_apps

bp = Blueprint("guided_paths_pages", __name__, template_folder="templates")

STATIC = Path(__file__).parent / "static"
ASSETS = frozenset({"run-page.js", "sdk/app-channel.js", "sdk/json-value.js", "sdk/json-schema-lite.js"})
SANDBOX = "allow-scripts allow-forms"


def _csp(frame_origin: str | None) -> str:
    return ("default-src 'self'; script-src 'self'; "
            "img-src 'self' data: blob:; media-src 'self'; connect-src 'self'; object-src 'none'; "
            f"frame-src {frame_origin or chr(39) + 'none' + chr(39)}; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


@bp.get("/guided-paths/runs/<run_id>")
@require("agent")
@documented("HTML page showing a run's current step",
            description="A message with its media, a question, or the step's Guided Path App in a sandboxed "
                        "iframe (Content-Security-Policy frame-src: the app's origin only); the page answers "
                        "through the runs API with the session's CSRF token. Errors are JSON, like the API's.",
            query=[], returns=HTML, returns_media_type="text/html")
def run_page(run_id: str):
    ctx = tenant_ctx()
    principal = current_principal()
    with ctx.engine.connect() as conn:
        run = run_store.get(conn, run_id, history=False)
    view = run.get("view") or {}
    app: dict[str, Any] | None = None
    app_error = None
    if view.get("type") == "app":
        app, problem = run_store.app_for_view(view, tenant_apps(ctx))
        app_error = problem["message"] if problem else None
    config = {
        "run": {"id": run["id"], "status": run["status"], "outcome": run["outcome"],
                "path_key": run["path_key"], "locale": run["locale"]},
        "view": view,
        "app": app,
        "app_error": app_error,
        "sandbox": SANDBOX,
        "csrf_token": principal.get("csrf_token"),
    }
    response = make_response(render_template("run-page.html", config=config, run=run, view=view))
    response.headers["Content-Security-Policy"] = _csp(app["origin"] if app else None)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/guided-paths/assets/<path:name>")
@documented("The run page's JavaScript",
            description=f"One of: {', '.join(sorted(ASSETS))} (404 for anything else).",
            query=[], returns={"type": "string", "description": "An ES module"},
            returns_media_type="text/javascript", responses={304: None}, security=[])
def asset(name: str):
    if name not in ASSETS:
        abort(404)
    response = send_from_directory(STATIC, name, mimetype="text/javascript", max_age=300)
    return response
