"""Fixtures for the event pipeline tests: a real Tansu broker, buses, outbox databases.

* ``tansu``: one broker for the session; ``outage_broker``: a broker of the test's
  own that the test may stop and restart on the same port.
* ``bus``: the same contract tests on the in-process bus and on Kafka.
* ``outbox_db``: a fresh tenant outbox on SQLite (a file) and on PostgreSQL (a
  tenant schema, found through ``search_path``, in a throwaway database).

A missing broker binary or PostgreSQL server skips the Kafka/PostgreSQL parameters,
or fails them when ``GUIDEPATH_REQUIRE_SERVICES=1`` (``unavailable`` in tests/conftest.py).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, NoReturn

import pytest
from sqlalchemy import Engine, create_engine, event, text

from guidepath.core.events import Event, KafkaSettings, MemoryBus, event_outbox
from guidepath.core.testing.tansu import TansuBroker, find_tansu

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

# Tansu completes a group join after about half the session timeout: keep it short.
TEST_KAFKA_SETTINGS = KafkaSettings(
    session_timeout_ms=2_000,
    heartbeat_interval_ms=500,
    max_poll_interval_ms=10_000,
    metadata_max_age_ms=1_000,
    publish_timeout_ms=2_000,
    request_timeout_ms=1_000,
    max_block_ms=1_000,
    bootstrap_timeout_ms=1_000,
    reconnect_backoff_max_ms=200,
    retry_backoff_ms=50,
    max_attempts=3,
)


def _new_tenant_id() -> str:
    return "t" + secrets.token_hex(8)


@pytest.fixture
def new_tenant_id() -> Callable[[], str]:
    """Makes fresh random tenant ids (``t`` + 16 hex)."""
    return _new_tenant_id


# -- Kafka ---------------------------------------------------------------------


def _require_tansu(unavailable: Callable[[str], NoReturn]) -> None:
    try:
        find_tansu()
    except FileNotFoundError as exc:
        unavailable(f"no Tansu broker binary ({exc})")


@pytest.fixture(scope="session")
def tansu(unavailable: Callable[[str], NoReturn]) -> Iterator[TansuBroker]:
    _require_tansu(unavailable)
    broker = TansuBroker()
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def outage_broker(unavailable: Callable[[str], NoReturn]) -> Iterator[TansuBroker]:
    """A broker for one test, which may ``stop()`` and ``start()`` it (same port)."""
    _require_tansu(unavailable)
    broker = TansuBroker()
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def kafka_settings() -> KafkaSettings:
    return TEST_KAFKA_SETTINGS


@pytest.fixture(params=["memory", pytest.param("kafka", marks=pytest.mark.kafka)])
def bus(request: pytest.FixtureRequest):
    """The same bus contract on both implementations."""
    if request.param == "memory":
        instance = MemoryBus(max_attempts=TEST_KAFKA_SETTINGS.max_attempts, retry_backoff_s=0.02)
    else:
        from guidepath.core.events import KafkaBus

        broker = request.getfixturevalue("tansu")
        instance = KafkaBus(broker.bootstrap, TEST_KAFKA_SETTINGS)
    try:
        yield instance
    finally:
        instance.close()


# -- outbox databases ----------------------------------------------------------


@dataclass
class OutboxDB:
    """A tenant's database holding an empty ``event_outbox``."""

    tenant_id: str
    engine: Engine
    backend: str


def _sqlite_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI objects
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    return engine


@pytest.fixture(scope="session")
def pg_database(unavailable: Callable[[str], NoReturn]) -> Iterator[str]:
    """A throwaway PostgreSQL database (dropped at the end); its URL."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - no server here: skip these parameters (fail in CI)
        admin.dispose()
        unavailable(f"PostgreSQL not reachable at 127.0.0.1:5432 ({exc})")
    name = f"gp_evt_test_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def outbox_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OutboxDB]:
    tenant_id = _new_tenant_id()
    if request.param == "sqlite":
        engine = _sqlite_engine(tmp_path / f"{tenant_id}.sqlite")
    else:
        url = request.getfixturevalue("pg_database")
        # Like a tenant role: the table is found through search_path, never by schema name.
        engine = create_engine(url, connect_args={"options": f"-csearch_path={tenant_id}"})
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{tenant_id}"'))
    event_outbox.create(engine)
    try:
        yield OutboxDB(tenant_id, engine, request.param)
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_outbox(tmp_path: Path) -> Iterator[Callable[[], OutboxDB]]:
    """Makes more tenant outboxes (SQLite files) for tests that need several tenants."""
    made: list[OutboxDB] = []

    def make() -> OutboxDB:
        tenant_id = _new_tenant_id()
        engine = _sqlite_engine(tmp_path / f"{tenant_id}.sqlite")
        event_outbox.create(engine)
        made.append(OutboxDB(tenant_id, engine, "sqlite"))
        return made[-1]

    yield make
    for db in made:
        db.engine.dispose()


class Recorder:
    """A subscriber's handler that remembers what it got and can wait for a count."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._cond = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    @property
    def ids(self) -> list[str]:
        with self._cond:
            return [e.id for e in self.events]

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """True once ``count`` events arrived; False after ``timeout`` seconds."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.events) >= count, timeout)


@pytest.fixture
def recorder() -> Callable[[], Recorder]:
    """Makes :class:`Recorder` handlers."""
    return Recorder
