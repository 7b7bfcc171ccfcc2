"""The kernel: one object that owns every backend connection of a process.

The web app, the CLI and background workers each build one :class:`Kernel` from a
:class:`~guidepath.core.config.Config`. It owns the plugin manager (never a module
global), the global database, the per-tenant engine pool, the cache, the file
store, the event bus and the fan-out, and closes them all in :meth:`close`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Connection, Engine

from .cache import CacheFactory
from .cache.ttl_map import TtlMap
from .config import Config, ConfigError
from .crypto import MasterKey
from .db import migrate
from .db.engines import make_engine
from .db.tenant_pools import TenantEnginePool
from .domain import plugin_settings
from .events import Event, EventTypeRegistry, KERNEL_EVENT_TYPES, MemoryBus, outbox
from .events.bus import Bus
from .files import FileStore
from .plugins import PluginManager
from .realtime import Fanout, MemoryFanout
from .tenancy.directory import EMBEDDED_CONTAINER_URL, Tenant, TenantDirectory
from .tenancy.storage import PostgresTenantStorage, SqliteTenantStorage, TenantStorage
from .tenancy.context import TenantContext


log = logging.getLogger("guidepath.kernel")

PLUGIN_STATE_TTL = 2.0


class Kernel:
    """Every backend of one process, built once from a :class:`Config`.

    Build one per process (the web app, a CLI command, a worker) and
    :meth:`close` it at the end. Code acting for a tenant asks for
    :meth:`context`; plugins keep their per-kernel state in :attr:`extensions`
    (as Flask extensions use ``app.extensions``), never in module globals, so two
    kernels in one process never share it.
    """

    def __init__(
        self,
        config: Config,
        *,
        plugins: PluginManager | None = None,
        load_entrypoints: bool = True,
        skip_plugins: tuple[str, ...] = (),
    ) -> None:
        config.validate()
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        if config.master_key:
            self.master_key = MasterKey.from_base64(config.master_key)
        elif config.embedded:
            self.master_key = MasterKey.load_or_create(config.master_key_path)
        else:  # validate() already refused this; keep the type checker honest
            raise ConfigError("GUIDEPATH_MASTER_KEY is required outside embedded mode")

        #: Per-kernel state of plugins, by a key the plugin owns (its name, usually).
        self.extensions: dict[str, Any] = {}
        self.plugins = plugins or PluginManager()
        if load_entrypoints:
            self.plugins.load_entrypoints(skip=(*skip_plugins, *config.disabled_plugins))
        # A misspelt hook in any plugin stops start-up here, naming the plugin.
        self.plugins.check_pending()

        self.global_engine: Engine = make_engine(config.global_database_url)
        self.directory = TenantDirectory(self.global_engine)
        self.pools = TenantEnginePool(
            self._tenant_url,
            max_connections=config.tenant_pool_max_connections,
            per_tenant=config.tenant_pool_size,
        )
        self.files = FileStore(config.files_dir)
        self.caches = CacheFactory(
            redis_url=config.redis_url,
            password_for=lambda tid: self.master_key.derive_password("redis", tid),
            use_acl=config.redis_acl,
        )
        self.bus: Bus = self._make_bus()
        self.fanout: Fanout = self._make_fanout()
        self.event_types = EventTypeRegistry()
        for event_type in KERNEL_EVENT_TYPES:
            self.event_types.register(event_type)
        for plugin_name, event_type in self.plugins.all.register_event_types():
            self.event_types.register(event_type, owner=plugin_name)

        #: Alembic folders of plugins' tenant tables, applied with the kernel's own.
        self.tenant_migrations: tuple[str, ...] = tuple(self.plugins.all.register_migrations())
        self._container_urls: dict[str, str] = {}
        self._storages: dict[str, PostgresTenantStorage] = {}
        self._plugin_states: TtlMap[tuple[str, int], dict[str, Any]] = TtlMap(ttl=PLUGIN_STATE_TTL)
        #: API key principals by (tenant id, key hash): a bearer request's credential
        #: check without a database round trip (see ``core/web/auth.py``).
        self.api_key_principals: TtlMap[tuple[str, str], dict[str, Any] | None] = TtlMap(
            ttl=config.credential_cache_seconds, max_entries=50_000)
        self._lock = threading.Lock()
        self._publisher = None  # started by start_workers()
        self._plugin_workers: list[tuple[str, Any]] = []

    # -- construction helpers -------------------------------------------------

    def _make_bus(self) -> Bus:
        if self.config.kafka_bootstrap:
            from .events import KafkaBus

            # A short metadata age lets the dispatcher's pattern subscription see a
            # new tenant's topics within seconds (they are created with the tenant).
            session_ms = self.config.kafka_session_timeout_ms
            return KafkaBus(
                self.config.kafka_bootstrap, metadata_max_age_ms=5_000,
                session_timeout_ms=session_ms, heartbeat_interval_ms=max(300, session_ms // 3),
            )
        return MemoryBus()

    def _make_fanout(self) -> Fanout:
        if self.config.redis_url:
            from .realtime import RedisFanout

            return RedisFanout(self.config.redis_url)
        return MemoryFanout()

    # -- schema ---------------------------------------------------------------

    def upgrade_global(self) -> bool:
        from .tenancy.storage import harden_global_database

        with self.global_engine.begin() as conn:
            changed = migrate.upgrade("global", conn)
        if self.config.embedded:
            self.directory.add_container(EMBEDDED_CONTAINER_URL)
        else:
            harden_global_database(self.config.global_database_url)
        return changed

    def global_schema_current(self) -> bool:
        with self.global_engine.connect() as conn:
            return migrate.current(conn) == migrate.head("global")

    # -- tenants --------------------------------------------------------------

    def storage_for_container(self, container_url: str) -> TenantStorage:
        """The container's storage, one per container for the kernel's life (it
        holds the container's migration connection)."""
        if container_url == EMBEDDED_CONTAINER_URL:
            return SqliteTenantStorage(self.config.tenants_dir)
        with self._lock:
            storage = self._storages.get(container_url)
            if storage is None:
                storage = PostgresTenantStorage(
                    container_url, lambda tid: self.master_key.derive_password("postgres", tid)
                )
                self._storages[container_url] = storage
            return storage

    def storage_for(self, tenant: Tenant) -> TenantStorage:
        return self.storage_for_container(self._container_url(tenant.container_id))

    def _container_url(self, container_id: str) -> str:
        url = self._container_urls.get(container_id)
        if url is None:
            url = self.directory.container(container_id).url
            self._container_urls[container_id] = url
        return url

    def _tenant_url(self, tenant_id: str) -> str:
        tenant = self.directory.get(tenant_id)
        if tenant is None:
            raise LookupError(f"unknown tenant {tenant_id!r}")
        return self.storage_for(tenant).tenant_url(tenant_id)

    def tenant_engine(self, tenant_id: str) -> Engine:
        return self.pools.engine(tenant_id)

    def context(self, tenant: Tenant) -> TenantContext:
        return TenantContext(self, tenant)

    def data_key(self, tenant: Tenant) -> bytes:
        if tenant.wrapped_key is None:
            raise LookupError(f"tenant {tenant.slug!r} has no data key (it was deleted)")
        return self.master_key.unwrap(tenant.wrapped_key, tenant.id)

    # -- plugins per tenant ---------------------------------------------------

    def plugin_states(self, ctx: TenantContext) -> dict[str, Any]:
        """Each plugin's state for the tenant, cached for a moment per process.

        Another node's change shows here within ``PLUGIN_STATE_TTL``; a change made
        through this kernel, or a plugin (un)registered, shows at once.
        """
        def load() -> dict[str, Any]:
            with ctx.engine.connect() as conn:
                rows = plugin_settings.stored(conn)
            return {s.name: s for s in plugin_settings.resolve(self.plugins.infos(), rows)}

        # The plugin generation is part of the key: (un)registering a plugin shows at once.
        return self._plugin_states.get_or_load((ctx.id, self.plugins.generation), load)

    def forget_plugin_states(self, tenant_id: str) -> None:
        self._plugin_states.discard_where(lambda key: key[0] == tenant_id)

    def configure_plugin(
        self, ctx: TenantContext, name: str, data: Any, *, actor: str
    ) -> plugin_settings.PluginState:
        """Enable, disable or configure a plugin for one tenant — the one code path
        behind the admin API and the CLI.

        Validated against the plugin's schema, audited and announced as an event in
        one transaction; then ``plugin_settings_changed`` reaches every plugin
        enabled after the change and, last and on its own, a plugin just disabled.
        """
        from .domain import audit
        from .domain.errors import NotFound

        if not self.plugins.has(name):
            installed = ", ".join(i.name for i in self.plugins.infos()) or "none"
            raise NotFound(f"no plugin named {name!r} is installed (installed: {installed})", field="name")
        info = self.plugins.info(name)
        with ctx.begin() as conn:
            state = plugin_settings.save(conn, info, data)
            audit.record(conn, actor, "plugin.configured", name, {"enabled": state.enabled})
            ctx.emit(conn, "plugin.settings_changed", {"plugin": name, "enabled": state.enabled})
        self.forget_plugin_states(ctx.id)
        ctx.hooks.plugin_settings_changed(ctx.tenant, name, state.enabled, state.settings, ctx)
        if not state.enabled:
            others = [i.name for i in self.plugins.infos() if i.name != name]
            self.plugins.for_tenant(others).plugin_settings_changed(
                ctx.tenant, name, False, state.settings, ctx
            )
        return state

    # -- events ---------------------------------------------------------------

    def emit(self, conn: Connection, tenant_id: str, event_type: str, data: dict[str, Any]) -> Event:
        """Validate and append an event to the tenant's outbox (caller's transaction)."""
        self.event_types.validate(event_type, data)
        version = self.event_types.get(event_type).version
        event = Event.new(tenant_id, event_type, data, schema_version=version)
        outbox.append(conn, event)
        return event

    def nudge_publisher(self, tenant_id: str) -> None:
        if self._publisher is not None:
            self._publisher.nudge(tenant_id)

    # -- lifecycle --------------------------------------------------------------

    def start_workers(self) -> None:
        """Start the outbox publisher and the event dispatcher (idempotent)."""
        from .events.dispatch import EventWorkers

        with self._lock:
            if self._publisher is not None:
                return
            self._publisher = EventWorkers(self)
            self._publisher.start()
            for plugin_name, worker in self.plugins.all.register_workers(self):
                try:
                    worker.start()
                except Exception:  # noqa: BLE001 - one plugin's worker must not stop the app
                    log.exception("plugin worker failed to start",
                                  extra={"plugin": plugin_name, "worker": repr(worker)})
                    continue
                self._plugin_workers.append((plugin_name, worker))

    def close(self) -> None:
        with self._lock:
            workers, self._plugin_workers = self._plugin_workers, []
        for plugin_name, worker in reversed(workers):
            try:
                worker.stop()
            except Exception:  # noqa: BLE001 - stop the others too
                log.exception("plugin worker failed to stop", extra={"plugin": plugin_name})
        if self._publisher is not None:
            self._publisher.stop()
            self._publisher = None
        with self._lock:
            storages, self._storages = list(self._storages.values()), {}
        for closer in (self.fanout.close, self.bus.close, self.caches.close, self.pools.close,
                       *(storage.close for storage in storages), self.global_engine.dispose):
            try:
                closer()
            except Exception:  # noqa: BLE001 - close everything even if one fails
                log.exception("error while closing %s", closer)
