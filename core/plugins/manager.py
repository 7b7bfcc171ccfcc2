"""The application's plugin manager.

One instance per application (never a module global: several apps in one process,
as in tests, must not leak plugins into each other). Hook calls for a tenant go
through :meth:`PluginManager.for_tenant`, which uses pluggy's
``subset_hook_caller`` — the mechanism pytest uses to scope ``conftest.py``
plugins to a directory — so a disabled plugin is simply not in the call.
"""

from __future__ import annotations

import importlib.metadata
import logging
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Iterable

import pluggy

from .. import hookspecs
from .info import PluginInfo
from .markers import PROJECT_NAME

log = logging.getLogger("guidepath.plugins")

ENTRY_POINT_GROUP = "guidepath.plugins"


class PluginError(RuntimeError):
    """A plugin failed; the message names it."""

    def __init__(self, plugin: str, message: str) -> None:
        super().__init__(f"plugin {plugin!r}: {message}")
        self.plugin = plugin


@dataclass(frozen=True)
class LoadFailure:
    name: str
    error: str


class PluginManager:
    """Registers plugins and hands out tenant-scoped hook callers."""

    def __init__(self) -> None:
        self._pm = pluggy.PluginManager(PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._infos: dict[str, PluginInfo] = {}
        self._views: dict[frozenset[str], TenantHooks] = {}
        self._lock = threading.Lock()
        self.load_failures: list[LoadFailure] = []
        #: Bumped on every (un)registration so caches keyed on the plugin set expire.
        self.generation = 0

    # -- registration --------------------------------------------------------

    def register(self, plugin: ModuleType | object, info: PluginInfo | None = None) -> str:
        """Register a plugin object; returns its name.

        ``info`` defaults to the object's ``PLUGIN`` attribute. Registering a
        second plugin under a taken name is an error: replacing a built-in means
        disabling it (or not installing it) and registering yours under your name.
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
            self._pm.register(plugin, name=info.name)
            try:
                self._check_plugin(info.name)
            except PluginError:
                self._pm.unregister(name=info.name)
                raise
            self._infos[info.name] = info
            self._views.clear()
            self.generation += 1
        return info.name

    def _check_plugin(self, name: str) -> None:
        """Refuse a plugin whose hooks cannot work here, naming it.

        A misspelled hook (``regster_routes``) would otherwise be silently never
        called; a hook wrapper would be called as a plain function by
        :meth:`TenantHooks.call`, which isolates plugins one by one.
        """
        for impl in self._pm.get_hookcallers(self._pm.get_plugin(name)) or []:
            for hookimpl in impl.get_hookimpls():
                if hookimpl.plugin_name == name and (hookimpl.hookwrapper or hookimpl.wrapper):
                    raise PluginError(name, f"hook wrappers are not supported ({impl.name})")
        for hook_name in dir(self._pm.hook):
            if hook_name.startswith("_"):
                continue
            caller = getattr(self._pm.hook, hook_name)
            if caller.spec is None and any(i.plugin_name == name for i in caller.get_hookimpls()):
                raise PluginError(name, f"implements {hook_name!r}, which is not a guidepath hook (a typo?)")

    def unregister(self, name: str) -> None:
        with self._lock:
            self._pm.unregister(name=name)
            self._infos.pop(name, None)
            self._views.clear()
            self.generation += 1

    def load_entrypoints(self, group: str = ENTRY_POINT_GROUP, skip: Iterable[str] = ()) -> None:
        """Load every installed plugin; one that fails to import is logged and skipped."""
        skipped = set(skip)
        for ep in sorted(importlib.metadata.entry_points(group=group), key=lambda e: e.name):
            if ep.name in skipped or self.has(ep.name):
                continue
            try:
                module = ep.load()
                info = getattr(module, "PLUGIN", None) or PluginInfo(
                    name=ep.name, version=_dist_version(ep)
                )
                self.register(module, info)
            except Exception as exc:  # noqa: BLE001 - any plugin bug must not stop the host
                log.error(
                    "plugin failed to load and was skipped",
                    extra={"plugin": ep.name, "error": repr(exc)},
                    exc_info=True,
                )
                self.load_failures.append(LoadFailure(ep.name, repr(exc)))

    def check_pending(self) -> None:
        """Fail loudly when a plugin implements a hook that does not exist (a typo).

        :meth:`register` already refuses such plugins one by one, naming them; this
        is the whole-manager check pytest and tox run after loading.
        """
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as exc:
            name = self._pm.get_name(exc.plugin) or getattr(exc.plugin, "__name__", "?")
            raise PluginError(name, str(exc)) from None

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
        return self._pm.get_plugin(name)

    def hook_names(self) -> list[str]:
        """The hooks of the contract (pluggy also keeps callers for unknown names)."""
        return sorted(
            n for n in dir(self._pm.hook)
            if not n.startswith("_") and getattr(self._pm.hook, n).spec is not None
        )

    # -- calling --------------------------------------------------------------

    @property
    def all(self) -> "TenantHooks":
        """Hooks reaching every registered plugin (start-up hooks)."""
        return self.for_tenant(frozenset())

    def for_tenant(self, disabled: Iterable[str]) -> "TenantHooks":
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


class TenantHooks:
    """Typed facade over a (possibly subset) hook relay with per-plugin isolation.

    Each implementation is called on its own so that one plugin raising cannot stop
    the others; the error is logged with the plugin's name and returned to the
    caller in ``errors`` where it matters.
    """

    def __init__(self, pm: pluggy.PluginManager, remove: list[Any]) -> None:
        self._pm = pm
        self._remove = remove
        self._callers: dict[str, Any] = {}

    def _caller(self, name: str) -> Any:
        caller = self._callers.get(name)
        if caller is None:
            full = getattr(self._pm.hook, name)
            caller = self._pm.subset_hook_caller(name, self._remove) if self._remove else full
            self._callers[name] = caller
        return caller

    def plugin_names(self, hook: str) -> list[str]:
        """Names of the plugins that implement ``hook`` in this view, in call order."""
        impls = self._caller(hook).get_hookimpls()
        return [impl.plugin_name for impl in reversed(impls)]

    def call(self, hook: str, *, strict: bool = False, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call ``hook`` on each plugin; returns ``(plugin_name, result)`` pairs.

        Results that are ``None`` are left out. With ``strict`` a failure is raised
        as :class:`PluginError` (after the others ran); otherwise it is logged.
        """
        results: list[tuple[str, Any]] = []
        failure: PluginError | None = None
        for impl in reversed(self._caller(hook).get_hookimpls()):
            args = {name: kwargs[name] for name in impl.argnames if name in kwargs}
            try:
                result = impl.function(**args)
            except Exception as exc:  # noqa: BLE001 - isolate plugin bugs
                log.error(
                    "plugin hook failed",
                    extra={"plugin": impl.plugin_name, "hook": hook, "error": repr(exc)},
                    exc_info=True,
                )
                failure = failure or PluginError(impl.plugin_name, f"{hook} failed: {exc!r}")
                continue
            if result is not None:
                results.append((impl.plugin_name, result))
        if strict and failure is not None:
            raise failure
        return results

    # -- the typed hooks the kernel calls ------------------------------------

    def register_routes(self) -> list[tuple[str, Any]]:
        return [(name, bp) for name, bps in self.call("register_routes", strict=True) for bp in bps]

    def register_event_types(self) -> list[tuple[str, Any]]:
        return [(n, et) for n, ets in self.call("register_event_types", strict=True) for et in ets]

    def register_migrations(self) -> list[str]:
        return [str(path) for _, paths in self.call("register_migrations", strict=True) for path in paths]

    def register_cli_commands(self, cli: Any) -> None:
        self.call("register_cli_commands", cli=cli)

    def app_started(self, app: Any) -> None:
        self.call("app_started", app=app)

    def register_workers(self, kernel: Any) -> list[tuple[str, Any]]:
        """``(plugin_name, worker)`` pairs; a plugin whose hook raised has none."""
        return [(name, w) for name, workers in self.call("register_workers", kernel=kernel) for w in workers]

    def tenant_created(self, tenant: Any, ctx: Any) -> None:
        self.call("tenant_created", tenant=tenant, ctx=ctx)

    def plugin_settings_changed(
        self, tenant: Any, plugin_name: str, enabled: bool, settings: dict[str, Any], ctx: Any
    ) -> None:
        self.call(
            "plugin_settings_changed",
            tenant=tenant, plugin_name=plugin_name, enabled=enabled, settings=settings, ctx=ctx,
        )

    def session_capabilities(self, tenant: Any, session: dict[str, Any]) -> list[str]:
        merged: list[str] = []
        for _, caps in self.call("session_capabilities", tenant=tenant, session=session):
            merged.extend(c for c in caps if c not in merged)
        return merged

    def first_answer(self, hook: str, *, passthrough: tuple[type[BaseException], ...] = (),
                     **kwargs: Any) -> tuple[str, Any] | None:
        """``(plugin_name, result)`` of the first plugin that answers (not None).

        Exceptions of the ``passthrough`` types are the plugin's deliberate
        refusal and reach the caller as they are; anything else is a plugin bug,
        logged with the plugin's name and raised as :class:`PluginError`.
        """
        for impl in reversed(self._caller(hook).get_hookimpls()):
            args = {name: kwargs[name] for name in impl.argnames if name in kwargs}
            try:
                result = impl.function(**args)
            except passthrough:
                raise
            except Exception as exc:  # noqa: BLE001 - name the plugin, hide the trace from callers
                log.error("plugin hook failed",
                          extra={"plugin": impl.plugin_name, "hook": hook, "error": repr(exc)}, exc_info=True)
                raise PluginError(impl.plugin_name, f"{hook} failed: {exc!r}") from exc
            if result is not None:
                return impl.plugin_name, result
        return None

    def handle_event(self, tenant: Any, event: Any, ctx: Any) -> None:
        """Raises :class:`PluginError` if any plugin failed, so the event is retried."""
        self.call("handle_event", strict=True, tenant=tenant, event=event, ctx=ctx)


def _dist_version(ep: importlib.metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return dist.version if dist is not None else "0.0.0"
