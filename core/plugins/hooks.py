"""The typed facade the kernel calls hooks through.

Call sites never pass hook names as strings: they call a method here (kernel
hooks) or on a feature's own facade (``guidepath.guided_paths.hooks``), which
calls :meth:`TenantHooks.call` once, by name, in one place. Each call is pluggy's
own ``HookCaller`` call on the tenant's subset of plugins, recorded by
:func:`~.isolation.recorded_call` so the facade knows which plugin answered what and
which failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from ..domain.errors import DomainError
from .isolation import CallRecord, PluginError, recorded_call

if TYPE_CHECKING:  # pragma: no cover
    import click
    from flask import Blueprint, Flask

    from ..console.records import ConsoleLink, SessionPanel
    from ..events.envelope import Event
    from ..events.registry import EventType
    from ..kernel import Kernel
    from ..tenancy.context import TenantContext
    from ..tenancy.directory import Tenant


class TenantHooks:
    """Hooks reaching one set of plugins (those enabled for a tenant, or all)."""

    def __init__(self, pm: pluggy.PluginManager, remove: list[Any]) -> None:
        self._pm = pm
        self._remove = remove
        self._callers: dict[str, pluggy.HookCaller] = {}

    def _caller(self, name: str) -> pluggy.HookCaller:
        caller = self._callers.get(name)
        if caller is None:
            caller = (self._pm.subset_hook_caller(name, self._remove) if self._remove
                      else getattr(self._pm.hook, name))
            self._callers[name] = caller
        return caller

    def plugin_names(self, hook: str) -> list[str]:
        """Names of the plugins that implement ``hook`` in this view, in call order."""
        return [impl.plugin_name for impl in reversed(self._caller(hook).get_hookimpls())]

    def call(
        self, hook: str, /, *, passthrough: tuple[type[BaseException], ...] = (), **kwargs: Any
    ) -> CallRecord:
        """Call ``hook`` through pluggy and return what each plugin did.

        For a facade's use (one call per hook, by name, in one place). A plugin
        that raises is logged and skipped; exceptions of the ``passthrough`` types
        are a plugin's deliberate refusal and reach the caller as they are.
        """
        return recorded_call(self._caller(hook), CallRecord(hook, passthrough), kwargs)

    def call_strict(self, hook: str, /, **kwargs: Any) -> CallRecord:
        """Like :meth:`call`, then raise the first failure (after every plugin ran)."""
        record = self.call(hook, **kwargs)
        if record.failures:
            raise record.failures[0]
        return record

    # -- start-up -------------------------------------------------------------

    def register_routes(self) -> list[tuple[str, Blueprint]]:
        return [(n, bp) for n, bps in self.call_strict("register_routes").answers for bp in bps]

    def register_event_types(self) -> list[tuple[str, EventType]]:
        return [(n, et) for n, ets in self.call_strict("register_event_types").answers for et in ets]

    def register_migrations(self) -> list[str]:
        return [str(p) for _, paths in self.call_strict("register_migrations").answers for p in paths]

    def register_cli_commands(self, cli: click.Group) -> None:
        self.call("register_cli_commands", cli=cli)

    def app_started(self, app: Flask) -> None:
        self.call("app_started", app=app)

    def register_workers(self, kernel: Kernel) -> list[tuple[str, Any]]:
        """``(plugin_name, worker)`` pairs; a plugin whose hook raised has none."""
        return [(n, w) for n, workers in self.call("register_workers", kernel=kernel).answers for w in workers]

    # -- tenant lifecycle -----------------------------------------------------

    def tenant_created(self, tenant: Tenant, ctx: TenantContext) -> None:
        self.call("tenant_created", tenant=tenant, ctx=ctx)

    def seed_demo(self, tenant: Tenant, ctx: TenantContext) -> None:
        """Raises :class:`PluginError` if a plugin failed (a demo must be whole)."""
        self.call_strict("seed_demo", tenant=tenant, ctx=ctx)

    def plugin_settings_changed(
        self, tenant: Tenant, plugin_name: str, enabled: bool, settings: dict[str, Any], ctx: TenantContext
    ) -> None:
        self.call("plugin_settings_changed", tenant=tenant, plugin_name=plugin_name,
                  enabled=enabled, settings=settings, ctx=ctx)

    # -- sessions and events --------------------------------------------------

    def session_capabilities(self, tenant: Tenant, session: dict[str, Any]) -> list[str]:
        merged: dict[str, None] = {}  # ordered, without duplicates
        for _, caps in self.call("session_capabilities", tenant=tenant, session=session).answers:
            merged.update(dict.fromkeys(caps))
        return list(merged)

    def issue_relay_ticket(
        self, tenant: Tenant, session: dict[str, Any], kind: str, role: str,
        principal: dict[str, Any], ctx: TenantContext,
    ) -> tuple[str, dict[str, Any]] | None:
        """``(plugin_name, response body)`` of the plugin that granted, or ``None``.

        A plugin refuses with a reason by raising a ``DomainError``, which reaches
        the caller unchanged; any other exception is a bug and the next plugin is asked.
        """
        record = self.call("issue_relay_ticket", passthrough=(DomainError,), tenant=tenant, session=session,
                           kind=kind, role=role, principal=principal, ctx=ctx)
        return record.answers[0] if record.answers else None

    def handle_event(self, tenant: Tenant, event: Event, ctx: TenantContext) -> None:
        """Raises :class:`PluginError` if any plugin failed, so the event is retried."""
        self.call_strict("handle_event", tenant=tenant, event=event, ctx=ctx)

    # -- the console ------------------------------------------------------------

    def console_menu(self, tenant: Tenant, principal: dict[str, Any]) -> list[ConsoleLink]:
        links = [link for _, answer in self.call("console_menu", tenant=tenant, principal=principal).answers
                 for link in answer]
        return sorted(links, key=lambda link: (link.order, link.label))

    def session_panels(
        self, tenant: Tenant, session: dict[str, Any], principal: dict[str, Any]
    ) -> list[SessionPanel]:
        record = self.call("session_panels", tenant=tenant, session=session, principal=principal)
        panels = [panel for _, answer in record.answers for panel in answer]
        return sorted(panels, key=lambda panel: (panel.order, panel.title))


__all__ = ["CallRecord", "PluginError", "TenantHooks"]
