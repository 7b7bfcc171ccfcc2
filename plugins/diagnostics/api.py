"""``/api/v1/sessions/{id}/diagnostics``: read the device's report; the customer's app
sends one over HTTPS when there is no relay connection (or before there is one)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from guidepath.core.plugin_api import documented, json_body, require, tenant_ctx

from . import store
from .fields import DIAGNOSTICS_SCHEMA

bp = Blueprint("diagnostics", __name__)

PATH = "/api/v1/sessions/<session_id>/diagnostics"


@bp.get(PATH)
@require("agent")
@documented("The session's device diagnostics (null fields until the device reports)")
def get_diagnostics(session_id: str):
    with tenant_ctx().engine.connect() as conn:
        return jsonify(store.view(conn, session_id))


@bp.put(PATH)
@require("agent")
@documented("Report the device's diagnostics (validated as a whole; fields left out are kept)",
            body=DIAGNOSTICS_SCHEMA)
def put_diagnostics(session_id: str):
    data = json_body()
    ctx = tenant_ctx()
    with ctx.begin() as conn:
        store.record(ctx, conn, session_id, data, source="app")
        view = store.view(conn, session_id)
    return jsonify(view)
