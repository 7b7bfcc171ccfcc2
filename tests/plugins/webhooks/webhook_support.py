"""Shared steps of the webhooks tests."""

from __future__ import annotations

import time
from typing import Any, Callable

HOOKS = "/api/v1/webhooks"


def subscribe(tenant, url: str, event_types=("*",), **extra) -> dict:
    response = tenant.admin.post(HOOKS, json={"url": url, "event_types": list(event_types), **extra})
    assert response.status_code == 201, response.text
    return response.json()


def make_event(tenant, count: int = 1) -> list[str]:
    """Create ``count`` customers (each emits customer.created); their ids."""
    ids = []
    for i in range(count):
        response = tenant.admin.post("/api/v1/customers", json={"first_name": f"C{i}"})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def deliveries(tenant, subscription_id: str) -> list[dict]:
    response = tenant.admin.get(f"{HOOKS}/{subscription_id}/deliveries", params={"limit": 200})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def wait_until(predicate: Callable[[], Any], timeout: float = 45.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate}")
