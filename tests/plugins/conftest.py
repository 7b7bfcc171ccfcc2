"""Fixtures for the plugin tests.

The example plugin (``examples/guidepath-hello``) is installed with pip, for real,
and then loaded by a kernel through its entry point, exactly as a partner's plugin
is. Two choices keep that from leaking into the rest of the run:

* pip installs it into a private folder (``pip install --target``) that is put on
  ``sys.path`` for this module only, rather than into the shared virtualenv: other
  test runs using the same virtualenv at the same time must not see an extra
  plugin, and a run killed half-way must not leave one installed.
* The session kernel (``guidepath_kernel``) may already have been built, without
  the plugin, by tests in other folders; so these tests build a kernel, app and
  live server of their own after the install, on the same backends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from guidepath.core.kernel import Kernel
from guidepath.core.testing.live_server import LiveServer
from guidepath.core.testing.kernels import tenant_maker, test_kernel
from guidepath.core.testing.pytest_plugin import TestTenant

from example_packages import EXAMPLES, copy_example, installed_wheel
from relay_support import running_relay as running_relay_for

EXAMPLE_DIR = EXAMPLES / "guidepath-hello"
EXAMPLE_PACKAGE = "guidepath_hello"


@pytest.fixture(scope="module")
def example_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_example(EXAMPLE_DIR.name, tmp_path_factory)


@pytest.fixture(scope="module")
def hello_installed(example_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example package, built as a wheel and installed; yields where it went."""
    with installed_wheel(example_source, EXAMPLE_PACKAGE, tmp_path_factory) as target:
        yield target


@pytest.fixture(scope="module")
def hello_kernel(hello_installed: Path, guidepath_backend: str,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    """A kernel built after the example plugin was installed, so it loads it."""
    with test_kernel(guidepath_backend, tmp_path_factory.mktemp(f"hello-{guidepath_backend}")) as kernel:
        yield kernel


@pytest.fixture(scope="module")
def hello_app(hello_kernel: Kernel):
    from guidepath.core.web.app import create_app

    return create_app(kernel=hello_kernel)


@pytest.fixture(scope="module")
def hello_server(hello_app) -> Iterator[LiveServer]:
    server = LiveServer(hello_app).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hello_tenant_factory(hello_kernel: Kernel, hello_server: LiveServer) -> Iterator[Callable[..., TestTenant]]:
    """``tenant_factory`` for the module's own kernel: fresh tenants, deleted after the test."""
    with tenant_maker(hello_kernel, hello_server, prefix="h") as make:
        yield make


@pytest.fixture
def hello_tenant(hello_tenant_factory: Callable[..., TestTenant]) -> TestTenant:
    return hello_tenant_factory()


@pytest.fixture(scope="session")
def running_relay(guidepath_kernel: Kernel, guidepath_app) -> Iterator[object]:
    """A relay the app's tickets point at.

    Embedded: the relay the remote_control/camera_share workers started inside the
    app (the app fixture starts the workers). Server: relays are processes of their
    own in production; here one runs in a thread, registered in Redis and reporting
    to the Redis stream, with the app's master key — what `guidepath relay` does.
    """
    with running_relay_for(guidepath_kernel, "test-relay") as relay:
        yield relay
