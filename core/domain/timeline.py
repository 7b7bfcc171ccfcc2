"""A session's timeline: every event about it, in order, written from the events.

The kernel's event dispatcher calls :func:`record` for each event whose data names
a ``session_id`` (state changes, transfers, messages, customers joining, relay
connections, Guided Path runs…), so the timeline needs no code in the places that
change things and covers plugins' events too. Delivery is at-least-once; the event
id is the primary key and the insert ignores a duplicate, so a redelivery never
doubles an entry.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .errors import Invalid
from .records import DEFAULT_PAGE, Page, iso
from .schemas import TIMESTAMP, response_object
from .support_sessions import get as get_session
from .tables import session_timeline

_SESSION_ID = re.compile(r"ses_[0-9A-Za-z_-]{1,36}")

TIMELINE_ENTRY_SCHEMA = response_object({
    "event_id": {"type": "string", "description": "The event's id (`evt_…`)"},
    "session_id": {"type": "string"},
    "type": {"type": "string", "examples": ["session.state_changed"],
             "description": "The event type (GET /api/v1/events/types has each one's schema)"},
    "at": TIMESTAMP,
    "actor": {"type": ["string", "null"], "description": "Who, where the event says: `agent:usr_…`, "
                                                         "`customer:cus_…`; null otherwise"},
    "data": {"type": "object", "description": "The event's data"},
}, description="One entry of a session's timeline (an event about it)", examples=[{
    "event_id": "evt_3q2ZcPj0a3Q8JdV1vX9mRw", "session_id": "ses_01m94ky3ytfkngga0hmqg1zgm5",
    "type": "session.state_changed", "at": "2026-01-31T12:00:00.000000Z", "actor": None,
    "data": {"session_id": "ses_01m94ky3ytfkngga0hmqg1zgm5", "from_state": "created", "to_state": "waiting",
             "resolution": None, "agent_id": None},
}])


def session_of(data: Any) -> str | None:
    value = data.get("session_id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and _SESSION_ID.fullmatch(value) else None


def _actor(data: dict[str, Any]) -> str | None:
    if data.get("author_type") in ("agent", "customer") and data.get("author_id"):
        return f"{data['author_type']}:{data['author_id']}"[:60]
    return None


def record(conn: Connection, event: Any) -> bool:
    """Add ``event`` to its session's timeline; False if it names no session or was
    already there."""
    session_id = session_of(event.data)
    if session_id is None:
        return False
    at = datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    values = {"event_id": event.id, "session_id": session_id, "type": event.type, "at": at,
              "actor": _actor(event.data), "data": event.data}
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(session_timeline).values(**values).on_conflict_do_nothing()
    return conn.execute(statement.returning(session_timeline.c.event_id)).first() is not None


def _cursor(at: Any, event_id: str) -> str:
    return base64.urlsafe_b64encode(f"{iso(at)}|{event_id}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, event_id = raw.split("|", 1)
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Invalid("cursor is not one this API returned", field="cursor") from None
    if not event_id.startswith("evt_"):
        raise Invalid("cursor is not one this API returned", field="cursor")
    return when, event_id


def list_timeline(conn: Connection, session_id: str, *, limit: int = DEFAULT_PAGE,
                  cursor: str | None = None) -> Page:
    """Oldest first (by event time, then id)."""
    get_session(conn, session_id)
    t = session_timeline
    query = select(t).where(t.c.session_id == session_id).order_by(t.c.at, t.c.event_id).limit(limit + 1)
    if cursor:
        at, event_id = _decode(cursor)
        query = query.where(or_(t.c.at > at, and_(t.c.at == at, t.c.event_id > event_id)))
    rows = conn.execute(query).all()
    items = [{"event_id": r.event_id, "session_id": r.session_id, "type": r.type, "at": iso(r.at),
              "actor": r.actor, "data": r.data} for r in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return Page(items, _cursor(last.at, last.event_id) if last is not None else None)


