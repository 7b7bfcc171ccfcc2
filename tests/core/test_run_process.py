"""``guidepath run`` as users start it: a real process serving real HTTP.

Embedded mode in a temporary data folder; the process is stopped with SIGTERM, as
systemd and container runtimes stop it, and must exit cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from guidepath.core.testing.client import TenantClient
from guidepath.core.testing.tansu import free_port

START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


class RunningApp:
    def __init__(self, proc: subprocess.Popen, port: int, log: Path) -> None:
        self.proc, self.port, self.log = proc, port, log

    def get(self, host: str, path: str) -> requests.Response:
        return requests.get(f"http://127.0.0.1:{self.port}{path}",
                            headers={"Host": f"{host}:{self.port}"}, timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def start_app(tmp_path: Path) -> Iterator:
    started: list[RunningApp] = []
    guidepath = [str(Path(sys.executable).parent / "guidepath")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUIDEPATH_")}
    env["GUIDEPATH_DATA_DIR"] = str(tmp_path / "var")

    def start(*args: str) -> RunningApp:
        port = free_port()
        log = tmp_path / f"run-{port}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([*guidepath, "run", "--port", str(port), "--log-format", "text", *args],
                                    env=env, stdout=out, stderr=subprocess.STDOUT)
        app = RunningApp(proc, port, log)
        started.append(app)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert proc.poll() is None, f"guidepath run exited early:\n{app.output()}"
            try:
                if app.get("localhost", "/healthz").status_code == 200:
                    return app
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"guidepath run did not answer:\n{app.output()}"
            time.sleep(0.2)

    def cli(*args: str) -> str:
        done = subprocess.run([*guidepath, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    start.cli = cli  # type: ignore[attr-defined]
    yield start
    for app in started:
        if app.proc.poll() is None:
            app.proc.kill()
            app.proc.wait(10)


def test_run_serves_each_tenant_on_its_host_and_stops_cleanly_on_sigterm(start_app):
    start_app.cli("tenants", "create", "acme", "--admin-email", "admin@acme.example",
                  "--admin-password", "correct-horse-battery")
    app = start_app()
    assert f"http://acme.localhost:{app.port}/" in app.output()
    login = requests.post(f"http://127.0.0.1:{app.port}/api/v1/auth/login",
                          headers={"Host": f"acme.localhost:{app.port}"}, timeout=10,
                          json={"email": "admin@acme.example", "password": "correct-horse-battery"})
    assert login.status_code == 200
    assert app.get("nobody.localhost", "/api/v1/users").status_code == 404

    app.proc.send_signal(signal.SIGTERM)
    assert app.proc.wait(STOP_TIMEOUT) == 0
    assert "Stopped." in app.output()


def test_run_demo_prints_logins_that_work(start_app):
    app = start_app("--demo")
    output = app.output()
    assert f"demo.localhost:{app.port}" in output
    assert "password" in output.lower()
    assert app.get("demo.localhost", "/api/v1/guided-paths").status_code == 401  # the tenant exists
    agent = TenantClient(f"http://127.0.0.1:{app.port}", f"demo.localhost:{app.port}")
    agent.login("agent@demo.example.com", "demo-agent-password")  # the printed login works
    assert agent.get("/api/v1/me").json()["availability"] == "online"  # and the demo agent is at work
    app.proc.send_signal(signal.SIGTERM)
    assert app.proc.wait(STOP_TIMEOUT) == 0
