"""Storage backends for the cache: raw keys in, bytes out.

A backend knows nothing about tenants; :class:`~guidepath.core.cache.TenantCache`
builds every key before it reaches one. Two implementations behave the same so that
the same tests run against both: :class:`MemoryBackend` for embedded mode and
:class:`RedisBackend` for servers.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

import redis

logger = logging.getLogger(__name__)

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_INTEGER = re.compile(rb"-?(0|[1-9][0-9]*)")
_DELETE_BATCH = 500


@runtime_checkable
class CacheBackend(Protocol):
    """What :class:`~guidepath.core.cache.TenantCache` needs from a store.

    Keys are full, raw key names (``gp:{tenant}:…``); values are bytes. ``ttl`` is
    in seconds, ``None`` meaning "no expiry". Implementations must be safe to share
    between threads.
    """

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None: ...

    def delete(self, key: str) -> bool: ...

    def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int: ...

    def expire(self, key: str, ttl: float) -> bool: ...

    def exists(self, key: str) -> bool: ...

    def scan_prefix(self, prefix: str) -> Iterator[str]: ...

    def delete_prefix(self, prefix: str) -> int: ...

    def ping(self) -> bool: ...

    def close(self) -> None: ...


def check_ttl(ttl: object) -> float:
    """Return ``ttl`` as positive, finite seconds, or raise.

    A zero or negative TTL would mean "delete now" in Redis but "keep" in some other
    caches; refusing it keeps both backends identical and surfaces arithmetic bugs.
    """
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)):
        raise TypeError(f"ttl must be a number of seconds, not {type(ttl).__name__}")
    if not math.isfinite(ttl) or ttl <= 0:
        raise ValueError(f"ttl must be a positive, finite number of seconds, not {ttl!r}")
    return float(ttl)


def _ttl_ms(ttl: float) -> int:
    """Seconds to whole milliseconds, never rounding a positive TTL down to zero."""
    return max(1, math.ceil(check_ttl(ttl) * 1000))


def _check_value(value: object) -> bytes:
    if not isinstance(value, bytes):
        raise TypeError(f"cache values must be bytes, not {type(value).__name__}")
    return value


def _check_amount(amount: object) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"incr amount must be an int, not {type(amount).__name__}")
    if not _INT64_MIN <= amount <= _INT64_MAX:
        raise ValueError("incr amount does not fit in a signed 64-bit integer")
    return amount


def _encode_key(key: str) -> bytes:
    # surrogateescape makes keys read back from Redis (possibly not UTF-8) round-trip.
    return key.encode("utf-8", "surrogateescape")


def _decode_key(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


# --------------------------------------------------------------------------- memory


@dataclass(slots=True)
class _Entry:
    value: bytes
    expires_at: float | None  # time.monotonic() deadline

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at


class MemoryBackend:
    """An in-process cache for embedded mode (one process, no server).

    Bounded: beyond ``max_items`` the least recently used key is evicted, as Redis
    does with ``maxmemory-policy allkeys-lru``, so a runaway caller cannot exhaust
    the process's memory. Expired keys are dropped when touched and before anything
    live is evicted.
    """

    def __init__(self, max_items: int = 100_000) -> None:
        if isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 1:
            raise ValueError(f"max_items must be a positive int, not {max_items!r}")
        self.max_items = max_items
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<MemoryBackend {len(self._entries)}/{self.max_items} keys>"

    def _live(self, key: str, now: float) -> _Entry | None:
        """The entry for ``key`` if it exists and has not expired (lock held)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expired(now):
            del self._entries[key]
            return None
        return entry

    def _store(self, key: str, entry: _Entry, now: float) -> None:
        """Insert or replace ``key`` as most recently used, then enforce the bound."""
        self._entries[key] = entry
        self._entries.move_to_end(key)
        if len(self._entries) <= self.max_items:
            return
        for old_key in [k for k, e in self._entries.items() if e.expired(now)]:
            del self._entries[old_key]
        while len(self._entries) > self.max_items:
            self._entries.popitem(last=False)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._live(key, time.monotonic())
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry.value

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        value = _check_value(value)
        now = time.monotonic()
        expires_at = None if ttl is None else now + check_ttl(ttl)
        with self._lock:
            self._store(key, _Entry(value, expires_at), now)

    def delete(self, key: str) -> bool:
        with self._lock:
            found = self._live(key, time.monotonic()) is not None
            self._entries.pop(key, None)
            return found

    def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        amount = _check_amount(amount)
        if ttl is not None:
            ttl = check_ttl(ttl)
        now = time.monotonic()
        with self._lock:
            entry = self._live(key, now)
            if entry is None:
                expires_at = None if ttl is None else now + ttl
                current = 0
            else:
                expires_at = entry.expires_at
                if not _INTEGER.fullmatch(entry.value):
                    raise ValueError(f"the value at {key!r} is not an integer")
                current = int(entry.value)
            result = current + amount
            if not _INT64_MIN <= result <= _INT64_MAX:
                raise ValueError(f"incrementing {key!r} would overflow a signed 64-bit integer")
            self._store(key, _Entry(str(result).encode("ascii"), expires_at), now)
            return result

    def expire(self, key: str, ttl: float) -> bool:
        ttl = check_ttl(ttl)
        now = time.monotonic()
        with self._lock:
            entry = self._live(key, now)
            if entry is None:
                return False
            entry.expires_at = now + ttl
            return True

    def exists(self, key: str) -> bool:
        with self._lock:
            return self._live(key, time.monotonic()) is not None

    def scan_prefix(self, prefix: str) -> Iterator[str]:
        # A snapshot, so callers may delete while iterating, as they can with SCAN.
        now = time.monotonic()
        with self._lock:
            keys = [k for k, e in self._entries.items() if k.startswith(prefix) and not e.expired(now)]
        return iter(keys)

    def delete_prefix(self, prefix: str) -> int:
        now = time.monotonic()
        with self._lock:
            doomed = [k for k in self._entries if k.startswith(prefix)]
            live = sum(1 for k in doomed if not self._entries[k].expired(now))
            for key in doomed:
                del self._entries[key]
            return live

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        with self._lock:
            self._entries.clear()


# --------------------------------------------------------------------------- redis


def strip_credentials(url: str) -> str:
    """``url`` without its ``user:password@`` part.

    redis-py lets credentials in the URL override the ``username``/``password``
    keyword arguments, so a client meant to log in as a tenant's ACL user would
    silently log in as whoever the URL names (usually an administrator).
    """
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=netloc))


def client_from_url(
    url: str,
    *,
    username: str | None = None,
    password: str | None = None,
    max_connections: int = 32,
    socket_timeout: float = 5.0,
) -> redis.Redis:
    """A ``redis.Redis`` for ``url`` with bounded connections and timeouts.

    Explicit ``username``/``password`` win over credentials in the URL. The pool is
    a blocking one: beyond ``max_connections`` callers wait (up to ``socket_timeout``)
    instead of opening unbounded connections, and the client owns the pool, so
    ``close()`` releases its sockets.
    """
    if username is not None or password is not None:
        url = strip_credentials(url)
    options: dict[str, object] = {
        "max_connections": max_connections,
        "timeout": socket_timeout,
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": socket_timeout,
        "health_check_interval": 30,
    }
    if username is not None:
        options["username"] = username
    if password is not None:
        options["password"] = password
    pool = redis.BlockingConnectionPool.from_url(url, **options)
    return redis.Redis.from_pool(pool)


def glob_escape(text: str) -> str:
    """Escape Redis glob metacharacters so ``text`` only matches itself."""
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


class RedisBackend:
    """The cache on a Redis server (standalone or a replicated primary).

    ``scan_client``: a tenant's ACL user is refused ``SCAN`` (it would list every
    tenant's key names), so when a backend talks as such a user, key enumeration
    for :meth:`scan_prefix`/:meth:`delete_prefix` goes through this separate client
    instead, limited to prefixes under ``scan_scope``. The keys found are still
    deleted through ``client``, so Redis itself checks every deletion against the
    tenant's key pattern.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        scan_client: redis.Redis | None = None,
        scan_scope: str = "",
    ) -> None:
        if client.get_connection_kwargs().get("decode_responses"):
            raise ValueError("RedisBackend needs a client with decode_responses=False: values are bytes")
        if scan_client is not None and not scan_scope:
            raise ValueError("a separate scan_client must be limited to a non-empty scan_scope")
        self.client = client
        self._scan_client = scan_client or client
        self._scan_scope = scan_scope

    @classmethod
    def from_url(cls, url: str, username: str | None = None, password: str | None = None) -> RedisBackend:
        """Connect to ``url``; explicit credentials override any in the URL."""
        return cls(client_from_url(url, username=username, password=password))

    def __repr__(self) -> str:
        kwargs = self.client.get_connection_kwargs()
        where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        return f"<RedisBackend {where} db={kwargs.get('db', 0)} user={kwargs.get('username')}>"

    def get(self, key: str) -> bytes | None:
        return self.client.get(_encode_key(key))

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        value = _check_value(value)
        px = None if ttl is None else _ttl_ms(ttl)
        self.client.set(_encode_key(key), value, px=px)

    def delete(self, key: str) -> bool:
        return bool(self.client.delete(_encode_key(key)))

    def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add ``amount``; ``ttl`` applies only when this call creates the key.

        ``SET NX PX`` then ``INCRBY`` in one transaction: a counter gets its expiry
        atomically with its creation (a crash in between cannot leave an immortal
        counter), and later increments do not extend it (fixed windows for rate
        limits).
        """
        amount = _check_amount(amount)
        raw = _encode_key(key)
        try:
            if ttl is None:
                return int(self.client.incrby(raw, amount))
            with self.client.pipeline(transaction=True) as pipe:
                pipe.set(raw, b"0", px=_ttl_ms(ttl), nx=True)
                pipe.incrby(raw, amount)
                return int(pipe.execute()[1])
        except redis.ResponseError as exc:
            message = str(exc)
            if "not an integer" in message or "overflow" in message:
                raise ValueError(f"cannot increment {key!r}: {message}") from exc
            raise

    def expire(self, key: str, ttl: float) -> bool:
        return bool(self.client.pexpire(_encode_key(key), _ttl_ms(ttl)))

    def exists(self, key: str) -> bool:
        return bool(self.client.exists(_encode_key(key)))

    def _scan_raw(self, prefix: str) -> Iterator[bytes]:
        if not prefix.startswith(self._scan_scope):
            raise ValueError(f"prefix {prefix!r} is outside this backend's scope {self._scan_scope!r}")
        pattern = _encode_key(glob_escape(prefix)) + b"*"
        return self._scan_client.scan_iter(match=pattern, count=1000)

    def scan_prefix(self, prefix: str) -> Iterator[str]:
        """Iterate the keys starting with ``prefix``.

        Walks the whole keyspace with ``SCAN`` (Redis has no prefix index), so it is
        for maintenance and invalidation, not for request hot paths.
        """
        return (_decode_key(raw) for raw in self._scan_raw(prefix))

    def delete_prefix(self, prefix: str) -> int:
        deleted = 0
        batch: list[bytes] = []
        for raw in self._scan_raw(prefix):
            batch.append(raw)
            if len(batch) >= _DELETE_BATCH:
                deleted += int(self.client.unlink(*batch))
                batch.clear()
        if batch:
            deleted += int(self.client.unlink(*batch))
        return deleted

    def ping(self) -> bool:
        """Whether Redis answers; connection and auth failures are logged, not raised."""
        try:
            return bool(self.client.ping())
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            logger.warning("Redis ping failed for %r: %s", self, exc)
            return False

    def close(self) -> None:
        """Close ``client``'s connections; ``scan_client`` belongs to whoever passed it."""
        self.client.close()
