"""The cache as tenant code sees it: one tenant's keys, and nothing else.

Callers never build a key name. They pass a suffix (``"session:ses_abc"``) and
:class:`TenantCache` turns it into ``gp:{tenant_id}:session:ses_abc``, so a bug in
tenant code cannot name another tenant's key; with Redis ACLs the server enforces
the same boundary again.
"""

from __future__ import annotations

import json
from typing import Any

from .backends import CacheBackend
from .keys import tenant_prefix, validate_key


class TenantCache:
    """Keys of one tenant, stored in a :class:`CacheBackend`.

    Cheap to create; the backend holds the connections. Values are bytes (or JSON
    through :meth:`get_json`/:meth:`set_json`); TTLs are seconds.
    """

    __slots__ = ("_tenant_id", "_prefix", "_backend")

    def __init__(self, tenant_id: str, backend: CacheBackend) -> None:
        self._prefix = tenant_prefix(tenant_id)
        self._tenant_id = tenant_id
        self._backend = backend

    @property
    def tenant_id(self) -> str:
        return self._tenant_id

    @property
    def prefix(self) -> str:
        """``gp:{tenant_id}:``, the start of every key this cache touches."""
        return self._prefix

    @property
    def backend(self) -> CacheBackend:
        return self._backend

    def __repr__(self) -> str:
        return f"<TenantCache {self._tenant_id} on {self._backend!r}>"

    def _key(self, key: str) -> str:
        return self._prefix + validate_key(key)

    def get(self, key: str) -> bytes | None:
        """The value at ``key``, or ``None`` if it is missing or expired."""
        return self._backend.get(self._key(key))

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value``; it expires after ``ttl`` seconds unless ``ttl`` is None."""
        self._backend.set(self._key(key), value, ttl)

    def delete(self, key: str) -> bool:
        """Remove ``key``; whether it existed."""
        return self._backend.delete(self._key(key))

    def exists(self, key: str) -> bool:
        return self._backend.exists(self._key(key))

    def expire(self, key: str, ttl: float) -> bool:
        """Make ``key`` expire ``ttl`` seconds from now; whether it existed."""
        return self._backend.expire(self._key(key), ttl)

    def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add ``amount`` to the integer at ``key`` (missing counts as 0); the new value.

        ``ttl`` applies only when this call creates the key, so a counter keyed by
        time window expires with its window however often it is incremented. A value
        that is not an integer raises ``ValueError``.
        """
        return self._backend.incr(self._key(key), amount, ttl)

    def get_json(self, key: str, default: Any = None) -> Any:
        """The JSON value at ``key`` decoded, or ``default`` if the key is missing."""
        raw = self.get(key)
        if raw is None:
            return default
        return json.loads(raw)

    def set_json(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` as strict JSON (no NaN or Infinity, which other readers reject)."""
        encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        self.set(key, encoded.encode("utf-8"), ttl)

    def delete_prefix(self, prefix: str) -> int:
        """Remove every key whose suffix starts with ``prefix``; how many were removed.

        Walks the whole store (``SCAN`` on Redis): for invalidating a group of keys
        now and then, not for every request.
        """
        return self._backend.delete_prefix(self._key(prefix))

    def clear(self) -> int:
        """Remove all of this tenant's keys (and only them); how many were removed."""
        return self._backend.delete_prefix(self._prefix)

    def ping(self) -> bool:
        """Whether the backend answers (for readiness checks)."""
        return self._backend.ping()
