"""An in-process bus for embedded mode and tests.

It keeps the contract of the Kafka bus that matters to callers — consumer groups,
at-least-once delivery with bounded retries, handlers in worker threads, all-or-error
publishing — without a broker. It keeps no history: a consumer group exists while it
has subscriptions, and a message published while no subscription matches is gone
(embedded mode has one process, so nobody else could have read it later).

Each group has one queue; every subscription in the group runs one worker thread
taking from it, so each message reaches one member of each group. A group's backlog
is bounded: when it is full, :meth:`MemoryBus.publish_many` raises
:class:`BusUnavailable` and the events wait in the outbox, exactly as they would
while a Kafka broker is down.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from typing import Iterable
from dataclasses import dataclass, field

from .bus import DEFAULT_MAX_ATTEMPTS, Handler, Message
from .delivery import Deliverer, decode
from .errors import BusUnavailable


@dataclass(eq=False)
class _Group:
    name: str
    pattern: re.Pattern[str]
    cond: threading.Condition = field(default_factory=threading.Condition)
    queue: deque[Message] = field(default_factory=deque)
    members: int = 0
    in_flight: int = 0

    def idle(self) -> bool:
        return not self.queue and self.in_flight == 0


class MemorySubscription:
    """One member of a group on a :class:`MemoryBus`: a worker thread."""

    def __init__(self, bus: MemoryBus, group: _Group, handler: Handler) -> None:
        self._bus = bus
        self._group = group
        self._deliverer = Deliverer(handler, group.name, bus.max_attempts)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"guidepath-bus-{group.name}", daemon=True)
        self._thread.start()

    @property
    def group(self) -> str:
        return self._group.name

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker (after the message in hand) and leave the group."""
        if self._stop.is_set():
            return
        self._stop.set()
        with self._group.cond:
            self._group.cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        self._bus._leave(self)

    def _run(self) -> None:
        group = self._group
        while True:
            with group.cond:
                while not group.queue and not self._stop.is_set():
                    group.cond.wait()
                if self._stop.is_set():
                    return
                message = group.queue.popleft()
                group.in_flight += 1
            try:
                self._deliver(message)
            finally:
                with group.cond:
                    group.in_flight -= 1
                    group.cond.notify_all()

    def _deliver(self, message: Message) -> None:
        topic, _key, value = message
        event = decode(topic, value, self._group.name)
        if event is None:
            return
        attempt = 1
        while not self._deliverer.deliver(topic, event, attempt):
            backoff = min(self._bus.retry_backoff_s * 2 ** (attempt - 1), 1.0)
            if self._stop.wait(backoff):
                # Leaving mid-retry: hand the message back so the group still gets it.
                with self._group.cond:
                    self._group.queue.appendleft(message)
                    self._group.cond.notify_all()
                return
            attempt += 1


class MemoryBus:
    """Thread-safe in-process :class:`~guidepath.core.events.bus.Bus`."""

    def __init__(
        self,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        retry_backoff_s: float = 0.05,
        max_backlog: int = 100_000,
    ) -> None:
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self.max_backlog = max_backlog
        self._lock = threading.Lock()
        self._groups: dict[str, _Group] = {}
        self._subscriptions: list[MemorySubscription] = []
        self._closed = False

    def publish_many(self, messages: list[Message]) -> None:
        """Queue every message for every group whose pattern matches, or none at all."""
        for topic, key, value in messages:
            if not isinstance(topic, str) or not isinstance(key, bytes) or not isinstance(value, bytes):
                raise TypeError("messages must be (topic: str, key: bytes, value: bytes) tuples")
        with self._lock:
            if self._closed:
                raise BusUnavailable("the in-process bus is closed")
            routes: dict[str, list[Message]] = {}
            for message in messages:
                for group in self._groups.values():
                    if group.pattern.match(message[0]):
                        routes.setdefault(group.name, []).append(message)
            for name, batch in routes.items():
                group = self._groups[name]
                if len(group.queue) + len(batch) > self.max_backlog:
                    raise BusUnavailable(
                        f"consumer group {name!r} has {len(group.queue)} messages waiting "
                        f"(limit {self.max_backlog}); try again later"
                    )
            for name, batch in routes.items():
                group = self._groups[name]
                with group.cond:
                    group.queue.extend(batch)
                    group.cond.notify_all()

    def subscribe(self, topics_pattern: str, group: str, handler: Handler) -> MemorySubscription:
        """Join ``group`` (created on first use) with a worker thread running ``handler``.

        All subscriptions of one group must use the same pattern: a group is one
        logical consumer, and mixing patterns would make "each message once per
        group" ill-defined.
        """
        if not group:
            raise ValueError("a consumer group name is required")
        with self._lock:
            if self._closed:
                raise BusUnavailable("the in-process bus is closed")
            existing = self._groups.get(group)
            if existing is None:
                existing = self._groups[group] = _Group(group, re.compile(topics_pattern))
            elif existing.pattern.pattern != topics_pattern:
                raise ValueError(
                    f"consumer group {group!r} already subscribes to {existing.pattern.pattern!r}, "
                    f"not {topics_pattern!r}"
                )
            existing.members += 1
            subscription = MemorySubscription(self, existing, handler)
            self._subscriptions.append(subscription)
            return subscription

    def _leave(self, subscription: MemorySubscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)
            group = self._groups.get(subscription.group)
            if group is None:
                return
            group.members -= 1
            if group.members <= 0:
                del self._groups[group.name]  # no retention without members

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every group has handled everything queued; False on timeout.

        For tests and for a clean shutdown of embedded mode.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            groups = list(self._groups.values())
        for group in groups:
            with group.cond:
                while not group.idle():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or group.members <= 0:
                        return group.idle()
                    group.cond.wait(remaining)
        return True

    def ensure_topics(self, topics: Iterable[str]) -> None:
        """Nothing to create: in-process topics exist when first published to."""

    def delete_topics(self, prefix: str) -> int:
        """Nothing to delete: in-process topics keep no history."""
        return 0

    def ping(self) -> bool:
        """The in-process bus is up until closed."""
        return not self._closed

    def close(self) -> None:
        """Stop every subscription; later publishing raises :class:`BusUnavailable`."""
        with self._lock:
            self._closed = True
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.close()
