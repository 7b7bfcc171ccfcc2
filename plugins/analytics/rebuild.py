"""Rebuilding a tenant's aggregates from its retained events.

Where the events come from: the tenant's transactional outbox (``event_outbox``, in
the tenant's own database, on both backends). The kernel keeps published rows there
("for debugging and replay"); nothing purges them today, so the outbox holds the
tenant's whole history. Reading the Kafka topics from the beginning would be the
alternative in server mode, but the topics' retention is the broker's business and
embedded mode has no topics at all: the outbox is available everywhere.

How: every retained event the ETL reads, in outbox order, is applied by the same
code as live processing (:func:`.etl.apply`) into *fresh tables* — a scratch SQLite
database with the same tables, so the live ones keep serving meanwhile. Then, in one
transaction on the tenant's database, the live rows are replaced by the fresh ones
(on PostgreSQL under an exclusive lock on ``analytics_processed_events``, which
makes live processing wait at its first write), and the events written since the
replay began are applied on top. Readers see the old numbers until the commit,
then the new ones; an event processed live meanwhile counts once.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import Connection, DateTime, create_engine, delete, func, select, text

from guidepath.core.plugin_api import Event, TenantContext, tenant_metadata

from . import etl
from .etl import aware
from .tables import TABLES

BATCH = 500


def outbox_table():
    # The kernel's outbox table, found through the tenant metadata that plugin_api
    # exports (its rows: seq, id, type, stream, payload, created_at, published_at).
    return tenant_metadata.tables["event_outbox"]


@dataclass
class RebuildResult:
    events: int = 0    # retained events the ETL reads
    applied: int = 0   # of them, applied (the rest were duplicates)
    tail: int = 0      # events written during the replay, applied at the swap


def count_events(conn: Connection) -> int:
    outbox = outbox_table()
    return conn.execute(select(func.count()).select_from(outbox)
                        .where(outbox.c.type.in_(sorted(etl.HANDLERS)))).scalar_one()


def _events(conn: Connection, after_seq: int = 0) -> Iterator[tuple[int, Event]]:
    outbox = outbox_table()
    last = after_seq
    while True:
        rows = conn.execute(select(outbox.c.seq, outbox.c.payload)
                            .where(outbox.c.seq > last, outbox.c.type.in_(sorted(etl.HANDLERS)))
                            .order_by(outbox.c.seq).limit(BATCH)).all()
        if not rows:
            return
        for seq, payload in rows:
            yield seq, Event.from_json(payload)
            last = seq


def rebuild(ctx: TenantContext, progress: Callable[[int], None] | None = None,
            total: Callable[[int], None] | None = None) -> RebuildResult:
    """Replay ``ctx``'s retained events into fresh tables and swap them in.

    ``total(n)`` is called once with the number of events to replay, ``progress(k)``
    after each batch of ``k``.
    """
    result = RebuildResult()
    with tempfile.TemporaryDirectory(prefix="guidepath-analytics-") as folder:
        scratch = create_engine(f"sqlite:///{Path(folder) / 'rebuild.db'}")
        try:
            tenant_metadata.create_all(scratch, tables=list(TABLES))
            last_seq = 0
            with ctx.engine.connect() as source, scratch.begin() as target:
                if total is not None:
                    total(count_events(source))
                done = 0
                for seq, event in _events(source):
                    result.events += 1
                    result.applied += etl.apply(target, event)
                    last_seq = seq
                    done += 1
                    if progress is not None and done == BATCH:
                        progress(done)
                        done = 0
                if progress is not None and done:
                    progress(done)
            with scratch.connect() as fresh, ctx.begin() as live:
                _swap(fresh, live)
                for _seq, event in _events(live, last_seq):
                    result.tail += etl.apply(live, event)
        finally:
            scratch.dispose()
    return result


def _swap(fresh: Connection, live: Connection) -> None:
    if live.dialect.name == "postgresql":
        live.execute(text("LOCK TABLE analytics_processed_events IN EXCLUSIVE MODE"))
    for table in reversed(TABLES):
        live.execute(delete(table))
    for table in TABLES:
        columns = [c for c in table.columns if not (c.primary_key and c.autoincrement is True)]
        times = [c.name for c in columns if isinstance(c.type, DateTime)]
        rows = []
        for row in fresh.execute(select(*columns)):
            values = dict(row._mapping)
            for name in times:
                values[name] = aware(values[name])
            rows.append(values)
            if len(rows) >= BATCH:
                live.execute(table.insert(), rows)
                rows = []
        if rows:
            live.execute(table.insert(), rows)
