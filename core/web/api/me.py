"""``/api/v1/me``: the signed-in agent, their availability and their load.

A person's endpoint: an API key (a machine) or a customer token is a 403.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from ...domain import users
from ...domain.errors import Forbidden
from ..auth import current_principal, require
from ..body import json_body
from ..contract import documented
from ..tenant import tenant_ctx

bp = Blueprint("me", __name__, url_prefix="/api/v1/me")


def _user_id() -> str:
    principal = current_principal()
    if principal["kind"] != "user":
        raise Forbidden("/me is the signed-in user's; an API key has no user")
    return principal["id"]


@bp.get("")
@require("agent")
@documented("The signed-in user, with availability, capacity and active sessions",
            description="Signed-in users only (cookie session): an API key is a 403.", query=[],
            returns=users.ME_OUTPUT_SCHEMA)
def get_me():
    user_id = _user_id()
    with tenant_ctx().engine.connect() as conn:
        return jsonify(users.me(conn, user_id))


@bp.patch("")
@require("agent")
@documented("Set your availability (online, busy, offline) or your name",
            description="Availability is what the agent says, never inferred from open sockets: `online` takes "
                        "customers and counts for queue estimates and transfers, `busy` keeps signed in without "
                        "new customers (transfers still reach them), `offline` receives nothing. A change emits "
                        "`agent.availability_changed`. Capacity is set by admins (POST /api/v1/users, "
                        "PATCH /api/v1/users/{id}).",
            query=[], body=users.ME_PATCH_SCHEMA, returns=users.ME_OUTPUT_SCHEMA)
def patch_me():
    user_id = _user_id()
    data = json_body()
    ctx = tenant_ctx()
    with ctx.begin() as conn:
        return jsonify(users.update_me(conn, user_id, data, ctx.emit))
