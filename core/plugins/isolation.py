"""Failure isolation between plugins, inside pluggy's own call path.

pluggy's call loop (``HookCaller.__call__`` → ``_hookexec`` → ``_multicall``) stops
at the first implementation that raises. We promise the opposite: a plugin that
raises is logged with its name and *skipped*, and the plugins after it still
answer. Rewriting pluggy's loop would lose what it gives for free (argument
checks, ``firstresult``, call order, ``add_hookcall_monitoring`` and tracing), so
we keep the loop and guard each implementation instead:

* :func:`isolated_plugin` registers, in place of a plugin object, a proxy whose
  hook functions are wrapped by :func:`_guard`. pluggy reads the wrappers'
  signatures through ``__wrapped__`` and their ``guidepath_impl`` options through
  the copied ``__dict__``, so it sees exactly the plugin's own hooks.
* A guard that catches an exception logs it, returns ``None`` (pluggy then moves
  on, and a ``firstresult`` hook asks the next plugin) and notes the failure in
  the :class:`CallRecord` of the call in progress, so the caller can decide
  whether the failure matters (an event is retried; start-up stops).
* Exceptions of the record's ``passthrough`` types are a plugin's deliberate
  answer (a refusal with a reason) and propagate as they are.

Must not import Flask, the web package or any plugin.
"""

from __future__ import annotations

import contextvars
import functools
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from .markers import PROJECT_NAME

log = logging.getLogger("guidepath.plugins")

_IMPL_ATTR = PROJECT_NAME + "_impl"


class PluginError(RuntimeError):
    """A plugin failed; the message names it."""

    def __init__(self, plugin: str, message: str) -> None:
        super().__init__(f"plugin {plugin!r}: {message}")
        self.plugin = plugin


@dataclass(slots=True)
class CallRecord:
    """What happened during one hook call, plugin by plugin."""

    hook: str
    passthrough: tuple[type[BaseException], ...] = ()
    #: ``(plugin_name, result)`` for every implementation that returned non-None.
    answers: list[tuple[str, Any]] = field(default_factory=list)
    #: One :class:`PluginError` per implementation that raised (and was skipped).
    failures: list[PluginError] = field(default_factory=list)


_current: contextvars.ContextVar[CallRecord | None] = contextvars.ContextVar(
    "guidepath_hook_call", default=None
)


def recorded_call(caller: Callable[..., Any], record: CallRecord, kwargs: dict[str, Any]) -> CallRecord:
    """Call ``caller(**kwargs)`` (a pluggy hook caller) with ``record`` noting what
    each plugin does; returns the record.

    Nested hook calls (a plugin calling a hook while answering one) get their own
    record; the outer one is restored afterwards. (A plain function rather than a
    context manager: this is on every request's path.)
    """
    token = _current.set(record)
    try:
        caller(**kwargs)
    finally:
        _current.reset(token)
    return record


def _guard(function: Callable[..., Any], plugin_name: str, hook_name: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        record = _current.get()
        try:
            result = function(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - one plugin's bug must not stop the others
            if record is not None and record.hook == hook_name and isinstance(exc, record.passthrough):
                raise
            log.error(
                "plugin hook failed; the plugin was skipped",
                extra={"plugin": plugin_name, "hook": hook_name, "error": repr(exc)},
                exc_info=True,
            )
            if record is not None and record.hook == hook_name:
                record.failures.append(PluginError(plugin_name, f"{hook_name} failed: {exc!r}"))
            return None
        if result is not None and record is not None and record.hook == hook_name:
            record.answers.append((plugin_name, result))
        return result

    return guarded


class IsolatedPlugin:
    """The object pluggy holds for a plugin: its hook functions, each guarded.

    ``original`` is the plugin object the partner wrote (a module, usually).
    Compared and hashed by identity, as pluggy expects of plugin objects.
    """

    def __init__(self, original: Any) -> None:
        self.original = original

    def __repr__(self) -> str:
        return f"<guarded {self.original!r}>"


def isolated_plugin(plugin: Any, plugin_name: str) -> IsolatedPlugin:
    """A proxy of ``plugin`` whose ``@hookimpl`` functions are guarded."""
    proxy = IsolatedPlugin(original=plugin)
    for attr in dir(plugin):
        if attr.startswith("__"):
            continue
        try:
            value = getattr(plugin, attr)
        except Exception:  # noqa: BLE001 - a property that raises is not a hook
            continue
        opts = getattr(value, _IMPL_ATTR, None) if callable(value) else None
        if isinstance(opts, dict):
            setattr(proxy, attr, _guard(value, plugin_name, opts.get("specname") or attr))
    return proxy
