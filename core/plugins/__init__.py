"""The plugin system: pluggy under a per-application manager.

Partners import from :mod:`guidepath.core.plugin_api`, which re-exports
:data:`hookimpl`, :class:`PluginInfo` and :class:`PluginError` from here. The
kernel's hook contract is :mod:`guidepath.core.hookspecs`; features add theirs
through the ``register_hookspecs`` hook.

Must not import Flask, the web package or any plugin.
"""

from .hooks import TenantHooks
from .info import PluginInfo
from .isolation import CallRecord, PluginError
from .manager import LoadFailure, PluginManager
from .markers import hookimpl

__all__ = ["CallRecord", "LoadFailure", "PluginError", "PluginInfo", "PluginManager", "TenantHooks", "hookimpl"]
