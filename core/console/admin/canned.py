"""``/admin/canned-responses``: the replies agents insert in chat by typing ``/``.

``admin-canned.js`` lists, creates, edits and deletes them through
``/api/v1/canned-responses`` (admins write, every agent reads; changes are audited
by the API).
"""

from __future__ import annotations

from ...web.contract import page
from ..access import console_page, signed_in_user
from ..blueprint import bp
from ..rendering import render_page


@bp.get("/admin/canned-responses")
@page("Admin: canned responses (create, edit, delete)")
@console_page("admin")
def admin_canned_page():
    return render_page("console/admin/canned.html", title="Canned responses", page_name="admin-canned",
                       principal=signed_in_user())
