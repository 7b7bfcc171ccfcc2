"""``/api/v1/sessions/{id}/diagnostics``: read the device's report; the customer's app
sends one over HTTPS when there is no relay connection (or before there is one)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from guidepath.core.plugin_api import documented, json_body, require, tenant_ctx

from . import store
from .fields import DIAGNOSTICS_SCHEMA, MAX_EXTRA_BYTES, TEXT_FIELDS

bp = Blueprint("diagnostics", __name__)

PATH = "/api/v1/sessions/<session_id>/diagnostics"

#: What both routes answer: the session's device fields, null until a device reports.
#: Looser than a report: the device record may also have been written through
#: /api/v1/devices, whose `extra` takes any JSON.
DIAGNOSTICS_VIEW = {
    "type": "object",
    "required": ["session_id", "device_id", "updated_at", *TEXT_FIELDS, "memory_bytes", "extra"],
    "properties": {
        "session_id": {"type": "string"},
        "device_id": {"type": ["string", "null"], "description": "The session's device; null until one reports"},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        **{name: {"type": ["string", "null"], "maxLength": limit} for name, limit in TEXT_FIELDS.items()},
        "memory_bytes": {"type": ["integer", "null"], "minimum": 0},
        "extra": {"type": "object"},
    },
}


@bp.get(PATH)
@require("agent")
@documented("The session's device diagnostics (null fields until the device reports)", query=[],
            returns=DIAGNOSTICS_VIEW)
def get_diagnostics(session_id: str):
    with tenant_ctx().engine.connect() as conn:
        return jsonify(store.view(conn, session_id))


@bp.put(PATH)
@require("agent")
@documented("Report the device's diagnostics (validated as a whole; fields left out are kept)",
            description="Stored on the session's device record (a session without a device gets one, linked "
                        "to its customer) and announced as the event diagnostics.updated. `extra` may hold "
                        f"at most {MAX_EXTRA_BYTES} bytes of JSON (422). An ended session keeps its device record as it "
                        "was (409).",
            query=[], body=DIAGNOSTICS_SCHEMA, returns=DIAGNOSTICS_VIEW, errors=[409])
def put_diagnostics(session_id: str):
    data = json_body()
    ctx = tenant_ctx()
    with ctx.begin() as conn:
        store.record(ctx, conn, session_id, data, source="app")
        view = store.view(conn, session_id)
    return jsonify(view)
