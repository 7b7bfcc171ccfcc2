"""``/admin/plugins``: enable, disable and configure the installed plugins.

``admin-plugins.js`` reads ``GET /api/v1/plugins`` (each plugin with its state,
settings and ``settings_schema``), draws a settings form per plugin with
``schema-form.js`` and saves with ``PUT /api/v1/plugins/{name}``; the server's
validation error (a 422 naming ``settings.<path>``) is shown at that input.
"""

from __future__ import annotations

from ...web.contract import page
from ..access import console_page, signed_in_user
from ..blueprint import bp
from ..rendering import render_page


@bp.get("/admin/plugins")
@page("Admin: plugins (enable, disable, settings)")
@console_page("admin")
def admin_plugins_page():
    return render_page("console/admin/plugins.html", title="Plugins", page_name="admin-plugins",
                       principal=signed_in_user())
