"""``guidepath run`` in server mode: gunicorn serving HTTP and ``/ws``, stopping gracefully.

The command runs as a real process (as systemd starts it) with the test session's
PostgreSQL, Redis and Kafka settings. On SIGTERM a request in flight completes, an
open WebSocket is closed with 1001 "going away", and the process exits 0 in bounded
time; access log lines are JSON. Server backend only; every wait is bounded and the
process is killed at the end if it is still there.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import simple_websocket
from guidepath.core.testing.client import TenantClient
from guidepath.core.testing.tansu import free_port
from simple_websocket import ConnectionClosed

pytestmark = [
    pytest.mark.postgres, pytest.mark.redis,
    pytest.mark.parametrize("guidepath_backend", ["server"], indirect=True),
]

START_TIMEOUT = 60.0
#: The process must be gone this long after SIGTERM, with a request in flight and a socket open.
STOP_TIMEOUT = 20.0


class WsClient(simple_websocket.Client):
    """simple_websocket's client sending a tenant ``Host`` to 127.0.0.1 (see test_ws.py)."""

    def __init__(self, url: str, *, host: str, headers: dict[str, str]) -> None:
        self._virtual_host = host
        super().__init__(url, headers=headers)

    def handshake(self) -> None:
        self.host = self._virtual_host
        self.sock.settimeout(10)
        try:
            super().handshake()
        except BaseException:
            self.sock.close()
            raise
        self.sock.settimeout(None)
        self.connected = self._handle_events()


class Node:
    """``guidepath run`` in server mode, its output (stdout and stderr) in a file."""

    def __init__(self, env: dict[str, str], workdir: Path, *args: str) -> None:
        self.port = free_port()
        self.log_path = workdir / f"run-{self.port}.log"
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "guidepath"), "run", "--port", str(self.port), *args],
                env=env, cwd=workdir, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, host: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.proc.poll() is None, f"guidepath run exited early:\n{self.output()}"
            try:
                if requests.get(f"{self.url}/healthz", headers={"Host": host}, timeout=5).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"guidepath run did not answer:\n{self.output()}"
            time.sleep(0.2)

    def json_lines(self) -> list[dict]:
        lines = []
        for line in self.output().splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines


@pytest.fixture
def start_node(guidepath_kernel, tenant_factory, tmp_path) -> Iterator:
    # Depends on tenant_factory so that the node stops before the test's tenants are deleted.
    config = guidepath_kernel.config
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUIDEPATH_")}
    env.update({
        "GUIDEPATH_DATA_DIR": str(config.data_dir), "GUIDEPATH_DATABASE_URL": config.database_url,
        # No Kafka: the node's workers would join the test session's dispatch consumer
        # group, and a member that leaves untidily stalls the group's next rebalance
        # (Tansu waits out the member's poll interval) — every later event test of the
        # session would wait with it. Serving needs PostgreSQL and Redis, not the bus.
        "GUIDEPATH_REDIS_URL": config.redis_url,
        "GUIDEPATH_MASTER_KEY": config.master_key, "GUIDEPATH_BASE_DOMAIN": config.base_domain,
        "PYTHONUNBUFFERED": "1",
    })
    nodes: list[Node] = []

    def start(*args: str) -> Node:
        node = Node(env, tmp_path, *args)
        nodes.append(node)
        return node

    yield start
    for node in nodes:
        if node.proc.poll() is None:
            node.proc.kill()
            node.proc.wait(10)


def slow_login(port: int, host: str, email: str, password: str) -> tuple[socket.socket, bytes]:
    """Start a login whose body arrives in two parts: the request is in the app's hands
    (reading its body) until :func:`finish_slow_login` sends the rest."""
    body = json.dumps({"email": email, "password": password}).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: " + host.encode() +
                 b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
                 b"\r\n\r\n" + body[:10])
    return sock, body[10:]


def finish_slow_login(sock: socket.socket, rest: bytes) -> tuple[int, bytes]:
    sock.sendall(rest)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    status_line = data.split(b"\r\n", 1)[0]
    return int(status_line.split()[1]), data


def test_server_mode_serves_http_and_ws_through_gunicorn_and_stops_gracefully(start_node, tenant_factory,
                                                                              guidepath_kernel):
    tenant = tenant_factory()
    node = start_node("--workers", "2", "--threads", "16")
    host = f"{tenant.slug}.{guidepath_kernel.config.base_domain}:{node.port}"
    node.wait_ready(host)
    assert "gunicorn: 2 worker(s) x 16 threads" in node.output()

    client = TenantClient(node.url, host).login(tenant.admin_email, tenant.admin_password)
    assert client.get("/api/v1/users").status_code == 200
    cookie = client.session.cookies.get("gp_session")
    ws = WsClient(f"ws://127.0.0.1:{node.port}/ws", host=host, headers={"Cookie": f"gp_session={cookie}"})
    try:
        hello = json.loads(ws.receive(timeout=10))
        assert hello["type"] == "hello" and hello["tenant"] == tenant.slug
        ws.send(json.dumps({"type": "ping", "id": 7}))
        assert json.loads(ws.receive(timeout=10)) == {"type": "pong", "id": 7}

        in_flight = slow_login(node.port, host, tenant.admin_email, tenant.admin_password)
        time.sleep(0.5)  # the worker has the request
        node.proc.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()

        # The socket is told at once that the node is going away.
        with pytest.raises(ConnectionClosed) as closed:
            while ws.receive(timeout=10) is not None:
                pass
            pytest.fail("the socket was not closed within 10 s of SIGTERM")
        assert closed.value.reason == 1001, (closed.value.reason, closed.value.message)
        close_seconds = time.monotonic() - stopped_at

        time.sleep(1.0)  # the request is still in flight while the node stops
        status, response = finish_slow_login(*in_flight)
        assert status == 200, response

        assert node.proc.wait(STOP_TIMEOUT) == 0, node.output()
        print(f"\n[serving] 1001 close {close_seconds * 1000:.0f} ms after SIGTERM; "
              f"exit {time.monotonic() - stopped_at:.1f} s after SIGTERM")
    finally:
        try:
            ws.close()
        except ConnectionClosed:
            pass
    assert "Stopped." in node.output()

    access = [line for line in node.json_lines() if line.get("logger") == "guidepath.access"]
    by_path = {(line["method"], line["path"]): line for line in access}
    users = by_path[("GET", "/api/v1/users")]
    assert users["status"] == 200 and isinstance(users["duration_ms"], float)
    assert by_path[("POST", "/api/v1/auth/login")]["status"] == 200
    assert by_path[("GET", "/ws")]["status"] == 101 and by_path[("GET", "/ws")]["duration_ms"] >= 400  # its lifetime
    assert all({"time", "level", "message"} <= line.keys() for line in access)
    # gunicorn's own messages are JSON lines too.
    assert any(line.get("logger") == "gunicorn.error" for line in node.json_lines())
