"""Support sessions: create, list live or historical, change state, capabilities."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from ...domain import support_sessions
from ..auth import require
from ..body import json_body
from ..tenant import tenant_ctx
from .params import paging, reject_unknown, timestamp

bp = Blueprint("sessions", __name__, url_prefix="/api/v1/sessions")


def _with_capabilities(session: dict) -> dict:
    ctx = tenant_ctx()
    return {**session, "capabilities": ctx.hooks.session_capabilities(ctx.tenant, session)}


@bp.get("")
@require("agent")
def list_sessions():
    reject_unknown({"limit", "cursor", "state", "since", "until", "agent"})
    with tenant_ctx().engine.connect() as conn:
        page = support_sessions.list_sessions(
            conn, state=request.args.get("state") or None, since=timestamp("since"),
            until=timestamp("until"), agent=request.args.get("agent") or None, **paging(),
        )
    return jsonify(page.as_dict())


@bp.post("")
@require("agent")
def create_session():
    data = json_body(allow_empty=True)
    ctx = tenant_ctx()
    with ctx.begin() as conn:
        session = support_sessions.create(conn, data, ctx.emit)
    return jsonify(_with_capabilities(session)), 201


@bp.get("/<session_id>")
@require("agent")
def get_session(session_id: str):
    with tenant_ctx().engine.connect() as conn:
        session = support_sessions.get(conn, session_id)
    return jsonify(_with_capabilities(session))


@bp.patch("/<session_id>")
@require("agent")
def patch_session(session_id: str):
    data = json_body()
    with tenant_ctx().begin() as conn:
        session = support_sessions.patch(conn, session_id, data)
    return jsonify(session)


@bp.post("/<session_id>/state")
@require("agent")
def change_state(session_id: str):
    data = json_body()
    ctx = tenant_ctx()
    with ctx.begin() as conn:
        session = support_sessions.change_state(conn, session_id, data, ctx.emit)
    return jsonify(session)
