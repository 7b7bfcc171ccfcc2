"""``/admin/audit``: the audit log, filtered and paged ("Load more").

``admin-audit.js`` reads ``GET /api/v1/audit-log`` with the filters of the form
(the page's own query string, so a filtered view can be linked to:
``/admin/audit?target=usr_…``). The page adds names for the actors (the log
stores ``user:usr_…`` and ``api_key:key_…``) and the actions seen so far, for
the filter's suggestions.
"""

from __future__ import annotations

from sqlalchemy import select

from ...domain.tables import api_keys, audit_log, users
from ...web.api.audit import FILTERS
from ...web.contract import page, query_args
from ...web.tenant import tenant_ctx
from ..access import console_page, signed_in_user
from ..blueprint import bp
from ..rendering import render_page

#: At most this many users or keys are named (beyond, the raw actor id is shown).
NAMED = 1000


def _known() -> tuple[dict[str, str], list[str]]:
    with tenant_ctx().engine.connect() as conn:
        people = conn.execute(select(users.c.id, users.c.name, users.c.email).limit(NAMED)).all()
        keys = conn.execute(select(api_keys.c.id, api_keys.c.name).limit(NAMED)).all()
        actions = conn.execute(select(audit_log.c.action).distinct().order_by(audit_log.c.action).limit(200))
        actions = [row.action for row in actions]
    actors = {f"user:{p.id}": p.name or p.email for p in people}
    actors.update({f"api_key:{k.id}": f"API key “{k.name}”" for k in keys})
    return actors, actions


@bp.get("/admin/audit")
@page("Admin: the audit log, filtered", query=FILTERS)
@console_page("admin")
def admin_audit_page():
    args = query_args()
    filters = {name: value for name, value in args.items() if value is not None and value != ""}
    for name in ("since", "until"):
        if name in filters:
            filters[name] = filters[name].isoformat()
    actors, actions = _known()
    return render_page("console/admin/audit.html", title="Audit log", page_name="admin-audit",
                       principal=signed_in_user(), actors=actors, actions=actions,
                       families=sorted({action.split(".")[0] for action in actions if "." in action}),
                       page_context={"filters": filters, "actors": actors})
