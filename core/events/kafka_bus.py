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
import threading
from dataclasses import replace
from typing import Any, Iterable

from .bus import Handler, Message
from .errors import BusUnavailable
from .kafka_client import KafkaAdminClient, KafkaProducer, NewTopic, close_quietly
from .kafka_settings import EventIdPartitioner, KafkaSettings
from .kafka_subscription import KafkaSubscription

__all__ = ["EventIdPartitioner", "KafkaBus", "KafkaSettings", "KafkaSubscription"]

log = logging.getLogger("guidepath.events")

_TOPIC_ALREADY_EXISTS = 36


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
                    close_quietly(producer, timeout=0)  # everything it sent is acknowledged
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
            close_quietly(producer, timeout=0)

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
            close_quietly(producer, timeout=0)
        with self._admin_lock:
            admin, self._admin = self._admin, None
        if admin is not None:
            close_quietly(admin)
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
                    close_quietly(admin)
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
                close_quietly(producer, timeout=self.settings.request_timeout_ms / 1000)
            with self._admin_lock:
                admin, self._admin = self._admin, None
            if admin is not None:
                close_quietly(admin)


def _topic_results(response: Any) -> list[dict[str, Any]]:
    """The per-topic results of a CreateTopics call, whatever shape the client returns."""
    if isinstance(response, dict):
        return list(response.get("topics", []))
    topics = getattr(response, "topics", None) or []
    return [t if isinstance(t, dict) else {"name": getattr(t, "name", None),
                                           "error_code": getattr(t, "error_code", 0),
                                           "error_message": getattr(t, "error_message", None)} for t in topics]
