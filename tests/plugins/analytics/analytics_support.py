"""Shared steps of the analytics tests."""

from __future__ import annotations

import secrets
import time
from typing import Any, Callable

from sqlalchemy import select

from guidepath.core.plugin_api import Event
from guidepath.plugins.analytics import plugin
from guidepath.plugins.analytics.tables import TABLES

A = "/api/v1/analytics"
#: Before "now" and after it: the whole history of a test's tenant.
ALL_TIME = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}


def wait_until(predicate: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    """Bounded wait: events go through the outbox (and Kafka on the server backend)."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or predicate}; last: {value!r}")


def get(tenant, path: str, status: int = 200, **params) -> Any:
    response = tenant.admin.get(f"{A}{path}", params=params)
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()


def overview(tenant, **params) -> dict:
    return get(tenant, "/overview", **(params or ALL_TIME))


def agent(tenant, name: str = "Agent") -> str:
    response = tenant.admin.post("/api/v1/users", json={
        "email": f"{secrets.token_hex(4)}@agents.example.com", "name": name, "role": "agent",
        "password": "correct horse battery staple"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def new_session(tenant) -> str:
    response = tenant.admin.post("/api/v1/sessions", json={})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def move(tenant, session_id: str, state: str, **extra) -> dict:
    response = tenant.admin.post(f"/api/v1/sessions/{session_id}/state", json={"state": state, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def event(tenant_id: str, type: str, at: str, **data) -> Event:
    """An event as the bus delivers it, at a chosen time (``2026-03-02T09:15:00Z``)."""
    stamp = at.replace("Z", "") + (".000000Z" if "." not in at else "Z")
    return Event(id="evt_" + secrets.token_urlsafe(16), tenant_id=tenant_id, type=type, time=stamp,
                 schema_version=1, data=data)


def deliver(tenant, *events: Event) -> None:
    """Call the plugin's handle_event hookimpl as the dispatcher does."""
    ctx = tenant.context()
    for e in events:
        plugin.handle_event(event=e, ctx=ctx)


def snapshot(tenant) -> dict[str, list[tuple]]:
    """Every row of every analytics table (autoincrement ids left out), sorted."""
    out = {}
    with tenant.context().engine.connect() as conn:
        for table in TABLES:
            columns = [c for c in table.columns if not (c.primary_key and c.autoincrement is True)]
            rows = [tuple(_plain(v) for v in row) for row in conn.execute(select(*columns))]
            out[table.name] = sorted(rows, key=repr)
    return out


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.replace(tzinfo=None).isoformat() if value.tzinfo is None else \
            value.astimezone(__import__("datetime").UTC).replace(tzinfo=None).isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value
