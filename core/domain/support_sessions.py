"""Support sessions: a customer (and device) being helped, with the state machine.

Who helps a session is in :mod:`.session_assignment`, where it stands in the queue in
:mod:`.session_queue`, what `?expand=` adds in :mod:`.session_expansions`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import Connection, func, or_, select

from .errors import Conflict, Invalid, NotFound
from .ids import new_id
from .records import DEFAULT_PAGE, Page, decode_cursor, encode_cursor, keyset_page, row_dict, utcnow
from .schemas import NULLABLE_TIMESTAMP, TIMESTAMP, object_id, output_field, response_object
from .session_states import ACTIVE, CREATED, ENDED, LIVE_STATES, STATES, WAITING, allowed_from, can_transition
from .tables import customers, devices, support_sessions, users
from .validation import validate

Emit = Callable[[Connection, str, dict[str, Any]], None]

FIELDS = ["id", "customer_id", "device_id", "agent_id", "state", "resolution", "outcome",
          "created_at", "updated_at", "ended_at", "waiting_since", "started_at"]

#: How a session ended. Without one given: ``abandoned`` if no agent ever took it
#: (it was never active), else ``resolved`` when a resolution is written, else ``unresolved``.
OUTCOMES = ("resolved", "unresolved", "abandoned")
#: What ``?expand=`` can add to a session.
EXPANSIONS = ("customer", "device", "agent", "queue")
#: How many recently ended sessions the queue estimate's median handle time is taken over.
HANDLE_TIME_SAMPLE = 50

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
        "outcome": {"enum": list(OUTCOMES),
                    "description": "Only with `state: ended` (422 otherwise). When left out: `abandoned` if the "
                                   "session was never active, else `resolved` if a resolution is given, else "
                                   "`unresolved`"},
        "agent_id": _AGENT,
    },
    "required": ["state"],
    "additionalProperties": False,
    "description": "Moves: created → waiting | ended, waiting → active | ended, active → waiting | ended; "
                   "any other move is a 409 `illegal_transition`.",
    "examples": [{"state": "waiting"}, {"state": "ended", "resolution": "reset the router", "outcome": "resolved"}],
}

TRANSFER_SCHEMA = {
    "type": "object",
    "properties": {
        "agent_id": {"type": "string", "maxLength": 40,
                     "description": "The agent (user `usr_…`) to hand the session to; it must exist (422 otherwise)"},
        "note": {"type": ["string", "null"], "maxLength": 1000,
                 "description": "Words for the next agent; carried by the `session.transferred` event "
                                "(and so the timeline)"},
    },
    "required": ["agent_id"],
    "additionalProperties": False,
    "examples": [{"agent_id": "usr_01m94ky3z46vzem4zrnwha42xg", "note": "router reset done, line still drops"}],
}

#: A session as the API returns it.
SESSION_OUTPUT_SCHEMA = response_object({
    "id": object_id("ses", "ses_01m94ky3ytfkngga0hmqg1zgm5"),
    "customer_id": output_field(_CUSTOMER),
    "device_id": output_field(_DEVICE),
    "agent_id": output_field(_AGENT),
    "state": {"enum": list(STATES), "description": "created → waiting → active → ended (see POST …/state)"},
    "resolution": {"type": ["string", "null"], "description": "How it ended (set when it ends)"},
    "outcome": {"enum": [*OUTCOMES, None], "description": "Set when it ends: resolved, unresolved or abandoned"},
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "ended_at": NULLABLE_TIMESTAMP,
    "waiting_since": {**NULLABLE_TIMESTAMP, "description": "When it entered `waiting` (null unless waiting)"},
    "started_at": {**NULLABLE_TIMESTAMP, "description": "When an agent first had it `active`"},
}, description="A support session", examples=[{
    "id": "ses_01m94ky3ytfkngga0hmqg1zgm5", "customer_id": "cus_01m94ky3y6snesvaqrq64jmdpn",
    "device_id": "dev_01m94ky3ygab9yqd50qc2v4s7s", "agent_id": None, "state": "created", "resolution": None,
    "outcome": None, "created_at": "2026-01-31T12:00:00.000000Z", "updated_at": "2026-01-31T12:00:00.000000Z",
    "ended_at": None, "waiting_since": None, "started_at": None,
}])

_PERSON = {"type": ["object", "null"], "required": ["id", "name", "email"], "properties": {
    "id": {"type": "string"}, "name": {"type": ["string", "null"]}, "email": {"type": ["string", "null"]}}}

#: The queue view of a session (``GET …/queue``, ``?expand=queue``).
QUEUE_OUTPUT_SCHEMA = response_object({
    "state": {"enum": list(STATES)},
    "position": {"type": ["integer", "null"], "minimum": 1,
                 "description": "1-based among waiting sessions, oldest `waiting_since` first; null unless waiting"},
    "waiting_ahead": {"type": ["integer", "null"], "minimum": 0,
                      "description": "Waiting sessions ahead of this one; null unless waiting"},
    "agents_online": {"type": "integer", "minimum": 0, "description": "Agents whose availability is `online`"},
    "estimated_wait_seconds": {"type": ["integer", "null"], "minimum": 0,
                               "description": "null when there is no estimate (not waiting, nobody online, no "
                                              "handle time measured yet)"},
    "method": {"type": "string", "description": "How the estimate was made, in words"},
}, description="Where a session stands in the queue", examples=[{
    "state": "waiting", "position": 3, "waiting_ahead": 2, "agents_online": 2, "estimated_wait_seconds": 420,
    "method": "median handle time 420 s (last 50 ended sessions) × ceil((3 − 0 free slots) / 6 online slots)",
}])

#: What ``?expand=`` adds (absent unless asked for).
EXPANDED_PROPERTIES = {
    "customer": {**_PERSON, "description": "With ?expand=customer: `{id, name, email}` or null"},
    "device": {"type": ["object", "null"], "required": ["id", "summary"], "properties": {
        "id": {"type": "string"}, "summary": {"type": "string", "examples": ["Acme Test Phone 7 · Android 15"]}},
        "description": "With ?expand=device: `{id, summary}` or null"},
    "agent": {**_PERSON, "description": "With ?expand=agent: `{id, name, email}` or null"},
    "queue": {**QUEUE_OUTPUT_SCHEMA, "description": "With ?expand=queue: as GET …/queue"},
}

#: A session in lists and ``GET /sessions/{id}`` with ``?expand=``.
SESSION_EXPANDED_SCHEMA = response_object({
    **SESSION_OUTPUT_SCHEMA["properties"], **EXPANDED_PROPERTIES,
}, optional=EXPANDED_PROPERTIES, description="A support session (expanded parts only when asked for)",
    examples=SESSION_OUTPUT_SCHEMA["examples"])

#: What a customer token sees of its own session.
CUSTOMER_VIEW_FIELDS = ["id", "state", "created_at", "ended_at"]
CUSTOMER_VIEW_SCHEMA = response_object({
    "id": SESSION_OUTPUT_SCHEMA["properties"]["id"],
    "state": SESSION_OUTPUT_SCHEMA["properties"]["state"],
    "created_at": TIMESTAMP,
    "ended_at": NULLABLE_TIMESTAMP,
    "agent_name": {"type": ["string", "null"], "description": "The name of the agent helping (first name as "
                                                                "the agent set it), or null"},
}, description="A support session as its customer sees it (customer token)")

#: A session with what the enabled plugins offer on it (``POST /sessions``, ``GET /sessions/{id}``).
SESSION_WITH_CAPABILITIES_SCHEMA = response_object({
    **SESSION_OUTPUT_SCHEMA["properties"],
    "capabilities": {"type": "array", "items": {"type": "string"},
                     "description": "What the enabled plugins offer on this session, e.g. `remote_control`"},
}, description="A support session with its capabilities", examples=[{
    **SESSION_OUTPUT_SCHEMA["examples"][0], "capabilities": ["remote_control", "diagnostics", "camera"],
}])

#: ``GET /sessions/{id}``: an agent gets the session with its capabilities (and what
#: ``?expand=`` asked for); a customer token the reduced view.
SESSION_GET_SCHEMA = {
    "type": "object",
    "properties": {**SESSION_WITH_CAPABILITIES_SCHEMA["properties"], **EXPANDED_PROPERTIES,
                   "agent_name": CUSTOMER_VIEW_SCHEMA["properties"]["agent_name"]},
    # What every caller can rely on; agents always get every field of a session
    # with its capabilities (SESSION_WITH_CAPABILITIES_SCHEMA), a customer token
    # only these and agent_name.
    "required": [k for k in CUSTOMER_VIEW_SCHEMA["required"] if k != "agent_name"],
    "description": "A support session. Agents get every field (as POST /sessions answers) and the parts "
                   "?expand= asks for; a customer token gets a reduced view: id, state, created_at, ended_at "
                   "and agent_name.",
    "examples": SESSION_WITH_CAPABILITIES_SCHEMA["examples"],
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


def lock_row(conn: Connection, table: Any, key: Any) -> Any:
    """``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the write transaction
    (``BEGIN IMMEDIATE``) already serialises writers."""
    query = select(table).where(key)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).first()


def locked_session(conn: Connection, session_id: str) -> Any:
    row = lock_row(conn, support_sessions, support_sessions.c.id == session_id)
    if row is None:
        raise NotFound(f"session {session_id!r} not found", field="id")
    return row


def change_state(conn: Connection, session_id: str, data: Any, emit: Emit) -> dict[str, Any]:
    validate(STATE_CHANGE_SCHEMA, data)
    _check_refs(conn, data)
    # Lock the row so two agents accepting the same customer cannot both win.
    row = locked_session(conn, session_id)
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
        values["outcome"] = data.get("outcome") or default_outcome(row.started_at, values["resolution"])
    else:
        if data.get("resolution") is not None:
            raise Invalid("a resolution is recorded only when the session ends", field="resolution")
        if data.get("outcome") is not None:
            raise Invalid("an outcome is recorded only when the session ends", field="outcome")
    values.update(timing_values(row, target, now))
    conn.execute(support_sessions.update().where(support_sessions.c.id == session_id).values(**values))
    session = get(conn, session_id)
    emit_state_changed(conn, emit, session, row.state)
    return session


def default_outcome(started_at: datetime | None, resolution: str | None) -> str:
    if started_at is None:
        return "abandoned"
    return "resolved" if resolution else "unresolved"


def timing_values(row: Any, target: str, now: datetime) -> dict[str, Any]:
    """``waiting_since`` while waiting (cleared otherwise); ``started_at`` the first time active."""
    values: dict[str, Any] = {"waiting_since": now if target == WAITING else None}
    if target == ACTIVE and row.started_at is None:
        values["started_at"] = now
    return values


def emit_state_changed(conn: Connection, emit: Emit, session: dict[str, Any], from_state: str) -> None:
    data = {"session_id": session["id"], "from_state": from_state, "to_state": session["state"],
            "resolution": session["resolution"], "agent_id": session["agent_id"]}
    if session["state"] == ENDED:
        data["outcome"] = session["outcome"]
    emit(conn, "session.state_changed", data)


def list_sessions(
    conn: Connection,
    *,
    state: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    agent: str | None = None,
    q: str | None = None,
    outcome: str | None = None,
    order: str | None = None,
    limit: int = DEFAULT_PAGE,
    cursor: str | None = None,
) -> Page:
    """Sessions by the filters, oldest first (``order="newest"``: newest first).

    ``q`` matches the customer's first or last name, both together, email or phone
    (case-insensitive substring; for a phone, digits match whatever the spacing).
    Pages are keyset pages on the time-ordered id in either direction.
    """
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
    if outcome is not None:
        if outcome not in OUTCOMES:
            raise Invalid(f"outcome must be one of {', '.join(OUTCOMES)}", field="outcome")
        query = query.where(t.c.outcome == outcome)
    if q is not None and q.strip():
        query = query.where(t.c.customer_id.in_(_customers_matching(q.strip())))
    render = lambda r: row_dict(r, FIELDS)  # noqa: E731
    if order in (None, "oldest"):
        return keyset_page(conn, query, t.c.id, limit=limit, cursor=cursor, render=render)
    if order != "newest":
        raise Invalid("order must be oldest or newest", field="order")
    query = query.order_by(t.c.id.desc()).limit(limit + 1)
    if cursor:
        query = query.where(t.c.id < decode_cursor(cursor))
    rows = conn.execute(query).all()
    items = [render(r) for r in rows[:limit]]
    return Page(items, encode_cursor(items[-1]["id"]) if len(rows) > limit else None)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


_PHONE_LIKE = re.compile(r"^[+0-9 ().-]+$")


def _customers_matching(q: str) -> Any:
    c = customers
    pattern = _like(q.lower())
    full_name = func.lower(func.coalesce(c.c.first_name, "") + " " + func.coalesce(c.c.last_name, ""))
    conditions = [
        full_name.like(pattern, escape="\\"),
        func.lower(c.c.email).like(pattern, escape="\\"),
        c.c.phone.like(_like(q), escape="\\"),
    ]
    digits = re.sub(r"\D", "", q)
    if _PHONE_LIKE.match(q) and len(digits) >= 3:
        bare = c.c.phone
        for char in (" ", "-", "(", ")", ".", "+"):
            bare = func.replace(bare, char, "")
        conditions.append(bare.like(f"%{digits}%"))
    return select(c.c.id).where(or_(*conditions))


def customer_view(conn: Connection, session_id: str) -> dict[str, Any]:
    """The reduced view a customer token gets of its own session."""
    session = get(conn, session_id)
    view = {k: session[k] for k in CUSTOMER_VIEW_FIELDS}
    name = None
    if session["agent_id"]:
        name = conn.execute(select(users.c.name).where(users.c.id == session["agent_id"])).scalar_one_or_none()
    view["agent_name"] = name or None
    return view
