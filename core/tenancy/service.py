"""Tenant lifecycle: create, suspend, resume, delete, migrate.

Creation is a small saga over systems that share no transaction (global
database, container database, Redis, the file system): each step is undone if a
later one fails, so a failed ``tenants create`` leaves nothing behind.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable, Iterable

from ..crypto import new_key
from ..db import migrate
from ..domain import audit, users
from ..domain.errors import Conflict, Invalid, NotFound
from .directory import ACTIVE, DELETING, PROVISIONING, SUSPENDED, Tenant, new_tenant_id
from .slugs import SlugError, validate_slug

if TYPE_CHECKING:  # pragma: no cover
    from ..kernel import Kernel

log = logging.getLogger("guidepath.tenancy")


class TenantService:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.directory = kernel.directory

    def require(self, slug: str) -> Tenant:
        tenant = self.directory.get_by_slug(slug)
        if tenant is None:
            raise NotFound(f"no tenant with slug {slug!r}", field="slug")
        return tenant

    def create(
        self,
        slug: str,
        *,
        name: str = "",
        admin_email: str | None = None,
        admin_password: str | None = None,
    ) -> Tenant:
        try:
            validate_slug(slug)
        except SlugError as exc:
            raise Invalid(str(exc), field="slug") from None
        if self.directory.get_by_slug(slug) is not None:
            raise Conflict(f"a tenant with slug {slug!r} already exists", field="slug")
        if (admin_email is None) != (admin_password is None):
            raise Invalid("give both --admin-email and --admin-password, or neither", field="admin_email")
        if admin_email is not None:
            # Fail on a bad admin before anything is provisioned.
            from ..domain.validation import validate

            validate(users.USER_CREATE_SCHEMA, {"email": admin_email, "password": admin_password, "role": "admin"})

        container = self.directory.least_full_container(embedded=self.kernel.config.embedded)
        if container is None:
            raise Conflict(
                "no container database has room for a new tenant; add one with "
                "`guidepath containers add postgresql+psycopg://USER@HOST/DB`",
                field="container",
            )
        tenant_id = new_tenant_id()
        wrapped = self.kernel.master_key.wrap(new_key(), tenant_id)
        storage = self.kernel.storage_for_container(container.url)
        undo: list[Callable[[], None]] = []
        try:
            tenant = self.directory.insert(tenant_id, slug, name, container.id, wrapped)
            undo.append(lambda: self.directory.remove(tenant_id))
            storage.provision(tenant_id)
            undo.append(lambda: storage.deprovision(tenant_id))
            with storage.migration_connection(tenant_id) as conn:
                migrate.upgrade("tenant", conn, schema=None if container.embedded else tenant_id,
                                extra_locations=self.kernel.tenant_migrations)
            undo.append(lambda: self.kernel.files.destroy_container(tenant_id))
            self.kernel.caches.provision(tenant_id)
            undo.append(lambda: self.kernel.caches.deprovision(tenant_id))
            if admin_email is not None:
                ctx = self.kernel.context(tenant)
                with ctx.begin() as conn:
                    admin = users.create(conn, {"email": admin_email, "password": admin_password,
                                                "role": "admin", "name": "Administrator"})
                    audit.record(conn, "system", "tenant.created", tenant_id, {"admin": admin["id"]})
            self.directory.set_status(tenant_id, ACTIVE)
        except BaseException:
            log.exception("tenant creation failed; rolling back", extra={"slug": slug})
            self.kernel.pools.discard(tenant_id)
            for step in reversed(undo):
                try:
                    step()
                except Exception:  # noqa: BLE001 - keep undoing
                    log.exception("rollback step failed", extra={"tenant_id": tenant_id})
            raise
        tenant = self.directory.get(tenant_id)
        assert tenant is not None
        self._create_topics(tenant_id)
        ctx = self.kernel.context(tenant)
        ctx.hooks.tenant_created(tenant, ctx)
        log.info("tenant created", extra={"tenant_id": tenant_id, "slug": slug, "container": container.id})
        return tenant

    def _create_topics(self, tenant_id: str) -> None:
        """Create the tenant's topics now so consumers subscribed by pattern find
        them before its first event; a broker outage must not block sign-up (the
        publisher creates missing topics on demand)."""
        from ..events.errors import BusUnavailable
        from ..events.topics import topic_for

        streams = {t.stream for t in self.kernel.event_types.all()}
        try:
            self.kernel.bus.ensure_topics(topic_for(tenant_id, s) for s in sorted(streams))
        except BusUnavailable:
            log.warning("could not create the tenant's topics yet", extra={"tenant_id": tenant_id})

    def _delete_topics(self, tenant_id: str) -> None:
        from ..events.errors import BusUnavailable

        try:
            self.kernel.bus.delete_topics(f"gp.{tenant_id}.")
        except BusUnavailable:
            # The tenant's data is gone either way; its topics hold only ids and
            # are removed by the next `guidepath tenants delete` retry or by hand.
            log.warning("could not delete the tenant's topics", extra={"tenant_id": tenant_id})

    def suspend(self, slug: str) -> Tenant:
        tenant = self.require(slug)
        if tenant.status != ACTIVE:
            raise Conflict(f"tenant {slug!r} is {tenant.status}, not active", field="status")
        self.directory.set_status(tenant.id, SUSPENDED)
        self.kernel.pools.discard(tenant.id)
        return self.require(slug)

    def resume(self, slug: str) -> Tenant:
        tenant = self.require(slug)
        if tenant.status != SUSPENDED:
            raise Conflict(f"tenant {slug!r} is {tenant.status}, not suspended", field="status")
        self.directory.set_status(tenant.id, ACTIVE)
        return self.require(slug)

    def delete(self, slug: str) -> None:
        """Drop the schema and role (or file), destroy the data key and the files."""
        tenant = self.require(slug)
        self.directory.set_status(tenant.id, DELETING)
        self.kernel.pools.discard(tenant.id)
        # Crypto-shred first: from here on nothing of the tenant's files is readable.
        self.directory.destroy_key(tenant.id)
        self.kernel.files.destroy_container(tenant.id)
        self.kernel.caches.deprovision(tenant.id)
        self._delete_topics(tenant.id)
        self.kernel.storage_for(tenant).deprovision(tenant.id)
        self.directory.remove(tenant.id)
        log.info("tenant deleted", extra={"tenant_id": tenant.id, "slug": slug})

    def migrate_all(self, on_tenant: Callable[[Tenant, bool], None] | None = None,
                    tenants: Iterable[Tenant] | None = None) -> int:
        """Upgrade every tenant to head, one transaction each; safe to re-run after
        an interruption (finished tenants are skipped quickly)."""
        changed = 0
        for tenant in list(tenants if tenants is not None else self.directory.list()):
            if tenant.status in (DELETING, PROVISIONING):
                continue
            storage = self.kernel.storage_for(tenant)
            embedded = self.kernel.config.embedded
            with storage.migration_connection(tenant.id) as conn:
                did = migrate.upgrade("tenant", conn, schema=None if embedded else tenant.id,
                                      extra_locations=self.kernel.tenant_migrations)
            changed += did
            if on_tenant:
                on_tenant(tenant, did)
        return changed
