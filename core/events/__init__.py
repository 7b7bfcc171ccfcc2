"""Events: the envelope, the type registry, the transactional outbox and the bus.

A change that others must hear about appends an :class:`Event` to the tenant's
outbox inside its own transaction (:func:`outbox.append`); an
:class:`OutboxPublisher` later moves committed events to the bus — in-process
(:class:`MemoryBus`, embedded mode) or Kafka (:class:`KafkaBus`) — on topics
``gp.{tenant_id}.{stream}``, so no event is lost while the broker is down and no
event escapes a rolled-back change. Delivery is at-least-once; subscribers
de-duplicate by event id (:func:`deduplicated`).

This package imports nothing of guidepath except ``guidepath.core.db.metadata``
and never imports Flask. :class:`KafkaBus` is loaded lazily, so embedded mode never
imports kafka-python.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import outbox
from .bus import Bus, Handler, Message, Subscription
from .dedupe import SeenIds, deduplicated
from .envelope import Event
from .errors import (
    BusUnavailable,
    EnvelopeError,
    EventError,
    EventTypeConflict,
    EventValidationError,
    TenantMismatch,
    TopicError,
    UnknownEventType,
)
from .memory_bus import MemoryBus
from .outbox import event_outbox
from .publisher import DrainResult, OutboxPublisher, PublisherLoop
from .registry import KERNEL_EVENT_TYPES, EventType, EventTypeRegistry
from .topics import ALL_TENANTS_PATTERN, TopicName, parse_topic, tenant_pattern, topic_for

if TYPE_CHECKING:  # pragma: no cover
    from .kafka_bus import KafkaBus, KafkaSettings

__all__ = [
    "ALL_TENANTS_PATTERN",
    "Bus",
    "BusUnavailable",
    "DrainResult",
    "EnvelopeError",
    "Event",
    "EventError",
    "EventType",
    "EventTypeConflict",
    "EventTypeRegistry",
    "EventValidationError",
    "Handler",
    "KERNEL_EVENT_TYPES",
    "KafkaBus",
    "KafkaSettings",
    "MemoryBus",
    "Message",
    "OutboxPublisher",
    "PublisherLoop",
    "SeenIds",
    "Subscription",
    "TenantMismatch",
    "TopicError",
    "TopicName",
    "UnknownEventType",
    "deduplicated",
    "event_outbox",
    "outbox",
    "parse_topic",
    "tenant_pattern",
    "topic_for",
]

_LAZY = {"KafkaBus", "KafkaSettings"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import kafka_bus

        return getattr(kafka_bus, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
