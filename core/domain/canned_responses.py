"""Canned responses: texts agents insert into chat by a shortcut (``/reset``).

Agents read them; admins write them (every change is audited by the web layer).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, or_, select

from .errors import Conflict, NotFound
from .ids import new_id
from .records import DEFAULT_PAGE, Page, keyset_page, row_dict, utcnow
from .schemas import TIMESTAMP, object_id, response_object
from .tables import canned_responses
from .validation import validate

FIELDS = ["id", "title", "shortcut", "body", "created_by", "created_at", "updated_at"]

_PROPERTIES = {
    "title": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"},
    "shortcut": {"type": "string", "minLength": 2, "maxLength": 30, "pattern": r"^/[a-z0-9][a-z0-9_-]*$",
                 "description": "A slash and lower-case letters, digits, `-` or `_` (`/reset`); unique (409)"},
    "body": {"type": "string", "minLength": 1, "maxLength": 4000, "pattern": r"\S"},
}

CANNED_CREATE_SCHEMA = {
    "type": "object",
    "properties": _PROPERTIES,
    "required": ["title", "shortcut", "body"],
    "additionalProperties": False,
    "examples": [{"title": "Restart the router", "shortcut": "/reset",
                  "body": "Please unplug the router for 30 seconds, then plug it back in."}],
}

CANNED_PATCH_SCHEMA = {"type": "object", "properties": _PROPERTIES, "additionalProperties": False,
                       "examples": [{"title": "Restart your router"}]}

CANNED_OUTPUT_SCHEMA = response_object({
    "id": object_id("can", "can_01m94ky3ytfkngga0hmqg1zgm5"),
    "title": {"type": "string"},
    "shortcut": {"type": "string"},
    "body": {"type": "string"},
    "created_by": {"type": ["string", "null"], "description": "`user:usr_…` or `api_key:key_…`"},
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}, description="A canned response", examples=[{
    "id": "can_01m94ky3ytfkngga0hmqg1zgm5", **CANNED_CREATE_SCHEMA["examples"][0],
    "created_by": "user:usr_01m94ky3z46vzem4zrnwha42xg",
    "created_at": "2026-01-31T12:00:00.000000Z", "updated_at": "2026-01-31T12:00:00.000000Z",
}])


def _check_shortcut(conn: Connection, shortcut: str, own_id: str | None = None) -> None:
    query = select(canned_responses.c.id).where(canned_responses.c.shortcut == shortcut)
    if own_id is not None:
        query = query.where(canned_responses.c.id != own_id)
    if conn.execute(query).first() is not None:
        raise Conflict(f"the shortcut {shortcut!r} is already used by another canned response",
                       field="shortcut", code="shortcut_taken")


def get(conn: Connection, response_id: str) -> dict[str, Any]:
    row = conn.execute(select(canned_responses).where(canned_responses.c.id == response_id)).first()
    if row is None:
        raise NotFound(f"canned response {response_id!r} not found", field="id")
    return row_dict(row, FIELDS)


def create(conn: Connection, data: Any, *, created_by: str | None) -> dict[str, Any]:
    validate(CANNED_CREATE_SCHEMA, data)
    _check_shortcut(conn, data["shortcut"])
    now = utcnow()
    response_id = new_id("can")
    conn.execute(canned_responses.insert().values(
        id=response_id, title=data["title"], shortcut=data["shortcut"], body=data["body"],
        created_by=created_by, created_at=now, updated_at=now))
    return get(conn, response_id)


def update(conn: Connection, response_id: str, data: Any, *, full: bool) -> dict[str, Any]:
    validate(CANNED_CREATE_SCHEMA if full else CANNED_PATCH_SCHEMA, data)
    get(conn, response_id)
    if "shortcut" in data:
        _check_shortcut(conn, data["shortcut"], response_id)
    values = {k: data[k] for k in _PROPERTIES if k in data}
    conn.execute(canned_responses.update().where(canned_responses.c.id == response_id)
                 .values(updated_at=utcnow(), **values))
    return get(conn, response_id)


def delete(conn: Connection, response_id: str) -> None:
    if conn.execute(canned_responses.delete().where(canned_responses.c.id == response_id)).rowcount == 0:
        raise NotFound(f"canned response {response_id!r} not found", field="id")


def list_responses(conn: Connection, *, q: str | None = None, limit: int = DEFAULT_PAGE,
                   cursor: str | None = None) -> Page:
    """Oldest first; ``q`` matches title, shortcut or body (case-insensitive substring)."""
    t = canned_responses
    query = select(t)
    if q:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(*(func.lower(c).like(pattern, escape="\\") for c in (t.c.title, t.c.shortcut,
                                                                                    t.c.body))))
    return keyset_page(conn, query, t.c.id, limit=limit, cursor=cursor, render=lambda r: row_dict(r, FIELDS))
