"""Messages on a support session: chat (agent ↔ customer) and private agent notes.

A note is never shown to a customer: the customer token's routes ask for chat only
(:func:`list_messages` with ``kind="chat"``). An ended session takes no more chat
(409 ``session_ended``) but still takes notes, so agents can write up afterwards.
"""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import Connection, select

from .errors import Conflict, Invalid
from .ids import new_id
from .records import DEFAULT_PAGE, Page, keyset_page, row_dict, utcnow
from .schemas import TIMESTAMP, object_id, response_object
from .session_states import ENDED
from .support_sessions import get as get_session
from .tables import session_messages
from .validation import validate

Emit = Callable[[Connection, str, dict[str, Any]], None]

KINDS = ("chat", "note")
AUTHOR_TYPES = ("agent", "customer", "system")
MAX_BODY = 4000
FIELDS = ["id", "session_id", "kind", "author_type", "author_id", "author_name", "body", "created_at"]

MESSAGE_CREATE_SCHEMA = {
    "type": "object",
    "properties": {
        "kind": {"enum": list(KINDS), "description": "`chat` is seen by the customer; `note` by agents only "
                                                     "(a customer token may post chat only)"},
        "body": {"type": "string", "minLength": 1, "maxLength": MAX_BODY, "pattern": r"\S",
                 "description": "Not blank; at most 4,000 characters"},
    },
    "required": ["kind", "body"],
    "additionalProperties": False,
    "examples": [{"kind": "chat", "body": "Hello! Could you open Settings → Network?"}],
}

MESSAGE_OUTPUT_SCHEMA = response_object({
    "id": object_id("msg", "msg_01m94ky3ytfkngga0hmqg1zgm5"),
    "session_id": object_id("ses", "ses_01m94ky3ytfkngga0hmqg1zgm5"),
    "kind": {"enum": list(KINDS)},
    "author_type": {"enum": list(AUTHOR_TYPES), "description": "`system`: an API key"},
    "author_id": {"type": ["string", "null"], "description": "The user, customer or API key id"},
    "author_name": {"type": "string"},
    "body": {"type": "string"},
    "created_at": TIMESTAMP,
}, description="A chat message or a private note", examples=[{
    "id": "msg_01m94ky3ytfkngga0hmqg1zgm5", "session_id": "ses_01m94ky3ytfkngga0hmqg1zgm5", "kind": "chat",
    "author_type": "agent", "author_id": "usr_01m94ky3z46vzem4zrnwha42xg", "author_name": "Grace Hopper",
    "body": "Hello! Could you open Settings → Network?", "created_at": "2026-01-31T12:00:00.000000Z",
}])


def post(conn: Connection, session_id: str, data: Any, author: dict[str, Any], emit: Emit) -> dict[str, Any]:
    """Post a message as ``author`` (``{"author_type", "author_id", "author_name"}``)."""
    if isinstance(data, dict) and isinstance(data.get("body"), str) and data["body"] and not data["body"].strip():
        raise Invalid("body must not be blank", field="body")
    validate(MESSAGE_CREATE_SCHEMA, data)
    session = get_session(conn, session_id)
    if data["kind"] == "chat" and session["state"] == ENDED:
        raise Conflict("the session has ended; chat is closed (private notes are still possible)",
                       field="kind", code="session_ended")
    message_id = new_id("msg")
    values = {"id": message_id, "session_id": session_id, "kind": data["kind"], "body": data["body"],
              "author_type": author["author_type"], "author_id": author.get("author_id"),
              "author_name": (author.get("author_name") or author["author_type"])[:200], "created_at": utcnow()}
    conn.execute(session_messages.insert().values(**values))
    message = get(conn, message_id)
    emit(conn, "session.message_posted", {
        "session_id": session_id, "message_id": message_id, "kind": message["kind"],
        "author_type": message["author_type"], "author_id": message["author_id"],
        "author_name": message["author_name"], "body": message["body"],
    })
    return message


def get(conn: Connection, message_id: str) -> dict[str, Any]:
    row = conn.execute(select(session_messages).where(session_messages.c.id == message_id)).one()
    return row_dict(row, FIELDS)


def list_messages(conn: Connection, session_id: str, *, kind: str | None = None,
                  limit: int = DEFAULT_PAGE, cursor: str | None = None) -> Page:
    """Oldest first (ids are time-ordered), optionally of one kind."""
    get_session(conn, session_id)
    query = select(session_messages).where(session_messages.c.session_id == session_id)
    if kind is not None:
        query = query.where(session_messages.c.kind == kind)
    return keyset_page(conn, query, session_messages.c.id, limit=limit, cursor=cursor,
                       render=lambda r: row_dict(r, FIELDS))
