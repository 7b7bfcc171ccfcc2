"""Hook ``perform_action``: a plugin that can do an action step's work completes it at
once; one that answers badly or raises leaves the run waiting, as if nobody could."""

from __future__ import annotations

from typing import Any

import pytest

from guidepath.core.plugins import PluginInfo, hookimpl

from fixtures_api import RUNS, published


class Actions:
    PLUGIN = PluginInfo(name="test_actions", default_enabled=True)

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any, str]] = []

    @hookimpl
    def perform_action(self, action, action_input, run):
        self.seen.append((action, action_input, run["id"]))
        if action == "test.echo":
            return {"ok": True, "result": {"echo": action_input}}
        if action == "test.bad":
            return {"ok": "yes"}
        if action == "test.raises":
            raise RuntimeError("boom")
        return None


@pytest.fixture
def actions(register_plugin) -> Actions:
    plugin = Actions()
    register_plugin(plugin)
    return plugin


def two_actions(first: str, second: str) -> dict[str, Any]:
    return {
        "schema_version": 1, "id": f"{first}-{second}".replace(".", "-"), "title": "Actions",
        "variables": {"a": {"type": "object", "default": {}}, "b": {"type": "object", "default": {}}},
        "start": "one",
        "steps": {
            "one": {"type": "action", "action": first, "input": {"n": 1}, "store_as": "a", "next": "two"},
            "two": {"type": "action", "action": second, "input": {"n": 2}, "store_as": "b", "next": "end"},
            "end": {"type": "end", "outcome": "resolved"},
        },
    }


def test_actions_a_plugin_performs_complete_in_the_same_request(tenant, actions):
    published(tenant.admin, two_actions("test.echo", "test.echo"))
    run = tenant.admin.post(RUNS, json={"path_key": "test-echo-test-echo"}).json()
    assert run["outcome"] == "resolved"
    assert run["variables"] == {"a": {"echo": {"n": 1}}, "b": {"echo": {"n": 2}}}
    assert [s[:2] for s in actions.seen] == [("test.echo", {"n": 1}), ("test.echo", {"n": 2})]


@pytest.mark.parametrize("second", ["test.bad", "test.raises", "test.unknown"])
def test_a_bad_answer_or_a_failure_leaves_the_run_waiting(tenant, actions, second):
    published(tenant.admin, two_actions("test.echo", second))
    run = tenant.admin.post(RUNS, json={"path_key": f"test-echo-{second.replace('.', '-')}"}).json()
    assert run["status"] == "waiting_action" and run["view"]["step_id"] == "two"
    assert run["variables"]["a"] == {"echo": {"n": 1}} and run["variables"]["b"] == {}
    done = tenant.admin.post(f"{RUNS}/{run['id']}/actions/two", json={"result": {"by": "host"}}).json()
    assert done["outcome"] == "resolved" and done["variables"]["b"] == {"by": "host"}
