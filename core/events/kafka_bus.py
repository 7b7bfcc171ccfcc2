"""The event bus on a Kafka-protocol broker (Apache Kafka, Redpanda, Tansu) via kafka-python.

Publishing is built for the outbox: a batch is sent with ``acks='all'`` and the
idempotent producer (no duplicates from the producer's own retries), then flushed,
and :meth:`KafkaBus.publish_many` returns only when the broker acknowledged every
message. Every wait is bounded by :class:`KafkaSettings`, so a dead broker costs
the publisher a few seconds, not minutes: the outbox simply keeps the events.

A producer that failed is thrown away and a fresh one made on the next call: its
in-flight state (idempotence sequence numbers, metadata, half-sent batches) cannot
be trusted after an outage — a restarted broker may not know its producer id.

Topics are created on demand with the admin client. Some brokers auto-create
topics on first produce (Tansu does), production clusters usually do not; creating
explicitly works on both and sets the partition count we want.

Subscribing runs a ``KafkaConsumer`` in a thread per subscription, subscribed by
pattern, with auto-commit off: offsets are committed only after the handler
succeeded (or gave up on a dead letter), so delivery is at-least-once.
"""

from __future__ import annotations

import logging
import random
import threading
import warnings
import zlib
from dataclasses import dataclass, replace
from typing import Any, Iterable

# kafka-python 3.0 loads its protocol schemas with importlib.resources.read_text,
# deprecated since Python 3.11: keep that warning from failing strict test runs.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
    from kafka.admin import NewTopic
    from kafka.partitioner import Partitioner
    from kafka.errors import (
        CommitFailedError,
        IllegalGenerationError,
        RebalanceInProgressError,
        UnknownMemberIdError,
    )
    from kafka.structs import OffsetAndMetadata, TopicPartition

from .bus import DEFAULT_MAX_ATTEMPTS, Handler, Message
from .delivery import Deliverer, decode
from .errors import BusUnavailable

log = logging.getLogger("guidepath.events")

_TOPIC_ALREADY_EXISTS = 36


class EventIdPartitioner(Partitioner):
    """Places a record by the CRC-32 of its key (the event id), computed in C.

    kafka-python's default partitioner runs the Java client's murmur2 in pure
    Python — a fifth of the producer's CPU time per message in our benchmark.
    Matching the Java client's placement buys nothing here: every key is a unique
    event id. Placement is still deterministic per key.
    """

    def partition(self, topic, key, serialized_key, value, serialized_value, cluster):  # noqa: ANN001, ANN201
        partitions = cluster.partitions_for_topic(topic)
        if not partitions:
            raise ValueError(f"topic {topic} not found in the cluster metadata")
        if len(partitions) == 1:
            return next(iter(partitions))
        ordered = sorted(partitions)
        if serialized_key is None:
            return random.choice(ordered)
        return ordered[zlib.crc32(serialized_key) % len(ordered)]


@dataclass(frozen=True)
class KafkaSettings:
    """Every knob of :class:`KafkaBus`, with production defaults.

    Tests against Tansu shrink the consumer timeouts: Tansu completes a group join
    only after about half the session timeout, so ``session_timeout_ms=2000`` joins
    in about a second.
    """

    client_id: str = "guidepath"

    # -- producing ---------------------------------------------------------------
    #: Idempotent producer: the broker drops duplicates caused by producer retries.
    idempotence: bool = True
    #: Bound on one publish_many: time for the broker to acknowledge the batch.
    publish_timeout_ms: int = 15_000
    #: How long send() may block waiting for metadata or buffer space.
    max_block_ms: int = 5_000
    request_timeout_ms: int = 5_000
    #: How long constructing a client may wait to reach any bootstrap server.
    bootstrap_timeout_ms: int = 5_000
    reconnect_backoff_max_ms: int = 1_000
    linger_ms: int = 5
    batch_size: int = 256 * 1024
    compression_type: str | None = None
    #: A producer that has sent to more topics than this is replaced after its
    #: batch is acknowledged. kafka-python's producer keeps a queue per partition
    #: it ever sent to and scans every one on each pass of its sender thread, so
    #: with thousands of tenants one publish cost milliseconds of CPU and the
    #: sender thread never rested. A new producer costs one connection and one
    #: metadata request, paid once per this many distinct topics.
    producer_max_topics: int = 256

    # -- topics ------------------------------------------------------------------
    #: One partition keeps a tenant stream in outbox order; more spread the load.
    partitions: int = 1
    replication_factor: int = 1

    # -- consuming ---------------------------------------------------------------
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    max_poll_interval_ms: int = 300_000
    #: How long one poll() may block: bounds close() latency. Joins that take
    #: longer span several polls (see _rescue_orphaned_join).
    poll_timeout_ms: int = 1_000
    max_poll_records: int = 500
    #: How soon a pattern subscription notices a newly created topic.
    metadata_max_age_ms: int = 30_000
    #: A group must not miss events of a topic created after it subscribed.
    auto_offset_reset: str = "earliest"
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_backoff_ms: int = 200

    def __post_init__(self) -> None:
        if self.publish_timeout_ms < self.linger_ms + self.request_timeout_ms:
            raise ValueError("publish_timeout_ms must be at least linger_ms + request_timeout_ms")
        if self.heartbeat_interval_ms >= self.session_timeout_ms:
            raise ValueError("heartbeat_interval_ms must be below session_timeout_ms")
        if self.producer_max_topics < 1:
            raise ValueError("producer_max_topics must be at least 1")

    def producer_config(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "acks": "all",
            "enable_idempotence": self.idempotence,
            "delivery_timeout_ms": self.publish_timeout_ms,
            "max_block_ms": self.max_block_ms,
            "request_timeout_ms": self.request_timeout_ms,
            "bootstrap_timeout_ms": self.bootstrap_timeout_ms,
            "reconnect_backoff_max_ms": self.reconnect_backoff_max_ms,
            "linger_ms": self.linger_ms,
            "batch_size": self.batch_size,
            "compression_type": self.compression_type,
            "partitioner": EventIdPartitioner(),
        }

    def admin_config(self) -> dict[str, Any]:
        return {
            "client_id": f"{self.client_id}-admin",
            "request_timeout_ms": self.request_timeout_ms,
            "bootstrap_timeout_ms": self.bootstrap_timeout_ms,
            "reconnect_backoff_max_ms": self.reconnect_backoff_max_ms,
        }

    def consumer_config(self, group: str) -> dict[str, Any]:
        return {
            "client_id": f"{self.client_id}-{group}",
            "group_id": group,
            "enable_auto_commit": False,
            "auto_offset_reset": self.auto_offset_reset,
            "session_timeout_ms": self.session_timeout_ms,
            "heartbeat_interval_ms": self.heartbeat_interval_ms,
            "max_poll_interval_ms": self.max_poll_interval_ms,
            "max_poll_records": self.max_poll_records,
            "metadata_max_age_ms": self.metadata_max_age_ms,
            "bootstrap_timeout_ms": self.bootstrap_timeout_ms,
            "reconnect_backoff_max_ms": self.reconnect_backoff_max_ms,
        }


class KafkaSubscription:
    """One consumer-group member: a ``KafkaConsumer`` polled by its own thread.

    The consumer is created inside the thread and re-created after errors, so a
    subscription made while the broker is down starts consuming once it is back.
    """

    def __init__(self, bus: KafkaBus, pattern: str, group: str, handler: Handler) -> None:
        self.pattern = pattern
        self.group = group
        self._bus = bus
        self._settings = bus.settings
        self._deliverer = Deliverer(handler, group, self._settings.max_attempts)
        self._attempts: dict[tuple[str, int, int], int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"guidepath-kafka-{group}", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def close(self, timeout: float | None = None) -> None:
        """Stop after the message in hand, commit what was handled and leave the group."""
        self._stop.set()
        if threading.current_thread() is not self._thread:
            limit = timeout if timeout is not None else self._settings.poll_timeout_ms / 1000 + 10
            self._thread.join(limit)
        self._bus._forget(self)

    # -- the worker thread -------------------------------------------------------

    def _run(self) -> None:
        consumer: KafkaConsumer | None = None
        backoff = 0.2
        try:
            while not self._stop.is_set():
                if consumer is None:
                    try:
                        consumer = KafkaConsumer(
                            bootstrap_servers=self._bus.bootstrap, **self._settings.consumer_config(self.group)
                        )
                        consumer.subscribe(pattern=self.pattern)
                        backoff = 0.2
                    except Exception as exc:  # noqa: BLE001 - keep trying until closed
                        log.warning("cannot start consumer for group %s (%s); retrying in %.1fs",
                                    self.group, exc, backoff)
                        self._stop.wait(backoff)
                        backoff = min(backoff * 2, 5.0)
                        continue
                try:
                    self._poll_once(consumer)
                except Exception as exc:  # noqa: BLE001 - reconnect instead of dying
                    log.warning("consumer for group %s failed (%s); reconnecting", self.group, exc)
                    _close_quietly(consumer)
                    consumer = None
                    self._stop.wait(backoff)
        finally:
            if consumer is not None:
                _close_quietly(consumer)

    def _poll_once(self, consumer: KafkaConsumer) -> None:
        batch = consumer.poll(timeout_ms=self._settings.poll_timeout_ms,
                              max_records=self._settings.max_poll_records)
        _rescue_orphaned_join(consumer)
        handled: dict[TopicPartition, OffsetAndMetadata] = {}
        for partition, records in batch.items():
            for record in records:
                if self._stop.is_set():
                    break
                attempt = self._attempt_number(record)
                if not self._handle(record, attempt):
                    consumer.seek(partition, record.offset)  # the same record comes again
                    self._stop.wait(self._retry_delay(attempt))
                    break
                handled[partition] = OffsetAndMetadata(record.offset + 1, "", -1)
        if handled:
            try:
                consumer.commit(handled)
            except (CommitFailedError, RebalanceInProgressError, IllegalGenerationError,
                    UnknownMemberIdError) as exc:
                # The group rebalanced under us: these records will be delivered again,
                # and the next poll() finishes the rebalance. (kafka-python 3 raises
                # RebalanceInProgressError, not a CommitFailedError, for a commit that
                # lands mid-rebalance; letting it escape rebuilt the whole consumer
                # and forced yet another rebalance.)
                log.warning("commit failed for group %s (%s); records will be redelivered", self.group, exc)

    def _attempt_number(self, record: Any) -> int:
        if len(self._attempts) > 10_000:  # entries of partitions we lost in a rebalance
            self._attempts.clear()
        return self._attempts.get((record.topic, record.partition, record.offset), 0) + 1

    def _handle(self, record: Any, attempt: int) -> bool:
        key = (record.topic, record.partition, record.offset)
        event = decode(record.topic, record.value, self.group)
        if event is None or self._deliverer.deliver(record.topic, event, attempt):
            self._attempts.pop(key, None)
            return True
        self._attempts[key] = attempt
        return False

    def _retry_delay(self, attempt: int) -> float:
        ceiling = min(5.0, self._settings.max_poll_interval_ms / 4000)
        return min(self._settings.retry_backoff_ms / 1000 * 2 ** (attempt - 1), ceiling)


def _rescue_orphaned_join(consumer: KafkaConsumer) -> None:
    """Work around a kafka-python 3.0 bug that leaves a pattern consumer with no partitions.

    When a new topic matches the pattern, the consumer rejoins its group. If that
    join outlasts one poll() (Tansu answers JoinGroup after about half the session
    timeout, Apache Kafka delays a group's first join by 3 s), the next poll() no
    longer sees a reason to rejoin — the subscription was recorded when JoinGroup
    was sent, and the coordinator's own rejoin flag was never raised — so nobody
    awaits the in-flight join again, its assignment is dropped, and the member
    consumes nothing, forever. Raising the flag while a join is pending makes the
    next poll() pick the join up again (or redo it). Private attributes, hence
    the defensive lookups: on a client without them this does nothing.
    """
    coordinator = getattr(consumer, "_coordinator", None)
    if coordinator is None:
        return
    if getattr(coordinator, "_join_task", None) is not None and not getattr(coordinator, "rejoin_needed", True):
        coordinator.request_rejoin()


def _close_quietly(client: Any, **kwargs: Any) -> None:
    try:
        client.close(**kwargs)
    except Exception as exc:  # noqa: BLE001 - closing is best effort
        log.debug("error closing %s: %s", type(client).__name__, exc)


class KafkaBus:
    """:class:`~guidepath.core.events.bus.Bus` on a Kafka-protocol broker.

    Constructing it does not connect: clients are made on first use, so the kernel
    starts even while the broker is down (events wait in the outboxes).
    """

    def __init__(self, bootstrap: str, settings: KafkaSettings | None = None, **overrides: Any) -> None:
        self.bootstrap = bootstrap
        self.settings = replace(settings or KafkaSettings(), **overrides)
        self._publish_lock = threading.Lock()
        self._admin_lock = threading.Lock()
        self._subs_lock = threading.Lock()
        self._producer: KafkaProducer | None = None
        self._admin: KafkaAdminClient | None = None
        self._known_topics: set[str] = set()
        #: Topics the current producer has sent to (it keeps a queue per partition).
        self._produced_topics: set[str] = set()
        self._subscriptions: list[KafkaSubscription] = []
        self._closed = False

    # -- publishing --------------------------------------------------------------

    def publish_many(self, messages: list[Message]) -> None:
        """Send all messages and wait until the broker acknowledged every one.

        Raises :class:`BusUnavailable` on any failure or timeout (then the producer is
        replaced, and the caller retries the whole batch later).
        """
        if not messages:
            return
        with self._publish_lock:
            if self._closed:
                raise BusUnavailable("the Kafka bus is closed")
            try:
                producer = self._get_producer()
                self._ensure_topics({topic for topic, _key, _value in messages})
                self._produced_topics.update(topic for topic, _key, _value in messages)
                futures = [producer.send(topic, value=value, key=key) for topic, key, value in messages]
                producer.flush(timeout=self.settings.publish_timeout_ms / 1000)
                for future in futures:
                    if not future.is_done:
                        raise BusUnavailable("the broker did not acknowledge every message in time")
                    if future.failed():
                        raise BusUnavailable(f"the broker refused a message: {future.exception}")
                if len(self._produced_topics) > self.settings.producer_max_topics:
                    self._producer, self._produced_topics = None, set()
                    _close_quietly(producer, timeout=0)  # everything it sent is acknowledged
            except BusUnavailable:
                self._discard_clients()
                raise
            except Exception as exc:  # KafkaError, OSError, AssertionError deep in the client...
                self._discard_clients()
                raise BusUnavailable(f"cannot publish to Kafka at {self.bootstrap}: {exc}") from exc

    def _get_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(bootstrap_servers=self.bootstrap, **self.settings.producer_config())
        return self._producer

    def ensure_topics(self, topics: Iterable[str]) -> None:
        """Create missing topics (raises :class:`BusUnavailable` if the broker is down)."""
        try:
            self._ensure_topics(set(topics))
        except BusUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - any client failure means "unavailable"
            raise BusUnavailable(f"cannot create topics on Kafka at {self.bootstrap}: {exc}") from exc

    def delete_topics(self, prefix: str) -> int:
        """Delete every topic whose name starts with ``prefix`` (a deleted tenant's
        ``gp.{tenant_id}.``). Returns how many; raises :class:`BusUnavailable`."""
        try:
            with self._admin_lock:
                admin = self._get_admin()
                doomed = sorted(t for t in admin.list_topics() if t.startswith(prefix))
                if doomed:
                    admin.delete_topics(doomed, timeout_ms=self.settings.request_timeout_ms)
        except Exception as exc:  # noqa: BLE001 - any client failure means "unavailable"
            raise BusUnavailable(f"cannot delete topics on Kafka at {self.bootstrap}: {exc}") from exc
        self._known_topics -= set(doomed)
        self._retire_producer_of(set(doomed))
        return len(doomed)

    def _retire_producer_of(self, topics: set[str]) -> None:
        """Close the producer if it ever sent to one of *topics* (just deleted).

        kafka-python's producer keeps a queue per partition it has sent to, for
        good, and scans them all on each pass of its sender thread; a partition
        of a deleted topic has no leader any more, and finding one makes the
        sender ask for a metadata refresh (of every topic it knows) each time it
        sends. A deleted tenant's queues would be dead weight for the life of the
        process. The next publish makes a new producer.
        """
        with self._publish_lock:  # never while a batch is in flight
            if not topics & self._produced_topics:
                return
            producer, self._producer = self._producer, None
            self._produced_topics = set()
        if producer is not None:
            _close_quietly(producer, timeout=0)

    def _ensure_topics(self, topics: set[str]) -> None:
        missing = topics - self._known_topics
        if not missing:
            return
        new_topics = [NewTopic(t, self.settings.partitions, self.settings.replication_factor) for t in sorted(missing)]
        with self._admin_lock:
            admin = self._get_admin()
            response = admin.create_topics(new_topics, timeout_ms=self.settings.request_timeout_ms, raise_errors=False)
        for result in _topic_results(response):
            name, code = result.get("name"), result.get("error_code", 0)
            if code not in (0, _TOPIC_ALREADY_EXISTS):
                raise BusUnavailable(f"cannot create topic {name}: error {code} {result.get('error_message') or ''}")
        self._known_topics |= missing

    def _get_admin(self) -> KafkaAdminClient:
        if self._admin is None:
            self._admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, **self.settings.admin_config())
        return self._admin

    def _discard_clients(self) -> None:
        """Forget producer, admin client and topic cache after a failure (see module doc)."""
        producer, self._producer = self._producer, None
        self._produced_topics = set()
        if producer is not None:
            _close_quietly(producer, timeout=0)
        with self._admin_lock:
            admin, self._admin = self._admin, None
        if admin is not None:
            _close_quietly(admin)
        self._known_topics = set()

    # -- consuming ---------------------------------------------------------------

    def subscribe(self, topics_pattern: str, group: str, handler: Handler) -> KafkaSubscription:
        """Start a consumer-group member on topics matching ``topics_pattern`` (``re.match``)."""
        if not group:
            raise ValueError("a consumer group name is required")
        with self._subs_lock:
            if self._closed:
                raise BusUnavailable("the Kafka bus is closed")
            subscription = KafkaSubscription(self, topics_pattern, group, handler)
            self._subscriptions.append(subscription)
        return subscription

    def _forget(self, subscription: KafkaSubscription) -> None:
        with self._subs_lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    # -- lifecycle ---------------------------------------------------------------

    def ping(self) -> bool:
        """True if the broker answers a metadata request within the request timeout."""
        if self._closed:
            return False
        with self._admin_lock:
            try:
                self._get_admin().list_topics()
                return True
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
                log.debug("Kafka ping failed: %s", exc)
                admin, self._admin = self._admin, None
                if admin is not None:
                    _close_quietly(admin)
                return False

    def close(self) -> None:
        """Stop every subscription, flush nothing more, release the clients. Idempotent."""
        with self._subs_lock:
            self._closed = True
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.close()
        with self._publish_lock:
            producer, self._producer = self._producer, None
            if producer is not None:
                _close_quietly(producer, timeout=self.settings.request_timeout_ms / 1000)
            with self._admin_lock:
                admin, self._admin = self._admin, None
            if admin is not None:
                _close_quietly(admin)


def _topic_results(response: Any) -> list[dict[str, Any]]:
    """The per-topic results of a CreateTopics call, whatever shape the client returns."""
    if isinstance(response, dict):
        return list(response.get("topics", []))
    topics = getattr(response, "topics", None) or []
    return [t if isinstance(t, dict) else {"name": getattr(t, "name", None),
                                           "error_code": getattr(t, "error_code", 0),
                                           "error_message": getattr(t, "error_message", None)} for t in topics]
