"""The audit log of admin actions (read-only, admins)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from ...domain import audit
from ...domain.records import page_limit
from ..auth import require
from ..tenant import tenant_ctx
from .params import int_param, reject_unknown

bp = Blueprint("audit", __name__, url_prefix="/api/v1/audit-log")

#: ``audit_log.seq`` is INTEGER: int4 on PostgreSQL, which refuses a larger operand
#: ("integer out of range", a 500). No cursor this API hands out is larger.
SEQ_MAX = 2**31 - 1


@bp.get("")
@require("admin")
def list_audit_log():
    reject_unknown({"limit", "cursor"})
    cursor = int_param("cursor", minimum=0, maximum=SEQ_MAX)  # the last entry's seq
    limit = page_limit(request.args.get("limit"))
    with tenant_ctx().engine.connect() as conn:
        return jsonify(audit.recent(conn, limit, cursor))
