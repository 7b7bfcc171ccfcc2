"""The root command group: built-in commands first, plugin commands on demand.

Plugins add commands through the ``register_cli_commands`` hook. Loading them
imports every installed plugin, so it happens only when the list of commands is
needed (``--help``) or a name is not a built-in; ``guidepath tenants list`` never
pays for it. Plugins are loaded with a bare :class:`PluginManager` — building a
:class:`~guidepath.core.kernel.Kernel` would open databases just to print help.
"""

from __future__ import annotations

import logging
from typing import Any

import click

from .context import translate_errors

log = logging.getLogger("guidepath.cli")


class RootGroup(click.Group):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._builtin: set[str] = set()
        self._plugins_loaded = False
        self._loading_plugins = False

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        name = name or cmd.name
        if self._loading_plugins and name in self._builtin:
            # A plugin may add commands, not silently replace `tenants delete`.
            click.echo(f"Warning: a plugin tried to replace the built-in command {name!r}; ignored",
                       err=True)
            return
        super().add_command(cmd, name)
        if not self._loading_plugins and name is not None:
            self._builtin.add(name)

    def load_plugin_commands(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from ..config import ConfigError, load_config
        from ..plugins import PluginError, PluginManager

        try:
            disabled = load_config().disabled_plugins  # as `guidepath run` would skip them
        except ConfigError:
            disabled = ()  # the command itself reports the bad configuration
        self._loading_plugins = True
        try:
            manager = PluginManager()
            manager.load_entrypoints(skip=disabled)
            manager.check_pending()
            manager.all.register_cli_commands(self)
        except PluginError as exc:
            click.echo(f"Warning: plugin commands are unavailable: {exc}", err=True)
        finally:
            self._loading_plugins = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self._builtin:
            self.load_plugin_commands()
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        with translate_errors():
            return super().invoke(ctx)
