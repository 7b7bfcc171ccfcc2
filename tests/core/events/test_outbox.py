"""The transactional outbox and its publisher, on SQLite and PostgreSQL.

The bus here is the in-process one; tests/core/events/test_kafka_bus.py drains to a
real broker.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from guidepath.core.events import (
    BusUnavailable,
    Event,
    MemoryBus,
    OutboxPublisher,
    PublisherLoop,
    TenantMismatch,
    event_outbox,
    outbox,
    tenant_pattern,
    topic_for,
)


def events(tenant_id: str, n: int, type_: str = "session.created") -> list[Event]:
    return [Event.new(tenant_id, type_, {"i": i}) for i in range(n)]


def rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(event_outbox).order_by(event_outbox.c.seq)).all()


# -- the table and its functions -----------------------------------------------


def test_append_commits_with_the_business_transaction(outbox_db):
    batch = events(outbox_db.tenant_id, 3)
    with outbox_db.engine.begin() as conn:
        for event in batch:
            outbox.append(conn, event)
    stored = rows(outbox_db.engine)
    assert [r.id for r in stored] == [e.id for e in batch]
    first = stored[0]
    assert first.type == "session.created" and first.stream == "session"
    assert Event.from_json(first.payload) == batch[0]
    assert first.published_at is None and first.attempts == 0 and first.last_error is None


def test_append_rolls_back_with_the_business_transaction(outbox_db):
    with pytest.raises(RuntimeError), outbox_db.engine.begin() as conn:
        outbox.append(conn, events(outbox_db.tenant_id, 1)[0])
        raise RuntimeError("the business change failed")
    assert rows(outbox_db.engine) == []


def test_event_ids_are_unique_in_the_outbox(outbox_db):
    event = events(outbox_db.tenant_id, 1)[0]
    with outbox_db.engine.begin() as conn:
        outbox.append(conn, event)
    with pytest.raises(Exception), outbox_db.engine.begin() as conn:  # IntegrityError of either driver
        outbox.append(conn, event)
    assert len(rows(outbox_db.engine)) == 1


def test_pending_is_oldest_first_and_limited(outbox_db):
    batch = events(outbox_db.tenant_id, 5)
    with outbox_db.engine.begin() as conn:
        assert outbox.append_many(conn, batch) == 5
    with outbox_db.engine.begin() as conn:
        first = outbox.pending(conn, 3)
        assert [p.id for p in first] == [e.id for e in batch[:3]]
        assert [p.seq for p in first] == sorted(p.seq for p in first)
        assert outbox.mark_published(conn, [p.seq for p in first]) == 3
        assert outbox.mark_published(conn, [first[0].seq]) == 0  # already published: untouched
        assert [p.id for p in outbox.pending(conn, 10)] == [e.id for e in batch[3:]]
        assert outbox.pending_count(conn) == 2
    with pytest.raises(ValueError), outbox_db.engine.connect() as conn:
        outbox.pending(conn, 0)


def test_mark_published_handles_more_rows_than_one_statement(outbox_db):
    batch = events(outbox_db.tenant_id, outbox.CHUNK * 2 + 7)
    with outbox_db.engine.begin() as conn:
        outbox.append_many(conn, batch)
        seqs = [p.seq for p in outbox.pending(conn, len(batch))]
        assert outbox.mark_published(conn, seqs) == len(batch)
        assert outbox.pending_count(conn) == 0


def test_record_failure_counts_attempts(outbox_db):
    with outbox_db.engine.begin() as conn:
        outbox.append_many(conn, events(outbox_db.tenant_id, 2))
        seqs = [p.seq for p in outbox.pending(conn, 10)]
        outbox.record_failure(conn, seqs, "broker down")
        outbox.record_failure(conn, seqs[:1], "x" * 5000)
        attempts = [p.attempts for p in outbox.pending(conn, 10)]
    assert attempts == [2, 1]
    assert [len(r.last_error) for r in rows(outbox_db.engine)] == [outbox.MAX_ERROR_LENGTH, len("broker down")]


def test_purge_removes_only_old_published_rows(outbox_db):
    with outbox_db.engine.begin() as conn:
        outbox.append_many(conn, events(outbox_db.tenant_id, 3))
        old, recent, waiting = (p.seq for p in outbox.pending(conn, 10))
        outbox.mark_published(conn, [old], at=datetime.now(UTC) - timedelta(days=8))
        outbox.mark_published(conn, [recent])
        conn.execute(update(event_outbox).where(event_outbox.c.seq == waiting)
                     .values(created_at=datetime.now(UTC) - timedelta(days=30)))
    with outbox_db.engine.begin() as conn:
        assert outbox.purge_published(conn, timedelta(days=7)) == 1
    assert [r.seq for r in rows(outbox_db.engine)] == [recent, waiting]
    with pytest.raises(ValueError), outbox_db.engine.begin() as conn:
        outbox.purge_published(conn, datetime.now())  # naive: ambiguous


def test_seq_is_never_reused_after_a_purge(outbox_db):
    with outbox_db.engine.begin() as conn:
        outbox.append_many(conn, events(outbox_db.tenant_id, 2))
        seqs = [p.seq for p in outbox.pending(conn, 10)]
        outbox.mark_published(conn, seqs, at=datetime.now(UTC) - timedelta(days=1))
        outbox.purge_published(conn, timedelta(hours=1))
        outbox.append(conn, events(outbox_db.tenant_id, 1)[0])
        assert outbox.pending(conn, 1)[0].seq > max(seqs)


@pytest.mark.postgres
@pytest.mark.parametrize("outbox_db", ["postgres"], indirect=True)  # SQLite serialises writers anyway
def test_concurrent_publishers_take_disjoint_rows(outbox_db):
    with outbox_db.engine.begin() as conn:
        outbox.append_many(conn, events(outbox_db.tenant_id, 6))
    with outbox_db.engine.connect() as first, outbox_db.engine.connect() as second:
        with first.begin(), second.begin():
            taken = outbox.pending(first, 4, lock=True)
            rest = outbox.pending(second, 4, lock=True)
    assert len(taken) == 4 and len(rest) == 2
    assert not {p.seq for p in taken} & {p.seq for p in rest}


# -- the publisher ----------------------------------------------------------------


def test_drain_publishes_in_order_to_the_tenant_topic_and_marks_rows(outbox_db, recorder):
    tenant = outbox_db.tenant_id
    bus = MemoryBus()
    spy = recorder()
    bus.subscribe(tenant_pattern(tenant), "test", spy)
    state = events(tenant, 3, "session.state_changed")
    plugin = events(tenant, 2, "plugin.settings_changed")
    with outbox_db.engine.begin() as conn:
        outbox.append_many(conn, state + plugin)
    try:
        assert OutboxPublisher(bus).drain(outbox_db.engine, tenant) == 5
        assert spy.wait_for(5)
        assert [e.id for e in spy.events] == [e.id for e in state + plugin]
        assert spy.events == state + plugin
        assert all(r.published_at is not None for r in rows(outbox_db.engine))
        assert OutboxPublisher(bus).drain(outbox_db.engine, tenant) == 0
    finally:
        bus.close()


def test_drain_sends_event_id_keys_and_stream_topics(outbox_db):
    sent = []

    class CapturingBus(MemoryBus):
        def publish_many(self, messages):
            sent.extend(messages)
            super().publish_many(messages)

    tenant = outbox_db.tenant_id
    batch = events(tenant, 1, "session.created") + events(tenant, 1, "device.updated")
    with outbox_db.engine.begin() as conn:
        outbox.append_many(conn, batch)
    OutboxPublisher(CapturingBus()).drain(outbox_db.engine, tenant)
    assert sent == [
        (topic_for(tenant, "session"), batch[0].id.encode(), batch[0].to_json()),
        (topic_for(tenant, "device"), batch[1].id.encode(), batch[1].to_json()),
    ]


def test_drain_respects_the_batch_size(outbox_db):
    with outbox_db.engine.begin() as conn:
        outbox.append_many(conn, events(outbox_db.tenant_id, 7))
    publisher = OutboxPublisher(MemoryBus())
    assert [publisher.drain(outbox_db.engine, outbox_db.tenant_id, batch_size=3) for _ in range(4)] == [3, 3, 1, 0]


def test_drain_accepts_a_connection_factory(outbox_db):
    with outbox_db.engine.begin() as conn:
        outbox.append_many(conn, events(outbox_db.tenant_id, 2))
    opened = []

    @contextmanager
    def connect():
        opened.append(1)
        with outbox_db.engine.connect() as conn:
            yield conn

    assert OutboxPublisher(MemoryBus()).drain(connect, outbox_db.tenant_id) == 2
    assert opened == [1]


def test_when_the_bus_is_unavailable_events_wait(outbox_db):
    bus = MemoryBus()
    bus.close()  # publish_many now raises BusUnavailable
    with outbox_db.engine.begin() as conn:
        outbox.append_many(conn, events(outbox_db.tenant_id, 4))
    publisher = OutboxPublisher(bus)
    result = publisher.drain_batch(outbox_db.engine, outbox_db.tenant_id)
    assert result.published == 0 and result.failed == 4 and result.bus_unavailable
    assert publisher.drain(outbox_db.engine, outbox_db.tenant_id) == 0
    stored = rows(outbox_db.engine)
    assert all(r.published_at is None for r in stored)
    assert {r.attempts for r in stored} == {2}
    assert "closed" in stored[0].last_error

    healthy = MemoryBus()
    assert publisher.__class__(healthy).drain(outbox_db.engine, outbox_db.tenant_id) == 4
    assert all(r.published_at is not None for r in rows(outbox_db.engine))


def test_drain_refuses_rows_of_another_tenant(outbox_db, recorder, new_tenant_id):
    with outbox_db.engine.begin() as conn:
        outbox.append_many(conn, events(outbox_db.tenant_id, 2))
    bus = MemoryBus()
    spy = recorder()
    other = new_tenant_id()
    bus.subscribe(tenant_pattern(other), "spy", spy)
    with pytest.raises(TenantMismatch, match=outbox_db.tenant_id):
        OutboxPublisher(bus).drain(outbox_db.engine, other)  # engine and tenant id mixed up
    assert not spy.wait_for(1, timeout=0.2)
    assert all(r.published_at is None for r in rows(outbox_db.engine))
    bus.close()


# -- the background loop ------------------------------------------------------------


def test_publisher_loop_drains_every_tenant_and_stops_cleanly(outbox_db, recorder, sqlite_outbox):
    other = sqlite_outbox()
    second_id, second = other.tenant_id, other.engine
    bus = MemoryBus()
    spy = recorder()
    bus.subscribe(r"^gp\.", "all", spy)
    tenants = [(outbox_db.tenant_id, outbox_db.engine), (second_id, second)]
    loop = PublisherLoop(bus, lambda: tenants, interval_ms=5_000, batch_size=4)
    try:
        with outbox_db.engine.begin() as conn:
            outbox.append_many(conn, events(outbox_db.tenant_id, 10))
        with second.begin() as conn:
            outbox.append_many(conn, events(second_id, 3))
        loop.start()
        assert spy.wait_for(13)  # the first round runs at once, several batches per tenant
        with second.begin() as conn:
            outbox.append(conn, events(second_id, 1)[0])
        loop.wake()  # no need to wait out the 5 s interval
        assert spy.wait_for(14)
        assert {e.tenant_id for e in spy.events} == {outbox_db.tenant_id, second_id}
    finally:
        started = time.monotonic()
        loop.stop()
        assert time.monotonic() - started < 2 and not loop.running
        bus.close()


def test_publisher_loop_backs_off_while_the_bus_is_down(outbox_db):
    bus = MemoryBus()
    bus.close()
    with outbox_db.engine.begin() as conn:
        outbox.append_many(conn, events(outbox_db.tenant_id, 1))
    loop = PublisherLoop(bus, lambda: [(outbox_db.tenant_id, outbox_db.engine)], interval_ms=10, max_backoff_ms=80)
    with loop:
        deadline = time.monotonic() + 5
        while loop.delay_ms < 80 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert loop.delay_ms == 80
    assert not loop.running
    assert rows(outbox_db.engine)[0].attempts >= 3


def test_publisher_loop_survives_a_broken_tenant(outbox_db, recorder, new_tenant_id):
    def broken():
        raise RuntimeError("database gone")

    bus = MemoryBus()
    spy = recorder()
    bus.subscribe(tenant_pattern(outbox_db.tenant_id), "g", spy)
    with outbox_db.engine.begin() as conn:
        outbox.append_many(conn, events(outbox_db.tenant_id, 2))
    loop = PublisherLoop(bus, lambda: [(new_tenant_id(), broken), (outbox_db.tenant_id, outbox_db.engine)])
    assert loop.run_once() == (2, False)
    assert spy.wait_for(2)
    bus.close()


def test_memory_bus_backpressure_keeps_events_in_the_outbox(outbox_db):
    bus = MemoryBus(max_backlog=3)
    gate = threading.Event()
    bus.subscribe(tenant_pattern(outbox_db.tenant_id), "slow", lambda e: gate.wait(5))
    with outbox_db.engine.begin() as conn:
        outbox.append_many(conn, events(outbox_db.tenant_id, 5))
    try:
        with pytest.raises(BusUnavailable):
            bus.publish_many([(topic_for(outbox_db.tenant_id, "session"), b"k", b"v")] * 4)
        assert OutboxPublisher(bus).drain(outbox_db.engine, outbox_db.tenant_id) == 0
        assert OutboxPublisher(bus).drain(outbox_db.engine, outbox_db.tenant_id, batch_size=3) == 3
    finally:
        gate.set()
        bus.close()
