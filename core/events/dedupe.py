"""De-duplicating deliveries by event id.

Delivery is at-least-once: the outbox republishes a batch whose acknowledgement was
lost, and a consumer that crashed before committing sees records again. A subscriber
whose effect is not naturally idempotent (sending an e-mail, incrementing a counter)
wraps its handler with :func:`deduplicated`, which remembers recently handled ids in
a bounded LRU. Bounded, because duplicates arrive close together (one batch, one
rebalance); an unbounded set would grow forever.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from typing import Callable

from .envelope import Event

DEFAULT_CAPACITY = 10_000


class SeenIds:
    """A thread-safe, bounded, least-recently-used set of event ids."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, event_id: object) -> bool:
        with self._lock:
            if event_id in self._ids:
                self._ids.move_to_end(event_id)  # type: ignore[arg-type]
                return True
            return False

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, event_id: str) -> None:
        """Remember ``event_id``, forgetting the least recently seen id if full."""
        with self._lock:
            self._ids[event_id] = None
            self._ids.move_to_end(event_id)
            while len(self._ids) > self.capacity:
                self._ids.popitem(last=False)

    def first_time(self, event_id: str) -> bool:
        """Remember ``event_id``; True if it was not remembered before (atomic)."""
        with self._lock:
            if event_id in self._ids:
                self._ids.move_to_end(event_id)
                return False
            self._ids[event_id] = None
            while len(self._ids) > self.capacity:
                self._ids.popitem(last=False)
            return True


def deduplicated(
    handler: Callable[[Event], None],
    capacity: int = DEFAULT_CAPACITY,
    seen: SeenIds | None = None,
) -> Callable[[Event], None]:
    """Wrap ``handler`` so that an event id it already handled is skipped.

    An id is remembered only after the handler returned: if it raised, the bus
    delivers the event again and that retry must run, not be skipped as a duplicate.
    """
    memory = seen if seen is not None else SeenIds(capacity)

    @functools.wraps(handler)
    def handle(event: Event) -> None:
        if event.id in memory:
            return
        handler(event)
        memory.add(event.id)

    handle.seen = memory  # type: ignore[attr-defined]
    return handle
