"""The transactional outbox: events written in the same transaction as the change.

A business change and the event announcing it must never disagree: if the change
commits, the event must eventually reach the bus, even if the broker is down right
now; if the change rolls back, no event may escape. So producers never talk to the
bus directly. They :func:`append` the event to ``event_outbox`` on the connection
that carries their change, and :class:`~guidepath.core.events.publisher.OutboxPublisher`
moves committed rows to the bus later, marking them published only after the broker
acknowledged them (delivery is therefore at-least-once; consumers de-duplicate by
event id).

The table lives in ``tenant_metadata`` without a schema name: in PostgreSQL it is
found in the tenant's schema through the tenant role's ``search_path``; in embedded
mode it is in the tenant's own SQLite file. Nothing here knows which tenant it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Iterable, Sequence

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)

from ..db.metadata import tenant_metadata
from .envelope import Event

#: Rows per UPDATE statement: stays far below SQLite's bound-parameter limit.
CHUNK = 500

#: ``last_error`` is for humans; a broker's error text does not need more.
MAX_ERROR_LENGTH = 2000

event_outbox = Table(
    "event_outbox",
    tenant_metadata,
    # BIGINT on PostgreSQL; on SQLite it must be INTEGER to be the rowid alias.
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("id", String(80), nullable=False, unique=True),
    Column("type", String(128), nullable=False),
    Column("stream", String(63), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, default=0, server_default="0"),
    Column("last_error", Text, nullable=True),
    # Never reuse a seq on SQLite, even after purging the newest rows.
    sqlite_autoincrement=True,
)

# The publisher's scan ("unpublished, oldest first") reads only this small index.
Index(
    "ix_event_outbox_unpublished",
    event_outbox.c.seq,
    postgresql_where=event_outbox.c.published_at.is_(None),
    sqlite_where=event_outbox.c.published_at.is_(None),
)
Index("ix_event_outbox_published_at", event_outbox.c.published_at)


@dataclass(frozen=True)
class PendingEvent:
    """An outbox row not yet acknowledged by the bus."""

    seq: int
    id: str
    type: str
    stream: str
    payload: str
    attempts: int


def _now() -> datetime:
    return datetime.now(UTC)


def _row(event: Event, now: datetime) -> dict[str, object]:
    return {
        "id": event.id,
        "type": event.type,
        "stream": event.stream,
        "payload": event.to_json().decode("utf-8"),
        "created_at": now,
        "attempts": 0,
    }


def append(conn: Connection, event: Event) -> None:
    """Write ``event`` to the outbox on ``conn``, inside the caller's transaction.

    Call it on the connection that makes the business change, before committing:
    the event then commits or rolls back with it. Never opens or commits a
    transaction itself.
    """
    conn.execute(insert(event_outbox).values(**_row(event, _now())))


def append_many(conn: Connection, events: Iterable[Event]) -> int:
    """Like :func:`append` for several events (one executemany); returns the count."""
    now = _now()
    rows = [_row(event, now) for event in events]
    if rows:
        conn.execute(insert(event_outbox), rows)
    return len(rows)


def pending(conn: Connection, limit: int, *, lock: bool = False) -> list[PendingEvent]:
    """Up to ``limit`` unpublished events, oldest (lowest seq) first.

    With ``lock=True`` the rows are locked ``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL, so two publishers draining the same tenant at once take disjoint
    rows instead of publishing everything twice (SQLite serialises writers anyway).
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    query = (
        select(
            event_outbox.c.seq,
            event_outbox.c.id,
            event_outbox.c.type,
            event_outbox.c.stream,
            event_outbox.c.payload,
            event_outbox.c.attempts,
        )
        .where(event_outbox.c.published_at.is_(None))
        .order_by(event_outbox.c.seq)
        .limit(limit)
    )
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [PendingEvent(*row) for row in conn.execute(query)]


def pending_count(conn: Connection) -> int:
    """How many events wait for the bus (for health checks and tests)."""
    query = select(func.count()).select_from(event_outbox).where(event_outbox.c.published_at.is_(None))
    return int(conn.execute(query).scalar_one())


def _chunks(seqs: Sequence[int]) -> Iterable[list[int]]:
    seqs = list(seqs)
    for start in range(0, len(seqs), CHUNK):
        yield seqs[start : start + CHUNK]


def mark_published(conn: Connection, seqs: Sequence[int], *, at: datetime | None = None) -> int:
    """Mark rows as acknowledged by the bus; returns how many changed.

    Rows already marked are left alone, so a retried drain cannot move their time.
    """
    when = at or _now()
    changed = 0
    for chunk in _chunks(seqs):
        result = conn.execute(
            update(event_outbox)
            .where(event_outbox.c.seq.in_(chunk), event_outbox.c.published_at.is_(None))
            .values(published_at=when)
        )
        changed += result.rowcount
    return changed


def record_failure(conn: Connection, seqs: Sequence[int], error: str) -> None:
    """Count a failed publishing attempt on rows that stay pending, with the reason."""
    message = error[:MAX_ERROR_LENGTH]
    for chunk in _chunks(seqs):
        conn.execute(
            update(event_outbox)
            .where(event_outbox.c.seq.in_(chunk))
            .values(attempts=event_outbox.c.attempts + 1, last_error=message)
        )


def purge_published(conn: Connection, older_than: datetime | timedelta) -> int:
    """Delete rows published before ``older_than`` (a time, or an age); returns the count.

    Published rows are kept for a while for debugging and replay; pending rows are
    never purged, however old.
    """
    cutoff = _now() - older_than if isinstance(older_than, timedelta) else older_than
    if cutoff.tzinfo is None:
        raise ValueError("older_than must be timezone-aware (UTC)")
    cutoff = cutoff.astimezone(UTC)  # SQLite stores naive UTC text: compare like with like
    result = conn.execute(
        delete(event_outbox).where(
            event_outbox.c.published_at.is_not(None),
            event_outbox.c.published_at < cutoff,
        )
    )
    return result.rowcount
