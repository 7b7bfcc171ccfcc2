"""The bus contract on both implementations, and the outbox against a real broker.

Kafka here is Tansu (started by the fixtures in this folder's conftest.py). Every
wait is bounded; the slow parts are Tansu's group joins (about a second with the
test settings).
"""

from __future__ import annotations

import logging
import threading
import time

import pytest

from guidepath.core.events import (
    BusUnavailable,
    Event,
    KafkaBus,
    MemoryBus,
    OutboxPublisher,
    outbox,
    tenant_pattern,
    topic_for,
)
from guidepath.core.events.kafka_bus import KafkaSettings

from kafka import KafkaAdminClient, KafkaConsumer  # noqa: E402 - after kafka_bus silenced its import warnings
from kafka.structs import TopicPartition  # noqa: E402

WAIT = 20.0  # seconds: generous bound for a Kafka group join plus delivery


def messages_for(batch: list[Event]) -> list[tuple[str, bytes, bytes]]:
    return [(topic_for(e.tenant_id, e.stream), e.id.encode(), e.to_json()) for e in batch]


def make_events(tenant_id: str, n: int, type_: str = "session.created") -> list[Event]:
    return [Event.new(tenant_id, type_, {"i": i}) for i in range(n)]


def read_topic(bootstrap: str, topic: str, count: int, timeout: float = WAIT) -> list:
    """Every record of ``topic`` from the beginning, read without a consumer group."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             auto_offset_reset="earliest", bootstrap_timeout_ms=5_000)
    try:
        deadline = time.monotonic() + timeout
        partitions = None
        while not partitions and time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                time.sleep(0.1)
        assert partitions, f"topic {topic} does not exist"
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        consumer.seek_to_beginning()
        records: list = []
        while len(records) < count and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


# -- the contract, on both buses ----------------------------------------------------


def test_every_group_receives_every_event(bus, recorder, new_tenant_id):
    tenant = new_tenant_id()
    first, second = recorder(), recorder()
    bus.subscribe(tenant_pattern(tenant), "group-a", first)
    bus.subscribe(tenant_pattern(tenant), "group-b", second)
    batch = make_events(tenant, 20)
    bus.publish_many(messages_for(batch))
    assert first.wait_for(20, WAIT) and second.wait_for(20, WAIT)
    assert first.ids == [e.id for e in batch]  # one topic, one partition: in order
    assert sorted(second.ids) == sorted(e.id for e in batch)
    assert first.events[0] == batch[0]


def test_members_of_one_group_share_the_events(bus, recorder, new_tenant_id):
    tenant = new_tenant_id()
    one, two = recorder(), recorder()
    bus.subscribe(tenant_pattern(tenant), "shared", one)
    bus.subscribe(tenant_pattern(tenant), "shared", two)
    batch = make_events(tenant, 30)
    bus.publish_many(messages_for(batch))
    deadline = time.monotonic() + WAIT
    while len(set(one.ids) | set(two.ids)) < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(one.ids) | set(two.ids) == {e.id for e in batch}
    if isinstance(bus, MemoryBus):  # Kafka may redeliver around a rebalance (at-least-once)
        time.sleep(0.1)
        assert len(one.ids) + len(two.ids) == 30


def test_a_failing_handler_gets_the_event_again(bus, new_tenant_id):
    tenant = new_tenant_id()
    calls: dict[str, int] = {}
    done = threading.Event()
    batch = make_events(tenant, 3)

    def flaky(event: Event) -> None:
        calls[event.id] = calls.get(event.id, 0) + 1
        if calls[event.id] == 1:
            raise RuntimeError("transient failure")
        if all(calls.get(e.id, 0) >= 2 for e in batch):
            done.set()

    bus.subscribe(tenant_pattern(tenant), "flaky", flaky)
    bus.publish_many(messages_for(batch))
    assert done.wait(WAIT)
    assert all(calls[e.id] >= 2 for e in batch)


def test_a_poison_event_is_dead_lettered_and_the_stream_moves_on(bus, recorder, new_tenant_id, caplog):
    caplog.set_level(logging.WARNING, logger="guidepath.events")
    tenant = new_tenant_id()
    poison, good = make_events(tenant, 2)
    attempts = []
    spy = recorder()

    def handler(event: Event) -> None:
        if event.id == poison.id:
            attempts.append(1)
            raise ValueError("cannot handle this one")
        spy(event)

    bus.subscribe(tenant_pattern(tenant), "poison", handler)
    bus.publish_many(messages_for([poison, good]))
    assert spy.wait_for(1, WAIT)
    assert spy.ids == [good.id]
    assert len(attempts) == 3  # max_attempts in the test settings
    assert any("dead letter" in r.getMessage() and poison.id in r.getMessage() for r in caplog.records)


def test_malformed_and_misaddressed_messages_are_dead_lettered(bus, recorder, new_tenant_id, caplog):
    caplog.set_level(logging.ERROR, logger="guidepath.events")
    tenant, other = new_tenant_id(), new_tenant_id()
    spy = recorder()
    bus.subscribe(tenant_pattern(tenant), "strict", spy)
    intruder = Event.new(other, "session.created", {})
    good = Event.new(tenant, "session.created", {})
    topic = topic_for(tenant, "session")
    bus.publish_many([
        (topic, b"junk", b"{not an event"),
        (topic, intruder.id.encode(), intruder.to_json()),  # another tenant's event in this tenant's topic
        (topic, good.id.encode(), good.to_json()),
    ])
    assert spy.wait_for(1, WAIT)
    time.sleep(0.2)
    assert spy.ids == [good.id]
    messages = [r.getMessage() for r in caplog.records]
    assert any("malformed event" in m for m in messages)
    assert any(intruder.id in m and "claims tenant" in m for m in messages)


def test_tenant_isolation_on_the_bus(bus, recorder, new_tenant_id):
    tenant_a, tenant_b = new_tenant_id(), new_tenant_id()
    spy_a, spy_b = recorder(), recorder()
    bus.subscribe(tenant_pattern(tenant_a), "isolation-a", spy_a)
    bus.subscribe(tenant_pattern(tenant_b), "isolation-b", spy_b)
    events_a = make_events(tenant_a, 10) + make_events(tenant_a, 5, "device.updated")
    events_b = make_events(tenant_b, 4)
    bus.publish_many(messages_for(events_a))
    bus.publish_many(messages_for(events_b))
    assert spy_b.wait_for(4, WAIT) and spy_a.wait_for(15, WAIT)
    time.sleep(0.3)  # anything misrouted would have arrived by now
    assert {e.tenant_id for e in spy_b.events} == {tenant_b}
    assert sorted(spy_b.ids) == sorted(e.id for e in events_b)
    assert {e.tenant_id for e in spy_a.events} == {tenant_a}


def test_ping_and_close(bus, new_tenant_id):
    assert bus.ping() is True
    bus.publish_many([])  # nothing to do
    bus.close()
    assert bus.ping() is False
    with pytest.raises(BusUnavailable):
        bus.publish_many(messages_for(make_events(new_tenant_id(), 1)))
    bus.close()  # idempotent


# -- Kafka only -----------------------------------------------------------------------


@pytest.mark.kafka
def test_outbox_drains_to_the_tenant_topic(tansu, kafka_settings, outbox_db):
    tenant = outbox_db.tenant_id
    batch = make_events(tenant, 25, "session.state_changed")
    with outbox_db.engine.begin() as conn:
        outbox.append_many(conn, batch)
    bus = KafkaBus(tansu.bootstrap, kafka_settings)
    try:
        assert OutboxPublisher(bus).drain(outbox_db.engine, tenant, batch_size=10) == 10
        assert OutboxPublisher(bus).drain(outbox_db.engine, tenant) == 15
    finally:
        bus.close()
    records = read_topic(tansu.bootstrap, f"gp.{tenant}.session", 25)
    assert [r.key for r in records] == [e.id.encode() for e in batch]
    assert [Event.from_json(r.value) for r in records] == batch
    assert [r.value for r in records] == [e.to_json() for e in batch]
    with outbox_db.engine.connect() as conn:
        assert outbox.pending_count(conn) == 0


@pytest.mark.kafka
def test_no_event_is_lost_while_the_broker_is_down(outage_broker, kafka_settings, outbox_db):
    tenant = outbox_db.tenant_id
    bus = KafkaBus(outage_broker.bootstrap, kafka_settings)
    publisher = OutboxPublisher(bus)
    try:
        with outbox_db.engine.begin() as conn:
            outbox.append_many(conn, make_events(tenant, 5))
        assert publisher.drain(outbox_db.engine, tenant) == 5

        outage_broker.kill()  # the broker crashes
        assert bus.ping() is False
        waiting = make_events(tenant, 40)
        with outbox_db.engine.begin() as conn:  # the business keeps committing
            outbox.append_many(conn, waiting)
        started = time.monotonic()
        assert publisher.drain(outbox_db.engine, tenant) == 0
        assert time.monotonic() - started < kafka_settings.publish_timeout_ms / 1000 + 3  # bounded, not minutes
        assert publisher.drain(outbox_db.engine, tenant) == 0
        with outbox_db.engine.connect() as conn:
            still = outbox.pending(conn, 100)
        assert [p.id for p in still] == [e.id for e in waiting]
        assert {p.attempts for p in still} == {2}

        outage_broker.start()  # same port; memory storage: an empty broker
        assert publisher.drain(outbox_db.engine, tenant, batch_size=25) == 25
        assert publisher.drain(outbox_db.engine, tenant, batch_size=25) == 15
        assert publisher.drain(outbox_db.engine, tenant) == 0
        with outbox_db.engine.connect() as conn:
            assert outbox.pending_count(conn) == 0
    finally:
        bus.close()
    records = read_topic(outage_broker.bootstrap, f"gp.{tenant}.session", 40)
    received = {Event.from_json(r.value).id for r in records}
    assert received == {e.id for e in waiting}  # every one of them, exactly these


@pytest.mark.kafka
def test_publishing_to_a_dead_broker_fails_fast(outage_broker, kafka_settings, new_tenant_id):
    bus = KafkaBus(outage_broker.bootstrap, kafka_settings)
    outage_broker.kill()
    try:
        started = time.monotonic()
        with pytest.raises(BusUnavailable):
            bus.publish_many(messages_for(make_events(new_tenant_id(), 3)))
        assert time.monotonic() - started < 5
        assert bus.ping() is False
    finally:
        bus.close()


@pytest.mark.kafka
def test_topics_are_created_with_our_partition_count(tansu, kafka_settings, new_tenant_id):
    bus = KafkaBus(tansu.bootstrap, kafka_settings, partitions=3)
    tenant = new_tenant_id()
    try:
        bus.publish_many(messages_for(make_events(tenant, 6, "device.updated")))
        bus.publish_many(messages_for(make_events(tenant, 1, "device.updated")))  # exists now: no error
        # The idempotent producer really got a producer id from the broker.
        assert bus._producer is not None and bus._producer.config["enable_idempotence"] is True
        assert bus._producer._transaction_manager.producer_id_and_epoch.producer_id >= 0
    finally:
        bus.close()
    admin = KafkaAdminClient(bootstrap_servers=tansu.bootstrap)
    try:
        described = admin.describe_topics([f"gp.{tenant}.device"])
    finally:
        admin.close()
    assert len(described[0]["partitions"]) == 3  # Tansu's own auto-creation would give another count


@pytest.mark.kafka
def test_a_deleted_tenants_partitions_leave_the_producer(tansu, kafka_settings, new_tenant_id):
    """kafka-python's producer keeps a queue per partition it ever sent to and scans
    them all on every sender pass; a deleted tenant's would stay for the life of the
    process (without a leader, and asking for metadata refreshes)."""
    bus = KafkaBus(tansu.bootstrap, kafka_settings)
    try:
        gone, kept = new_tenant_id(), new_tenant_id()
        bus.publish_many(messages_for(make_events(gone, 3) + make_events(kept, 3)))
        assert bus.delete_topics(f"gp.{gone}.") == 1
        bus.publish_many(messages_for(make_events(kept, 2)))
        # kafka-python's own bookkeeping: the partitions the live producer holds queues for.
        held = {tp.topic for tp in bus._producer._accumulator._batches}
        assert held == {topic_for(kept, make_events(kept, 1)[0].stream)}, held
    finally:
        bus.close()


@pytest.mark.kafka
def test_a_producer_that_sent_to_many_topics_is_replaced(tansu, kafka_settings, new_tenant_id):
    """Each pass of kafka-python's sender thread scans every partition the producer
    ever sent to; with thousands of tenants that thread never rested (CI's profile).
    Past ``producer_max_topics`` the bus starts a fresh producer, losing nothing."""
    from dataclasses import replace

    bus = KafkaBus(tansu.bootstrap, replace(kafka_settings, producer_max_topics=3))
    try:
        tenants = [new_tenant_id() for _ in range(5)]
        events = [make_events(t, 2) for t in tenants]
        for batch in events[:3]:
            bus.publish_many(messages_for(batch))
        first = bus._producer
        assert first is not None
        bus.publish_many(messages_for(events[3]))  # the fourth topic: replaced once acknowledged
        assert bus._producer is None
        bus.publish_many(messages_for(events[4]))
        held = {tp.topic for tp in bus._producer._accumulator._batches}
        assert held == {topic_for(tenants[4], events[4][0].stream)}
        for tenant, batch in zip(tenants, events):  # every event reached its topic
            records = read_topic(tansu.bootstrap, topic_for(tenant, batch[0].stream), len(batch))
            assert [r.key for r in records] == [e.id.encode() for e in batch]
    finally:
        bus.close()


@pytest.mark.kafka
def test_a_subscription_made_while_the_broker_is_down_catches_up(outage_broker, kafka_settings, recorder,
                                                                 new_tenant_id):
    tenant = new_tenant_id()
    bus = KafkaBus(outage_broker.bootstrap, kafka_settings)
    spy = recorder()
    try:
        outage_broker.kill()
        bus.subscribe(tenant_pattern(tenant), "patient", spy)
        time.sleep(0.5)
        outage_broker.start()
        batch = make_events(tenant, 5)
        bus.publish_many(messages_for(batch))
        assert spy.wait_for(5, WAIT)
        assert sorted(spy.ids) == sorted(e.id for e in batch)
    finally:
        bus.close()


def test_kafka_settings_reject_inconsistent_timeouts():
    with pytest.raises(ValueError, match="publish_timeout_ms"):
        KafkaSettings(publish_timeout_ms=1_000, request_timeout_ms=5_000)
    with pytest.raises(ValueError, match="heartbeat"):
        KafkaSettings(session_timeout_ms=1_000, heartbeat_interval_ms=1_000)


def test_kafka_bus_does_not_connect_until_used():
    bus = KafkaBus("127.0.0.1:1")  # nothing listens there; constructing must not block or fail
    bus.close()
