"""Where a waiting session stands, and how long it will probably wait.

Computed on the server from one snapshot (:class:`QueueStats`) so a page of sessions
costs the same few queries as one; exposed through ``GET …/queue`` and
``?expand=queue`` for the console and, later, the SDK.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, func, select

from .session_states import ACTIVE, ENDED, WAITING
from .support_sessions import HANDLE_TIME_SAMPLE, get
from .tables import support_sessions, users


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
