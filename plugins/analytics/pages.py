"""``/admin/analytics``: the admin console's Analytics dashboard, and its assets.

Server-rendered shell (extends ``console/base.html``); ``static/analytics-admin.js``
reads ``/api/v1/analytics/…`` with the admin's session, draws the charts with uPlot
and re-reads today's numbers when the live socket brings a session, run or relay
event. uPlot is not committed: ``make install`` copies it into ``static/vendor/``
from ``sdk_js``'s devDependencies; without it the page says so ("run make install")
and shows the numbers without charts. Someone not signed in goes to the sign-in
page; an agent gets a 403 page; an API key a 403.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Blueprint, abort, send_from_directory

from guidepath.core.plugin_api import (Param, console_page, current_principal, documented, page,
                                       render_page)

bp = Blueprint("analytics_pages", __name__, template_folder="templates")

STATIC = Path(__file__).parent / "static"
ASSETS = {
    "analytics-admin.js": "text/javascript",
    "analytics.css": "text/css",
    "vendor/uPlot.iife.min.js": "text/javascript",
    "vendor/uPlot.min.css": "text/css",
}
UPLOT = ("vendor/uPlot.iife.min.js", "vendor/uPlot.min.css")


def asset_url(name: str) -> str | None:
    """``/analytics/assets/<name>?v=<hash of the file>``, or None if it is missing."""
    path = STATIC / name
    if not path.is_file():
        return None
    return f"/analytics/assets/{name}?v={hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"


@bp.get("/admin/analytics")
@page("Admin: the analytics dashboard (today's numbers live, date ranges, charts, CSV export)")
@console_page("admin")
def admin_page():
    principal = current_principal()
    uplot = [asset_url(name) for name in UPLOT]
    return render_page("analytics-admin.html", title="Analytics", page_name="admin-analytics", principal=principal,
                       uplot_js=uplot[0], uplot_css=uplot[1], page_js=asset_url("analytics-admin.js"),
                       page_css=asset_url("analytics.css"), page_context={"charts": all(uplot)})


@bp.get("/analytics/assets/<path:name>")
@documented("The analytics dashboard's script, style sheet and its copy of uPlot",
            description=f"One of: {', '.join(sorted(ASSETS))} (404 for anything else, and for uPlot's files "
                        "until `make install` copied them).",
            query=[Param("v", {"type": "string", "maxLength": 64}, "The file's version (a hash), for caches; "
                                                                    "any value is accepted")],
            returns={"type": "string", "description": "A script or a style sheet"},
            returns_media_type=sorted(set(ASSETS.values())), responses={304: None}, security=[])
def asset(name: str):
    if name not in ASSETS or not (STATIC / name).is_file():
        abort(404)
    response = send_from_directory(STATIC, name, mimetype=ASSETS[name], max_age=0)
    response.cache_control.no_cache = True
    return response
