"""Messages on a session: chat with the customer and agents' private notes.

Agents (and API keys, as ``system``) read and post both kinds; a customer token
reads and posts chat on its own session only, and never sees a note.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import select

from ...domain import session_messages as messages
from ...domain.errors import Forbidden
from ...domain.session_expansions import full_name
from ...domain.tables import api_keys, customers, users
from ..auth import customer_session_guard, is_customer, require
from ..body import json_body
from ..contract import PAGING, Param, documented, page_of, query_args
from ..tenant import tenant_ctx

bp = Blueprint("session_messages", __name__, url_prefix="/api/v1/sessions")

MESSAGE = messages.MESSAGE_OUTPUT_SCHEMA


def _author(conn, principal: dict) -> dict:
    if is_customer(principal):
        name = None
        if principal.get("customer_id"):
            row = conn.execute(select(customers.c.first_name, customers.c.last_name)
                               .where(customers.c.id == principal["customer_id"])).first()
            name = full_name(row.first_name, row.last_name) if row else None
        return {"author_type": "customer", "author_id": principal.get("customer_id"),
                "author_name": name or "Customer"}
    if principal["kind"] == "user":
        row = conn.execute(select(users.c.name, users.c.email).where(users.c.id == principal["id"])).first()
        return {"author_type": "agent", "author_id": principal["id"],
                "author_name": (row.name or row.email) if row else "Agent"}
    name = conn.execute(select(api_keys.c.name).where(api_keys.c.id == principal["id"])).scalar_one_or_none()
    return {"author_type": "system", "author_id": principal["id"], "author_name": name or "API key"}


@bp.get("/<session_id>/messages")
@require("customer_or_agent")
@documented("List a session's messages, oldest first (paginated)",
            description="Chat and notes for agents (`?kind=` for one kind). A customer token of this session "
                        "gets chat only; asking it for notes is a 403.",
            query=[*PAGING, Param("kind", {"type": "string", "enum": list(messages.KINDS)},
                                  "Only `chat` or only `note` messages.")],
            returns=page_of(MESSAGE))
def list_messages(session_id: str):
    principal = customer_session_guard(session_id)
    args = dict(query_args())
    if is_customer(principal):
        if args["kind"] == "note":
            raise Forbidden("notes are private to agents")
        args["kind"] = "chat"
    with tenant_ctx().engine.connect() as conn:
        return jsonify(messages.list_messages(conn, session_id, **args).as_dict())


@bp.post("/<session_id>/messages")
@require("customer_or_agent")
@documented("Post a chat message or a private note",
            description="Emits `session.message_posted` (with the body: agents' consoles render it). Chat on an "
                        "ended session is a 409 `session_ended`; notes are still taken. A customer token posts "
                        "chat on its own session only (a note is a 403).",
            query=[], body=messages.MESSAGE_CREATE_SCHEMA, returns=MESSAGE, status=201, errors=[409])
def post_message(session_id: str):
    principal = customer_session_guard(session_id)
    data = json_body()
    if is_customer(principal) and isinstance(data, dict) and data.get("kind") == "note":
        raise Forbidden("customers post chat messages only")
    ctx = tenant_ctx()
    with ctx.begin() as conn:
        message = messages.post(conn, session_id, data, _author(conn, principal), ctx.emit)
    return jsonify(message), 201
