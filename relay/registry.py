"""Which relays are alive and how busy they are, so the app can pick one.

Each relay re-registers every few seconds with a time to live; a relay that
stops (crash, network split) drops out when its entry expires, with no
deregistration needed. The app calls :meth:`choose` when it issues a ticket and
puts the chosen relay's id in the ticket.

Redis layout (server mode), outside the tenant key space ``gp:{tenant}:``::

    {ns}:relay:{relay_id}   JSON RelayInfo, expires after ttl seconds
    {ns}:relays             sorted set relay_id -> expiry time (unix s)

where ``{ns}`` is the deployment's namespace (:func:`namespace_for`).

Embedded mode uses :class:`InProcessRegistry` with the same methods.

.. versionadded:: 0.1
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import redis

    from guidepath.core.crypto import MasterKey

DEFAULT_TTL_SECONDS = 15.0
DEFAULT_PREFIX = "gp-relay"


def namespace_for(master_key: MasterKey) -> str:
    """The Redis prefix of one deployment's relays: ``gp-relay-{8 hex}``.

    Derived from the master key, which the app nodes and relays of a deployment
    share, so they meet without another setting, while two deployments (staging and
    production, or two test runs) on one Redis never pick each other's relays or
    read each other's reports. Reports use ``{namespace}:reports``.
    """
    return f"{DEFAULT_PREFIX}-{master_key.derive('relay-namespace', 'global', length=4).hex()}"


@dataclass(frozen=True)
class RelayInfo:
    relay_id: str
    tcp_address: str  #: "host:port" devices connect to
    ws_url: str  #: "ws://host:port/" (or wss:// behind a proxy) viewers connect to
    load: int = 0  #: open connections
    capacity: int = 10_000
    updated_at: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> RelayInfo:
        return cls(**json.loads(text))


class RelayRegistry(Protocol):
    def register(self, info: RelayInfo, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None: ...

    def unregister(self, relay_id: str) -> None: ...

    def live(self) -> list[RelayInfo]: ...

    def choose(self) -> RelayInfo | None: ...


def least_loaded(relays: list[RelayInfo]) -> RelayInfo | None:
    """The relay with the lowest load relative to capacity; ties by relay id."""
    candidates = [r for r in relays if r.load < r.capacity]
    if not candidates:
        return None
    return min(candidates, key=lambda r: (r.load / max(r.capacity, 1), r.load, r.relay_id))


class InProcessRegistry:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, RelayInfo]] = {}
        self._lock = threading.Lock()

    def register(self, info: RelayInfo, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        now = time.time()
        with self._lock:
            self._entries[info.relay_id] = (now + ttl_seconds, _stamped(info, now))

    def unregister(self, relay_id: str) -> None:
        with self._lock:
            self._entries.pop(relay_id, None)

    def live(self) -> list[RelayInfo]:
        now = time.time()
        with self._lock:
            for relay_id in [k for k, (exp, _) in self._entries.items() if exp <= now]:
                del self._entries[relay_id]
            return [info for _, info in self._entries.values()]

    def choose(self) -> RelayInfo | None:
        return least_loaded(self.live())


class RedisRegistry:
    def __init__(self, client: redis.Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self.client = client
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisRegistry:
        import redis as redis_lib

        return cls(redis_lib.Redis.from_url(url), **kwargs)

    def _key(self, relay_id: str) -> str:
        return f"{self.prefix}:relay:{relay_id}"

    @property
    def _index(self) -> str:
        return f"{self.prefix}:relays"

    def register(self, info: RelayInfo, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        now = time.time()
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self._key(info.relay_id), _stamped(info, now).to_json(), px=int(ttl_seconds * 1000))
        pipe.zadd(self._index, {info.relay_id: now + ttl_seconds})
        pipe.execute()

    def unregister(self, relay_id: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self._key(relay_id))
        pipe.zrem(self._index, relay_id)
        pipe.execute()

    def live(self) -> list[RelayInfo]:
        now = time.time()
        # Forget relays whose registration lapsed, then read the rest at once.
        self.client.zremrangebyscore(self._index, "-inf", now)
        ids = [i.decode() if isinstance(i, bytes) else i for i in self.client.zrange(self._index, 0, -1)]
        if not ids:
            return []
        values = self.client.mget([self._key(i) for i in ids])
        return [RelayInfo.from_json(v) for v in values if v is not None]

    def choose(self) -> RelayInfo | None:
        return least_loaded(self.live())


def _stamped(info: RelayInfo, now: float) -> RelayInfo:
    return RelayInfo(**{**asdict(info), "updated_at": now})
