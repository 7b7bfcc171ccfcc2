"""Typed calls of the Guided Paths hooks (:mod:`.hookspecs`).

The one place their names are spelt: the rest of the package calls these
methods, never a hook by a string, as the kernel does with its own facade.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from guidepath.core.plugin_api import Tenant, TenantContext, TenantHooks


class PathHooks:
    """The Guided Paths hooks of one set of plugins (a tenant's, or all)."""

    def __init__(self, hooks: TenantHooks) -> None:
        self._hooks = hooks

    def step_types(self) -> list[tuple[str, Any]]:
        """``(plugin_name, answer)`` per plugin; a plugin that raised has none."""
        return self._hooks.call("register_step_types").answers

    def guided_path_apps(self, tenant: Tenant, ctx: TenantContext) -> list[tuple[str, Any]]:
        """``(plugin_name, answer)`` per plugin, in call order."""
        return self._hooks.call("list_guided_path_apps", tenant=tenant, ctx=ctx).answers

    def perform_action(
        self, tenant: Tenant, action: str, action_input: Any, run: dict[str, Any], ctx: TenantContext
    ) -> tuple[str, Any] | None:
        """``(plugin_name, answer)`` of the first plugin that handled ``action``."""
        record = self._hooks.call("perform_action", tenant=tenant, action=action,
                                  action_input=action_input, run=run, ctx=ctx)
        return record.answers[0] if record.answers else None
