"""Building a real kernel for tests, on either backend, and making tenants for it.

Shared by the ``guidepath`` pytest plugin's fixtures and by any test (or partner
suite) that needs a kernel of its own — e.g. one built after installing a plugin.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from ..config import Config
from ..kernel import Kernel
from ..tenancy.service import TenantService
from ..tenancy.storage import harden_container

if TYPE_CHECKING:  # pragma: no cover
    from .live_server import LiveServer
    from .pytest_plugin import TestTenant

ADMIN_PASSWORD = "correct-horse-battery"


def disabled_plugins() -> tuple[str, ...]:
    """``GUIDEPATH_DISABLED_PLUGINS``, honoured by test kernels as by ``guidepath run``:
    a partner testing a plugin that replaces a built-in runs its suite with the
    built-in left out (``GUIDEPATH_DISABLED_PLUGINS=diagnostics pytest``)."""
    raw = os.environ.get("GUIDEPATH_DISABLED_PLUGINS", "")
    return tuple(name.strip() for name in raw.split(",") if name.strip())


@contextlib.contextmanager
def test_kernel(backend: str, data_dir: Path, *, containers: int = 2) -> Iterator[Kernel]:
    """A kernel on ``backend`` ("embedded" or "server"), torn down afterwards.

    The server backend gets throw-away PostgreSQL databases (a global one and
    ``containers`` containers), the local Redis and its own Tansu broker; all are
    dropped or stopped at the end, tenants' roles included.
    """
    if backend == "embedded":
        kernel = Kernel(Config(data_dir=data_dir, disabled_plugins=disabled_plugins()))
        try:
            kernel.upgrade_global()
            yield kernel
        finally:
            kernel.close()
        return

    from .databases import ScratchDatabases
    from .tansu import TansuBroker

    databases = ScratchDatabases()
    broker = TansuBroker()
    broker.start()
    kernel = None
    try:
        global_url = databases.create("global")
        container_urls = [databases.create(f"c{i + 1}") for i in range(containers)]
        kernel = Kernel(Config(
            data_dir=data_dir,
            database_url=global_url,
            redis_url=os.environ.get("GUIDEPATH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
            kafka_bootstrap=broker.bootstrap,
            kafka_session_timeout_ms=2_000,  # joins in ~1 s on Tansu; tests create many tenants
            master_key=base64.b64encode(secrets.token_bytes(32)).decode(),
            disabled_plugins=disabled_plugins(),
        ))
        kernel.upgrade_global()
        for url in container_urls:
            harden_container(url)
            kernel.directory.add_container(url)
        yield kernel
    finally:
        if kernel is not None:
            service = TenantService(kernel)
            for tenant in kernel.directory.list():
                with contextlib.suppress(Exception):  # best effort; the databases go next
                    service.delete(tenant.slug)
            kernel.close()
        databases.drop_all()
        broker.stop()


test_kernel.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@contextlib.contextmanager
def tenant_maker(kernel: Kernel, server: LiveServer, prefix: str = "t") -> Iterator[Callable[..., TestTenant]]:
    """``make(slug=None)`` → a fresh tenant with an admin; all deleted at the end."""
    from .pytest_plugin import TestTenant

    service = TenantService(kernel)
    made: list[str] = []

    def make(slug: str | None = None) -> TestTenant:
        slug = slug or f"{prefix}-" + secrets.token_hex(5)
        email = f"admin@{slug}.example.com"
        record = service.create(slug, admin_email=email, admin_password=ADMIN_PASSWORD)
        made.append(slug)
        return TestTenant(record, server, kernel, email, ADMIN_PASSWORD)

    try:
        yield make
    finally:
        for slug in made:
            if kernel.directory.get_by_slug(slug) is not None:
                service.delete(slug)
