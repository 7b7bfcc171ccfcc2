"""The audit log of admin actions (read-only, admins)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from ...domain import audit
from ...domain.errors import Invalid
from ...domain.records import page_limit
from ..auth import require
from ..tenant import tenant_ctx
from .params import reject_unknown

bp = Blueprint("audit", __name__, url_prefix="/api/v1/audit-log")


@bp.get("")
@require("admin")
def list_audit_log():
    reject_unknown({"limit", "cursor"})
    cursor = request.args.get("cursor")
    if cursor is not None and not cursor.isdigit():
        raise Invalid("cursor is not one this API returned", field="cursor")
    with tenant_ctx().engine.connect() as conn:
        return jsonify(audit.recent(conn, page_limit(request.args.get("limit")),
                                    int(cursor) if cursor else None))
