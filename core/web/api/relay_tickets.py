"""Relay tickets: the HTTPS side of remote control and camera sharing.

The kernel checks what it can know about (the body, the session, who may take which
role) and asks the enabled plugins through ``issue_relay_ticket`` for the ticket:
which plugin handles which ``kind`` (remote control, camera) is theirs to say, and
a kind whose plugin is disabled for the tenant simply has nobody to answer (404).
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...domain import audit, support_sessions
from ...domain.errors import Conflict, DomainError, Forbidden
from ...domain.validation import validate
from ..auth import actor_id, current_principal, require
from ..body import json_body
from ..contract import documented
from ..tenant import tenant_ctx

bp = Blueprint("relay_tickets", __name__, url_prefix="/api/v1/sessions")

KINDS = ("remote_control", "camera")
ROLES = ("device", "viewer")

TICKET_REQUEST_SCHEMA = {
    "type": "object",
    "properties": {
        "kind": {"enum": list(KINDS), "description": "what flows over the relay"},
        "role": {"enum": list(ROLES), "description": "the customer's device, or an agent watching"},
    },
    "required": ["kind", "role"],
    "additionalProperties": False,
    "examples": [{"kind": "remote_control", "role": "device"}, {"kind": "camera", "role": "viewer"}],
}

#: What the plugin handling ``kind`` answers (``issue_relay_ticket``): at least these
#: fields; the built-in relay plugins add ``kind``, ``role``, ``recording`` and ``limits``.
TICKET_SCHEMA = {
    "type": "object",
    "required": ["relay", "ticket", "key", "connection_id", "expires_at"],
    "properties": {
        "relay": {"type": "object", "description": "Where to connect: `tcp` (host:port) for a device, `ws` "
                                                   "(a WebSocket URL) for a viewer",
                  "properties": {"id": {"type": "string"}, "tcp": {"type": "string"}, "ws": {"type": "string"}}},
        "ticket": {"type": "string", "description": "Opaque, single use; sent first on the relay connection"},
        "key": {"type": "string", "description": "base64url (no padding) of the connection's fresh 256-bit key"},
        "connection_id": {"type": "string"},
        "expires_at": {"type": "integer", "description": "Unix seconds; the ticket cannot start a connection "
                                                         "after this"},
        "kind": {"enum": list(KINDS)},
        "role": {"enum": list(ROLES)},
        "recording": {"type": "boolean", "description": "The relay records this connection"},
        "limits": {"type": "object", "properties": {
            "max_fps": {"type": "integer"}, "max_width": {"type": "integer"}, "max_height": {"type": "integer"}}},
    },
    "description": "A single-use ticket to the relay (format: docs/relay-protocol.md)",
}


class CapabilityUnavailable(DomainError):
    status = 404
    code = "capability_unavailable"


@bp.post("/<session_id>/relay-tickets")
@require("agent")
@documented(
    "A single-use ticket to the relay for remote control or camera",
    description="A `device` ticket may be asked for by any caller of the account (the customer's app through "
                "its backend's API key, or an agent handing it over); a `viewer` ticket only by a signed-in "
                "user who is the session's agent (or an admin), on an `active` session (403 otherwise). An "
                "ended session, or a viewer on a session not yet active, is a 409. A `kind` whose plugin is "
                "not enabled for the account is a 404 `capability_unavailable`; no relay running is a 503 "
                "(retry later). Viewer tickets are written to the audit log.",
    query=[], body=TICKET_REQUEST_SCHEMA, returns=TICKET_SCHEMA, status=201, errors=[409, 503])
def issue_ticket(session_id: str):
    data = json_body()
    validate(TICKET_REQUEST_SCHEMA, data)
    ctx = tenant_ctx()
    principal = current_principal()
    with ctx.engine.connect() as conn:
        session = support_sessions.get(conn, session_id)
    _check_may_take_role(session, data["role"], principal)

    answer = ctx.hooks.issue_relay_ticket(ctx.tenant, session, data["kind"], data["role"], principal, ctx)
    if answer is None:
        raise CapabilityUnavailable(
            f"{data['kind'].replace('_', ' ')} is not enabled for this account; an admin can enable "
            "its plugin", field="kind")
    plugin_name, ticket = answer
    if data["role"] == "viewer":  # who watched a customer's screen is worth an audit line
        with ctx.begin() as conn:
            audit.record(conn, actor_id(), "relay.viewer_ticket_issued", session_id,
                         {"kind": data["kind"], "plugin": plugin_name,
                          "connection_id": ticket.get("connection_id")})
    return jsonify(ticket), 201


def _check_may_take_role(session: dict, role: str, principal: dict) -> None:
    if session["state"] == "ended":
        raise Conflict("the session has ended; open a new one", field="id")
    if role == "device":
        return  # the customer's app (through its backend's API key) or an agent handing it over
    if principal["kind"] != "user":
        raise Forbidden("only a signed-in agent can watch a customer's device", field="role")
    if session["state"] != "active":
        raise Conflict("an agent must take the session (state 'active') before watching the device",
                       field="role")
    if principal["role"] != "admin" and session["agent_id"] != principal["id"]:
        raise Forbidden("only the session's agent (or an admin) can watch this device", field="role")
