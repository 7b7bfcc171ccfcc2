"""The audit log of admin actions: who did what to which object, and when.

Written in the same transaction as the change it describes, so the log and the
data can never disagree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from .records import iso, utcnow
from .schemas import TIMESTAMP, response_object
from .tables import audit_log

#: One entry of the audit log as the API returns it.
AUDIT_ENTRY_OUTPUT_SCHEMA = response_object({
    "seq": {"type": "integer", "minimum": 1, "description": "Increases with every entry"},
    "at": TIMESTAMP,
    "actor": {"type": ["string", "null"], "description": "`user:usr_…` or `api_key:key_…`; null for the system"},
    "action": {"type": "string", "examples": ["user.created"]},
    "target": {"type": ["string", "null"], "description": "The id of the object acted on"},
    "details": {"type": "object"},
}, description="An audit log entry", examples=[{
    "seq": 42, "at": "2026-01-31T12:00:00.000000Z", "actor": "user:usr_01m94ky3zrcez7fnxwnpff2mwj",
    "action": "user.created", "target": "usr_01m94ky3z46vzem4zrnwha42xg", "details": {"role": "agent"},
}])


def record(conn: Connection, actor: str | None, action: str, target: str | None = None,
           details: dict[str, Any] | None = None) -> None:
    conn.execute(audit_log.insert().values(
        at=utcnow(), actor=actor, action=action, target=target, details=details or {},
    ))


def recent(conn: Connection, limit: int = 100, before: int | None = None) -> dict[str, Any]:
    """Newest first; ``next`` is the cursor for older entries."""
    query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(audit_log.c.seq < before)
    rows = conn.execute(query).all()
    items = [{"seq": r.seq, "at": iso(r.at), "actor": r.actor, "action": r.action,
              "target": r.target, "details": r.details} for r in rows[:limit]]
    return {"items": items, "next": str(items[-1]["seq"]) if len(rows) > limit else None}
