"""Helpers for the admin console's browser tests (tests/console/test_admin_*.py):
signing in through the real sign-in page, waiting without ``eval`` (the console's
CSP forbids it), and the screenshots ``make screenshots`` collects in
``docs/screenshots/``.

A screenshot is saved ONLY when ``GUIDEPATH_SCREENSHOTS=1``: ordinary test runs
never touch the working tree.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
TIMEOUT_MS = 15_000


def screenshot(page: Any, name: str, *, full_page: bool = False) -> Path | None:
    """Save ``docs/screenshots/<name>.png`` when ``GUIDEPATH_SCREENSHOTS=1``; ``page``
    may be a Playwright locator (that element only)."""
    if os.environ.get("GUIDEPATH_SCREENSHOTS") != "1":
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if full_page:
        page.screenshot(path=str(path), full_page=True)
    else:
        page.screenshot(path=str(path))
    return path


def wait_until(page: Any, expression: str, what: str | None = None, timeout_ms: int = TIMEOUT_MS) -> Any:
    """Poll ``expression`` with ``evaluate`` (DevTools, so the page's CSP does not
    refuse it as it refuses ``wait_for_function``'s eval) until it is truthy."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or expression}")
        time.sleep(0.05)


def page_errors(console: list[str]) -> list[str]:
    """Script errors the page logged (a refused API call logs its status: not an error here)."""
    return [line for line in console if line.startswith("pageerror")]


def signed_in(browser: Any, tenant: Any, path: str, *, email: str | None = None, password: str | None = None,
              viewport: dict[str, int] | None = None) -> tuple[Any, Any, list[str]]:
    """A new browser context signed in as ``email`` (the tenant's admin by default)
    through the sign-in page, then on ``path``. Returns ``(context, page, console)``;
    close the context when done."""
    context = browser.new_context(viewport=viewport or {"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    page.goto(f"http://{tenant.host}/signin?next={quote(path)}")
    page.fill("#gp-email", email or tenant.admin_email)
    page.fill("#gp-password", password or tenant.admin_password)
    with page.expect_navigation():
        page.click("#gp-signin-submit")
    page.wait_for_load_state("domcontentloaded")
    return context, page, console
