"""Bounded, reused connections to many tenants.

Each tenant's requests must run as that tenant's own database role, so a
connection cannot be shared between tenants. With thousands of tenants a pool per
tenant would hold thousands of connections; instead we keep an LRU of small
per-tenant pools whose sizes add up to at most ``max_connections``. A tenant that
has not been seen for a while loses its pool; its next request opens one
(the "cold tenant" cost measured by ``make bench-tenancy``).

An evicted pool closes its idle connections at once and each busy one as soon as
its request gives it back, so the cap is exceeded at most by the connections busy
during an eviction.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

from sqlalchemy import Engine, event

from .engines import make_engine


class TenantEnginePool:
    """Hands out an :class:`~sqlalchemy.Engine` per tenant from a bounded LRU."""

    def __init__(
        self,
        url_for: Callable[[str], str],
        *,
        max_connections: int = 40,
        per_tenant: int = 2,
        pool_timeout: float = 10.0,
    ) -> None:
        self._url_for = url_for
        self._per_tenant = max(1, per_tenant)
        self._max_engines = max(1, max_connections // self._per_tenant)
        self._pool_timeout = pool_timeout
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._open = 0
        self.peak_open = 0
        self.opened_total = 0

    @property
    def max_connections(self) -> int:
        return self._max_engines * self._per_tenant

    @property
    def open_connections(self) -> int:
        return self._open

    def engine(self, tenant_id: str) -> Engine:
        with self._lock:
            engine = self._engines.get(tenant_id)
            if engine is not None:
                self._engines.move_to_end(tenant_id)
                return engine
        # A cold tenant: look its URL up (a query on the global database) and build
        # the engine without holding the lock, so that requests for other tenants,
        # warm or cold, do not queue behind it. Engines connect lazily: building one
        # that loses a race costs no connection.
        built = self._build(tenant_id)
        retired: list[Engine] = []
        with self._lock:
            engine = self._engines.get(tenant_id)
            if engine is not None:  # another request built it meanwhile: use that one
                self._engines.move_to_end(tenant_id)
                retired.append(built)
            else:
                engine = self._engines[tenant_id] = built
                while len(self._engines) > self._max_engines:
                    retired.append(self._engines.popitem(last=False)[1])
        for old in retired:
            self._retire(old)
        return engine

    def discard(self, tenant_id: str) -> None:
        """Close a tenant's pool now (the tenant is being suspended or deleted)."""
        with self._lock:
            engine = self._engines.pop(tenant_id, None)
        if engine is not None:
            self._retire(engine)

    def close(self) -> None:
        with self._lock:
            engines = list(self._engines.values())
            self._engines.clear()
        for engine in engines:
            self._retire(engine)

    # -- internals -------------------------------------------------------------

    def _build(self, tenant_id: str) -> Engine:
        url = self._url_for(tenant_id)
        if url.startswith("sqlite"):
            engine = make_engine(url, pool_size=self._per_tenant, max_overflow=0)
        else:
            engine = make_engine(
                url,
                pool_size=self._per_tenant,
                max_overflow=0,
                pool_timeout=self._pool_timeout,
                pool_pre_ping=False,
                pool_recycle=1800,
            )
        engine._gp_retired = False  # type: ignore[attr-defined]

        @event.listens_for(engine, "connect")
        def _count_open(_dbapi, _rec) -> None:
            with self._count_lock:
                self._open += 1
                self.opened_total += 1
                self.peak_open = max(self.peak_open, self._open)

        @event.listens_for(engine, "close")
        def _count_close(_dbapi, _rec) -> None:
            with self._count_lock:
                self._open -= 1

        @event.listens_for(engine, "checkin")
        def _close_if_retired(_dbapi, record) -> None:
            if engine._gp_retired:  # type: ignore[attr-defined]
                record.invalidate()

        return engine

    @staticmethod
    def _retire(engine: Engine) -> None:
        engine._gp_retired = True  # type: ignore[attr-defined]
        engine.pool.dispose()

