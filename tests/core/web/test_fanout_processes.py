"""Two app nodes in two processes: an event made through one reaches a socket on the other.

This is the production topology behind a load balancer: the agent's WebSocket is
held by node 1 while the request that changes a session lands on node 2. The event
goes node 2's outbox → Kafka → the dispatcher consumer group (whichever member owns
the tenant's partition: node 1, node 2 or the test session's kernel) → Redis
pub/sub → node 1 → the socket. Server backend only; every wait is bounded and both
processes are stopped at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import simple_websocket
from guidepath.core.testing.client import TenantClient
from simple_websocket import ConnectionClosed

pytestmark = [
    pytest.mark.postgres, pytest.mark.redis, pytest.mark.kafka,
    pytest.mark.parametrize("guidepath_backend", ["server"], indirect=True),
]

NODE_SCRIPT = Path(__file__).with_name("_app_node.py")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
#: A new tenant's first event waits for the consumer group to notice its topic and
#: to rebalance (the two nodes have just joined it too).
EVENT_TIMEOUT = 90.0
QUIET_PERIOD = 3.0


class AppNode:
    """``_app_node.py`` in a subprocess; its output goes to a file (a pipe nobody
    reads could fill up and block the node)."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, str(NODE_SCRIPT), "0"], env=env, cwd=workdir,
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self.port = 0

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_path.read_text(errors="replace").splitlines():
                if line.startswith("READY "):
                    self.port = int(line.split()[1])
                    return
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            time.sleep(0.05)
        pytest.fail(f"{self.name} not ready within {timeout}s:\n{self.log_tail()}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM (the node closes its kernel and leaves the consumer group), then SIGKILL."""
        try:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(10)
        finally:
            self._log.close()


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
        self.connected = self._handle_events()  # frames that came with the 101

    def close_quietly(self) -> None:
        try:
            self.close()
        except ConnectionClosed:
            pass
        self.thread.join(5)


def node_env(kernel) -> dict[str, str]:
    config = kernel.config
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUIDEPATH_")}
    env.update({
        "GUIDEPATH_DATA_DIR": str(config.data_dir),
        "GUIDEPATH_DATABASE_URL": config.database_url,
        "GUIDEPATH_REDIS_URL": config.redis_url,
        "GUIDEPATH_KAFKA_BOOTSTRAP": config.kafka_bootstrap,
        "GUIDEPATH_MASTER_KEY": config.master_key,
        "GUIDEPATH_BASE_DOMAIN": config.base_domain,
        "PYTHONUNBUFFERED": "1",
    })
    return env


@pytest.fixture
def app_nodes(guidepath_kernel, tenant_factory, tmp_path) -> Iterator[tuple[AppNode, AppNode]]:
    # Depends on tenant_factory so that the nodes stop before the test's tenants are deleted.
    env = node_env(guidepath_kernel)
    nodes: list[AppNode] = []
    try:
        for name in ("node1", "node2"):
            nodes.append(AppNode(name, env, tmp_path))
        for node in nodes:
            node.wait_ready()
        yield nodes[0], nodes[1]
    finally:
        for node in nodes:
            node.stop()
        for node in nodes:
            assert node.process.returncode is not None


def receive_json(ws: WsClient, timeout: float = 10.0) -> dict:
    raw = ws.receive(timeout=timeout)
    assert raw is not None, f"no message within {timeout}s"
    return json.loads(raw)


def wait_for_state_change(ws: WsClient, session_id: str, deadline: float) -> tuple[dict | None, list[dict]]:
    """The session's state-change event (or None at the deadline) and what came before it."""
    seen: list[dict] = []
    while (left := deadline - time.monotonic()) > 0:
        raw = ws.receive(timeout=left)
        if raw is None:
            break
        message = json.loads(raw)
        event = message.get("event") or {}
        if event.get("type") == "session.state_changed" and event.get("data", {}).get("session_id") == session_id:
            return message, seen
        seen.append(message)
    return None, seen


def test_an_event_made_on_one_node_reaches_a_socket_on_another(tenant_factory, app_nodes, guidepath_kernel):
    node1, node2 = app_nodes
    a, b = tenant_factory(), tenant_factory()
    base = guidepath_kernel.config.base_domain

    # Log in on node 2; the session is server-side, so node 1 accepts the cookie too.
    on_node2 = TenantClient(node2.url, f"{a.slug}.{base}:{node2.port}").login(a.admin_email, a.admin_password)
    cookie_a = on_node2.session.cookies.get("gp_session")
    cookie_b = TenantClient(node2.url, f"{b.slug}.{base}:{node2.port}").login(
        b.admin_email, b.admin_password).session.cookies.get("gp_session")

    sockets: list[WsClient] = []
    try:
        for tenant, cookie in ((a, cookie_a), (b, cookie_b)):
            sockets.append(WsClient(f"ws://127.0.0.1:{node1.port}/ws", host=f"{tenant.slug}.{base}:{node1.port}",
                                    headers={"Cookie": f"gp_session={cookie}"}))
        ws_a, ws_b = sockets
        assert receive_json(ws_a)["type"] == "hello"
        assert receive_json(ws_b)["type"] == "hello"

        created = on_node2.post("/api/v1/sessions", json={})
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]
        changed = on_node2.post(f"/api/v1/sessions/{session_id}/state", json={"state": "waiting"})
        assert changed.status_code == 200, changed.text
        started = time.monotonic()

        message, seen = wait_for_state_change(ws_a, session_id, started + EVENT_TIMEOUT)
        assert message is not None, (
            f"no state change on node 1 within {EVENT_TIMEOUT}s; got {seen!r}\n"
            f"node1:\n{node1.log_tail()}\nnode2:\n{node2.log_tail()}"
        )
        latency = time.monotonic() - started
        print(f"\n[two processes] session.state_changed from node 2 reached node 1's socket in {latency * 1000:.0f} ms")
        assert message["event"]["tenant_id"] == a.id
        assert message["event"]["data"]["to_state"] == "waiting"

        leaked = []
        quiet_until = time.monotonic() + QUIET_PERIOD
        while (left := quiet_until - time.monotonic()) > 0:
            raw = ws_b.receive(timeout=left)
            if raw is None:
                break
            leaked.append(json.loads(raw))
        assert leaked == [], f"tenant B's socket on node 1 received {leaked!r}"
    finally:
        for ws in sockets:
            ws.close_quietly()
