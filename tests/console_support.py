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


# -- browser helpers (Playwright pages of the console) --------------------------------

#: What a page waits for may travel the event bus (outbox → Kafka → dispatcher → Redis →
#: socket): on a loaded 2-core CI machine a new tenant's first events can take tens of
#: seconds on the server backend. A wait that succeeds returns at once; this only
#: bounds how long a real failure takes to report.
BROWSER_TIMEOUT_MS = 45_000


def screenshot(page, name: str, *, full_page: bool = False) -> None:
    """docs/screenshots/<name>.png, only when GUIDEPATH_SCREENSHOTS=1 (``make screenshots``)."""
    import os
    from pathlib import Path

    if os.environ.get("GUIDEPATH_SCREENSHOTS") == "1":
        folder = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)


def browser_page(browser, tenant, path: str | None = "/", *, viewport=(1366, 800)):
    """A page in a fresh browser context (its own cookies and storage) on ``tenant``'s
    host; page errors are collected on ``page.errors``."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    if path:
        page.goto(f"http://{tenant.host}{path}")
    return page


def signed_in_page(browser, tenant, email: str, password: str, path: str = "/queue", **kw):
    """A page signed in through the sign-in form, then at ``path``."""
    page = browser_page(browser, tenant, f"/signin?next={path}", **kw)
    page.fill("#gp-email", email)
    page.fill("#gp-password", password)
    page.click("#gp-signin-submit")
    target = path.split("?", 1)[0]
    page.wait_for_url(lambda url: url.split("?", 1)[0].split("#", 1)[0].endswith(target) and "/signin" not in url)
    page.wait_for_load_state()
    return page


def wait_for(page, expression: str, what: str = "", timeout: float = BROWSER_TIMEOUT_MS / 1000):
    """Poll a JS expression with evaluate (the pages' CSP refuses wait_for_function's eval)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or expression}")
