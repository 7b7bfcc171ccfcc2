"""Shared fixtures. The guidepath pytest plugin (core/testing/pytest_plugin.py)
provides the kernel, app, live server and tenant fixtures; here we run every test
that uses them on both backends."""

from __future__ import annotations

import pytest

SERVER_MARKS = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.kafka]


@pytest.fixture(scope="session", params=["embedded", pytest.param("server", marks=SERVER_MARKS)])
def guidepath_backend(request: pytest.FixtureRequest) -> str:
    return request.param
