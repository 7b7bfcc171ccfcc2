"""The plugin system: pluggy under a per-application manager.

Partners import :data:`hookimpl` and :class:`PluginInfo` from here. The hook
contract itself is :mod:`guidepath.core.hookspecs`.

Must not import Flask, the web package or any plugin.
"""

from .info import PluginInfo
from .manager import PluginError, PluginManager, TenantHooks
from .markers import hookimpl

__all__ = ["PluginError", "PluginInfo", "PluginManager", "TenantHooks", "hookimpl"]
