"""The application's plugin manager.

One instance per kernel (never a module global: several apps in one process, as in
tests, must not leak plugins into each other). Hook calls for a tenant go through
:meth:`PluginManager.for_tenant`, which uses pluggy's ``subset_hook_caller`` — the
mechanism pytest uses to scope ``conftest.py`` plugins to a directory — so a
disabled plugin is simply not in the call. Every call is pluggy's own
``HookCaller`` call (argument checks, ``firstresult``, monitoring and tracing);
:mod:`.isolation` keeps one plugin's exception from stopping the others.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Iterable

import pluggy

from .. import hookspecs
from .hooks import TenantHooks
from .info import PluginInfo
from .isolation import IsolatedPlugin, PluginError, isolated_plugin
from .markers import PROJECT_NAME

log = logging.getLogger("guidepath.plugins")

ENTRY_POINT_GROUP = "guidepath.plugins"


@dataclass(frozen=True)
class LoadFailure:
    name: str
    error: str


class PluginManager:
    """Registers plugins and hands out tenant-scoped hook callers.

    Features that bring hooks of their own (Guided Paths) declare them through the
    historic ``register_hookspecs`` hook, as pytest plugins do with
    ``pytest_addhooks``: the kernel never needs to know their vocabulary.
    """

    def __init__(self) -> None:
        self._pm = pluggy.PluginManager(PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._infos: dict[str, PluginInfo] = {}
        self._views: dict[frozenset[str], TenantHooks] = {}
        self._lock = threading.RLock()
        self.load_failures: list[LoadFailure] = []
        #: Bumped on every (un)registration so caches keyed on the plugin set expire.
        self.generation = 0
        # Historic: every plugin registered later gets the call on registration.
        self._pm.hook.register_hookspecs.call_historic(kwargs={"pluginmanager": self})

    @property
    def pluggy(self) -> pluggy.PluginManager:
        """The underlying pluggy manager, for tracing and monitoring
        (``manager.pluggy.trace.root.setwriter(print)``, ``enable_tracing()``,
        ``add_hookcall_monitoring(before, after)``)."""
        return self._pm

    # -- registration --------------------------------------------------------

    def add_hookspecs(self, module_or_class: Any) -> None:
        """Add a feature's hook specifications (from its ``register_hookspecs``)."""
        with self._lock:
            self._pm.add_hookspecs(module_or_class)
            self._views.clear()

    def register(
        self, plugin: ModuleType | object, info: PluginInfo | None = None, *, check: bool = True
    ) -> str:
        """Register a plugin object; returns its name.

        ``info`` defaults to the object's ``PLUGIN`` attribute. Registering a
        second plugin under a taken name is an error: replacing a built-in means
        disabling it (or not installing it) and registering yours under your name.
        With ``check`` (the default) a hook that no registered plugin specifies is
        refused at once; :meth:`load_entrypoints` defers that check to
        :meth:`check_pending`, since a feature's specs may come from a plugin
        loaded later.
        """
        info = info or getattr(plugin, "PLUGIN", None)
        if info is None:
            name = getattr(plugin, "__name__", type(plugin).__name__).rsplit(".", 1)[-1]
            info = PluginInfo(name=name)
        if not isinstance(info, PluginInfo):
            raise PluginError(str(info), "PLUGIN must be a guidepath.core.plugins.PluginInfo")
        with self._lock:
            if info.name in self._infos:
                raise PluginError(info.name, "a plugin with this name is already registered")
            proxy = isolated_plugin(plugin, info.name)
            self._refuse_wrappers(info.name, proxy)
            self._pm.register(proxy, name=info.name)
            if check:
                try:
                    self._check_known_hooks(info.name)
                except PluginError:
                    self._pm.unregister(name=info.name)
                    raise
            self._infos[info.name] = info
            self._views.clear()
            self.generation += 1
        return info.name

    @staticmethod
    def _refuse_wrappers(name: str, proxy: IsolatedPlugin) -> None:
        """Hook wrappers would wrap each plugin's call on its own (isolation calls
        them one by one), which is not what a wrapper means: refuse them by name."""
        for attr, value in vars(proxy).items():
            if attr == "original":
                continue
            opts = getattr(value, PROJECT_NAME + "_impl", None)
            if isinstance(opts, dict) and (opts.get("hookwrapper") or opts.get("wrapper")):
                raise PluginError(name, f"hook wrappers are not supported ({attr})")

    def _check_known_hooks(self, name: str) -> None:
        """A misspelt hook (``regster_routes``) would otherwise never be called."""
        for caller in self._pm.get_hookcallers(self._pm.get_plugin(name)) or []:
            if caller.spec is not None:
                continue
            for impl in caller.get_hookimpls():
                if impl.plugin_name == name and not impl.optionalhook:
                    raise PluginError(name, f"implements {caller.name!r}, which is not a guidepath hook (a typo?)")

    def unregister(self, name: str) -> None:
        with self._lock:
            self._pm.unregister(name=name)
            self._infos.pop(name, None)
            self._views.clear()
            self.generation += 1

    def load_entrypoints(self, group: str = ENTRY_POINT_GROUP, skip: Iterable[str] = ()) -> None:
        """Load every installed plugin; one that fails to import is logged and skipped.

        Call :meth:`check_pending` afterwards (the kernel does): hooks are checked
        against their specs once every plugin had the chance to add its own.
        """
        skipped = set(skip)
        for ep in sorted(importlib.metadata.entry_points(group=group), key=lambda e: e.name):
            if ep.name in skipped or self.has(ep.name):
                continue
            try:
                module = ep.load()
                info = getattr(module, "PLUGIN", None) or PluginInfo(
                    name=ep.name, version=_dist_version(ep)
                )
                self.register(module, info, check=False)
            except Exception as exc:  # noqa: BLE001 - any plugin bug must not stop the host
                log.error(
                    "plugin failed to load and was skipped",
                    extra={"plugin": ep.name, "error": repr(exc)},
                    exc_info=True,
                )
                self.load_failures.append(LoadFailure(ep.name, repr(exc)))

    def check_pending(self) -> None:
        """Fail loudly, naming the plugin, when a hook it implements has no spec.

        pytest and tox run this after loading their plugins. An implementation of
        another feature's hook that may be absent says ``@hookimpl(optionalhook=True)``.
        """
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as exc:
            name = self._pm.get_name(exc.plugin) or getattr(exc.plugin, "__name__", "?")
            found = re.search(r"unknown hook '([^']+)'", str(exc))
            hook = found.group(1) if found else str(exc)
            raise PluginError(name, f"implements {hook!r}, which is not a guidepath hook (a typo?)") from None

    # -- queries --------------------------------------------------------------

    def has(self, name: str) -> bool:
        return name in self._infos

    def info(self, name: str) -> PluginInfo:
        try:
            return self._infos[name]
        except KeyError:
            raise KeyError(f"unknown plugin {name!r}") from None

    def infos(self) -> list[PluginInfo]:
        return sorted(self._infos.values(), key=lambda i: i.name)

    def plugin(self, name: str) -> Any:
        """The plugin object as its author wrote it (``None`` if not registered)."""
        proxy = self._pm.get_plugin(name)
        return proxy.original if isinstance(proxy, IsolatedPlugin) else proxy

    def hook_names(self) -> list[str]:
        """The hooks of the contract (pluggy also keeps callers for unknown names)."""
        return sorted(
            n for n in dir(self._pm.hook)
            if not n.startswith("_") and getattr(self._pm.hook, n).spec is not None
        )

    def hook_specs(self) -> dict[str, Any]:
        """Each hook's name → its spec function (docs are generated from these)."""
        return {name: getattr(self._pm.hook, name).spec.function for name in self.hook_names()}

    # -- calling --------------------------------------------------------------

    @property
    def all(self) -> TenantHooks:
        """Hooks reaching every registered plugin (start-up hooks)."""
        return self.for_tenant(frozenset())

    def for_tenant(self, disabled: Iterable[str]) -> TenantHooks:
        """Hooks reaching only plugins not in ``disabled``; cached per disabled set."""
        key = frozenset(disabled)
        view = self._views.get(key)
        if view is None:
            with self._lock:
                view = self._views.get(key)
                if view is None:
                    remove = [self._pm.get_plugin(n) for n in key if self._pm.has_plugin(n)]
                    view = TenantHooks(self._pm, remove)
                    self._views[key] = view
        return view


def _dist_version(ep: importlib.metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return dist.version if dist is not None else "0.0.0"
