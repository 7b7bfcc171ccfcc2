"""``/admin/users``: list, create and edit users; disable, enable, reset a password.

``admin-users.js`` does the work through ``/api/v1/users``. The page adds who is
locked out after too many failed sign-ins (the API does not show it; setting a
new password clears it), as ``page_context.locked`` (user id → until when).
"""

from __future__ import annotations

from datetime import timezone

from sqlalchemy import select

from ...domain.records import iso, utcnow
from ...domain.tables import users as users_table
from ...domain.users import USER_CREATE_SCHEMA
from ...web.contract import page
from ...web.tenant import tenant_ctx
from ..access import console_page, signed_in_user
from ..blueprint import bp
from ..rendering import render_page


def locked_users() -> dict[str, str]:
    now = utcnow()
    with tenant_ctx().engine.connect() as conn:
        rows = conn.execute(select(users_table.c.id, users_table.c.locked_until)
                            .where(users_table.c.locked_until.is_not(None))).all()
    locked = {}
    for row in rows:
        until = row.locked_until if row.locked_until.tzinfo else row.locked_until.replace(tzinfo=timezone.utc)
        if until > now:
            locked[row.id] = iso(until)
    return locked


@bp.get("/admin/users")
@page("Admin: users (create, edit, disable, reset passwords)")
@console_page("admin")
def admin_users_page():
    properties = USER_CREATE_SCHEMA["properties"]
    return render_page(
        "console/admin/users.html", title="Users", page_name="admin-users", principal=signed_in_user(),
        password_min=properties["password"]["minLength"], capacity=properties["capacity"],
        page_context={"locked": locked_users()},
    )
