"""Shared fixtures. The guidepath pytest plugin (core/testing/pytest_plugin.py)
provides the kernel, app, live server and tenant fixtures; here we run every test
that uses them on both backends.

A missing service or tool is a skip on a developer's machine but a failure in CI, so
a broken install can never pass by skipping: :func:`skip_unless_required` (and the
``unavailable`` fixture, for conftests and fixtures elsewhere) fails when the
variable that covers it is ``1`` — ``GUIDEPATH_REQUIRE_SERVICES`` for PostgreSQL and
the Kafka-protocol broker, ``GUIDEPATH_REQUIRE_BROWSER`` for Chromium; ``.ci/run``
sets both. Declared dependencies are imported plainly, never ``importorskip``-ed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, NoReturn

import pytest

REQUIRE_SERVICES = "GUIDEPATH_REQUIRE_SERVICES"
REQUIRE_BROWSER = "GUIDEPATH_REQUIRE_BROWSER"


def skip_unless_required(missing: str, variable: str = REQUIRE_SERVICES) -> NoReturn:
    """Skip the test because ``missing`` (what is absent and how to get it), or fail
    when ``variable=1`` says this run must have it."""
    if os.environ.get(variable) == "1":
        pytest.fail(f"{missing}, and {variable}=1 makes that a failure", pytrace=False)
    pytest.skip(f"{missing}: set {variable}=1 to make this a failure")


@pytest.fixture(scope="session")
def unavailable() -> Callable[..., NoReturn]:
    """:func:`skip_unless_required` for fixtures in other conftests and test modules
    (a conftest is not importable by name from another folder)."""
    return skip_unless_required

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
        skip_unless_required(missing, REQUIRE_BROWSER)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


BROWSER_RERUNS = 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """One more try for a browser test that fails (pytest-rerunfailures): pages wait on
    real sockets, a real event bus and real Chromium on a shared machine. A test that
    fails twice still fails, and the run reports each rerun ("R" and the summary)."""
    for item in items:
        if item.get_closest_marker("browser") is not None and item.get_closest_marker("flaky") is None:
            item.add_marker(pytest.mark.flaky(reruns=BROWSER_RERUNS, reruns_delay=1))
