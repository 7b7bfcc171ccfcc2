"""A partner replaces a built-in: ``examples/guidepath-inventory`` answers the
Guided Path action ``diagnostics.collect`` with the built-in ``diagnostics``
plugin left out through ``GUIDEPATH_DISABLED_PLUGINS``.

Built as a wheel, installed outside the checkout, loaded through its entry point
by a kernel that skipped the built-in, and driven over real HTTP; then its own
test suite runs as a partner's CI would run it, from a copy outside the checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from guidepath.core.kernel import Kernel
from guidepath.core.testing.kernels import tenant_maker, test_kernel
from guidepath.core.testing.live_server import LiveServer

from example_packages import copy_example, installed_wheel

PACKAGE = "guidepath_inventory"


@pytest.fixture(scope="module")
def inventory_source(tmp_path_factory) -> Path:
    return copy_example("guidepath-inventory", tmp_path_factory)


@pytest.fixture(scope="module")
def inventory_installed(inventory_source, tmp_path_factory) -> Iterator[Path]:
    with installed_wheel(inventory_source, PACKAGE, tmp_path_factory) as target:
        yield target


@pytest.fixture(scope="module")
def replaced_kernel(inventory_installed, guidepath_backend, tmp_path_factory) -> Iterator[Kernel]:
    """A kernel started as an operator would: ``GUIDEPATH_DISABLED_PLUGINS=diagnostics``."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GUIDEPATH_DISABLED_PLUGINS", "diagnostics")
        with test_kernel(guidepath_backend, tmp_path_factory.mktemp(f"inventory-{guidepath_backend}")) as kernel:
            yield kernel


@pytest.fixture(scope="module")
def replaced_server(replaced_kernel) -> Iterator[LiveServer]:
    from guidepath.core.web.app import create_app

    server = LiveServer(create_app(kernel=replaced_kernel)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def tenant(replaced_kernel, replaced_server):
    with tenant_maker(replaced_kernel, replaced_server, prefix="inv") as make:
        yield make()


def start_check(admin, **device) -> dict:
    from guidepath_inventory import SAMPLE_PATH  # the installed wheel's

    created = admin.post("/api/v1/guided-paths", json=SAMPLE_PATH)
    assert created.status_code == 201, created.text
    assert admin.post(f"/api/v1/guided-paths/{created.json()['id']}/publish", json={}).status_code in (200, 201)
    customer = admin.post("/api/v1/customers", json={"email": "ada@example.com"}).json()
    made = admin.post("/api/v1/devices", json={"customer_id": customer["id"], **device}).json()
    session = admin.post("/api/v1/sessions", json={"customer_id": customer["id"], "device_id": made["id"]}).json()
    run = admin.post("/api/v1/runs", json={"path_key": "check-device", "session_id": session["id"]})
    assert run.status_code == 201, run.text
    return run.json()


def test_the_kernel_left_the_built_in_out_and_loaded_the_partners_plugin(replaced_kernel, inventory_installed):
    assert not replaced_kernel.plugins.has("diagnostics")
    module = replaced_kernel.plugins.plugin("inventory")
    assert Path(module.__file__).is_relative_to(inventory_installed)
    assert not replaced_kernel.plugins.load_failures


def test_published_paths_keep_working_answered_by_the_replacement(tenant):
    run = start_check(tenant.admin, manufacturer="Acme", model="X1", os_name="Android", serial_number="SN-1")

    assert run["outcome"] == "resolved"
    assert run["variables"]["diagnostics"]["source"] == "inventory"
    assert run["variables"]["diagnostics"]["serial_number"] == "SN-1"


def test_its_settings_apply_per_tenant(tenant):
    assert tenant.admin.put("/api/v1/plugins/inventory",
                            json={"settings": {"require_serial_number": True}}).status_code == 200
    run = start_check(tenant.admin, model="No serial")

    assert run["outcome"] == "escalate"
    assert run["variables"]["diagnostics"] == {}  # a failed action stores nothing: on_error took over


@pytest.mark.slow
def test_the_examples_own_partner_tests_pass(inventory_installed, inventory_source, guidepath_backend):
    if guidepath_backend != "embedded":
        pytest.skip("the partner tests run on the default backend; once is enough")
    env = {**os.environ, "GUIDEPATH_TEST_BACKEND": "embedded", "GUIDEPATH_DISABLED_PLUGINS": "diagnostics",
           "PYTHONPATH": os.pathsep.join([str(inventory_installed), *filter(None, [os.environ.get("PYTHONPATH")])])}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                            cwd=inventory_source, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert "2 passed" in result.stdout
