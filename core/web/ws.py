"""``WS /ws``: an agent's real-time channel, scoped to the request's tenant.

Events reach the socket through the kernel's fan-out (Redis pub/sub across app
nodes, in-process when embedded), subscribed for this tenant only. A slow socket
drops the oldest messages beyond a bound instead of growing without limit. Client
messages are parsed with the same strict JSON parser as request bodies, so a message
too deep or with NaN gets an error reply and the socket stays usable.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
from urllib.parse import urlsplit

from flask import current_app, request
from flask_sock import ConnectionClosed, Sock
from sqlalchemy import select

from ..domain import strict_json
from ..domain.errors import Forbidden
from ..domain.tables import api_keys, users
from .auth import current_principal
from .contract import documented, operation_of
from .tenant import tenant_ctx

log = logging.getLogger("guidepath.ws")

sock = Sock()
QUEUE_BOUND = 1000


def _check_origin() -> None:
    # Cookies ride along on cross-site WebSocket handshakes (no CORS for WS), so
    # a cookie-authenticated socket must come from a page on the tenant's own host.
    origin = request.headers.get("Origin")
    if origin and not request.headers.get("Authorization"):
        if urlsplit(origin).netloc.lower() != request.host.lower():
            raise Forbidden("WebSocket origin does not match the tenant's host")


WS_ENDPOINT = "__flask_sock.agent_socket"

#: The handshake's headers (RFC 6455), for the document: a plain GET is a 400.
HANDSHAKE_HEADERS = [
    {"name": "Upgrade", "in": "header", "required": True, "schema": {"const": "websocket"}},
    {"name": "Connection", "in": "header", "required": True, "schema": {"type": "string", "examples": ["Upgrade"]},
     "description": "Must include `Upgrade`"},
    {"name": "Sec-WebSocket-Key", "in": "header", "required": True,
     "schema": {"type": "string", "examples": ["dGhlIHNhbXBsZSBub25jZQ=="]},
     "description": "base64 of 16 random bytes"},
    {"name": "Sec-WebSocket-Version", "in": "header", "required": True, "schema": {"const": "13"}},
    {"name": "Origin", "in": "header", "required": False, "schema": {"type": "string"},
     "description": "Browsers send it: a cookie-authenticated socket must come from a page on the account's "
                    "own host (403 otherwise)"},
]

WS_DESCRIPTION = """Authenticated like any request (session cookie, or `Authorization: Bearer <api key>`);
refused with a JSON 401/403 before the upgrade. Then the server sends JSON text messages:
`{"type": "hello", "tenant", "principal": {"id", "role"}}` first, then every event of the
account as it happens (a slow socket loses the oldest; the next message it gets says
`"dropped_before": true`). The client may send `{"type": "ping", "id": …}` (answered
`{"type": "pong", "id": …}`), and `{"type": "typing", "session_id": "ses_…", "typing": true|false}`
while the agent types in a session's chat: it is relayed (not stored, not an event) to every socket of
the account as `{"type": "typing", "session_id", "user_id", "name", "typing"}`. Any other message, or
one of the wrong shape, is answered `{"type": "error", "error": {"code", "message", "field"}}`, and the
socket stays open. Client messages follow the same JSON limits as request bodies. A customer token
cannot open the socket (403)."""

_documented = documented("The agent's real-time WebSocket (GET with Upgrade: websocket)",
                         description=WS_DESCRIPTION, query=[], status=101, errors=[400, 401, 403],
                         parameters=HANDSHAKE_HEADERS)


def authenticate_handshake() -> None:
    """``before_request`` for ``/ws``: refuse with a JSON 401/403 (or 422 for a query
    parameter) *before* the upgrade. flask-sock completes the handshake before the
    view runs, so a check in the view could only close an already-open socket."""
    if request.endpoint == WS_ENDPOINT:
        tenant_ctx()
        _check_origin()
        current_principal()
        operation = operation_of(current_app.view_functions.get(WS_ENDPOINT))
        if operation is not None:
            operation.parse_query(request.args)


@sock.route("/ws")
@_documented
def agent_socket(ws) -> None:
    ctx = tenant_ctx()
    principal = current_principal()
    kernel = current_app.extensions["guidepath"]
    outgoing = Outgoing()
    subscription = kernel.fanout.subscribe(ctx.id, outgoing.deliver)
    typist = Typist(kernel, ctx, principal)
    # One thread writes to the socket (this one, woken the moment something is queued:
    # no polling delay on the way to the agent's screen); a reader thread handles
    # what the client sends and queues its replies behind the events.
    reader = threading.Thread(target=_read_client, args=(ws, outgoing, typist), daemon=True,
                              name="guidepath-ws-reader")
    try:
        ws.send(strict_json.dumps({"type": "hello", "tenant": ctx.tenant.slug,
                                   "principal": {"id": principal["id"], "role": principal["role"]}}))
        reader.start()
        while (message := outgoing.next()) is not None:
            ws.send(message if isinstance(message, str) else strict_json.dumps(message))
    except ConnectionClosed:
        pass
    finally:
        subscription.close()


class Outgoing:
    """What is waiting to be sent on one socket: events, and replies to the client.

    Bounded: a slow socket loses the oldest events (the next one it gets says
    ``dropped_before``, and the agent UI re-reads its state). ``None`` from
    :meth:`next` means the client has gone.
    """

    def __init__(self, bound: int = QUEUE_BOUND) -> None:
        self._queue: queue.Queue[dict | str | None] = queue.Queue(maxsize=bound)

    def deliver(self, message: dict | str | None) -> None:
        try:
            self._queue.put_nowait(message)
        except queue.Full:  # drop the oldest
            try:
                self._queue.get_nowait()
            except queue.Empty:
                pass
            if isinstance(message, dict):
                message = {**message, "dropped_before": True}
            self._queue.put_nowait(message)

    def send(self, text: str) -> None:
        """What the client-message handlers call instead of ``ws.send``."""
        self.deliver(text)

    def close(self) -> None:
        self.deliver(None)

    def next(self) -> dict | str | None:
        return self._queue.get()


def _read_client(ws, outgoing: Outgoing, typist: "Typist") -> None:
    try:
        while True:
            incoming = ws.receive()
            if incoming is not None:
                _handle_client_message(outgoing, incoming, typist)
    except ConnectionClosed:
        pass
    except Exception:  # noqa: BLE001 - a bug here must still end the socket, not hang it
        log.exception("error reading a WebSocket client")
    finally:
        outgoing.close()


_SESSION_ID = re.compile(r"ses_[0-9a-z]{26}")


class Typist:
    """Who is typing, for ``typing`` messages: the name is read once per socket, lazily."""

    def __init__(self, kernel, ctx, principal: dict) -> None:
        self.kernel, self.ctx, self.principal = kernel, ctx, principal
        self._name: str | None = None

    @property
    def name(self) -> str:
        if self._name is None:
            table = users if self.principal.get("kind") == "user" else api_keys
            with self.ctx.engine.connect() as conn:
                row = conn.execute(select(table.c.name).where(table.c.id == self.principal["id"])).first()
            self._name = (row.name if row is not None else "") or self.principal.get("email") or "Agent"
        return self._name

    def publish(self, session_id: str, typing: bool) -> None:
        self.kernel.fanout.publish(self.ctx.id, {"type": "typing", "session_id": session_id,
                                                 "user_id": self.principal["id"], "name": self.name,
                                                 "typing": typing})


def _typing(ws, message: dict, typist: Typist | None) -> None:
    session_id, typing = message.get("session_id"), message.get("typing")
    extra = sorted(set(message) - {"type", "session_id", "typing"})
    if extra:
        _send_error(ws, "invalid", f"unknown field {extra[0]!r} in a typing message", extra[0])
    elif not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
        _send_error(ws, "invalid", "a typing message needs 'session_id', a session id (ses_…)", "session_id")
    elif not isinstance(typing, bool):
        _send_error(ws, "invalid", "a typing message needs 'typing': true or false", "typing")
    elif typist is not None:
        typist.publish(session_id, typing)


def _handle_client_message(ws, raw: str | bytes, typist: Typist | None = None) -> None:
    try:
        message = strict_json.loads(raw)
    except strict_json.BadJSON as exc:
        _send_error(ws, exc.code, exc.message)
        return
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        _send_error(ws, "invalid", "a message needs a string 'type'", "type")
        return
    if message["type"] == "ping":
        ws.send(strict_json.dumps({"type": "pong", "id": message.get("id")}))
    elif message["type"] == "typing":
        _typing(ws, message, typist)
    else:
        _send_error(ws, "unknown_type", f"unknown message type {message['type']!r}", "type")


def _send_error(ws, code: str, message: str, field: str | None = None) -> None:
    ws.send(strict_json.dumps({"type": "error", "error": {"code": code, "message": message, "field": field}}))
