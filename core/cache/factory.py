"""Hands out a :class:`TenantCache` per tenant, on the backend the config chose.

Three modes, from the configuration:

* no ``redis_url``: one in-process :class:`MemoryBackend` shared by all tenants
  (embedded mode; keys are still prefixed per tenant);
* ``redis_url`` without ACLs: one shared :class:`RedisBackend`;
* ``redis_url`` with ``use_acl``: each tenant talks to Redis as its own ACL user
  (:mod:`.redis_acl`), so the server itself refuses other tenants' keys. Those
  clients are created on first use, kept in a bounded LRU (an idle tenant does not
  hold sockets forever) and closed when evicted.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

import redis

from .backends import CacheBackend, MemoryBackend, RedisBackend, client_from_url
from .keys import tenant_prefix, validate_tenant_id
from .redis_acl import RedisAclProvisioner
from .tenant_cache import TenantCache

logger = logging.getLogger(__name__)

PasswordSource = Callable[[str], str]
"""Gives the Redis ACL password of a tenant (derived from the master key)."""


class CacheFactory:
    """The process's entry point to the cache; one per application instance.

    ``redis_url`` is the platform's connection (in ACL mode its user must be allowed
    ``ACL SETUSER`` and ``SCAN``); ``password_for(tenant_id)`` gives a tenant's ACL
    password. ``use_acl`` is a Redis setting: without ``redis_url`` it is ignored, so
    one configuration (ACLs on) serves embedded and server deployments. Thread-safe.
    """

    def __init__(
        self,
        redis_url: str | None = None,
        password_for: PasswordSource | None = None,
        use_acl: bool = False,
        *,
        max_clients: int = 128,
        connections_per_client: int = 8,
        memory_max_items: int = 100_000,
    ) -> None:
        use_acl = use_acl and redis_url is not None
        if use_acl and password_for is None:
            raise ValueError("use_acl needs password_for, the source of tenants' ACL passwords")
        if max_clients < 1 or connections_per_client < 1:
            raise ValueError("max_clients and connections_per_client must be at least 1")
        self.redis_url = redis_url
        self.use_acl = use_acl
        self.max_clients = max_clients
        self.connections_per_client = connections_per_client
        self._password_for = password_for
        self._lock = threading.Lock()
        self._closed = False
        self._tenant_backends: OrderedDict[str, RedisBackend] = OrderedDict()
        self._admin_client: redis.Redis | None = None
        self._provisioner: RedisAclProvisioner | None = None
        self._shared: CacheBackend | None = None
        self._checked_default_user = False
        if redis_url is None:
            self._shared = MemoryBackend(max_items=memory_max_items)
        elif use_acl:
            self._admin_client = client_from_url(redis_url)
            self._provisioner = RedisAclProvisioner(self._admin_client)
        else:
            self._shared = RedisBackend(client_from_url(redis_url))

    @property
    def mode(self) -> str:
        """``"memory"``, ``"redis"`` or ``"redis-acl"`` (for logs and readiness output)."""
        if self.redis_url is None:
            return "memory"
        return "redis-acl" if self.use_acl else "redis"

    def __repr__(self) -> str:
        return f"<CacheFactory {self.mode}>"

    @property
    def connected_tenants(self) -> tuple[str, ...]:
        """Tenants with an open ACL client, least recently used first (ACL mode only)."""
        with self._lock:
            return tuple(self._tenant_backends)

    def for_tenant(self, tenant_id: str) -> TenantCache:
        """The cache of ``tenant_id``. Cheap; ask again rather than holding on to it."""
        validate_tenant_id(tenant_id)
        self._check_open()
        if self._shared is not None:
            return TenantCache(tenant_id, self._shared)
        return TenantCache(tenant_id, self._tenant_backend(tenant_id))

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this CacheFactory is closed")

    def _tenant_backend(self, tenant_id: str) -> RedisBackend:
        with self._lock:
            backend = self._tenant_backends.get(tenant_id)
            if backend is not None:
                self._tenant_backends.move_to_end(tenant_id)
                return backend
        # Provision and connect outside the lock: other tenants must not wait on it.
        backend = self._connect_tenant(tenant_id)
        evicted: list[RedisBackend] = []
        with self._lock:
            if self._closed:
                evicted.append(backend)
            elif tenant_id in self._tenant_backends:
                # Another thread won the race; use its client and drop ours.
                evicted.append(backend)
                backend = self._tenant_backends[tenant_id]
                self._tenant_backends.move_to_end(tenant_id)
            else:
                self._tenant_backends[tenant_id] = backend
                while len(self._tenant_backends) > self.max_clients:
                    evicted.append(self._tenant_backends.popitem(last=False)[1])
        for old in evicted:
            old.close()
        self._check_open()
        return backend

    def _connect_tenant(self, tenant_id: str) -> RedisBackend:
        """Provision the tenant's ACL user and open a client logged in as it.

        ``ensure_user`` runs whenever this process first connects for a tenant, not
        only when the user is missing: it is idempotent and cheap, and it brings the
        user's password and rules up to date after a release changed them.
        """
        assert self._provisioner is not None and self._password_for is not None
        assert self._admin_client is not None and self.redis_url is not None
        if not self._checked_default_user:
            self._checked_default_user = True
            if self._provisioner.default_user_is_open():
                logger.warning(
                    "Redis user 'default' needs no password: tenant ACL users give no isolation "
                    "against anyone who can connect to Redis; disable it or set a password"
                )
        password = self._password_for(tenant_id)
        self._provisioner.ensure_user(tenant_id, password)
        client = self._provisioner.client_for(
            tenant_id, password, self.redis_url, max_connections=self.connections_per_client
        )
        return RedisBackend(client, scan_client=self._admin_client, scan_scope=tenant_prefix(tenant_id))

    def provision(self, tenant_id: str) -> None:
        """Prepare the cache for a new tenant: create its ACL user in ACL mode.

        Nothing to do in the other modes. Also done lazily by :meth:`for_tenant`, so
        a tenant created before ACLs were switched on still works.
        """
        validate_tenant_id(tenant_id)
        self._check_open()
        if self._provisioner is not None:
            assert self._password_for is not None
            self._provisioner.ensure_user(tenant_id, self._password_for(tenant_id))

    def deprovision(self, tenant_id: str) -> int:
        """Delete all of a tenant's keys and its ACL user (when a tenant is deleted).

        How many keys were removed. The user goes first: Redis then drops its
        connections on every node, so no straggling request writes a key after the
        sweep. Keys are removed through the platform connection. Idempotent.
        """
        validate_tenant_id(tenant_id)
        self._check_open()
        if self._shared is not None:
            return TenantCache(tenant_id, self._shared).clear()
        assert self._admin_client is not None and self._provisioner is not None
        with self._lock:
            backend = self._tenant_backends.pop(tenant_id, None)
        if backend is not None:
            backend.close()
        self._provisioner.delete_user(tenant_id)
        return TenantCache(tenant_id, RedisBackend(self._admin_client)).clear()

    def ping(self) -> bool:
        """Whether the cache's store answers (for ``/readyz``)."""
        self._check_open()
        if self._shared is not None:
            return self._shared.ping()
        assert self._admin_client is not None
        return RedisBackend(self._admin_client).ping()

    def close(self) -> None:
        """Close every connection this factory opened. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            backends = list(self._tenant_backends.values())
            self._tenant_backends.clear()
        for backend in backends:
            backend.close()
        if self._shared is not None:
            self._shared.close()
        if self._admin_client is not None:
            self._admin_client.close()
