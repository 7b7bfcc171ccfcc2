"""``/admin/api-keys``: list, create (the key shown once) and revoke API keys.

``admin-api-keys.js`` does the work through ``/api/v1/api-keys``; the new key is
only ever in the browser's memory, in the dialog that shows it once.
"""

from __future__ import annotations

from ...web.contract import page
from ..access import console_page, signed_in_user
from ..blueprint import bp
from ..rendering import render_page


@bp.get("/admin/api-keys")
@page("Admin: API keys (create, shown once; revoke)")
@console_page("admin")
def admin_api_keys_page():
    return render_page("console/admin/api_keys.html", title="API keys", page_name="admin-api-keys",
                       principal=signed_in_user())
