"""Everything a piece of code needs to act for one tenant, in one object.

A :class:`TenantContext` is cheap to build (per request or per event) and hands
out the tenant's own database engine (running as the tenant's role), cache, files
and the plugin hooks of the plugins enabled for the tenant.
"""

from __future__ import annotations

import contextlib
from functools import cached_property
from typing import TYPE_CHECKING, Any, Iterator

from sqlalchemy import Connection, Engine

from .directory import Tenant

if TYPE_CHECKING:  # pragma: no cover
    from ..kernel import Kernel
    from ..plugins.hooks import TenantHooks


class TenantContext:
    """One tenant's database, cache, files, plugin settings and hooks.

    Built per request (``tenant_ctx()`` in a view) or per event (the ``ctx``
    argument of tenant hooks); cheap, and not to be kept beyond that request or
    event. Everything it hands out is already scoped to the tenant in the layer
    below (the tenant's database role, key prefix, file container)::

        with ctx.begin() as conn:           # a transaction as the tenant's role
            ctx.emit(conn, "hello.greeted", {"name": name})
        greeting = ctx.settings("hello")["greeting"]
    """

    def __init__(self, kernel: Kernel, tenant: Tenant) -> None:
        self.kernel = kernel
        self.tenant = tenant
        self._emitted = False

    @property
    def id(self) -> str:
        return self.tenant.id

    @cached_property
    def engine(self) -> Engine:
        return self.kernel.tenant_engine(self.tenant.id)

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction on the tenant's database; events emitted in it are
        published right after it commits."""
        with self.engine.begin() as conn:
            yield conn
        if self._emitted:
            self._emitted = False
            self.kernel.nudge_publisher(self.tenant.id)

    def emit(self, conn: Connection, event_type: str, data: dict[str, Any]) -> None:
        """Append an event to the outbox inside the caller's transaction."""
        self.kernel.emit(conn, self.tenant.id, event_type, data)
        self._emitted = True

    @cached_property
    def cache(self):
        return self.kernel.caches.for_tenant(self.tenant.id)

    @cached_property
    def files(self):
        return self.kernel.files.for_tenant(self.tenant.id, self.kernel.data_key(self.tenant))

    def plugin_states(self) -> dict[str, Any]:
        return self.kernel.plugin_states(self)

    def settings(self, plugin: str) -> dict[str, Any]:
        """``plugin``'s settings for this tenant, its schema's defaults filled in.

        The same whether the plugin is enabled or not (an admin may configure a
        plugin before enabling it). ``KeyError`` for a plugin not installed.
        """
        state = self.plugin_states().get(plugin)
        if state is not None:
            return state.settings
        return self.kernel.plugins.info(plugin).default_settings()

    def plugin_enabled(self, name: str) -> bool:
        state = self.plugin_states().get(name)
        return bool(state and state.enabled)

    @property
    def hooks(self) -> TenantHooks:
        disabled = [n for n, s in self.plugin_states().items() if not s.enabled]
        return self.kernel.plugins.for_tenant(disabled)
