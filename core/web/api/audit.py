"""The audit log of admin actions (read-only, admins)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...domain import audit
from ..auth import require
from ..contract import LIMIT, Param, documented, page_of, query_args
from ..tenant import tenant_ctx

bp = Blueprint("audit", __name__, url_prefix="/api/v1/audit-log")

#: ``audit_log.seq`` is INTEGER: int4 on PostgreSQL, which refuses a larger operand
#: ("integer out of range", a 500). No cursor this API hands out is larger.
SEQ_MAX = 2**31 - 1

CURSOR = Param("cursor", {"type": "integer", "minimum": 0, "maximum": SEQ_MAX},
               "The `next` value of the previous page (entries older than that `seq`); absent for the newest.")


@bp.get("")
@require("admin")
@documented("The audit log of admin actions, newest first (admin; paginated)", query=[LIMIT, CURSOR],
            returns=page_of(audit.AUDIT_ENTRY_OUTPUT_SCHEMA))
def list_audit_log():
    args = query_args()
    with tenant_ctx().engine.connect() as conn:
        return jsonify(audit.recent(conn, args["limit"], args["cursor"]))
