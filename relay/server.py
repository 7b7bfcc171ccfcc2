"""The relay process: accepts devices over TCP and viewers over WebSocket.

Each client connection runs ``_serve``: handshake (``admission``), then a read
loop that opens and validates every frame and hands it to the :class:`Hub`;
a per-connection writer task sends. One bad client only ever closes itself: a
:class:`ProtocolError` closes that connection with its code, and the loop keeps
serving the others. A heartbeat task pings every client and closes those that
went silent.

Run it in its own process (``guidepath relay``), or inside another program with
:meth:`RelayServer.start_in_thread`::

    running = RelayServer(RelaySettings(relay_id="embedded", ticket_secret=secret)).start_in_thread()
    print(running.tcp_address, running.ws_url)
    running.stop()
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import Server, ServerConnection, serve

from .admission import check_ticket, read_hello, refuse, relay_channel
from .connection import ClientConnection
from .limits import ConnectionLimits, DropLog
from .links import (
    PRE_AUTH_MESSAGE_BYTES,
    Link,
    RelayWebSocketConnection,
    TcpLink,
    WebSocketLink,
)
from .protocol import Ack, Close, CloseCode, FrameType, ProtocolError, check_from_client
from .recording import RecordingWriter
from .registry import RelayInfo, RelayRegistry
from .reports import Report, ReportQueue, ReportSink
from .sessions import Hub, Session
from .tickets import TicketRefused, UsedTickets

if TYPE_CHECKING:
    from guidepath.core.crypto import MasterKey
    from guidepath.core.files import FileStore

log = logging.getLogger("guidepath.relay")


@dataclass
class RelaySettings:
    relay_id: str
    ticket_secret: bytes = field(repr=False)
    host: str = "127.0.0.1"
    tcp_port: int = 7600  #: 0 picks a free port
    ws_port: int = 7601  #: 0 picks a free port
    #: The host name clients reach this relay by (registered); defaults to *host*.
    public_host: str | None = None
    #: Public WebSocket URL when a proxy terminates TLS (e.g. wss://relay1.example.com/).
    public_ws_url: str | None = None
    heartbeat_seconds: float = 10.0
    idle_timeout_seconds: float = 30.0
    grace_seconds: float = 30.0
    hello_timeout_seconds: float = 10.0
    control_queue_limit: int = 256
    #: Bytes of control frames waiting for one client; a viewer above it is closed (4024).
    control_queue_bytes: int = 8 * 1024 * 1024
    #: Bytes of one viewer's input waiting for the device (its own lane; dropped above).
    input_lane_bytes: int = 2 * 1024 * 1024
    #: Control frames (and bytes) a client may send per second, sustained and in a
    #: burst; above them it is closed with RATE_LIMITED (4023). See limits.ConnectionLimits.
    control_rate: float = 500.0
    control_burst: float = 1000.0
    control_bytes_rate: float = 4 * 1024 * 1024
    control_bytes_burst: float = 8 * 1024 * 1024
    device_info_rate: float = 5.0
    device_info_burst: float = 10.0
    #: A client whose writes make no progress this long is closed (it stopped reading).
    write_timeout_seconds: float = 10.0
    #: A close that could not be sent within this is forced (the link is aborted).
    close_timeout_seconds: float = 2.0
    #: The kernel's send buffer of a device's socket: what waits for a device waits in
    #: the relay, where each viewer's input has its own lane (0: the kernel's default).
    device_send_buffer_bytes: int = 128 * 1024
    #: Reports waiting to be published, per tenant: one tenant's flood drops only its own.
    report_queue_per_tenant: int = 1000
    capacity: int = 10_000
    #: Recording needs both: the master key unwraps the grant, the store keeps the file.
    master_key: MasterKey | None = field(default=None, repr=False)
    file_store: FileStore | None = None
    reports: ReportSink | None = None
    registry: RelayRegistry | None = None
    registry_interval_seconds: float = 5.0


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop when it is installed (the optional ``fast`` extra:
    ``pip install guidepath[fast]``), else asyncio's. The relay behaves the same
    on both; uvloop only spends less CPU per read and write."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(main: Any) -> Any:
    """``asyncio.run(main)`` on :func:`new_event_loop` (for a relay process)."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)


class RelayServer:
    def __init__(self, settings: RelaySettings) -> None:
        self.settings = settings
        self.used_tickets = UsedTickets()
        self.hub = Hub(
            grace_seconds=settings.grace_seconds,
            report=self._report,
            start_recording=self._start_recording,
            finish_recording=self._finish_recording,
        )
        self._tcp: asyncio.Server | None = None
        self._ws: Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reports: ReportQueue | None = None
        self.limits = ConnectionLimits(
            control_queue_frames=settings.control_queue_limit,
            control_queue_bytes=settings.control_queue_bytes,
            input_lane_bytes=settings.input_lane_bytes,
            control_rate=settings.control_rate,
            control_burst=settings.control_burst,
            control_bytes_rate=settings.control_bytes_rate,
            control_bytes_burst=settings.control_bytes_burst,
            device_info_rate=settings.device_info_rate,
            device_info_burst=settings.device_info_burst,
            write_timeout=settings.write_timeout_seconds,
            close_timeout=settings.close_timeout_seconds,
        )
        self._report_drops = DropLog(log, "report queue of a tenant full; reports dropped")
        self._connections: set[ClientConnection] = set()
        self._handlers: set[asyncio.Task[Any]] = set()
        self.tcp_port = 0
        self.ws_port = 0

    # -- addresses ---------------------------------------------------------------------

    @property
    def tcp_address(self) -> str:
        return f"{self.settings.public_host or self.settings.host}:{self.tcp_port}"

    @property
    def ws_url(self) -> str:
        return self.settings.public_ws_url or f"ws://{self.settings.public_host or self.settings.host}:{self.ws_port}/"

    def info(self) -> RelayInfo:
        return RelayInfo(
            self.settings.relay_id, self.tcp_address, self.ws_url, self.hub.connection_count, self.settings.capacity
        )

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings
        self._reports = ReportQueue(per_tenant=s.report_queue_per_tenant)
        # Not admitted yet, a connection may announce and buffer one plain frame at
        # most (8 KiB), on both legs: memory per unauthenticated connection stays small.
        self._tcp = await asyncio.get_running_loop().create_server(
            lambda: TcpLink(on_connect=self._on_tcp, pre_auth=True, send_buffer=s.device_send_buffer_bytes or None),
            s.host,
            s.tcp_port,
        )
        self.tcp_port = self._tcp.sockets[0].getsockname()[1]
        self._ws = await serve(
            self._on_ws,
            s.host,
            s.ws_port,
            max_size=PRE_AUTH_MESSAGE_BYTES,  # raised to MAX_MESSAGE_BYTES on admission
            create_connection=RelayWebSocketConnection,  # a message too large closes with 4004
            ping_interval=None,  # the protocol's own PING/PONG covers both legs alike
            compression=None,  # images are compressed already; sealed bytes don't compress
            close_timeout=2,
        )
        self.ws_port = self._ws.sockets[0].getsockname()[1] if hasattr(self._ws, "sockets") else s.ws_port
        self._spawn(self._heartbeat_loop())
        self._spawn(self._watchdog_loop())
        self._spawn(self._report_loop())
        if s.registry is not None:
            self._spawn(self._registry_loop())
        log.info(
            "relay listening",
            extra={"relay_id": s.relay_id, "tcp": self.tcp_address, "ws": self.ws_url},
        )

    async def stop(self) -> None:
        """Close every session (GOING_AWAY), finish recordings, stop listening."""
        if self._tcp is None:
            return
        self._tcp.close()
        self._ws.close(close_connections=False)
        self.hub.close_all(CloseCode.GOING_AWAY, "the relay is shutting down")
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=5)
        await self._ws.wait_closed()
        if self.settings.registry is not None:
            try:
                await asyncio.to_thread(self.settings.registry.unregister, self.settings.relay_id)
            except Exception:
                log.warning("could not unregister the relay", exc_info=True)
        # Let pending reports (recording_saved among them) go out.
        if self._reports is not None:
            for _ in range(50):
                if not self._reports and not self._publishing:
                    break
                await asyncio.sleep(0.05)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tcp = None
        log.info("relay stopped", extra={"relay_id": self.settings.relay_id})

    async def serve_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    def start_in_thread(self) -> RunningRelay:
        """Run this relay on its own event loop in a daemon thread.

        For embedded mode (the app and the relay in one process) and for tests.
        Returns once it listens; ``stop()`` on the result shuts it down.
        """
        started: Future[None] = Future()
        loop = new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                started.set_exception(exc)
                loop.close()
                return
            started.set_result(None)
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        thread = threading.Thread(target=run, name=f"relay-{self.settings.relay_id}", daemon=True)
        thread.start()
        started.result(timeout=10)
        return RunningRelay(self, loop, thread)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- legs ---------------------------------------------------------------------------

    def _on_tcp(self, link: TcpLink) -> None:
        task = asyncio.get_running_loop().create_task(self._serve(link, "device"))
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _on_ws(self, ws: ServerConnection) -> None:
        await self._serve(WebSocketLink(ws), "viewer")

    async def _serve(self, link: Link, leg_role: str) -> None:
        task = asyncio.current_task()
        self._handlers.add(task)
        try:
            conn = await self._admit(link, leg_role)
            if conn is not None:
                await self._run(conn)
        except Exception:
            log.exception("relay handler failed", extra={"peer": link.peer})
            await link.close(int(CloseCode.INTERNAL_ERROR), "internal error")
        finally:
            self._handlers.discard(task)

    async def _admit(self, link: Link, leg_role: str) -> ClientConnection | None:
        s = self.settings
        try:
            hello = await read_hello(link, s.hello_timeout_seconds)
            ticket = check_ticket(
                hello, leg_role=leg_role, secret=s.ticket_secret, relay_id=s.relay_id, used=self.used_tickets
            )
        except (TicketRefused, ProtocolError) as exc:
            code, reason = exc.code, getattr(exc, "reason", None) or str(exc)
            log.info("connection refused", extra={"peer": link.peer, "code": int(code), "reason": reason})
            await refuse(link, code, reason)
            return None
        except (ConnectionError, OSError):
            await link.close(int(CloseCode.NORMAL), "")
            return None
        link.admit(ticket.limits.max_frame_bytes)
        conn = ClientConnection(link, ticket, relay_channel(ticket), limits=self.limits)
        if self._tcp is None:  # stopping
            await refuse(link, CloseCode.GOING_AWAY, "the relay is shutting down")
            return None
        resumed = self.hub.attach(conn)
        ack = Ack(
            connection_id=ticket.connection_id,
            session_id=ticket.session_id,
            kind=ticket.kind,
            role=ticket.role,
            heartbeat_seconds=s.heartbeat_seconds,
            idle_timeout_seconds=s.idle_timeout_seconds,
            limits={
                "max_fps": ticket.limits.max_fps,
                "max_width": ticket.limits.max_width,
                "max_height": ticket.limits.max_height,
                "max_frame_bytes": ticket.limits.max_frame_bytes,
            },
            resumed=resumed,
        )
        # The ACK is counter 0 of the relay's direction: ahead of anything attach() queued.
        conn.outbox.push_front(FrameType.ACK, ack.encode())
        conn.start_writer()
        self._connections.add(conn)
        log.info("connected", extra={**conn.log_fields, "resumed": resumed})
        self._report(
            f"{ticket.role}_connected", ticket=ticket, connection_id=ticket.connection_id, role=ticket.role,
            resumed=resumed if ticket.role == "device" else None,
        )
        return conn

    async def _run(self, conn: ClientConnection) -> None:
        loop = asyncio.get_running_loop()
        ticket, link, opener = conn.ticket, conn.link, conn.channel.opener
        role, kind, route, charge = ticket.role, ticket.kind, self.hub.route, conn.charge
        PING, PONG, CLOSE = FrameType.PING, FrameType.PONG, FrameType.CLOSE
        try:
            while True:
                # Every frame of one read is opened, checked and routed in turn;
                # the first bad one closes the connection and the rest are ignored.
                frames = await link.recv_frames()
                if frames is None:
                    if conn.close_code is None:  # gone without a CLOSE frame
                        conn.close_code, conn.close_reason = CloseCode.GOING_AWAY, "connection lost without CLOSE"
                    break
                now = loop.time()
                for frame in frames:
                    frame = opener.open(frame)
                    conn.last_seen = now  # only authenticated frames count as life
                    check_from_client(frame, role, kind)
                    t = frame.type
                    charge(t, len(frame.payload), now)  # control frames: 4023 above the rate limit
                    if t is PING:
                        conn.send(FrameType.PONG, frame.payload)
                    elif t is PONG:
                        pass
                    elif t is CLOSE:
                        close = Close.decode(frame.payload)
                        conn.closed_by_peer(close.code, close.reason)
                        break
                    else:
                        route(conn, t, frame.payload, now)
                else:
                    # The payloads were views of the link's read buffer: holding them
                    # while waiting would keep a grown buffer alive between frames.
                    frames = frame = None
                    continue
                break  # the peer said CLOSE
        except ProtocolError as exc:
            log.warning(
                "protocol error; closing the connection",
                extra={**conn.log_fields, "code": int(exc.code), "reason": exc.message},
            )
            conn.close(exc.code, exc.message)
        finally:
            if not conn.peer_closed:
                conn.close(conn.close_code or CloseCode.NORMAL, conn.close_reason)
            self.hub.detach(conn)
            self._connections.discard(conn)
            await conn.wait_closed()
            log.info(
                "disconnected",
                extra={**conn.log_fields, "code": int(conn.close_code or 1000), "reason": conn.close_reason},
            )
            self._report(
                f"{ticket.role}_disconnected", ticket=ticket, connection_id=ticket.connection_id, role=ticket.role,
                code=int(conn.close_code or CloseCode.NORMAL), reason=conn.close_reason,
            )

    # -- background loops -------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        s = self.settings
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(s.heartbeat_seconds)
            now = loop.time()
            stamp = int(now * 1000).to_bytes(8, "big")
            for conn in list(self._connections):
                if now - conn.last_seen > s.idle_timeout_seconds:
                    if conn.close_code is None:
                        log.info("idle timeout", extra=conn.log_fields)
                    conn.close(CloseCode.IDLE_TIMEOUT, f"nothing received for {s.idle_timeout_seconds:g} s")
                else:
                    conn.send(FrameType.PING, stamp)

    async def _watchdog_loop(self) -> None:
        """Cut off clients that stopped reading: a write with no progress for
        ``write_timeout_seconds`` aborts the link (SLOW_CONSUMER), which ends the
        handler and releases everything the connection held."""
        timeout = self.settings.write_timeout_seconds
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(max(0.05, min(1.0, timeout / 4)))
            now = loop.time()
            for conn in list(self._connections):
                if conn.stalled(now):
                    log.warning("client stopped reading; closing it", extra={
                        **conn.log_fields, "write_timeout_seconds": timeout,
                        "queued_bytes": conn.outbox.queued_bytes})
                    conn.abort(CloseCode.SLOW_CONSUMER, f"too slow: nothing could be sent for {timeout:g} s")

    async def _registry_loop(self) -> None:
        s = self.settings
        while True:
            try:
                await asyncio.to_thread(s.registry.register, self.info(), s.registry_interval_seconds * 3)
            except Exception:
                log.warning("relay registration failed; retrying", exc_info=True)
            await asyncio.sleep(s.registry_interval_seconds)

    _publishing = False

    async def _report_loop(self) -> None:
        """Publish reports in batches, the tenants' queues served in turn."""
        sink = self.settings.reports

        def publish(batch: list[Report]) -> None:
            for report in batch:
                try:
                    sink.publish(report)
                except Exception:
                    log.warning("could not publish a relay report", exc_info=True, extra={"type": report.type})

        while True:
            batch = await self._reports.take(100)
            if sink is None:
                continue
            self._publishing = True
            try:
                await asyncio.to_thread(publish, batch)
            finally:
                self._publishing = False

    def _report(self, report_type: str, *, ticket: Any = None, **fields: Any) -> None:
        if ticket is not None:
            fields.update(tenant_id=ticket.tenant_id, session_id=ticket.session_id, kind=ticket.kind)
        report = Report(type=report_type, relay_id=self.settings.relay_id, **{k: v for k, v in fields.items()})
        if self._reports is not None and not self._reports.put(report):
            self._report_drops(type=report_type, tenant_id=report.tenant_id)

    # -- recordings --------------------------------------------------------------------

    def _start_recording(self, conn: ClientConnection) -> RecordingWriter | None:
        s, ticket = self.settings, conn.ticket
        if s.master_key is None or s.file_store is None:
            log.warning("recording granted but this relay has no file store or master key", extra=conn.log_fields)
            self._report("recording_failed", ticket=ticket, error="relay has no file store configured")
            return None
        try:
            data_key = s.master_key.unwrap(ticket.recording.wrapped_data_key, ticket.tenant_id)
            files = s.file_store.for_tenant(ticket.tenant_id, data_key)
        except Exception as exc:
            log.warning("recording grant unusable", extra={**conn.log_fields, "error": str(exc)})
            self._report("recording_failed", ticket=ticket, error=str(exc))
            return None
        writer = RecordingWriter(
            files,
            {"tenant_id": ticket.tenant_id, "session_id": ticket.session_id, "kind": ticket.kind},
            file_name=ticket.recording.file_name or "",
        )
        writer.start()
        return writer

    def _finish_recording(self, session: Session, writer: RecordingWriter) -> None:
        tenant_id, session_id, kind = session.key
        future = asyncio.wrap_future(writer.finish())

        def done(f: asyncio.Future[Any]) -> None:
            if f.cancelled() or f.exception() is not None:
                error = "cancelled" if f.cancelled() else str(f.exception())
                self._report("recording_failed", tenant_id=tenant_id, session_id=session_id, kind=kind, error=error)
                return
            saved = f.result()
            log.info("recording saved", extra={"tenant_id": tenant_id, "session_id": session_id,
                                               "file_id": saved.info.id, "size": saved.info.size,
                                               "dropped": saved.dropped})
            self._report(
                "recording_saved", tenant_id=tenant_id, session_id=session_id, kind=kind, file_id=saved.info.id,
                file_name=saved.info.name or None, size=saved.info.size, duration_seconds=saved.duration_seconds,
            )

        future.add_done_callback(done)
        self._spawn(asyncio.wait([future]))


class RunningRelay:
    """A relay running in a background thread (see :meth:`RelayServer.start_in_thread`)."""

    def __init__(self, server: RelayServer, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        self.server = server
        self.loop = loop
        self.thread = thread

    @property
    def relay_id(self) -> str:
        return self.server.settings.relay_id

    @property
    def tcp_address(self) -> str:
        return self.server.tcp_address

    @property
    def tcp_port(self) -> int:
        return self.server.tcp_port

    @property
    def ws_url(self) -> str:
        return self.server.ws_url

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run *fn* on the relay's loop and return its result (for inspection in tests)."""

        async def wrapper() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(timeout=5)

    def stop(self, timeout: float = 15.0) -> None:
        if not self.thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(timeout=timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout)

    def __enter__(self) -> RunningRelay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


