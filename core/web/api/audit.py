"""The audit log of admin actions (read-only, admins), with filters.

Filters are exact matches (``actor``, ``target``), an action or an action family
(``action=user.created``, or ``action=user.`` for every ``user.…`` action), and a
time range (``since`` inclusive, ``until`` exclusive). They combine with AND, and
the cursor pages through the filtered list.
"""

from __future__ import annotations

from datetime import timezone
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import Connection, select

from ...domain import audit
from ...domain.records import iso
from ...domain.tables import audit_log
from ..auth import require
from ..contract import LIMIT, Param, documented, page_of, query_args
from ..tenant import tenant_ctx

bp = Blueprint("audit", __name__, url_prefix="/api/v1/audit-log")

#: ``audit_log.seq`` is INTEGER: int4 on PostgreSQL, which refuses a larger operand
#: ("integer out of range", a 500). No cursor this API hands out is larger.
SEQ_MAX = 2**31 - 1

CURSOR = Param("cursor", {"type": "integer", "minimum": 0, "maximum": SEQ_MAX},
               "The `next` value of the previous page (entries older than that `seq`); absent for the newest.")
FILTERS = [
    Param("actor", {"type": "string", "maxLength": 60},
          "Only entries by this actor (`user:usr_…` or `api_key:key_…`; exact)."),
    Param("action", {"type": "string", "maxLength": 60},
          "Only this action (`user.created`), or, ending with a dot, every action of that family (`user.`)."),
    Param("target", {"type": "string", "maxLength": 100}, "Only entries about this object id (exact)."),
    Param("since", {"type": "string", "format": "date-time"}, "Only entries at or after this time."),
    Param("until", {"type": "string", "format": "date-time"}, "Only entries before this time."),
]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered(conn: Connection, *, limit: int, cursor: int | None, actor: str | None = None,
             action: str | None = None, target: str | None = None, since: Any = None,
             until: Any = None) -> dict[str, Any]:
    """A page of the audit log, newest first, with the filters applied."""
    query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit + 1)
    if cursor is not None:
        query = query.where(audit_log.c.seq < cursor)
    if actor:
        query = query.where(audit_log.c.actor == actor)
    if action:
        query = query.where(audit_log.c.action.like(_escape_like(action) + "%", escape="\\")
                            if action.endswith(".") else audit_log.c.action == action)
    if target:
        query = query.where(audit_log.c.target == target)
    # Stored in UTC (SQLite keeps no zone), so compare in UTC whatever zone was asked.
    if since is not None:
        query = query.where(audit_log.c.at >= since.astimezone(timezone.utc))
    if until is not None:
        query = query.where(audit_log.c.at < until.astimezone(timezone.utc))
    rows = conn.execute(query).all()
    items = [{"seq": r.seq, "at": iso(r.at), "actor": r.actor, "action": r.action,
              "target": r.target, "details": r.details} for r in rows[:limit]]
    return {"items": items, "next": str(items[-1]["seq"]) if len(rows) > limit else None}


@bp.get("")
@require("admin")
@documented("The audit log of admin actions, newest first (admin; paginated; filterable)",
            description="Filters combine (AND) and the cursor pages through the filtered entries. `action` "
                        "ending with a dot matches a family of actions (`user.` for `user.created`, "
                        "`user.updated`, …).",
            query=[LIMIT, CURSOR, *FILTERS], returns=page_of(audit.AUDIT_ENTRY_OUTPUT_SCHEMA))
def list_audit_log():
    args = query_args()
    with tenant_ctx().engine.connect() as conn:
        return jsonify(filtered(conn, limit=args["limit"], cursor=args["cursor"], actor=args["actor"],
                                action=args["action"], target=args["target"], since=args["since"],
                                until=args["until"]))
