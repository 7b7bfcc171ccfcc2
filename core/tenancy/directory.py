"""The tenant directory: who the tenants are, where they live, how to reach them.

Reads are hot (every request resolves its host), so host lookups are cached in
process for a few seconds; writes through this object invalidate the cache, and
other nodes converge within the TTL (suspension takes effect within seconds).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Engine, func, select

from ..cache.ttl_map import TtlMap
from ..domain.ids import new_tenant_id
from .tables import containers, tenant_hosts, tenants

ACTIVE, SUSPENDED, PROVISIONING, DELETING = "active", "suspended", "provisioning", "deleting"
EMBEDDED_CONTAINER_URL = "sqlite"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Tenant:
    """A tenant as the directory knows it: a company that uses guidepath.

    ``id`` (``t`` + 16 hex characters) names everything the tenant owns in the
    layer below — its PostgreSQL schema and role, its cache keys, its topics,
    its file container — and never changes; ``slug`` is the host name part
    (``acme`` in ``acme.example.com``) and may be renamed. ``wrapped_key`` is the
    tenant's data key wrapped by the master key; ``None`` once the tenant is
    deleted (its data is then unreadable by construction).
    """

    id: str
    slug: str
    name: str
    status: str
    container_id: str
    wrapped_key: bytes | None
    created_at: datetime

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def public(self) -> dict:
        return {
            "id": self.id, "slug": self.slug, "name": self.name, "status": self.status,
            "container_id": self.container_id, "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class Container:
    id: str
    url: str
    capacity: int
    tenant_count: int = 0

    @property
    def embedded(self) -> bool:
        return self.url == EMBEDDED_CONTAINER_URL


class TenantDirectory:
    """Queries and updates of the global database's tenant directory."""

    def __init__(self, engine: Engine, *, cache_ttl: float = 5.0) -> None:
        self.engine = engine
        self._by_host: TtlMap[str, Tenant | None] = TtlMap(ttl=cache_ttl, max_entries=10_000)

    # -- reads ---------------------------------------------------------------

    def get(self, tenant_id: str) -> Tenant | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(tenants).where(tenants.c.id == tenant_id)).first()
        return _tenant(row) if row else None

    def get_by_slug(self, slug: str) -> Tenant | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(tenants).where(tenants.c.slug == slug)).first()
        return _tenant(row) if row else None

    def resolve(self, host: str, slug: str | None) -> Tenant | None:
        """Find the tenant for a request's host: a custom host name first, then the slug."""
        return self._by_host.get_or_load(host, lambda: self._lookup_host(host, slug))

    def _lookup_host(self, host: str, slug: str | None) -> Tenant | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(tenants).join(tenant_hosts).where(tenant_hosts.c.host == host)
            ).first()
            if row is None and slug:
                row = conn.execute(select(tenants).where(tenants.c.slug == slug)).first()
        return _tenant(row) if row else None

    def list(self) -> list[Tenant]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(tenants).order_by(tenants.c.slug)).all()
        return [_tenant(r) for r in rows]

    def containers(self) -> list[Container]:
        with self.engine.connect() as conn:
            counts = dict(
                conn.execute(
                    select(tenants.c.container_id, func.count()).group_by(tenants.c.container_id)
                ).all()
            )
            rows = conn.execute(select(containers).order_by(containers.c.created_at)).all()
        return [Container(r.id, r.url, r.capacity, counts.get(r.id, 0)) for r in rows]

    def container(self, container_id: str) -> Container:
        for c in self.containers():
            if c.id == container_id:
                return c
        raise LookupError(f"unknown container {container_id!r}")

    def least_full_container(self, embedded: bool) -> Container | None:
        """Placement rule: the container with the most free room (ties: the oldest)."""
        candidates = [c for c in self.containers() if c.embedded == embedded]
        candidates = [c for c in candidates if c.tenant_count < c.capacity]
        if not candidates:
            return None
        return min(candidates, key=lambda c: (c.tenant_count / c.capacity, c.tenant_count))

    # -- writes --------------------------------------------------------------

    def add_container(self, url: str, capacity: int = 5000) -> Container:
        for c in self.containers():
            if c.url == url:
                return c
        cid = "c" + secrets.token_hex(6)
        with self.engine.begin() as conn:
            conn.execute(
                containers.insert().values(id=cid, url=url, capacity=capacity, created_at=utcnow())
            )
        return Container(cid, url, capacity, 0)

    def insert(self, tenant_id: str, slug: str, name: str, container_id: str, wrapped_key: bytes) -> Tenant:
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                tenants.insert().values(
                    id=tenant_id, slug=slug, name=name or slug, status=PROVISIONING,
                    container_id=container_id, wrapped_key=wrapped_key,
                    created_at=now, updated_at=now,
                )
            )
        self._forget()
        tenant = self.get(tenant_id)
        assert tenant is not None
        return tenant

    def set_status(self, tenant_id: str, status: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                tenants.update().where(tenants.c.id == tenant_id).values(status=status, updated_at=utcnow())
            )
        self._forget()

    def destroy_key(self, tenant_id: str) -> None:
        """Crypto-shredding: without the wrapped data key the tenant's files are noise."""
        with self.engine.begin() as conn:
            conn.execute(
                tenants.update().where(tenants.c.id == tenant_id).values(wrapped_key=None, updated_at=utcnow())
            )

    def remove(self, tenant_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(tenant_hosts.delete().where(tenant_hosts.c.tenant_id == tenant_id))
            conn.execute(tenants.delete().where(tenants.c.id == tenant_id))
        self._forget()

    def _forget(self) -> None:
        self._by_host.clear()


def _tenant(row) -> Tenant:
    created = row.created_at
    if created.tzinfo is None:  # SQLite drops the zone
        created = created.replace(tzinfo=timezone.utc)
    return Tenant(row.id, row.slug, row.name, row.status, row.container_id, row.wrapped_key, created)
