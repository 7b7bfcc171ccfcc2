"""Support sessions: a customer (and device) being helped, with the state machine."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from sqlalchemy import Connection, select

from .errors import Conflict, Invalid, NotFound
from .ids import new_id
from .records import DEFAULT_PAGE, Page, keyset_page, row_dict, utcnow
from .schemas import NULLABLE_TIMESTAMP, TIMESTAMP, object_id, output_field, response_object
from .session_states import CREATED, ENDED, LIVE_STATES, STATES, allowed_from, can_transition
from .tables import customers, devices, support_sessions, users
from .validation import validate

Emit = Callable[[Connection, str, dict[str, Any]], None]

FIELDS = ["id", "customer_id", "device_id", "agent_id", "state", "resolution",
          "created_at", "updated_at", "ended_at"]

_REF = {"type": ["string", "null"], "maxLength": 40}
_CUSTOMER = {**_REF, "description": "The customer being helped (`cus_…`); it must exist (422 otherwise)"}
_DEVICE = {**_REF, "description": "The device being helped (`dev_…`); it must exist (422 otherwise)"}
_AGENT = {**_REF, "description": "The agent (user `usr_…`) handling it; it must exist (422 otherwise)"}

SESSION_CREATE_SCHEMA = {
    "type": "object",
    "properties": {"customer_id": _CUSTOMER, "device_id": _DEVICE, "agent_id": _AGENT},
    "additionalProperties": False,
    "description": "Every field is optional: a session can start before anyone knows who the customer is.",
}

SESSION_PATCH_SCHEMA = {
    "type": "object",
    "properties": {"agent_id": _AGENT, "device_id": _DEVICE, "customer_id": _CUSTOMER},
    "additionalProperties": False,
}

STATE_CHANGE_SCHEMA = {
    "type": "object",
    "properties": {
        "state": {"enum": list(STATES)},
        "resolution": {"type": ["string", "null"], "maxLength": 500,
                       "description": "How it ended; only with `state: ended` (422 otherwise)"},
        "agent_id": _AGENT,
    },
    "required": ["state"],
    "additionalProperties": False,
    "description": "Moves: created → waiting | ended, waiting → active | ended, active → waiting | ended; "
                   "any other move is a 409 `illegal_transition`.",
    "examples": [{"state": "waiting"}, {"state": "ended", "resolution": "reset the router"}],
}

#: A session as the API returns it.
SESSION_OUTPUT_SCHEMA = response_object({
    "id": object_id("ses", "ses_01m94ky3ytfkngga0hmqg1zgm5"),
    "customer_id": output_field(_CUSTOMER),
    "device_id": output_field(_DEVICE),
    "agent_id": output_field(_AGENT),
    "state": {"enum": list(STATES), "description": "created → waiting → active → ended (see POST …/state)"},
    "resolution": {"type": ["string", "null"], "description": "How it ended (set when it ends)"},
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "ended_at": NULLABLE_TIMESTAMP,
}, description="A support session", examples=[{
    "id": "ses_01m94ky3ytfkngga0hmqg1zgm5", "customer_id": "cus_01m94ky3y6snesvaqrq64jmdpn",
    "device_id": "dev_01m94ky3ygab9yqd50qc2v4s7s", "agent_id": None, "state": "created", "resolution": None,
    "created_at": "2026-01-31T12:00:00.000000Z", "updated_at": "2026-01-31T12:00:00.000000Z", "ended_at": None,
}])

#: A session with what the enabled plugins offer on it (``POST /sessions``, ``GET /sessions/{id}``).
SESSION_WITH_CAPABILITIES_SCHEMA = response_object({
    **SESSION_OUTPUT_SCHEMA["properties"],
    "capabilities": {"type": "array", "items": {"type": "string"},
                     "description": "What the enabled plugins offer on this session, e.g. `remote_control`"},
}, description="A support session with its capabilities", examples=[{
    **SESSION_OUTPUT_SCHEMA["examples"][0], "capabilities": ["remote_control", "diagnostics", "camera"],
}])


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
