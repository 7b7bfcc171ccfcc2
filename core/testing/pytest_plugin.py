"""pytest fixtures for testing guidepath and partners' plugins against the real kernel.

Installed with guidepath (``pytest11`` entry point), so a partner's test suite
gets them by installing guidepath::

    def test_my_route(tenant, enable_plugin):
        enable_plugin(tenant, "hello", {"greeting": "Hi"})
        assert tenant.admin.get("/hello/").json() == {"message": "Hi"}

Fixtures:

``guidepath_backend``   "embedded" (default) or "server" (``--guidepath-backend``)
``guidepath_kernel``    a :class:`~guidepath.core.kernel.Kernel` for the session
``guidepath_app``       the Flask app built on it
``guidepath_server``    a live HTTP server for the app (real sockets)
``tenant_factory``      ``tenant_factory(slug=None)`` → a fresh tenant with an admin
``tenant``              one fresh tenant (a :class:`TestTenant`)
``enable_plugin``       ``enable_plugin(tenant, name, settings=None, enabled=True)``
``register_plugin``     ``register_plugin(module)``: a plugin for this test only
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pytest

from ..crypto import passwords
from ..kernel import Kernel
from ..tenancy.directory import Tenant
from .client import TenantClient
from .kernels import tenant_maker, test_kernel
from .live_server import LiveServer



def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("guidepath")
    group.addoption("--guidepath-backend", default=os.environ.get("GUIDEPATH_TEST_BACKEND", "embedded"),
                    choices=["embedded", "server"], help="backend for the guidepath fixtures")


def pytest_configure(config: pytest.Config) -> None:
    # Full-cost Argon2 would make each test user cost ~50 ms; tests do not need it.
    passwords.set_default_params(passwords.Argon2Params.for_tests())


@pytest.fixture(scope="session")
def guidepath_backend(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--guidepath-backend")


@pytest.fixture(scope="session")
def guidepath_kernel(guidepath_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    with test_kernel(guidepath_backend, tmp_path_factory.mktemp(f"guidepath-{guidepath_backend}")) as kernel:
        yield kernel


@pytest.fixture(scope="session")
def guidepath_app(guidepath_kernel: Kernel):
    from ..web.app import create_app

    return create_app(kernel=guidepath_kernel)


@pytest.fixture(scope="session")
def guidepath_server(guidepath_app) -> Iterator[LiveServer]:
    server = LiveServer(guidepath_app).start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class TestTenant:
    """A tenant made for one test, with an admin client logged in over real HTTP."""

    __test__ = False  # not a test class, despite the name

    record: Tenant
    server: LiveServer
    kernel: Kernel
    admin_email: str
    admin_password: str
    _admin: TenantClient | None = None

    @property
    def slug(self) -> str:
        return self.record.slug

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def host(self) -> str:
        return f"{self.slug}.{self.kernel.config.base_domain}:{self.server.port}"

    def client(self) -> TenantClient:
        """An anonymous client for this tenant's host."""
        return TenantClient(self.server.url, self.host)

    @property
    def admin(self) -> TenantClient:
        if self._admin is None:
            self._admin = self.client().login(self.admin_email, self.admin_password)
        return self._admin

    def context(self):
        return self.kernel.context(self.kernel.directory.get(self.id))


@pytest.fixture
def tenant_factory(guidepath_kernel: Kernel, guidepath_server: LiveServer) -> Iterator[Callable[..., TestTenant]]:
    with tenant_maker(guidepath_kernel, guidepath_server) as make:
        yield make


@pytest.fixture
def tenant(tenant_factory: Callable[..., TestTenant]) -> TestTenant:
    return tenant_factory()


@pytest.fixture
def enable_plugin(guidepath_kernel: Kernel) -> Callable[..., Any]:
    from ..domain import plugin_settings

    def enable(tenant: TestTenant, name: str, settings: dict | None = None, enabled: bool = True):
        ctx = tenant.context()
        info = guidepath_kernel.plugins.info(name)
        data: dict[str, Any] = {"enabled": enabled}
        if settings is not None:
            data["settings"] = settings
        with ctx.begin() as conn:
            state = plugin_settings.save(conn, info, data)
        guidepath_kernel.forget_plugin_states(ctx.id)
        return state

    return enable


@pytest.fixture
def register_plugin(guidepath_kernel: Kernel) -> Iterator[Callable[[Any], str]]:
    """Register a plugin object for this test only (hooks, not routes: routes are
    mounted when the app is built)."""
    names: list[str] = []

    def register(plugin: Any) -> str:
        name = guidepath_kernel.plugins.register(plugin)
        names.append(name)
        return name

    yield register
    for name in names:
        guidepath_kernel.plugins.unregister(name)
