"""The ETL: one event in, the tenant's aggregates updated, on the caller's connection.

:func:`apply` is called by the ``handle_event`` hookimpl (inside one transaction per
event) and by the rebuild (many events in one transaction). It first records the
event's id in ``analytics_processed_events``; if the id is already there the event
was applied before (delivery is at least once) and nothing else happens. Both
writes commit or roll back together, so an event counts exactly once.

Events are bucketed by the UTC hour of ``event.time`` (when it happened), so a
replay puts every event where live processing put it. Durations are kept raw
(``analytics_durations``); medians are computed when read.

What is counted (``docs/analytics.md`` says the same for API users):

* ``session.created``: a session created in that hour.
* ``session.state_changed``: a move into ``waiting``, ``active`` or ``ended``;
  into ``active`` from ``waiting`` also a *wait* (the time since the session
  entered ``waiting``) and an *answer* for the agent; into ``ended`` the outcome
  (from the event; for events older than outcomes, as the kernel derives it), for
  the session's agent an ended (and resolved) session, and the *handle time* (from
  the session's first ``active`` to its end) if it was ever answered.
* ``run.started`` / ``run.completed``: runs per path version; their status and
  outcome. ``run.step_completed``: the first time a run gets past a step, the
  step is *reached* (the funnel) and the time since the run's previous move is
  the *time on the step*.
* ``relay.connected`` / ``relay.disconnected`` of a *viewer* (the agent watching
  or controlling): the seconds in between, per kind, in the hour the viewer left.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Callable

from sqlalchemy import Connection, Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from guidepath.core.plugin_api import Event

from .tables import (
    analytics_agent_hours as AGENTS,
    analytics_durations as DURATIONS,
    analytics_processed_events as PROCESSED,
    analytics_relay_hours as RELAY,
    analytics_relay_open as RELAY_OPEN,
    analytics_run_facts as RUNS,
    analytics_run_hours as RUN_HOURS,
    analytics_run_steps as RUN_STEPS,
    analytics_session_facts as SESSIONS,
    analytics_session_hours as SESSION_HOURS,
    analytics_step_hours as STEP_HOURS,
)

RUN_OUTCOMES = ("resolved", "unresolved", "escalate")
SESSION_OUTCOMES = ("resolved", "unresolved", "abandoned")
RELAY_KINDS = ("remote_control", "camera")


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone: they are UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _insert(conn: Connection, table: Table):
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


def _bump(conn: Connection, table: Table, key: dict[str, Any], **amounts: float) -> None:
    """Add ``amounts`` to the row of ``key`` (made at zero if it does not exist)."""
    statement = _insert(conn, table).values(**key, **amounts)
    conn.execute(statement.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key.columns],
        set_={name: table.c[name] + statement.excluded[name] for name in amounts},
    ))


def _insert_new(conn: Connection, table: Table, **values: Any) -> bool:
    """Insert unless the primary key exists; whether it was inserted."""
    # RETURNING, not rowcount: the PostgreSQL driver's rowcount is not reliable here.
    key = list(table.primary_key.columns)[0]
    inserted = conn.execute(_insert(conn, table).values(**values).on_conflict_do_nothing().returning(key))
    return inserted.first() is not None


def _seconds(start: datetime | None, end: datetime) -> float | None:
    if start is None:
        return None
    return max(0.0, (end - aware(start)).total_seconds())


def _duration(conn: Connection, kind: str, at: datetime, seconds: float, **labels: Any) -> None:
    conn.execute(DURATIONS.insert().values(hour=hour_of(at), kind=kind, seconds=seconds, **labels))


# -- sessions -------------------------------------------------------------------------


def _session_created(conn: Connection, data: dict[str, Any], at: datetime) -> None:
    _bump(conn, SESSION_HOURS, {"hour": hour_of(at)}, created=1)
    _insert_new(conn, SESSIONS, session_id=data["session_id"], state="created", state_since=at)


def _session_state_changed(conn: Connection, data: dict[str, Any], at: datetime) -> None:
    session_id, to_state, agent_id = data["session_id"], data["to_state"], data.get("agent_id")
    hour = hour_of(at)
    facts = conn.execute(select(SESSIONS).where(SESSIONS.c.session_id == session_id)).first()
    first_active_at = aware(facts.first_active_at) if facts else None
    counts = {to_state: 1} if to_state in ("waiting", "active", "ended") else {}
    if to_state == "active":
        if facts is not None and facts.state == "waiting" and data["from_state"] == "waiting":
            _duration(conn, "wait", at, _seconds(facts.state_since, at), agent_id=agent_id)
        if agent_id:
            _bump(conn, AGENTS, {"hour": hour, "agent_id": agent_id}, answered=1)
        first_active_at = first_active_at or at
    if to_state == "ended":
        outcome = data.get("outcome") or (
            "abandoned" if first_active_at is None else "resolved" if data.get("resolution") else "unresolved")
        counts[outcome] = 1
        handle = _seconds(first_active_at, at)
        if handle is not None:
            _duration(conn, "handle", at, handle, agent_id=agent_id)
        if agent_id:
            _bump(conn, AGENTS, {"hour": hour, "agent_id": agent_id}, ended=1,
                  resolved=1 if outcome == "resolved" else 0)
        conn.execute(delete(SESSIONS).where(SESSIONS.c.session_id == session_id))  # it will not move again
    elif facts is None:
        conn.execute(SESSIONS.insert().values(session_id=session_id, state=to_state, state_since=at,
                                              first_active_at=first_active_at))
    else:
        conn.execute(update(SESSIONS).where(SESSIONS.c.session_id == session_id).values(
            state=to_state, state_since=at, first_active_at=first_active_at))
    if counts:
        _bump(conn, SESSION_HOURS, {"hour": hour}, **counts)


# -- Guided Path runs -------------------------------------------------------------------


def _run_key(data: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {"hour": hour_of(at), "path_id": data["path_id"], "version": data["version"]}


def _run_started(conn: Connection, data: dict[str, Any], at: datetime) -> None:
    _bump(conn, RUN_HOURS, _run_key(data, at), started=1)
    _insert_new(conn, RUNS, run_id=data["run_id"], path_id=data["path_id"], version=data["version"],
                last_moved_at=at, finished=0)


def _run_step_completed(conn: Connection, data: dict[str, Any], at: datetime) -> None:
    run_id, step_id = data["run_id"], data["step_id"]
    facts = conn.execute(select(RUNS).where(RUNS.c.run_id == run_id)).first()
    if facts is None:  # the run started before analytics was installed (or its start was lost)
        conn.execute(RUNS.insert().values(run_id=run_id, path_id=data["path_id"], version=data["version"],
                                          last_moved_at=at, finished=0))
    if _insert_new(conn, RUN_STEPS, run_id=run_id, step_id=step_id):
        position = conn.execute(select(func.count()).select_from(RUN_STEPS)
                                .where(RUN_STEPS.c.run_id == run_id)).scalar_one()
        _bump(conn, STEP_HOURS, {**_run_key(data, at), "step_id": step_id}, reached=1, position_sum=position)
        if facts is not None:
            _duration(conn, "step", at, _seconds(facts.last_moved_at, at), path_id=data["path_id"],
                      version=data["version"], step_id=step_id)
    conn.execute(update(RUNS).where(RUNS.c.run_id == run_id).values(last_moved_at=at))


def _run_completed(conn: Connection, data: dict[str, Any], at: datetime) -> None:
    counts = {"completed" if data["status"] == "completed" else "abandoned": 1}
    if data.get("outcome") in RUN_OUTCOMES:
        counts[data["outcome"]] = 1
    _bump(conn, RUN_HOURS, _run_key(data, at), **counts)
    # Finished: its working state is no longer needed.
    conn.execute(delete(RUN_STEPS).where(RUN_STEPS.c.run_id == data["run_id"]))
    conn.execute(delete(RUNS).where(RUNS.c.run_id == data["run_id"]))


# -- the relay ---------------------------------------------------------------------------


def _relay_connected(conn: Connection, data: dict[str, Any], at: datetime) -> None:
    if data["role"] == "viewer" and data["kind"] in RELAY_KINDS and data["connection_id"]:
        _insert_new(conn, RELAY_OPEN, connection_id=data["connection_id"], kind=data["kind"], connected_at=at)


def _relay_disconnected(conn: Connection, data: dict[str, Any], at: datetime) -> None:
    if data["role"] != "viewer" or not data["connection_id"]:
        return
    row = conn.execute(select(RELAY_OPEN).where(RELAY_OPEN.c.connection_id == data["connection_id"])).first()
    if row is None:
        return
    conn.execute(delete(RELAY_OPEN).where(RELAY_OPEN.c.connection_id == data["connection_id"]))
    _bump(conn, RELAY, {"hour": hour_of(at), "kind": row.kind}, seconds=_seconds(row.connected_at, at),
          connections=1)


HANDLERS: dict[str, Callable[[Connection, dict[str, Any], datetime], None]] = {
    "session.created": _session_created,
    "session.state_changed": _session_state_changed,
    "run.started": _run_started,
    "run.step_completed": _run_step_completed,
    "run.completed": _run_completed,
    "relay.connected": _relay_connected,
    "relay.disconnected": _relay_disconnected,
}


def wanted(event: Event) -> bool:
    """Whether the ETL reads this kind of event at all."""
    return event.type in HANDLERS


def apply(conn: Connection, event: Event) -> bool:
    """Apply ``event`` once; False if it is of no interest or was applied before."""
    handler = HANDLERS.get(event.type)
    if handler is None:
        return False
    at = event.occurred_at
    if not _insert_new(conn, PROCESSED, event_id=event.id, event_type=event.type, occurred_at=at):
        return False
    handler(conn, event.data, at)
    return True
