"""Hook call overhead: a tenant's hook call through guidepath's plugin manager
against the same call through a bare pluggy manager, in one run.

Both managers hold the same five plugins implementing ``session_capabilities``
(the hook the agent console calls for every session it shows); the tenant has
one of them disabled. Ours goes through ``for_tenant(...)`` (pluggy's
``subset_hook_caller``), the guarded implementations and the per-call record; the
peer is pluggy's own ``subset_hook_caller`` on the raw plugins, no isolation. The
ratio is ours / pluggy in nanoseconds per call (lower is better; the isolation's
price). Pure Python, no services.

    .venv/bin/python benchmarks/plugins/bench_hooks.py          # 7 repeats x 200,000 calls
    QUICK=1 .venv/bin/python benchmarks/plugins/bench_hooks.py  # 5 repeats x 20,000 calls

Last line: ``RESULT bench=plugins ours_ns=… pluggy_ns=… ratio=…``.
"""

from __future__ import annotations

import os
import timeit

import pluggy

from guidepath.core import hookspecs
from guidepath.core.plugins import PluginInfo, PluginManager, hookimpl
from guidepath.core.plugins.markers import PROJECT_NAME

QUICK = bool(os.environ.get("QUICK"))
CALLS = 20_000 if QUICK else 200_000
REPEATS = 5 if QUICK else 7
SESSION = {"id": "ses_bench", "state": "active"}


def plugin(name: str):
    class Plugin:
        PLUGIN = PluginInfo(name=name)

        @hookimpl
        def session_capabilities(self, session):
            return [name] if session["state"] != "ended" else []

    return Plugin()


def main() -> None:
    plugins = {f"p{i}": plugin(f"p{i}") for i in range(5)}
    ours = PluginManager()
    theirs = pluggy.PluginManager(PROJECT_NAME)
    theirs.add_hookspecs(hookspecs)
    for name, obj in plugins.items():
        ours.register(obj)
        theirs.register(obj, name=name)

    view = ours.for_tenant({"p2"})
    subset = theirs.subset_hook_caller("session_capabilities", [plugins["p2"]])
    assert view.session_capabilities(None, SESSION) == ["p4", "p3", "p1", "p0"]
    assert [c for caps in subset(tenant=None, session=SESSION) for c in caps] == ["p4", "p3", "p1", "p0"]

    def ours_call():
        view.session_capabilities(None, SESSION)

    def pluggy_call():
        subset(tenant=None, session=SESSION)

    results = {"ours": [], "pluggy": []}
    for _ in range(REPEATS):  # alternate to cancel drift on a shared machine
        for label, fn in (("ours", ours_call), ("pluggy", pluggy_call)):
            results[label].append(timeit.timeit(fn, number=CALLS) / CALLS * 1e9)
    best = {label: min(times) for label, times in results.items()}
    for label, times in results.items():
        print(f"{label:7s} best {best[label]:8.0f} ns/call  (runs: {', '.join(f'{t:.0f}' for t in times)})")
    print(f"RESULT bench=plugins ours_ns={best['ours']:.0f} pluggy_ns={best['pluggy']:.0f} "
          f"calls={CALLS} ratio={best['ours'] / best['pluggy']:.2f}")


if __name__ == "__main__":
    main()
