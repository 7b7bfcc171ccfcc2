"""Browser helpers for the console's own pages (sign-in, queue, session): a signed-in
Chromium page for a tenant's user, and screenshots for the docs.

Screenshots are written to docs/screenshots/ only when ``GUIDEPATH_SCREENSHOTS=1``
(``make screenshots``), so an ordinary test run leaves the tree as it was.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TIMEOUT_MS = 15_000


def screenshot(page, name: str, *, full_page: bool = False) -> None:
    if os.environ.get("GUIDEPATH_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def open_page(browser, tenant, path: str = "/", *, viewport=(1366, 800)):
    """A fresh browser context (its own cookies) on ``tenant``'s host; returns the page.
    Page errors are collected on ``page.errors`` so a test can say none happened."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    if path:
        page.goto(f"http://{tenant.host}{path}")
    return page


def sign_in(browser, tenant, email: str, password: str, path: str = "/queue"):
    """A page signed in through the sign-in form, then at ``path``."""
    page = open_page(browser, tenant, f"/signin?next={path}")
    page.fill("#gp-email", email)
    page.fill("#gp-password", password)
    page.click("#gp-signin-submit")
    page.wait_for_url(lambda url: urlsplit(url).path == urlsplit(path).path)
    return page
