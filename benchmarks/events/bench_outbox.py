"""Outbox drain throughput to Kafka, against the raw kafka-python producer.

Starts a Tansu broker on loopback, fills a tenant outbox (a SQLite file and, if
reachable, a PostgreSQL tenant schema in a throwaway database) with N events, and
measures how fast OutboxPublisher drains it to ``gp.{tenant}.session``: read the
batch, publish it with acks=all and wait for every acknowledgement, mark it
published, commit. The baseline, in the same run, is a bare KafkaProducer with the
same settings sending the same payloads (no database, one flush at the end).

    .venv/bin/python benchmarks/events/bench_outbox.py          # N=50000
    QUICK=1 .venv/bin/python benchmarks/events/bench_outbox.py  # N=5000

Everything it starts (broker, database) it stops or drops. Last line:

    RESULT bench=events outbox_eps=<slowest backend> raw_producer_eps=<v> ratio=<ours/raw>
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from sqlalchemy import Engine, create_engine, event, text

from guidepath.core.events import Event, OutboxPublisher, event_outbox, outbox, topic_for
from guidepath.core.events.kafka_bus import KafkaBus, KafkaSettings
from guidepath.core.testing.tansu import TansuBroker

from kafka import KafkaConsumer, KafkaProducer  # noqa: E402 - kafka_bus silenced its import warnings
from kafka.structs import TopicPartition  # noqa: E402

QUICK = os.environ.get("QUICK", "") not in ("", "0")
N = 5_000 if QUICK else 50_000
BATCH = int(os.environ.get("BATCH", "500"))  # the publisher's default
PG_ADMIN_URL = os.environ.get("GUIDEPATH_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def tenant_id() -> str:
    return "t" + secrets.token_hex(8)


def make_events(tenant: str, n: int) -> list[Event]:
    states = ["created", "waiting", "active", "ended"]
    return [
        Event.new(tenant, "session.state_changed", {
            "session_id": f"ses_{i:026d}",
            "from_state": states[i % 3],
            "to_state": states[i % 3 + 1],
            "resolution": "fixed by restarting the router" if i % 3 == 2 else None,
            "agent_id": f"usr_{i % 50:026d}",
        })
        for i in range(n)
    ]


def sqlite_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def fill(engine: Engine, events: list[Event]) -> float:
    """Append the events in transactions of 5000; returns events per second."""
    started = time.perf_counter()
    for start in range(0, len(events), 5_000):
        with engine.begin() as conn:
            outbox.append_many(conn, events[start : start + 5_000])
    return len(events) / (time.perf_counter() - started)


def drain_all(bus: KafkaBus, engine: Engine, tenant: str, batch: int) -> float:
    """Drain the whole outbox; returns events per second."""
    publisher = OutboxPublisher(bus)
    published = 0
    started = time.perf_counter()
    while True:
        result = publisher.drain_batch(engine, tenant, batch)
        if result.bus_unavailable:
            raise RuntimeError(f"broker refused a batch: {result.error}")
        if result.published == 0:
            break
        published += result.published
    elapsed = time.perf_counter() - started
    with engine.connect() as conn:
        assert outbox.pending_count(conn) == 0, "events left in the outbox"
    return published / elapsed


def raw_producer(bootstrap: str, settings: KafkaSettings, topic: str, events: list[Event]) -> float:
    """The baseline: the same payloads through a bare producer with the same settings."""
    payloads = [(e.id.encode(), e.to_json()) for e in events]
    producer = KafkaProducer(bootstrap_servers=bootstrap, **settings.producer_config())
    try:
        producer.send(topic, key=b"warm-up", value=b"{}").get(timeout=10)  # topic + connection, untimed
        started = time.perf_counter()
        futures = [producer.send(topic, key=key, value=value) for key, value in payloads]
        producer.flush(timeout=120)
        assert all(f.succeeded() for f in futures), "the raw producer lost messages"
        return len(payloads) / (time.perf_counter() - started)
    finally:
        producer.close(timeout=5)


def topic_size(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def postgres_outbox() -> tuple[Engine, str, Callable[[], None]] | None:
    """A tenant schema in a throwaway database, or None if PostgreSQL is unreachable."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        print(f"# PostgreSQL not reachable ({type(exc).__name__}); SQLite only")
        admin.dispose()
        return None
    name = f"gp_evt_bench_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    schema = tenant_id()
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    event_outbox.create(engine)

    def drop() -> None:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return engine, schema, drop


def run(broker: TansuBroker, settings: KafkaSettings, workdir: Path, cleanups: list[Callable[[], None]],
        outbox_eps: dict[str, float], raw_runs: list[float]) -> None:
    bus = KafkaBus(broker.bootstrap, settings)
    cleanups.append(bus.close)

    raw_tenant = tenant_id()
    raw_events = make_events(raw_tenant, N)
    raw_topic = topic_for(raw_tenant, "session")
    raw_runs.append(raw_producer(broker.bootstrap, settings, raw_topic, raw_events))
    print(f"raw producer (run 1): {raw_runs[-1]:,.0f} events/s")

    backends: list[tuple[str, Engine, str]] = []
    sqlite_tenant = tenant_id()
    engine = sqlite_engine(workdir / f"{sqlite_tenant}.sqlite")
    event_outbox.create(engine)
    cleanups.append(engine.dispose)
    backends.append(("sqlite", engine, sqlite_tenant))
    pg = postgres_outbox()
    if pg is not None:
        pg_engine, pg_tenant, drop = pg
        cleanups.append(drop)
        backends.append(("postgres", pg_engine, pg_tenant))

    for name, engine, tenant in backends:
        events = make_events(tenant, N)
        fill_eps = fill(engine, events)
        with engine.begin() as conn:  # connect and create the topic outside the timing
            outbox.append(conn, Event.new(tenant, "session.created", {"warm_up": True}))
        OutboxPublisher(bus).drain(engine, tenant)
        eps = drain_all(bus, engine, tenant, BATCH)
        size = topic_size(broker.bootstrap, topic_for(tenant, "session"))
        assert size == N + 1, f"{name}: {size} messages on the topic, expected {N + 1}"
        outbox_eps[name] = eps
        print(f"outbox {name}: append {fill_eps:,.0f} events/s; drain {eps:,.0f} events/s "
              f"({size} on the topic, none pending)")

    # A larger batch on SQLite, for context (fewer acknowledgement round trips per event).
    tenant = tenant_id()
    engine = sqlite_engine(workdir / f"{tenant}-big.sqlite")
    event_outbox.create(engine)
    cleanups.append(engine.dispose)
    fill(engine, make_events(tenant, N))
    big_eps = drain_all(bus, engine, tenant, 5_000)
    print(f"outbox sqlite, batch_size=5000: drain {big_eps:,.0f} events/s (for context)")

    raw_runs.append(raw_producer(broker.bootstrap, settings, raw_topic, raw_events))
    print(f"raw producer (run 2): {raw_runs[-1]:,.0f} events/s")


def main() -> int:
    logging.basicConfig(level=logging.ERROR)
    settings = KafkaSettings()  # production defaults
    print(f"# N={N} batch_size={BATCH} acks=all idempotence={settings.idempotence} "
          f"linger_ms={settings.linger_ms} batch_bytes={settings.batch_size}")
    workdir = Path(tempfile.mkdtemp(prefix="gp-bench-events-"))
    outbox_eps: dict[str, float] = {}
    raw_runs: list[float] = []
    try:
        with TansuBroker() as broker:
            print(f"# tansu on {broker.bootstrap}")
            cleanups: list[Callable[[], None]] = []  # run before the broker stops, newest first
            try:
                run(broker, settings, workdir, cleanups, outbox_eps, raw_runs)
            finally:
                for cleanup in reversed(cleanups):
                    try:
                        cleanup()
                    except Exception as exc:  # noqa: BLE001 - keep cleaning up
                        print(f"# cleanup failed: {exc}", file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    ours = min(outbox_eps.values())
    raw = max(raw_runs)
    print(f"# outbox_eps is the slowest backend ({min(outbox_eps, key=outbox_eps.get)}); "
          "raw_producer_eps the better of two runs")
    print(f"RESULT bench=events outbox_eps={ours:.0f} raw_producer_eps={raw:.0f} ratio={ours / raw:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
