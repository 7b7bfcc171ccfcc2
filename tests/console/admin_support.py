"""Helpers for the admin console's browser tests (tests/console/test_admin_*.py):
signing in through the real sign-in page and collecting what the page logged; waiting
and screenshots are the shared ones of ``tests/console_support.py``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from console_support import BROWSER_TIMEOUT_MS as TIMEOUT_MS
from console_support import screenshot, wait_for  # noqa: F401 - screenshot is re-exported for the admin tests


def wait_until(page: Any, expression: str, what: str | None = None, timeout_ms: int = TIMEOUT_MS) -> Any:
    """:func:`console_support.wait_for` with the timeout in milliseconds, as Playwright counts."""
    return wait_for(page, expression, what or "", timeout_ms / 1000)


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
