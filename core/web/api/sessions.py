"""Support sessions: create, list live or historical, change state, capabilities."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...domain import support_sessions
from ...domain.session_states import STATES
from ..auth import require
from ..body import json_body
from ..contract import PAGING, Param, documented, page_of, query_args
from ..tenant import tenant_ctx

bp = Blueprint("sessions", __name__, url_prefix="/api/v1/sessions")

SESSION = support_sessions.SESSION_OUTPUT_SCHEMA
WITH_CAPABILITIES = support_sessions.SESSION_WITH_CAPABILITIES_SCHEMA
_TIMESTAMP = {"type": "string", "format": "date-time"}

LIST_QUERY = (
    *PAGING,
    Param("state", {"type": "string", "enum": ["live", *STATES]},
          "`live`: every session not ended (created, waiting, active); or exactly one state."),
    Param("since", _TIMESTAMP, "Sessions created at or after this time (ISO-8601; UTC if no zone)."),
    Param("until", _TIMESTAMP, "Sessions created before this time (ISO-8601; UTC if no zone)."),
    Param("agent", {"type": "string", "maxLength": 40}, "Sessions of this agent (a user id)."),
)


def _with_capabilities(session: dict) -> dict:
    ctx = tenant_ctx()
    return {**session, "capabilities": ctx.hooks.session_capabilities(ctx.tenant, session)}


@bp.get("")
@require("agent")
@documented("List sessions: live (?state=live) or historical (since, until, state, agent); paginated, "
            "oldest first", query=LIST_QUERY, returns=page_of(SESSION))
def list_sessions():
    with tenant_ctx().engine.connect() as conn:
        page = support_sessions.list_sessions(conn, **query_args())
    return jsonify(page.as_dict())


@bp.post("")
@require("agent")
@documented("Open a support session (state `created`)",
            description="The body is optional: no body is the same as `{}`. Ids given must exist (422 otherwise).",
            query=[], body=support_sessions.SESSION_CREATE_SCHEMA, body_required=False,
            returns=WITH_CAPABILITIES, status=201)
def create_session():
    data = json_body(allow_empty=True)
    ctx = tenant_ctx()
    with ctx.begin() as conn:
        session = support_sessions.create(conn, data, ctx.emit)
    return jsonify(_with_capabilities(session)), 201


@bp.get("/<session_id>")
@require("agent")
@documented("Get a session with its capabilities", query=[], returns=WITH_CAPABILITIES)
def get_session(session_id: str):
    with tenant_ctx().engine.connect() as conn:
        session = support_sessions.get(conn, session_id)
    return jsonify(_with_capabilities(session))


@bp.patch("/<session_id>")
@require("agent")
@documented("Assign agent, customer or device", description="Ids given must exist (422 otherwise); null "
            "clears one.", query=[], body=support_sessions.SESSION_PATCH_SCHEMA, returns=SESSION)
def patch_session(session_id: str):
    data = json_body()
    with tenant_ctx().begin() as conn:
        session = support_sessions.patch(conn, session_id, data)
    return jsonify(session)


@bp.post("/<session_id>/state")
@require("agent")
@documented("Move the session through its state machine",
            description="created → waiting | ended; waiting → active | ended; active → waiting | ended. Any "
                        "other move (an ended session never moves) is a 409 `illegal_transition` naming the "
                        "moves allowed. `resolution` is recorded when it ends, and only then.",
            query=[], body=support_sessions.STATE_CHANGE_SCHEMA, returns=SESSION, errors=[409])
def change_state(session_id: str):
    data = json_body()
    ctx = tenant_ctx()
    with ctx.begin() as conn:
        session = support_sessions.change_state(conn, session_id, data, ctx.emit)
    return jsonify(session)
