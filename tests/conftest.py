"""Shared fixtures. The guidepath pytest plugin (core/testing/pytest_plugin.py)
provides the kernel, app, live server and tenant fixtures; here we run every test
that uses them on both backends."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SERVER_MARKS = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.kafka]


@pytest.fixture(scope="session", params=["embedded", pytest.param("server", marks=SERVER_MARKS)])
def guidepath_backend(request: pytest.FixtureRequest) -> str:
    return request.param


CHROMIUM = os.environ.get("GUIDEPATH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _browser_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"Python playwright is not installed ({exc}); pip install -e '.[test]'"
    return None


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright (never a downloaded browser).

    Skipped when Chromium or Playwright is missing, unless GUIDEPATH_REQUIRE_BROWSER=1
    (CI sets it): then it is a failure.
    """
    missing = _browser_missing()
    if missing:
        if os.environ.get("GUIDEPATH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{missing} and GUIDEPATH_REQUIRE_BROWSER=1")
        pytest.skip(f"{missing}: set GUIDEPATH_REQUIRE_BROWSER=1 to make this a failure")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
