"""The exceptions of the event pipeline.

They live in one module so that callers can catch a whole family (``EventError``)
without importing the module that happens to raise it, and so that a bus
implementation and the publisher agree on what "the broker cannot take this" means.
"""

from __future__ import annotations


class EventError(Exception):
    """Base class of every error raised by :mod:`guidepath.core.events`."""


class EnvelopeError(EventError, ValueError):
    """An event envelope is malformed (bad id, tenant, type, time or JSON shape).

    A ``ValueError`` too, because it is always a problem with the value handed in.
    """


class TopicError(EventError, ValueError):
    """A tenant id, stream or topic name does not follow ``gp.{tenant_id}.{stream}``."""


class EventTypeConflict(EventError):
    """Two registrations claim the same event type name."""


class UnknownEventType(EventError, LookupError):
    """An event type was looked up (or validated) that nobody registered."""


class EventValidationError(EventError, ValueError):
    """Event data does not match its type's JSON Schema.

    ``pointer`` is the JSON pointer (RFC 6901) of the offending field inside the
    event's ``data`` ("" for the whole object), so API error responses can name it.
    """

    def __init__(self, event_type: str, pointer: str, message: str) -> None:
        self.event_type = event_type
        self.pointer = pointer
        self.reason = message
        where = pointer or "/"
        super().__init__(f"{event_type}: invalid data at {where}: {message}")


class BusUnavailable(EventError):
    """The bus could not accept (or acknowledge) the messages handed to it.

    Raised by :meth:`Bus.publish_many`; the caller must assume that none of the
    messages was delivered (some may have been: delivery is at-least-once).
    """


class TenantMismatch(EventError):
    """An outbox row carries an event of another tenant than the one being drained.

    The pairing of a tenant id with a database comes from the caller; a mix-up would
    publish one tenant's events into another tenant's topic, so the publisher refuses.
    """
