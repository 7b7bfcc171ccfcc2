"""A real HTTP receiver on loopback, and short delivery delays for the tests.

The receiver is a thread running ``http.server``; each test scripts what it
answers (``receiver.script``) and reads back what it got (``receiver.requests``).
The webhooks plugin's options (per kernel, ``kernel.extensions["webhooks"]``)
are replaced for the test — loopback allowed as with
``GUIDEPATH_WEBHOOKS_ALLOW_PRIVATE=1``, a retry schedule in fractions of a second,
a quick sweep — and put back afterwards.
"""

from __future__ import annotations

import dataclasses
import http.server
import threading
import time
from typing import Any, Callable

import pytest

from guidepath.plugins.webhooks.options import state_for

FAST = dict(allow_private=True, schedule=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0), jitter=0.1,
            sweep_seconds=0.3, lease_seconds=5.0, connect_timeout=1.0, read_timeout=2.0, total_timeout=3.0)


@dataclasses.dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class Receiver:
    """``script(path) -> (status, headers, body, delay_seconds)``; default 200."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: Callable[[str], tuple[int, dict[str, str], bytes, float]] = lambda path: (200, {}, b"ok", 0.0)
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                      body, time.monotonic()))
                status, headers, answer, delay = receiver.script(self.path)
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def received(self, path: str | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if path is None or r.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def webhook_options(guidepath_kernel):
    """Fast options for this test; ``set(**changes)`` changes more of them."""
    state = state_for(guidepath_kernel)
    saved = state.options
    state.options = dataclasses.replace(saved, **FAST)

    def change(**changes: Any):
        state.options = dataclasses.replace(state.options, **changes)
        return state.options

    try:
        yield change
    finally:
        state.options = saved
