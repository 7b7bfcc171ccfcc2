"""The plugin manager: tenant scoping, view caching, failure isolation, names,
typo detection, call order, loading from entry points, and one manager per app.

Plugins here are real pluggy plugins (objects with ``@hookimpl`` methods) and real
installed distributions (a ``.dist-info`` folder on ``sys.path``); the last tests
pin the order hooks are called in for a request, an event and an enable/disable on
the live app.
"""

from __future__ import annotations

import logging
import secrets
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pluggy
import pytest

from guidepath.core import hookspecs
from guidepath.core.config import Config
from guidepath.core.kernel import Kernel
from guidepath.core.plugins import PluginError, PluginInfo, PluginManager, hookimpl
from guidepath.core.plugins.markers import PROJECT_NAME

TENANT = object()  # the manager passes hook arguments through untouched
SESSION: dict[str, Any] = {"id": "ses_test", "state": "active", "device_id": None}


def capabilities(name: str, caps: list[str], calls: list[str] | None = None, **marks: bool) -> Any:
    """A plugin named ``name`` offering ``caps``; records its calls in ``calls``."""

    class Plugin:
        PLUGIN = PluginInfo(name=name)

        @hookimpl(**marks)
        def session_capabilities(self, session):
            if calls is not None:
                calls.append(name)
            return list(caps)

    return Plugin()


def events(name: str, calls: list[str], fail: bool = False) -> Any:
    """A plugin named ``name`` handling events; records them, or raises."""

    class Plugin:
        PLUGIN = PluginInfo(name=name)

        @hookimpl
        def handle_event(self, tenant, event):
            calls.append(name)
            if fail:
                raise RuntimeError(f"{name} cannot handle {event}")

    return Plugin()


def failing_capabilities(name: str) -> Any:
    class Plugin:
        PLUGIN = PluginInfo(name=name)

        @hookimpl
        def session_capabilities(self, session):
            return session["no_such_field"]

    return Plugin()


@pytest.fixture
def plugin_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Records of the ``guidepath.plugins`` logger, whether or not guidepath's JSON
    logging (which stops propagation to the root logger) has been configured."""
    logger = logging.getLogger("guidepath.plugins")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.DEBUG, logger="guidepath.plugins"):
            yield caplog
    finally:
        logger.removeHandler(caplog.handler)


def plugin_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    # With propagation on, the handler sees a record twice (here and at the root).
    unique = {id(r): r for r in caplog.records if r.name == "guidepath.plugins"}
    return list(unique.values())


# -- scoping to a tenant ----------------------------------------------------------------


def test_a_view_for_a_tenant_leaves_its_disabled_plugins_out():
    pm = PluginManager()
    calls: list[str] = []
    for name in ("a", "b", "c"):
        pm.register(capabilities(name, [f"cap_{name}"], calls))

    scoped = pm.for_tenant({"b"})

    assert scoped.session_capabilities(TENANT, SESSION) == ["cap_c", "cap_a"]
    assert calls == ["c", "a"]
    assert scoped.plugin_names("session_capabilities") == ["c", "a"]
    assert pm.all.session_capabilities(TENANT, SESSION) == ["cap_c", "cap_b", "cap_a"]
    # A name that is not registered (an uninstalled plugin's stored choice) is ignored.
    assert pm.for_tenant({"uninstalled"}).plugin_names("session_capabilities") == ["c", "b", "a"]


def test_disabling_every_implementation_leaves_an_empty_call():
    pm = PluginManager()
    pm.register(capabilities("a", ["cap_a"]))
    assert pm.for_tenant({"a"}).session_capabilities(TENANT, SESSION) == []
    assert pm.for_tenant({"a"}).call("session_capabilities", tenant=TENANT, session=SESSION).answers == []


def test_views_are_cached_by_the_set_of_disabled_plugins():
    pm = PluginManager()
    for name in ("a", "b"):
        pm.register(capabilities(name, [name]))

    view = pm.for_tenant(["b"])
    assert pm.for_tenant({"b"}) is view
    assert pm.for_tenant(("b", "b")) is view
    assert pm.for_tenant(["a"]) is not view
    assert pm.all is pm.for_tenant([])

    pm.register(capabilities("c", ["c"]))  # a new plugin invalidates every view
    fresh = pm.for_tenant(["b"])
    assert fresh is not view
    assert fresh.plugin_names("session_capabilities") == ["c", "a"]

    pm.unregister("c")
    assert pm.for_tenant(["b"]).plugin_names("session_capabilities") == ["a"]


# -- failure isolation ---------------------------------------------------------------------


def test_a_raising_plugin_is_logged_with_its_name_and_the_others_still_run(plugin_log):
    pm = PluginManager()
    calls: list[str] = []
    pm.register(capabilities("early", ["early"], calls))
    pm.register(failing_capabilities("broken"))
    pm.register(capabilities("late", ["late"], calls))

    caps = pm.all.session_capabilities(TENANT, SESSION)

    assert caps == ["late", "early"]
    assert calls == ["late", "early"]
    [record] = plugin_records(plugin_log)
    assert record.levelno == logging.ERROR
    assert record.plugin == "broken"
    assert record.hook == "session_capabilities"
    assert "no_such_field" in record.error
    assert record.exc_info is not None


def test_strict_handle_event_raises_a_plugin_error_naming_the_plugin_after_the_others_ran(plugin_log):
    pm = PluginManager()
    calls: list[str] = []
    pm.register(events("first", calls))
    pm.register(events("flaky", calls, fail=True))
    pm.register(events("last", calls))

    with pytest.raises(PluginError) as raised:
        pm.all.handle_event(TENANT, "evt_test", None)

    assert raised.value.plugin == "flaky"
    assert "'flaky'" in str(raised.value) and "handle_event" in str(raised.value)
    assert calls == ["last", "flaky", "first"]
    assert [r.plugin for r in plugin_records(plugin_log)] == ["flaky"]


def test_the_registration_hooks_are_strict_too():
    class BrokenRoutes:
        PLUGIN = PluginInfo(name="broken-routes")

        @hookimpl
        def register_routes(self):
            raise ImportError("flask_extra is not installed")

    pm = PluginManager()
    pm.register(BrokenRoutes())
    with pytest.raises(PluginError, match="broken-routes.*register_routes.*flask_extra"):
        pm.all.register_routes()


def tickets(name: str, calls: list[str], answer: Any = None, error: Exception | None = None) -> Any:
    """A plugin named ``name`` answering ``issue_relay_ticket`` (or raising ``error``)."""

    class Plugin:
        PLUGIN = PluginInfo(name=name)

        @hookimpl
        def issue_relay_ticket(self, kind):
            calls.append(name)
            if error is not None:
                raise error
            return answer

    return Plugin()


def ticket_args() -> dict[str, Any]:
    return {"tenant": TENANT, "session": SESSION, "kind": "camera", "role": "viewer",
            "principal": {"kind": "user"}, "ctx": None}


def test_a_first_answer_hook_stops_at_the_first_answer_through_pluggy():
    pm = PluginManager()
    calls: list[str] = []
    pm.register(tickets("never_asked", calls, answer={"ticket": "late"}))
    pm.register(tickets("answers", calls, answer={"ticket": "t1"}))
    pm.register(tickets("declines", calls))

    assert pm.all.issue_relay_ticket(**ticket_args()) == ("answers", {"ticket": "t1"})
    assert calls == ["declines", "answers"]
    assert pm.pluggy.hook.issue_relay_ticket.spec.opts["firstresult"] is True


def test_a_broken_plugin_does_not_stop_a_later_one_from_answering(plugin_log):
    pm = PluginManager()
    calls: list[str] = []
    pm.register(tickets("answers", calls, answer={"ticket": "t1"}))
    pm.register(tickets("broken", calls, error=KeyError("relay")))

    assert pm.all.issue_relay_ticket(**ticket_args()) == ("answers", {"ticket": "t1"})
    assert calls == ["broken", "answers"]
    assert [(r.plugin, r.hook) for r in plugin_records(plugin_log)] == [("broken", "issue_relay_ticket")]


def test_a_deliberate_refusal_reaches_the_caller_unchanged(plugin_log):
    from guidepath.core.domain.errors import Conflict

    pm = PluginManager()
    calls: list[str] = []
    pm.register(tickets("would_answer", calls, answer={"ticket": "t1"}))
    pm.register(tickets("refuses", calls, error=Conflict("the device left", field="kind")))

    with pytest.raises(Conflict, match="the device left"):
        pm.all.issue_relay_ticket(**ticket_args())
    assert calls == ["refuses"] and not plugin_records(plugin_log)


def test_pluggy_checks_the_arguments_of_a_call():
    """Calls go through pluggy's HookCaller: a missing argument is the caller's bug,
    named by pluggy, not a plugin's TypeError."""
    pm = PluginManager()
    pm.register(capabilities("a", ["a"]))
    with pytest.warns(UserWarning, match="'session'.*cannot be found"), \
            pytest.raises(pluggy.HookCallError, match="session"):
        pm.all.call("session_capabilities", tenant=TENANT)


def test_pluggy_tracing_sees_tenant_hook_calls():
    pm = PluginManager()
    for name in ("a", "b"):
        pm.register(capabilities(name, [name]))
    lines: list[str] = []
    pm.pluggy.trace.root.setwriter(lines.append)
    undo = pm.pluggy.enable_tracing()
    try:
        assert pm.for_tenant({"b"}).session_capabilities(TENANT, SESSION) == ["a"]
    finally:
        undo()
    traced = "".join(lines)
    assert "session_capabilities" in traced and "finish" in traced and "['a']" in traced


def test_hook_call_monitoring_sees_the_plugins_of_the_tenant_only():
    pm = PluginManager()
    for name in ("a", "b", "c"):
        pm.register(capabilities(name, [name]))
    seen: list[tuple[str, list[str]]] = []
    undo = pm.pluggy.add_hookcall_monitoring(
        lambda hook, impls, kwargs: seen.append((hook, [i.plugin_name for i in impls])),
        lambda outcome, hook, impls, kwargs: None,
    )
    try:
        pm.for_tenant({"b"}).session_capabilities(TENANT, SESSION)
    finally:
        undo()
    assert seen == [("session_capabilities", ["a", "c"])]


def test_the_plugin_object_is_the_one_its_author_wrote():
    pm = PluginManager()
    plugin = capabilities("a", ["a"])
    pm.register(plugin)
    assert pm.plugin("a") is plugin


# -- names and typos -----------------------------------------------------------------------


def test_a_second_plugin_with_a_taken_name_is_refused():
    pm = PluginManager()
    first, second = capabilities("hello", ["first"]), capabilities("hello", ["second"])
    pm.register(first)

    with pytest.raises(PluginError, match="already registered") as raised:
        pm.register(second)

    assert raised.value.plugin == "hello"
    assert pm.plugin("hello") is first
    assert pm.all.session_capabilities(TENANT, SESSION) == ["first"]


def test_a_plugin_without_plugin_info_is_named_after_itself():
    class Bare:
        @hookimpl
        def session_capabilities(self):
            return ["bare"]

    pm = PluginManager()
    assert pm.register(Bare()) == "Bare"
    assert pm.info("Bare") == PluginInfo(name="Bare")


class Typo:
    PLUGIN = PluginInfo(name="typo")

    @hookimpl
    def regster_routes(self):  # sic: the misspelling under test
        return []


def test_a_misspelt_hook_is_refused_at_registration_naming_plugin_and_hook():
    pm = PluginManager()
    pm.register(capabilities("fine", ["fine"]))

    with pytest.raises(PluginError, match="regster_routes.*typo") as raised:
        pm.register(Typo())

    assert raised.value.plugin == "typo"
    assert "'typo'" in str(raised.value)
    assert not pm.has("typo") and pm.plugin("typo") is None
    pm.check_pending()  # nothing of the refused plugin is left pending
    assert pm.all.session_capabilities(TENANT, SESSION) == ["fine"]


def test_a_refused_plugin_leaves_no_hook_behind():
    pm = PluginManager()
    with pytest.raises(PluginError):
        pm.register(Typo())
    assert "regster_routes" not in pm.hook_names()


@pytest.mark.parametrize("marks", [{"wrapper": True}, {"hookwrapper": True}])
def test_hook_wrappers_are_refused_with_a_clear_error(marks):
    # Each implementation is called on its own (failure isolation), so a wrapper
    # could never wrap anything: refused rather than silently misbehaving.
    class Wrapper:
        PLUGIN = PluginInfo(name="wrapper")

        @hookimpl(**marks)
        def session_capabilities(self, session):
            yield

    pm = PluginManager()
    with pytest.raises(PluginError, match="wrapper") as raised:
        pm.register(Wrapper())

    assert raised.value.plugin == "wrapper"
    assert not pm.has("wrapper")
    assert pm.all.session_capabilities(TENANT, SESSION) == []


# -- call order ------------------------------------------------------------------------------


def test_hooks_are_called_in_reverse_registration_order_like_pluggy():
    ours = PluginManager()
    theirs = pluggy.PluginManager(PROJECT_NAME)
    theirs.add_hookspecs(hookspecs)
    calls: list[str] = []
    for name in ("a", "b", "c"):
        plugin = capabilities(name, [name], calls)
        ours.register(plugin)
        theirs.register(plugin, name=name)

    pluggy_order = theirs.hook.session_capabilities(tenant=TENANT, session=SESSION)
    calls.clear()

    assert ours.all.plugin_names("session_capabilities") == ["c", "b", "a"]
    assert ours.all.call("session_capabilities", tenant=TENANT, session=SESSION).answers == [
        ("c", ["c"]), ("b", ["b"]), ("a", ["a"])]
    assert calls == ["c", "b", "a"]
    assert [caps for caps in pluggy_order] == [["c"], ["b"], ["a"]]


def test_tryfirst_and_trylast_are_honoured():
    pm = PluginManager()
    calls: list[str] = []
    pm.register(capabilities("first", ["first"], calls, tryfirst=True))
    pm.register(capabilities("middle", ["middle"], calls))
    pm.register(capabilities("last", ["last"], calls, trylast=True))

    assert pm.all.session_capabilities(TENANT, SESSION) == ["first", "middle", "last"]
    assert calls == ["first", "middle", "last"]


def test_merged_capabilities_keep_call_order_without_duplicates():
    pm = PluginManager()
    pm.register(capabilities("a", ["camera", "chat"]))
    pm.register(capabilities("b", ["remote_control", "camera"]))
    assert pm.all.session_capabilities(TENANT, SESSION) == ["remote_control", "camera", "chat"]


# -- loading from entry points ----------------------------------------------------------------


class Distribution:
    """A real installed distribution: a ``.dist-info`` with ``entry_points.txt`` and
    top-level modules, in a folder put on ``sys.path`` for one test."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.suffix = secrets.token_hex(4)
        self.group = f"guidepath.test_plugins_{self.suffix}"  # only this test's plugins
        self.modules: list[str] = []
        self._monkeypatch = monkeypatch

    def module(self, stem: str, source: str) -> str:
        name = f"{stem}_{self.suffix}"
        (self.root / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        self.modules.append(name)
        return name

    def install(self, entry_points: dict[str, str], version: str = "1.2.3") -> None:
        dist_info = self.root / f"gp_test_plugins_{self.suffix}-{version}.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: gp-test-plugins-{self.suffix}\nVersion: {version}\n", encoding="utf-8")
        lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
        (dist_info / "entry_points.txt").write_text(f"[{self.group}]\n{lines}", encoding="utf-8")
        self._monkeypatch.syspath_prepend(str(self.root))  # also invalidates import caches

    def forget(self) -> None:
        for name in self.modules:
            sys.modules.pop(name, None)


@pytest.fixture
def distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Distribution]:
    dist = Distribution(tmp_path, monkeypatch)
    yield dist
    dist.forget()


GOOD_PLUGIN = """
    from guidepath.core.plugins import PluginInfo, hookimpl

    PLUGIN = PluginInfo(name="good", version="2.0.0")

    @hookimpl
    def session_capabilities(session):
        return ["good"]
"""


def test_load_entrypoints_skips_a_plugin_that_fails_to_import_and_names_it(distribution, plugin_log):
    good = distribution.module("good", GOOD_PLUGIN)
    broken = distribution.module("broken", """
        import guidepath_test_dependency_that_is_not_installed
    """)
    bare = distribution.module("bare", """
        from guidepath.core.plugins import hookimpl

        @hookimpl
        def session_capabilities():
            return ["bare"]
    """)
    distribution.install({"good": good, "broken": broken, "bare": bare})

    pm = PluginManager()
    pm.load_entrypoints(group=distribution.group)

    assert [i.name for i in pm.infos()] == ["bare", "good"]
    assert pm.info("good").version == "2.0.0"
    assert pm.info("bare").version == "1.2.3"  # no PLUGIN: the distribution's version
    assert [f.name for f in pm.load_failures] == ["broken"]
    assert "guidepath_test_dependency_that_is_not_installed" in pm.load_failures[0].error
    [record] = plugin_records(plugin_log)
    assert record.plugin == "broken"
    assert record.exc_info is not None
    # Loaded in entry-point name order, so called in the reverse of it.
    assert pm.all.session_capabilities(TENANT, SESSION) == ["good", "bare"]


def test_load_entrypoints_skips_what_it_is_told_to_skip(distribution):
    good = distribution.module("good", GOOD_PLUGIN)
    distribution.install({"good": good})

    pm = PluginManager()
    pm.load_entrypoints(group=distribution.group, skip=["good"])

    assert not pm.has("good")
    assert sys.modules.get(good) is None  # a skipped plugin is never imported


def test_a_second_plugin_with_a_taken_name_is_a_load_failure(distribution):
    good = distribution.module("good", GOOD_PLUGIN)
    impostor = distribution.module("impostor", GOOD_PLUGIN)
    distribution.install({"good": good, "impostor": impostor})

    pm = PluginManager()
    pm.load_entrypoints(group=distribution.group)

    assert pm.plugin("good").__name__ == good
    assert [f.name for f in pm.load_failures] == ["impostor"]
    assert "already registered" in pm.load_failures[0].error


def test_a_misspelt_hook_stops_start_up_after_loading_and_names_the_plugin(distribution):
    good = distribution.module("good", GOOD_PLUGIN)
    typo = distribution.module("typo", """
        from guidepath.core.plugins import PluginInfo, hookimpl

        PLUGIN = PluginInfo(name="typo")

        @hookimpl
        def regster_routes():
            return []
    """)
    distribution.install({"good": good, "typo": typo})

    pm = PluginManager()
    pm.load_entrypoints(group=distribution.group)  # a feature's specs may come later

    with pytest.raises(PluginError, match="'typo'.*'regster_routes'.*typo") as raised:
        pm.check_pending()
    assert raised.value.plugin == "typo"


def test_a_kernel_refuses_to_start_with_a_misspelt_hook(distribution, tmp_path):
    typo = distribution.module("typo_kernel", """
        from guidepath.core.plugins import PluginInfo, hookimpl

        PLUGIN = PluginInfo(name="typo_kernel")

        @hookimpl
        def handle_evnt(event):
            pass
    """)
    distribution.install({"typo_kernel": typo})
    pm = PluginManager()
    pm.load_entrypoints(group=distribution.group)
    with pytest.raises(PluginError, match="typo_kernel.*handle_evnt"):
        Kernel(Config(data_dir=tmp_path), plugins=pm, load_entrypoints=False)


def test_an_optional_hook_of_an_absent_feature_loads(distribution):
    """A plugin implementing a Guided Paths hook loads when Guided Paths is absent."""
    extra = distribution.module("extra", """
        from guidepath.core.plugins import PluginInfo, hookimpl

        PLUGIN = PluginInfo(name="extra")

        @hookimpl(optionalhook=True)
        def register_step_types():
            return []
    """)
    distribution.install({"extra": extra})
    pm = PluginManager()
    pm.load_entrypoints(group=distribution.group)
    pm.check_pending()
    assert pm.has("extra")


# -- one manager per application ------------------------------------------------------------


def test_two_managers_do_not_share_plugins():
    one, two = PluginManager(), PluginManager()
    shared = capabilities("shared", ["shared"])

    one.register(shared)
    assert one.has("shared") and not two.has("shared")
    assert two.all.session_capabilities(TENANT, SESSION) == []

    two.register(shared)  # the same module or object may serve several apps
    one.unregister("shared")
    assert not one.has("shared")
    assert one.all.session_capabilities(TENANT, SESSION) == []
    assert two.all.session_capabilities(TENANT, SESSION) == ["shared"]


# -- the order hooks are called in on the live app -------------------------------------------


class Recorder:
    """A plugin that records the calls of the hooks under test into a shared list."""

    def __init__(self, name: str, calls: list[tuple[Any, ...]], tenant_id: Callable[[], str | None]) -> None:
        self.PLUGIN = PluginInfo(name=name)
        self._calls = calls
        self._tenant_id = tenant_id

    @hookimpl
    def session_capabilities(self, tenant, session):
        if tenant.id == self._tenant_id():
            self._calls.append(("session_capabilities", self.PLUGIN.name))
            return [f"cap_{self.PLUGIN.name}", "shared"]
        return None

    @hookimpl
    def handle_event(self, tenant, event):
        if tenant.id == self._tenant_id() and event.type == "session.state_changed":
            self._calls.append(("handle_event", self.PLUGIN.name, event.id))

    @hookimpl
    def plugin_settings_changed(self, tenant, plugin_name, enabled):
        if tenant.id == self._tenant_id():
            self._calls.append(("plugin_settings_changed", self.PLUGIN.name, plugin_name, enabled))


@pytest.fixture
def recorders(register_plugin) -> tuple[list[tuple[Any, ...]], Callable[[str], None]]:
    """Two recording plugins, ``rec-one`` registered before ``rec-two``; they record
    calls for the tenant passed to the returned ``watch`` function only."""
    calls: list[tuple[Any, ...]] = []
    watched: list[str] = []

    def current() -> str | None:
        return watched[-1] if watched else None

    register_plugin(Recorder("rec-one", calls, current))
    register_plugin(Recorder("rec-two", calls, current))
    return calls, watched.append


def test_order_for_a_request_the_last_registered_plugin_first(recorders, tenant_factory):
    calls, watch = recorders
    tenant = tenant_factory()
    watch(tenant.id)

    session = tenant.admin.post("/api/v1/sessions", json={})

    assert session.status_code == 201, session.text
    ours = [c for c in session.json()["capabilities"] if c in ("cap_rec-one", "cap_rec-two", "shared")]
    assert ours == ["cap_rec-two", "shared", "cap_rec-one"]
    assert calls == [("session_capabilities", "rec-two"), ("session_capabilities", "rec-one")]


def test_order_for_an_event_the_last_registered_plugin_first(recorders, tenant_factory):
    calls, watch = recorders
    tenant = tenant_factory()
    watch(tenant.id)
    session = tenant.admin.post("/api/v1/sessions", json={}).json()
    calls.clear()

    changed = tenant.admin.post(f"/api/v1/sessions/{session['id']}/state", json={"state": "waiting"})
    assert changed.status_code == 200

    deadline = time.monotonic() + 120  # outbox, bus; a new Kafka topic is found late
    while len([c for c in calls if c[0] == "handle_event"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    handled = [c for c in calls if c[0] == "handle_event"]
    assert [c[1] for c in handled[:2]] == ["rec-two", "rec-one"]
    assert handled[0][2] == handled[1][2]  # the same event


def test_order_for_a_disable_and_an_enable(recorders, tenant_factory):
    calls, watch = recorders
    tenant = tenant_factory()
    watch(tenant.id)

    disabled = tenant.admin.put("/api/v1/plugins/rec-one", json={"enabled": False})
    assert disabled.status_code == 200, disabled.text
    # The plugins still enabled hear first; the plugin just disabled hears last, alone.
    assert calls == [
        ("plugin_settings_changed", "rec-two", "rec-one", False),
        ("plugin_settings_changed", "rec-one", "rec-one", False),
    ]

    calls.clear()
    assert tenant.admin.put("/api/v1/plugins/rec-one", json={"enabled": True}).status_code == 200
    assert calls == [
        ("plugin_settings_changed", "rec-two", "rec-one", True),
        ("plugin_settings_changed", "rec-one", "rec-one", True),
    ]

    # A disabled plugin is out of the tenant's calls altogether.
    calls.clear()
    assert tenant.admin.put("/api/v1/plugins/rec-two", json={"enabled": False}).status_code == 200
    calls.clear()
    tenant.admin.post("/api/v1/sessions", json={})
    assert calls == [("session_capabilities", "rec-one")]
