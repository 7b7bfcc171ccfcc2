"""Support sessions: a customer (and device) being helped, with the state machine."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from sqlalchemy import Connection, select

from .errors import Conflict, Invalid, NotFound
from .ids import new_id
from .records import DEFAULT_PAGE, Page, keyset_page, row_dict, utcnow
from .session_states import CREATED, ENDED, LIVE_STATES, STATES, allowed_from, can_transition
from .tables import customers, devices, support_sessions, users
from .validation import validate

Emit = Callable[[Connection, str, dict[str, Any]], None]

FIELDS = ["id", "customer_id", "device_id", "agent_id", "state", "resolution",
          "created_at", "updated_at", "ended_at"]

_REF = {"type": ["string", "null"], "maxLength": 40}

SESSION_CREATE_SCHEMA = {
    "type": "object",
    "properties": {"customer_id": _REF, "device_id": _REF, "agent_id": _REF},
    "additionalProperties": False,
}

SESSION_PATCH_SCHEMA = {
    "type": "object",
    "properties": {"agent_id": _REF, "device_id": _REF, "customer_id": _REF},
    "additionalProperties": False,
}

STATE_CHANGE_SCHEMA = {
    "type": "object",
    "properties": {
        "state": {"enum": list(STATES)},
        "resolution": {"type": ["string", "null"], "maxLength": 500},
        "agent_id": _REF,
    },
    "required": ["state"],
    "additionalProperties": False,
}


def _check_refs(conn: Connection, data: dict[str, Any]) -> None:
    for field_name, table, label in (
        ("customer_id", customers, "customer"),
        ("device_id", devices, "device"),
        ("agent_id", users, "user"),
    ):
        value = data.get(field_name)
        if value is not None and conn.execute(select(table.c.id).where(table.c.id == value)).first() is None:
            raise Invalid(f"{label} {value!r} does not exist", field=field_name)


def get(conn: Connection, session_id: str) -> dict[str, Any]:
    row = conn.execute(select(support_sessions).where(support_sessions.c.id == session_id)).first()
    if row is None:
        raise NotFound(f"session {session_id!r} not found", field="id")
    return row_dict(row, FIELDS)


def create(conn: Connection, data: Any, emit: Emit) -> dict[str, Any]:
    validate(SESSION_CREATE_SCHEMA, data)
    _check_refs(conn, data)
    now = utcnow()
    session_id = new_id("ses")
    conn.execute(support_sessions.insert().values(
        id=session_id, state=CREATED, created_at=now, updated_at=now,
        **{k: data.get(k) for k in ("customer_id", "device_id", "agent_id")},
    ))
    session = get(conn, session_id)
    emit(conn, "session.created", {"session_id": session_id, "customer_id": session["customer_id"]})
    return session


def patch(conn: Connection, session_id: str, data: Any) -> dict[str, Any]:
    validate(SESSION_PATCH_SCHEMA, data)
    _check_refs(conn, data)
    get(conn, session_id)
    conn.execute(support_sessions.update().where(support_sessions.c.id == session_id)
                 .values(updated_at=utcnow(), **data))
    return get(conn, session_id)


def change_state(conn: Connection, session_id: str, data: Any, emit: Emit) -> dict[str, Any]:
    validate(STATE_CHANGE_SCHEMA, data)
    _check_refs(conn, data)
    # Lock the row so two agents accepting the same customer cannot both win.
    query = select(support_sessions).where(support_sessions.c.id == session_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"session {session_id!r} not found", field="id")
    target = data["state"]
    if not can_transition(row.state, target):
        allowed = ", ".join(allowed_from(row.state)) or "none (the session has ended)"
        raise Conflict(
            f"cannot move a session from {row.state!r} to {target!r}; allowed: {allowed}",
            field="state", code="illegal_transition",
        )
    now = utcnow()
    values: dict[str, Any] = {"state": target, "updated_at": now}
    if "agent_id" in data:
        values["agent_id"] = data["agent_id"]
    if target == ENDED:
        values["ended_at"] = now
        values["resolution"] = data.get("resolution")
    elif data.get("resolution") is not None:
        raise Invalid("a resolution is recorded only when the session ends", field="resolution")
    conn.execute(support_sessions.update().where(support_sessions.c.id == session_id).values(**values))
    session = get(conn, session_id)
    emit(conn, "session.state_changed", {
        "session_id": session_id, "from_state": row.state, "to_state": target,
        "resolution": session["resolution"], "agent_id": session["agent_id"],
    })
    return session


def list_sessions(
    conn: Connection,
    *,
    state: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    agent: str | None = None,
    limit: int = DEFAULT_PAGE,
    cursor: str | None = None,
) -> Page:
    t = support_sessions
    query = select(t)
    if state == "live":
        query = query.where(t.c.state.in_(LIVE_STATES))
    elif state is not None:
        if state not in STATES:
            raise Invalid(f"state must be 'live' or one of {', '.join(STATES)}", field="state")
        query = query.where(t.c.state == state)
    if since is not None:
        query = query.where(t.c.created_at >= since)
    if until is not None:
        query = query.where(t.c.created_at < until)
    if agent is not None:
        query = query.where(t.c.agent_id == agent)
    return keyset_page(conn, query, t.c.id, limit=limit, cursor=cursor,
                       render=lambda r: row_dict(r, FIELDS))
