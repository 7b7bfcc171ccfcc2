"""Handing one message to a subscriber: decode, check, call, retry or dead-letter.

Both bus implementations deliver the same way, so the rules live here once:

* a value that is not a valid envelope is dead-lettered at once (retrying cannot
  fix it);
* an event whose ``tenant_id`` differs from the tenant in its topic name is
  dead-lettered too: consumers route by ``tenant_id``, so trusting it would let a
  confused producer push events into another tenant's plugins;
* a handler that raises is retried, up to ``max_attempts`` times in all, then the
  event is logged as a dead letter and skipped so it cannot block the stream.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .bus import DEFAULT_MAX_ATTEMPTS, Handler
from .envelope import Event
from .errors import EnvelopeError, TopicError
from .topics import parse_topic

log = logging.getLogger("guidepath.events")


def decode(topic: str, value: bytes, group: str) -> Event | None:
    """The event in ``value``, or ``None`` (logged as a dead letter) if unusable."""
    try:
        event = Event.from_json(value)
    except EnvelopeError as exc:
        log.error("dead letter: malformed event on %s for group %s: %s", topic, group, exc,
                  extra={"topic": topic, "group": group})
        return None
    try:
        topic_tenant = parse_topic(topic).tenant_id
    except TopicError:
        return event  # not a tenant topic: nothing to cross-check
    if topic_tenant != event.tenant_id:
        log.error("dead letter: event %s claims tenant %s but came on %s (group %s)",
                  event.id, event.tenant_id, topic, group,
                  extra={"topic": topic, "group": group, "event_id": event.id})
        return None
    return event


@dataclass(frozen=True)
class Deliverer:
    """Calls one subscription's handler and decides what happens after a failure."""

    handler: Handler
    group: str
    max_attempts: int = DEFAULT_MAX_ATTEMPTS

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def deliver(self, topic: str, event: Event, attempt: int) -> bool:
        """Run the handler (``attempt`` counts from 1); True when the message is done.

        Done means handled, or given up on as a dead letter; False means "deliver
        it again".
        """
        try:
            self.handler(event)
        except Exception:  # noqa: BLE001 - a subscriber's bug must not kill the consumer
            context = {"topic": topic, "group": self.group, "event_id": event.id, "attempt": attempt}
            if attempt >= self.max_attempts:
                log.exception("dead letter: handler of group %s failed %d times on event %s (%s); skipping it",
                              self.group, attempt, event.id, event.type, extra=context)
                return True
            log.warning("handler of group %s failed on event %s (attempt %d of %d); will retry",
                        self.group, event.id, attempt, self.max_attempts, exc_info=True, extra=context)
            return False
        return True
