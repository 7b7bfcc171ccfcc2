"""``/admin/webhooks``: the admin console's Webhooks page, and its script.

Server-rendered shell (extends ``console/base.html``); ``static/webhooks-admin.js``
lists, creates (the secret shown once), edits event types, enables and disables,
rotates, deletes, and shows each subscription's delivery log with redelivery, all
through ``/api/v1/webhooks`` with the session's CSRF token (``console.js``'s
``api()``). Someone not signed in goes to the sign-in page; an agent gets a 403
page; an API key a 403.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

from guidepath.core.plugin_api import console_page, current_principal, documented, page, render_page

bp = Blueprint("webhooks_pages", __name__, template_folder="templates")

STATIC = Path(__file__).parent / "static"
ASSETS = {"webhooks-admin.js": "text/javascript"}


@bp.get("/admin/webhooks")
@page("Admin: webhook subscriptions and their delivery logs")
@console_page("admin")
def admin_page():
    return render_page("webhooks-admin.html", title="Webhooks", page_name="admin-webhooks",
                       principal=current_principal())


@bp.get("/webhooks/assets/<path:name>")
@documented("The Webhooks admin page's script",
            description=f"One of: {', '.join(sorted(ASSETS))} (404 for anything else).",
            query=[], returns={"type": "string", "description": "An ES module"},
            returns_media_type=["text/javascript"], responses={304: None}, security=[])
def asset(name: str):
    if name not in ASSETS:
        abort(404)
    response = send_from_directory(STATIC, name, mimetype=ASSETS[name], max_age=0)
    response.cache_control.no_cache = True
    return response
