"""The ``diagnostics.collect`` action of a Guided Path: the diagnostics plugin answers it
from the session's device report (hook ``perform_action``), so the path decides on
what the device said without anybody typing it in."""

from __future__ import annotations

from typing import Any

import pytest

PATHS = "/api/v1/guided-paths"
RUNS = "/api/v1/runs"


def battery_path() -> dict[str, Any]:
    return {
        "schema_version": 1, "id": "battery-check", "title": "Battery check",
        "variables": {"report": {"type": "object", "default": {}}},
        "start": "collect",
        "steps": {
            "collect": {"type": "action", "action": "diagnostics.collect", "input": {"categories": ["battery"]},
                        "store_as": "report", "next": "decide", "on_error": "no_report"},
            "decide": {"type": "decision",
                       "branches": [{"when": {"===": [{"var": "vars.report.battery_health"}, "poor"]},
                                     "next": "worn"}],
                       "default": "fine"},
            "worn": {"type": "end", "outcome": "escalate", "message": "The battery is worn."},
            "fine": {"type": "end", "outcome": "resolved", "message": "The battery is fine."},
            "no_report": {"type": "end", "outcome": "unresolved", "message": "No report from the device."},
        },
    }


@pytest.fixture
def published(tenant) -> None:
    response = tenant.admin.post(f"{PATHS}/import", params={"publish": "true"}, json=battery_path())
    assert response.status_code in (200, 201), response.text


def start(tenant, session_id: str) -> dict[str, Any]:
    response = tenant.admin.post(RUNS, json={"path_key": "battery-check", "session_id": session_id})
    assert response.status_code == 201, response.text
    return response.json()


def test_the_devices_report_decides_the_path(tenant, published):
    session = tenant.admin.post("/api/v1/sessions", json={}).json()
    tenant.admin.put(f"/api/v1/sessions/{session['id']}/diagnostics",
                     json={"model": "Pixel 8", "extra": {"battery_health": "poor", "cycles": 1200}})
    run = start(tenant, session["id"])
    assert run["status"] == "completed" and run["outcome"] == "escalate"
    assert run["variables"]["report"]["battery_health"] == "poor"
    assert run["variables"]["report"]["model"] == "Pixel 8"
    completed = [h for h in run["history"] if h["step_id"] == "collect" and h["event"] == "completed"]
    assert len(completed) == 1


def test_no_report_yet_takes_the_error_branch(tenant, published):
    session = tenant.admin.post("/api/v1/sessions", json={}).json()
    run = start(tenant, session["id"])
    assert run["outcome"] == "unresolved" and run["variables"]["report"] == {}


def test_with_diagnostics_disabled_the_run_waits_for_a_host_to_report(tenant, published):
    session = tenant.admin.post("/api/v1/sessions", json={}).json()
    assert tenant.admin.put("/api/v1/plugins/diagnostics", json={"enabled": False}).status_code == 200
    tenant.kernel.forget_plugin_states(tenant.id)
    run = start(tenant, session["id"])
    assert run["status"] == "waiting_action" and run["view"]["action"] == "diagnostics.collect"
    done = tenant.admin.post(f"{RUNS}/{run['id']}/actions/collect",
                             json={"result": {"battery_health": "good"}}).json()
    assert done["outcome"] == "resolved"
