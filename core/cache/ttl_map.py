"""A small in-process map whose entries expire: for answers worth a moment's reuse.

The kernel keeps a few such answers per process so the hot path of a request does
not pay a database round trip for something that rarely changes: which tenant a
host belongs to, a tenant's plugin states, the principal behind an API key. Each
use states how stale an answer may be (``ttl``) and forgets entries at once when
this process makes the change itself; other processes see the change within
``ttl``.

It is bounded (least recently used entries go first), thread-safe, and never
shared between kernels (each kernel owns its maps: tests and several apps in one
process never see each other's entries)::

    hosts = TtlMap(ttl=5.0, max_entries=10_000)
    tenant = hosts.get_or_load(host, lambda: directory_lookup(host))
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING = object()


class TtlMap(Generic[K, V]):
    """Entries live ``ttl`` seconds; at most ``max_entries`` are kept."""

    def __init__(self, *, ttl: float, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if ttl < 0:
            raise ValueError(f"ttl must be >= 0, not {ttl}")
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, not {max_entries}")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K, default: V | None = None) -> V | None:
        """The live value for ``key``, or ``default``."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return default
            if entry[0] <= now:
                del self._entries[key]
                return default
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: K, value: V) -> None:
        if self.ttl == 0:  # caching switched off
            return
        expires = self._clock() + self.ttl
        with self._lock:
            self._entries[key] = (expires, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def get_or_load(self, key: K, load: Callable[[], V]) -> V:
        """The live value for ``key``, else ``load()``'s, remembered.

        ``load`` runs outside the lock: two threads missing at once both load (a
        harmless duplicate read) rather than one waiting on the other's IO.
        """
        value = self.get(key, _MISSING)  # type: ignore[arg-type]
        if value is not _MISSING:
            return value  # type: ignore[return-value]
        value = load()
        self.put(key, value)
        return value

    def discard(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def discard_where(self, predicate: Callable[[K], bool]) -> None:
        """Forget every entry whose key matches, e.g. all of one tenant's."""
        with self._lock:
            for key in [k for k in self._entries if predicate(k)]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
