"""Helpers for the agent console's API tests (tests/core/web/test_console_*.py and
the isolation suite): agents that log in over real HTTP, sessions, customer tokens."""

from __future__ import annotations

import secrets
from typing import Any

PASSWORD = "a long enough password"


def agent(tenant, name: str = "Grace Hopper", *, role: str = "agent", capacity: int | None = None,
          availability: str | None = None):
    """A new user of ``tenant`` logged in with a cookie: ``(client, user)``."""
    body: dict[str, Any] = {"email": f"{secrets.token_hex(4)}@example.com", "name": name, "role": role,
                            "password": PASSWORD}
    if capacity is not None:
        body["capacity"] = capacity
    created = tenant.admin.post("/api/v1/users", json=body)
    assert created.status_code == 201, created.text
    client = tenant.client().login(body["email"], PASSWORD)
    if availability is not None:
        response = client.patch("/api/v1/me", json={"availability": availability})
        assert response.status_code == 200, response.text
    return client, created.json()


def new_session(client, **body) -> dict:
    response = client.post("/api/v1/sessions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def move(client, session_id: str, state: str, **extra) -> dict:
    response = client.post(f"/api/v1/sessions/{session_id}/state", json={"state": state, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def invite(client, session_id: str, **body) -> dict:
    response = client.post(f"/api/v1/sessions/{session_id}/invites", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def customer_client(tenant, session_id: str, customer: dict | None = None):
    """Redeem a fresh invite of ``session_id``: ``(client with the customer token, answer)``."""
    code = invite(tenant.admin, session_id)["code"]
    body: dict[str, Any] = {"code": code}
    if customer is not None:
        body["customer"] = customer
    response = tenant.client().post("/api/v1/invites/redeem", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    client = tenant.client()
    client.session.headers["Authorization"] = f"Bearer {answer['token']}"
    return client, answer
