"""``WS /ws``: the agent's real-time channel, over real sockets, on both backends.

The server backend delivers events through the whole production path: outbox →
publisher → Kafka (Tansu) → the dispatcher consumer group → Redis pub/sub → the
socket. Every wait here is bounded.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import simple_websocket
from simple_websocket import ConnectionClosed

HANDSHAKE_TIMEOUT = 10.0
REPLY_TIMEOUT = 10.0
#: The first event of a fresh tenant on the server backend waits for the dispatcher
#: to notice the tenant's new topic (metadata refresh) and for the consumer group to
#: rejoin on Tansu; measured 2-20 s here (printed by the test).
FIRST_EVENT_TIMEOUT = 60.0
#: How long the other tenant's socket is watched after the event reached its owner.
QUIET_PERIOD = 3.0


class WsClient(simple_websocket.Client):
    """simple_websocket's client with a virtual ``Host`` and a bounded handshake.

    The URL names 127.0.0.1 (tenant host names do not resolve here); the tenant is
    chosen by the Host header as in production. ``Client.connect(headers={"Host": …})``
    would send two Host headers, which h11 refuses, so the handshake writes ours
    in place of the URL's host instead.
    """

    def __init__(self, url: str, *, host: str, headers: dict[str, str] | None = None,
                 handshake_timeout: float = HANDSHAKE_TIMEOUT) -> None:
        self._virtual_host = host
        self._handshake_timeout = handshake_timeout
        super().__init__(url, headers=headers or {})

    def handshake(self) -> None:
        self.host = self._virtual_host  # wsproto writes the Host header from this
        self.sock.settimeout(self._handshake_timeout)
        try:
            super().handshake()
        except BaseException:
            self.sock.close()
            raise
        self.sock.settimeout(None)  # the reader thread blocks; receive() has timeouts
        # Frames that came in the same read as the 101 response (the server's hello
        # often does) sit in wsproto's buffer, and simple_websocket's reader thread
        # would only parse them when more bytes arrive: parse them now.
        self.connected = self._handle_events()


def ws_connect(port: int, host: str, *, cookie: str | None = None, origin: str | None = None,
               extra: dict[str, str] | None = None) -> WsClient:
    headers = dict(extra or {})
    if cookie is not None:
        headers["Cookie"] = f"gp_session={cookie}"
    if origin is not None:
        headers["Origin"] = origin
    return WsClient(f"ws://127.0.0.1:{port}/ws", host=host, headers=headers)


def close_quietly(ws: WsClient) -> None:
    try:
        ws.close()
    except ConnectionClosed:
        pass
    ws.thread.join(5)


@contextmanager
def agent_socket(tenant, **kw: Any) -> Iterator[WsClient]:
    """A socket for ``tenant`` authenticated with its admin's session cookie."""
    ws = ws_connect(tenant.server.port, tenant.host, cookie=session_cookie(tenant), **kw)
    try:
        yield ws
    finally:
        close_quietly(ws)


def session_cookie(tenant) -> str:
    cookie = tenant.admin.session.cookies.get("gp_session")
    assert cookie, "the admin login set no gp_session cookie"
    return cookie


def receive_json(ws: WsClient, timeout: float = REPLY_TIMEOUT) -> dict[str, Any]:
    raw = ws.receive(timeout=timeout)
    assert raw is not None, f"no message within {timeout}s"
    return json.loads(raw)


def wait_for(ws: WsClient, predicate: Callable[[dict], bool], timeout: float) -> tuple[dict, list[dict]]:
    """The first message matching ``predicate`` and those that came before it."""
    deadline = time.monotonic() + timeout
    seen: list[dict] = []
    while (left := deadline - time.monotonic()) > 0:
        raw = ws.receive(timeout=left)
        if raw is None:
            break
        message = json.loads(raw)
        if predicate(message):
            return message, seen
        seen.append(message)
    pytest.fail(f"no matching message within {timeout}s; got {seen!r}")


def drain(ws: WsClient, seconds: float) -> list[dict]:
    """Everything the socket receives during ``seconds``."""
    deadline = time.monotonic() + seconds
    got = []
    while (left := deadline - time.monotonic()) > 0:
        raw = ws.receive(timeout=left)
        if raw is None:
            break
        got.append(json.loads(raw))
    return got


def raw_handshake(port: int, host: str, headers: dict[str, str] | None = None,
                  timeout: float = HANDSHAKE_TIMEOUT, target: str = "/ws") -> tuple[int, bytes]:
    """Send an upgrade request by hand; the status of the first response and what followed it."""
    lines = [
        f"GET {target} HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}", "Sec-WebSocket-Version: 13",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
    ]
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep and head.startswith(b"HTTP/1.1 101"):
                break  # upgraded: the connection stays open
            if sep and b"content-length:" in head.lower():
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                if len(body) >= length:
                    break
    status_line, _, rest = data.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 "), data[:200]
    return int(status_line.split()[1]), rest


def assert_refused(tenant, host: str, *, status: int, code: str, cookie: str | None = None,
                   origin: str | None = None) -> None:
    """The handshake is answered with ``status`` and the JSON error, never upgraded."""
    port = tenant.server.port
    try:
        ws = ws_connect(port, host, cookie=cookie, origin=origin)
    except simple_websocket.ConnectionError as exc:
        assert exc.status_code == status
    else:
        close_quietly(ws)
        pytest.fail(f"the WebSocket handshake was accepted; expected a {status} refusal")
    headers = {"Cookie": f"gp_session={cookie}"} if cookie is not None else {}
    if origin is not None:
        headers["Origin"] = origin
    got, rest = raw_handshake(port, host, headers)
    assert got == status, rest[:500]
    _head, _, body = rest.partition(b"\r\n\r\n")
    assert json.loads(body)["error"]["code"] == code


# -- the handshake ---------------------------------------------------------------


def test_hello_names_the_tenant_and_the_principal(tenant):
    me = tenant.admin.get("/api/v1/auth/me").json()
    with agent_socket(tenant) as ws:
        hello = receive_json(ws)
    assert hello["type"] == "hello"
    assert hello["tenant"] == tenant.slug
    assert hello["principal"] == {"id": me["id"], "role": "admin"}


def test_same_origin_page_is_accepted(tenant):
    with agent_socket(tenant, origin=f"http://{tenant.host}") as ws:
        assert receive_json(ws)["type"] == "hello"


def test_unauthenticated_handshake_is_refused_with_401(tenant):
    assert_refused(tenant, tenant.host, status=401, code="unauthorized")


def test_an_undeclared_query_parameter_is_refused_before_the_upgrade(tenant):
    """``/ws`` declares no query parameter (GET /api/openapi.json): any is a 422, not a socket."""
    cookie = {"Cookie": f"gp_session={session_cookie(tenant)}"}
    status, rest = raw_handshake(tenant.server.port, tenant.host, cookie, target="/ws?colour=red")
    assert status == 422, rest[:500]
    error = json.loads(rest.partition(b"\r\n\r\n")[2])["error"]
    assert error["field"] == "colour" and "colour" in error["message"]
    # Authentication comes first, as on every route.
    status, _rest = raw_handshake(tenant.server.port, tenant.host, target="/ws?colour=red")
    assert status == 401


def test_unknown_or_foreign_session_cookie_is_refused_with_401(tenant_factory):
    a, b = tenant_factory(), tenant_factory()
    assert_refused(a, a.host, cookie="not-a-session", status=401, code="unauthorized")
    # A's valid cookie means nothing on B's host.
    assert_refused(b, b.host, cookie=session_cookie(a), status=401, code="unauthorized")


def test_cross_site_origin_with_a_cookie_is_refused(tenant):
    assert_refused(tenant, tenant.host, cookie=session_cookie(tenant), origin="https://evil.example.com",
                   status=403, code="forbidden")


def test_unknown_host_is_refused_with_404(tenant):
    host = f"nobody.{tenant.kernel.config.base_domain}:{tenant.server.port}"
    status, _rest = raw_handshake(tenant.server.port, host, {"Cookie": f"gp_session={session_cookie(tenant)}"})
    assert status == 404
    with pytest.raises(simple_websocket.ConnectionError) as refused:
        ws_connect(tenant.server.port, host, cookie=session_cookie(tenant))
    assert refused.value.status_code == 404


# -- messages from the client ------------------------------------------------------


def test_ping_gets_pong_with_the_same_id(tenant):
    with agent_socket(tenant) as ws:
        assert receive_json(ws)["type"] == "hello"
        ws.send(json.dumps({"type": "ping", "id": "p-1"}))
        assert receive_json(ws) == {"type": "pong", "id": "p-1"}


def test_bad_messages_get_errors_with_codes_and_the_socket_stays_usable(tenant):
    with agent_socket(tenant) as ws:
        assert receive_json(ws)["type"] == "hello"
        ws.send("{not json")
        error = receive_json(ws)
        assert error["type"] == "error" and error["error"]["code"] == "malformed_json"
        ws.send(json.dumps([1, 2]))
        error = receive_json(ws)
        assert error["type"] == "error" and error["error"]["code"] == "invalid"
        assert error["error"]["field"] == "type"
        ws.send(json.dumps({"type": "subscribe-everything"}))
        error = receive_json(ws)
        assert error["type"] == "error" and error["error"]["code"] == "unknown_type"
        ws.send(json.dumps({"type": "ping", "id": 7}))
        assert receive_json(ws) == {"type": "pong", "id": 7}


@pytest.mark.parametrize("message, code", [
    ("[" * 100_000 + "]" * 100_000, "json_too_deep"),            # was a RecursionError: the socket died
    ('{"type": "ping", "id": NaN}', "malformed_json"),            # was echoed back as bare NaN
    ('{"type": "ping", "id": ' + "9" * 5000 + "}", "json_number_out_of_range"),
])
def test_messages_beyond_the_json_limits_get_errors_and_the_socket_stays_usable(tenant, message, code):
    with agent_socket(tenant) as ws:
        assert receive_json(ws)["type"] == "hello"
        ws.send(message)
        error = json.loads(ws.receive(timeout=REPLY_TIMEOUT), parse_constant=pytest.fail)
        assert error["type"] == "error" and error["error"]["code"] == code and error["error"]["message"]
        ws.send(json.dumps({"type": "ping", "id": 8}))
        assert receive_json(ws) == {"type": "pong", "id": 8}


# -- events ------------------------------------------------------------------------


def test_a_state_change_reaches_its_tenants_socket_and_no_other(tenant_factory, guidepath_backend):
    a, b = tenant_factory(), tenant_factory()
    with agent_socket(a) as ws_a, agent_socket(b) as ws_b:
        assert receive_json(ws_a)["type"] == "hello"
        assert receive_json(ws_b)["type"] == "hello"

        session = a.admin.post("/api/v1/sessions", json={})
        assert session.status_code == 201, session.text
        session_id = session.json()["id"]
        changed = a.admin.post(f"/api/v1/sessions/{session_id}/state", json={"state": "waiting"})
        assert changed.status_code == 200, changed.text
        started = time.monotonic()

        def is_the_change(message: dict) -> bool:
            event = message.get("event") or {}
            return (message.get("type") == "event" and event.get("type") == "session.state_changed"
                    and event.get("data", {}).get("session_id") == session_id)

        message, before = wait_for(ws_a, is_the_change, FIRST_EVENT_TIMEOUT)
        latency = time.monotonic() - started
        print(f"\n[{guidepath_backend}] session.state_changed reached the socket in {latency * 1000:.0f} ms")
        event = message["event"]
        assert event["tenant_id"] == a.id
        assert event["data"]["from_state"] == "created" and event["data"]["to_state"] == "waiting"
        assert event["id"].startswith("evt_") and event["time"]
        assert all(m["type"] == "event" and m["event"]["tenant_id"] == a.id for m in before)

        # A second change travels the warmed-up path.
        started = time.monotonic()
        a.admin.post(f"/api/v1/sessions/{session_id}/state", json={"state": "active"}).raise_for_status()
        wait_for(ws_a, lambda m: m.get("type") == "event" and m["event"]["data"].get("to_state") == "active",
                 FIRST_EVENT_TIMEOUT)
        print(f"[{guidepath_backend}] second change in {(time.monotonic() - started) * 1000:.0f} ms")

        leaked = drain(ws_b, QUIET_PERIOD)
        assert leaked == [], f"tenant B's socket received {leaked!r}"

