"""Fixtures for the contract tests: a fresh tenant on the live server (real HTTP, both
backends through ``guidepath_backend``) and the two identities the contract tester
uses — an admin machine client (API key, ``Authorization: Bearer …``) and an agent
browser client (session cookie + ``X-CSRF-Token``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import pytest

from guidepath.core.kernel import Kernel
from guidepath.core.testing.client import TenantClient
from guidepath.core.testing.pytest_plugin import TestTenant
from relay_support import running_relay as running_relay_for

AGENT_PASSWORD = "correct-horse-battery-agent"


@dataclass
class Identity:
    """Who calls the API and how: what the contract tester needs to act as them."""

    role: str  # "admin" (API key) or "agent" (cookie + CSRF)
    tenant: TestTenant
    client: TenantClient
    api_key: str | None = None
    cookie: dict[str, str] = field(default_factory=dict)
    csrf_token: str | None = None

    @property
    def base_url(self) -> str:
        return self.tenant.server.url

    @property
    def host(self) -> str:
        return self.tenant.host

    def still_authenticated(self) -> bool:
        """The identity can still read ``/auth/me`` (the run did not lock itself out)."""
        return self.client.get("/api/v1/auth/me").status_code == 200


def admin_identity(tenant: TestTenant) -> Identity:
    key = tenant.admin.new_api_key(name="contract-" + secrets.token_hex(3), role="admin")
    return Identity("admin", tenant, tenant.admin.with_api_key(key), api_key=key)


def agent_identity(tenant: TestTenant) -> Identity:
    email = f"agent-{secrets.token_hex(3)}@{tenant.slug}.example.com"
    created = tenant.admin.post("/api/v1/users", json={"email": email, "password": AGENT_PASSWORD, "role": "agent"})
    assert created.status_code == 201, created.text
    client = tenant.client().login(email, AGENT_PASSWORD)
    return Identity("agent", tenant, client, cookie=client.session.cookies.get_dict(), csrf_token=client.csrf_token)


IDENTITIES: dict[str, Callable[[TestTenant], Identity]] = {"admin": admin_identity, "agent": agent_identity}


@pytest.fixture
def identity(request: pytest.FixtureRequest, tenant: TestTenant) -> Identity:
    """Parametrize indirectly with ``"admin"`` or ``"agent"``."""
    return IDENTITIES[request.param](tenant)


@pytest.fixture
def openapi_document(tenant: TestTenant) -> dict[str, Any]:
    """The document as a client gets it: GET /api/openapi.json on the tenant's host."""
    response = tenant.admin.get("/api/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def relay_running(guidepath_kernel: Kernel, guidepath_app) -> Iterator[object]:
    """A relay the app's tickets point at, as in production, so ``POST
    /sessions/{id}/relay-tickets`` answers a ticket rather than 503 "no relay is
    running" (which the contract tester rightly counts as a server error).

    Embedded: the relay the remote_control/camera_share workers start inside the app.
    Server: one in a thread, registered in Redis with the app's master key, as
    ``guidepath relay`` runs (``tests/relay_support.py``, shared with the plugin
    tests; module-scoped here so it is gone before other suites count relays).
    """
    with running_relay_for(guidepath_kernel, "contract-relay") as relay:
        yield relay
