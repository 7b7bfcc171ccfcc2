"""Support sessions: a customer (and device) being helped, with the state machine."""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from sqlalchemy import Connection, func, or_, select

from .errors import Conflict, Forbidden, Invalid, NotFound
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


def _lock(conn: Connection, table: Any, key: Any) -> Any:
    """``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the write transaction
    (``BEGIN IMMEDIATE``) already serialises writers."""
    query = select(table).where(key)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).first()


def _locked_session(conn: Connection, session_id: str) -> Any:
    row = _lock(conn, support_sessions, support_sessions.c.id == session_id)
    if row is None:
        raise NotFound(f"session {session_id!r} not found", field="id")
    return row


def change_state(conn: Connection, session_id: str, data: Any, emit: Emit) -> dict[str, Any]:
    validate(STATE_CHANGE_SCHEMA, data)
    _check_refs(conn, data)
    # Lock the row so two agents accepting the same customer cannot both win.
    row = _locked_session(conn, session_id)
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
    values.update(_timing(row, target, now))
    conn.execute(support_sessions.update().where(support_sessions.c.id == session_id).values(**values))
    session = get(conn, session_id)
    _emit_state_changed(conn, emit, session, row.state)
    return session


def default_outcome(started_at: datetime | None, resolution: str | None) -> str:
    if started_at is None:
        return "abandoned"
    return "resolved" if resolution else "unresolved"


def _timing(row: Any, target: str, now: datetime) -> dict[str, Any]:
    """``waiting_since`` while waiting (cleared otherwise); ``started_at`` the first time active."""
    values: dict[str, Any] = {"waiting_since": now if target == WAITING else None}
    if target == ACTIVE and row.started_at is None:
        values["started_at"] = now
    return values


def _emit_state_changed(conn: Connection, emit: Emit, session: dict[str, Any], from_state: str) -> None:
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


# -- expansions -----------------------------------------------------------------------


def parse_expand(raw: str | None) -> list[str]:
    """``customer,device`` → the list; an unknown part is a 422 naming it."""
    if raw is None:
        return []
    parts = [p.strip() for p in raw.split(",")]
    for part in parts:
        if part not in EXPANSIONS:
            raise Invalid(f"expand: unknown value {part!r}; allowed: {', '.join(EXPANSIONS)} "
                          "(comma-separated)", field="expand")
    return list(dict.fromkeys(parts))


def full_name(first: str | None, last: str | None) -> str | None:
    name = " ".join(p for p in (first, last) if p)
    return name or None


def device_summary(row: Any) -> str:
    """``Acme Test Phone 7 · Android 15``: maker and model, then the system."""
    maker = row.manufacturer or row.brand
    model = row.model or ""
    if maker and model.lower().startswith(maker.lower()):
        maker = None  # "Samsung Samsung Galaxy" reads badly
    hardware = " ".join(p for p in (maker, model) if p)
    system = " ".join(p for p in (row.os_name, row.os_version) if p)
    summary = " · ".join(p for p in (hardware, system) if p)
    return summary or row.device_name or "Unknown device"


def expand(conn: Connection, sessions: list[dict[str, Any]], parts: Iterable[str]) -> list[dict[str, Any]]:
    """Add the asked-for parts to each session: one query per part for the whole page."""
    parts = list(parts)
    if not parts or not sessions:
        return sessions
    out = [dict(s) for s in sessions]

    def ids(key: str) -> list[str]:
        return sorted({s[key] for s in out if s[key]})

    if "customer" in parts:
        found = {r.id: {"id": r.id, "name": full_name(r.first_name, r.last_name), "email": r.email}
                 for r in conn.execute(select(customers.c.id, customers.c.first_name, customers.c.last_name,
                                              customers.c.email).where(customers.c.id.in_(ids("customer_id"))))}
        for s in out:
            s["customer"] = found.get(s["customer_id"])
    if "device" in parts:
        found = {r.id: {"id": r.id, "summary": device_summary(r)}
                 for r in conn.execute(select(devices).where(devices.c.id.in_(ids("device_id"))))}
        for s in out:
            s["device"] = found.get(s["device_id"])
    if "agent" in parts:
        found = {r.id: {"id": r.id, "name": r.name or None, "email": r.email}
                 for r in conn.execute(select(users.c.id, users.c.name, users.c.email)
                                       .where(users.c.id.in_(ids("agent_id"))))}
        for s in out:
            s["agent"] = found.get(s["agent_id"])
    if "queue" in parts:
        stats = queue_stats(conn)
        for s in out:
            s["queue"] = stats.view(s)
    return out


# -- the queue --------------------------------------------------------------------------


@dataclass
class QueueStats:
    """A snapshot of the queue: waiting sessions in order, online agents' slots and
    the median handle time, read once and applied to any number of sessions."""

    waiting: list[str]
    agents_online: int
    online_capacity: int
    free_slots: int
    median_handle_seconds: float | None
    _positions: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._positions = {sid: i + 1 for i, sid in enumerate(self.waiting)}

    def view(self, session: dict[str, Any]) -> dict[str, Any]:
        position = self._positions.get(session["id"]) if session["state"] == WAITING else None
        estimate, method = self.estimate(position)
        return {"state": session["state"], "position": position,
                "waiting_ahead": position - 1 if position is not None else None,
                "agents_online": self.agents_online, "estimated_wait_seconds": estimate, "method": method}

    def estimate(self, position: int | None) -> tuple[int | None, str]:
        """Median handle time of the last :data:`HANDLE_TIME_SAMPLE` ended sessions ×
        ceil((position − free slots) / online slots); 0 while a slot is free for it."""
        if position is None:
            return None, "only waiting sessions have a position and an estimate"
        if self.agents_online == 0:
            return None, "no agent is online"
        if position <= self.free_slots:
            return 0, f"{self.free_slots} free slot(s) among online agents"
        if self.median_handle_seconds is None:
            return None, "no ended session with a handle time to measure yet"
        waves = math.ceil((position - self.free_slots) / max(1, self.online_capacity))
        seconds = int(round(self.median_handle_seconds * waves))
        return seconds, (f"median handle time {int(round(self.median_handle_seconds))} s (last "
                         f"{HANDLE_TIME_SAMPLE} ended sessions) × ceil(({position} − {self.free_slots} free "
                         f"slots) / {self.online_capacity} online slots)")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def queue_stats(conn: Connection) -> QueueStats:
    t = support_sessions
    waiting = [r.id for r in conn.execute(
        select(t.c.id).where(t.c.state == WAITING).order_by(t.c.waiting_since, t.c.id))]
    online = conn.execute(select(users.c.id, users.c.capacity).where(
        users.c.availability == "online", users.c.disabled.is_(False))).all()
    active: dict[str, int] = {}
    if online:
        active = dict(conn.execute(
            select(t.c.agent_id, func.count()).where(t.c.state == ACTIVE, t.c.agent_id.in_([r.id for r in online]))
            .group_by(t.c.agent_id)).all())
    capacity = sum(r.capacity for r in online)
    free = sum(max(0, r.capacity - active.get(r.id, 0)) for r in online)
    handled = conn.execute(
        select(t.c.started_at, t.c.ended_at).where(t.c.state == ENDED, t.c.started_at.is_not(None))
        .order_by(t.c.ended_at.desc()).limit(HANDLE_TIME_SAMPLE)).all()
    durations = [max(0.0, (_aware(r.ended_at) - _aware(r.started_at)).total_seconds()) for r in handled]
    return QueueStats(waiting, len(online), capacity, free, statistics.median(durations) if durations else None)


def queue(conn: Connection, session_id: str) -> dict[str, Any]:
    return queue_stats(conn).view(get(conn, session_id))


def customer_view(conn: Connection, session_id: str) -> dict[str, Any]:
    """The reduced view a customer token gets of its own session."""
    session = get(conn, session_id)
    view = {k: session[k] for k in CUSTOMER_VIEW_FIELDS}
    name = None
    if session["agent_id"]:
        name = conn.execute(select(users.c.name).where(users.c.id == session["agent_id"])).scalar_one_or_none()
    view["agent_name"] = name or None
    return view


# -- the agent console: take and transfer -----------------------------------------------


def _locked_agent(conn: Connection, user_id: str, field_name: str = "agent_id") -> Any:
    row = _lock(conn, users, users.c.id == user_id)
    if row is None:
        raise Invalid(f"user {user_id!r} does not exist", field=field_name)
    return row


def _active_count(conn: Connection, user_id: str) -> int:
    t = support_sessions
    return conn.execute(select(func.count()).select_from(t).where(
        t.c.agent_id == user_id, t.c.state == ACTIVE)).scalar_one()


def _agent_label(conn: Connection, user_id: str | None) -> str:
    row = conn.execute(select(users.c.name, users.c.email).where(users.c.id == user_id)).first()
    if row is None:
        return "another agent"
    return f"{row.name} <{row.email}>" if row.name else row.email


def _check_capacity(conn: Connection, agent: Any, who: str) -> None:
    active = _active_count(conn, agent.id)
    if active >= agent.capacity:
        raise Conflict(f"{who} already {'have' if who == 'you' else 'has'} {active} active session(s), the "
                       f"capacity of {agent.capacity}; end or transfer one first",
                       field="agent_id", code="at_capacity")


def take(conn: Connection, session_id: str, user_id: str, emit: Emit) -> dict[str, Any]:
    """The calling agent takes a ``created`` or ``waiting`` session: assigned and
    ``active`` in one transaction. The agent's row is locked before the session's
    (the same order as :func:`transfer`), so two takes by one agent cannot both pass
    the capacity check and two agents cannot both take one session."""
    agent = _locked_agent(conn, user_id, "agent_id")
    row = _locked_session(conn, session_id)
    if row.state == ENDED:
        raise Conflict("the session has ended; it cannot be taken", field="state", code="illegal_transition")
    if row.state == ACTIVE and row.agent_id == user_id:
        return get(conn, session_id)  # already yours: taking again changes nothing
    if row.state == ACTIVE and row.agent_id is not None:
        raise Conflict(f"the session is already taken by {_agent_label(conn, row.agent_id)}",
                       field="agent_id", code="already_taken")
    _check_capacity(conn, agent, "you")
    now = utcnow()
    values = {"state": ACTIVE, "agent_id": user_id, "updated_at": now, **_timing(row, ACTIVE, now)}
    conn.execute(support_sessions.update().where(support_sessions.c.id == session_id).values(**values))
    session = get(conn, session_id)
    if row.state == ACTIVE:  # active without an agent (set through …/state): an assignment
        emit(conn, "session.transferred", {"session_id": session_id, "from_agent_id": None,
                                           "to_agent_id": user_id, "note": None})
    else:
        _emit_state_changed(conn, emit, session, row.state)
    return session


def transfer(conn: Connection, session_id: str, data: Any, emit: Emit, *,
             by_user_id: str | None, by_admin: bool) -> dict[str, Any]:
    """Hand an active session to another agent, who must exist, be enabled, not be
    ``offline`` and have a free slot. The agent holding it or an admin may."""
    validate(TRANSFER_SCHEMA, data)
    target = _locked_agent(conn, data["agent_id"])
    row = _locked_session(conn, session_id)
    if row.state != ACTIVE:
        raise Conflict(f"only an active session can be transferred; this one is {row.state!r}",
                       field="state", code="illegal_transition")
    if not by_admin and (by_user_id is None or row.agent_id != by_user_id):
        raise Forbidden("only the agent holding the session, or an admin, can transfer it")
    if row.agent_id == target.id:
        raise Conflict("the session is already with this agent", field="agent_id", code="already_assigned")
    if target.disabled or target.availability == "offline":
        state = "disabled" if target.disabled else "offline"
        raise Conflict(f"{_agent_label(conn, target.id)} is {state} and cannot receive sessions",
                       field="agent_id", code="agent_unavailable")
    _check_capacity(conn, target, _agent_label(conn, target.id))
    conn.execute(support_sessions.update().where(support_sessions.c.id == session_id)
                 .values(agent_id=target.id, updated_at=utcnow()))
    emit(conn, "session.transferred", {"session_id": session_id, "from_agent_id": row.agent_id,
                                       "to_agent_id": target.id, "note": data.get("note")})
    return get(conn, session_id)
