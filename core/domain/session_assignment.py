"""Who helps a session: an agent takes it, or hands it to a colleague.

Both respect the agents' capacity and lock the agent's row before the session's (one
order everywhere, so two takes cannot deadlock, one agent cannot pass the capacity
check twice at once, and two agents cannot both take one session).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from .errors import Conflict, Forbidden, Invalid
from .records import utcnow
from .session_states import ACTIVE, ENDED
from .support_sessions import TRANSFER_SCHEMA, Emit, emit_state_changed, get, lock_row, locked_session, timing_values
from .tables import support_sessions, users
from .validation import validate


def _locked_agent(conn: Connection, user_id: str, field_name: str = "agent_id") -> Any:
    row = lock_row(conn, users, users.c.id == user_id)
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
    row = locked_session(conn, session_id)
    if row.state == ENDED:
        raise Conflict("the session has ended; it cannot be taken", field="state", code="illegal_transition")
    if row.state == ACTIVE and row.agent_id == user_id:
        return get(conn, session_id)  # already yours: taking again changes nothing
    if row.state == ACTIVE and row.agent_id is not None:
        raise Conflict(f"the session is already taken by {_agent_label(conn, row.agent_id)}",
                       field="agent_id", code="already_taken")
    _check_capacity(conn, agent, "you")
    now = utcnow()
    values = {"state": ACTIVE, "agent_id": user_id, "updated_at": now, **timing_values(row, ACTIVE, now)}
    conn.execute(support_sessions.update().where(support_sessions.c.id == session_id).values(**values))
    session = get(conn, session_id)
    if row.state == ACTIVE:  # active without an agent (set through …/state): an assignment
        emit(conn, "session.transferred", {"session_id": session_id, "from_agent_id": None,
                                           "to_agent_id": user_id, "note": None})
    else:
        emit_state_changed(conn, emit, session, row.state)
    return session


def transfer(conn: Connection, session_id: str, data: Any, emit: Emit, *,
             by_user_id: str | None, by_admin: bool) -> dict[str, Any]:
    """Hand an active session to another agent, who must exist, be enabled, not be
    ``offline`` and have a free slot. The agent holding it or an admin may."""
    validate(TRANSFER_SCHEMA, data)
    target = _locked_agent(conn, data["agent_id"])
    row = locked_session(conn, session_id)
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
