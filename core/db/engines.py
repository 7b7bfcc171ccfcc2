"""Engine construction with the settings both backends need."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    WAL lets the embedded app's readers run while a writer commits; the busy
    timeout turns short write contention into waiting instead of errors.
    """
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            # Let SQLAlchemy, not pysqlite, decide where transactions begin so
            # that `BEGIN` is emitted for every transaction we open.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:  # pragma: no cover - trivial
            # IMMEDIATE takes the write lock up front. A deferred transaction that
            # reads and then writes fails at once with "database is locked" when
            # another connection committed in between (the busy timeout cannot help
            # a stale snapshot); waiting for the lock at BEGIN avoids that. Embedded
            # mode trades concurrent transactions for never failing spuriously.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_admin_engine(url: str) -> Engine:
    """An engine for DDL on a container (CREATE ROLE/SCHEMA): autocommit, no pool."""
    return create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
