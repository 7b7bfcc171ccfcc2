"""The event bus contract shared by the in-process and the Kafka implementation.

The kernel, the outbox publisher and the plugins see only this protocol, so the
same code runs embedded (:class:`~guidepath.core.events.memory_bus.MemoryBus`) and
in production (:class:`~guidepath.core.events.kafka_bus.KafkaBus`), and the same
contract tests run against both.
"""

from __future__ import annotations

from typing import Callable, Iterable, Protocol, runtime_checkable

from .envelope import Event

#: One message: ``(topic, key, value)``. The key is the event id, the value its JSON.
Message = tuple[str, bytes, bytes]

#: A subscriber's callback. Raising means "not handled": the message comes again.
Handler = Callable[[Event], None]

#: How many times a handler is tried with one message before it is dead-lettered.
DEFAULT_MAX_ATTEMPTS = 5


@runtime_checkable
class Subscription(Protocol):
    """A running subscription; :meth:`close` stops it and leaves the group."""

    def close(self) -> None: ...


@runtime_checkable
class Bus(Protocol):
    """Publish batches of messages; consume topics by pattern in consumer groups."""

    def publish_many(self, messages: list[Message]) -> None:
        """Hand every message to the bus, returning only once all are acknowledged.

        Raises :class:`~guidepath.core.events.errors.BusUnavailable` if the bus
        cannot take or confirm them all within its timeouts. Then the caller must
        treat the whole batch as unsent and retry it later (some messages may have
        gone through: delivery is at-least-once, never at-most-once).
        """
        ...

    def subscribe(self, topics_pattern: str, group: str, handler: Handler) -> Subscription:
        """Call ``handler`` for each event on topics matching ``topics_pattern``.

        Each consumer ``group`` receives each message once (shared among the
        group's subscriptions); different groups each receive every message. The
        handler runs in a worker thread. Delivery is at-least-once: a handler that
        raises gets the same event again, a bounded number of times, after which
        the event is logged as a dead letter and skipped.
        """
        ...

    def ensure_topics(self, topics: Iterable[str]) -> None:
        """Create these topics now if the bus has topics (idempotent).

        Called when a tenant is created so that pattern subscribers discover the
        tenant's topics at their next metadata refresh, before its first event.
        """
        ...

    def delete_topics(self, prefix: str) -> int:
        """Delete the topics whose names start with ``prefix`` (a deleted tenant's
        ``gp.{tenant_id}.``): its events go with it, and consumers subscribed by
        pattern stop carrying partitions of tenants that no longer exist."""
        ...

    def ping(self) -> bool:
        """True if the bus is reachable right now (for readiness checks)."""
        ...

    def close(self) -> None:
        """Stop every subscription and release connections. Idempotent."""
        ...
