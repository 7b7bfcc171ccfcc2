"""The two transports a client can arrive on, behind one small interface.

Devices speak frames over a TCP byte stream; browsers over WebSocket, whole
frames in binary messages (one or more per message). Everything above this module (handshake, sessions, routing)
sees only :class:`Link`, so the two legs cannot drift apart in behaviour.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import Side

from .protocol import (
    CloseCode,
    Frame,
    FrameSealer,
    FrameType,
    ProtocolError,
    decode_frames,
    decode_message,
)
from .protocol.frames import (
    HEADER_SIZE,
    MAX_MESSAGE_BYTES,
    MAX_PAYLOAD_BYTES,
    MAX_PLAIN_BYTES,
    TAG_SIZE,
    message_groups,
    new_frame,
    parse_header_at,
)

#: The read buffer of a busy device link.
READ_SIZE = 256 * 1024
#: The read buffer of a quiet one (a frame larger than this grows it for that frame).
IDLE_READ_SIZE = 16 * 1024
#: Buffers are kept for reuse while their link's batches come at most this far apart.
#: A busy stream saves an allocation and its page faults per batch; a quiet one (a
#: camera at 5 fps, a screen that changes now and then) would only hold the memory:
#: a thousand sessions kept half a megabyte each for nothing.
BUSY_SECONDS = 0.05
#: The read buffer of a connection not admitted yet: a HELLO is about 500 bytes. It
#: grows only to hold one frame whose header passed the pre-admission cap (8 KiB).
HELLO_READ_SIZE = 2048
#: The largest WebSocket message before admission: one plain frame.
PRE_AUTH_MESSAGE_BYTES = HEADER_SIZE + MAX_PLAIN_BYTES


class Link(Protocol):
    peer: str
    transport: str

    async def recv_frame(self) -> Frame | None:
        """The next frame (payload still sealed), None at a clean end of stream."""

    async def recv_frames(self) -> list[Frame] | None:
        """Every frame already received (at least one, waiting for it), None at a clean end."""

    async def send(self, data: bytes) -> None: ...

    async def send_many(self, sealer: FrameSealer, frames: Sequence[tuple[FrameType, bytes]]) -> None:
        """Seal *frames* in order with *sealer* and send them, then wait for the buffer to drain."""

    async def close(self, code: int, reason: str) -> None: ...

    def set_max_payload(self, max_payload: int) -> None: ...

    def admit(self, max_payload: int) -> None:
        """The HELLO was accepted: frames up to *max_payload* (the ticket's cap) may come now."""

    def abort(self) -> None:
        """Drop the connection at once, whatever is still buffered for sending."""

    def write_buffer_size(self) -> int:
        """Bytes written but not yet taken by the kernel (the peer is not reading)."""


class _OutBuffer:
    """One reusable output buffer per busy link: sealing a batch into fresh
    memory costs an allocation, a zero fill and (above malloc's mmap threshold)
    page faults every time. The buffer is reused only when the transport took
    everything at once (nothing of ours can still be referenced by it); if the
    peer is slow and the transport kept some, the next batch gets a new buffer.
    A link whose batches come further apart than ``BUSY_SECONDS`` does not keep
    one between batches."""

    KEEP = 1024 * 1024  #: a buffer grown beyond this for one large frame is not kept

    __slots__ = ("_buf", "_last_write")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._last_write = float("-inf")

    def take(self, size: int) -> bytearray:
        if len(self._buf) < size:
            self._buf = bytearray(max(size, min(self.KEEP, 2 * len(self._buf))))
        return self._buf

    def write(self, transport: asyncio.WriteTransport, size: int) -> None:
        buf = self._buf
        with memoryview(buf) as view:
            transport.write(view[:size] if size < len(buf) else view)
        now = time.monotonic()
        busy, self._last_write = now - self._last_write < BUSY_SECONDS, now
        if not busy or transport.get_write_buffer_size() or len(buf) > self.KEEP:
            self._buf = bytearray()


class TcpLink(asyncio.BufferedProtocol):
    """The device leg: an asyncio protocol reading straight into one reusable buffer.

    The kernel copies each read into ``self._buf`` (``recv_into``); frames are
    parsed in place and :meth:`recv_frames` hands out payloads as memoryviews of
    that buffer, which the caller opens (decrypts) from there: no copy of the
    ciphertext at all. Those views are valid until the next ``recv_frame(s)``
    call, which is when the space they used may be reused. Each header is checked
    (version, flags, type, length cap) before its payload is waited for, and the
    buffer only grows to hold one frame whose header passed those checks, so a
    peer can never make the relay hold more than ``READ_SIZE`` or one allowed frame.
    A quiet link holds only ``IDLE_READ_SIZE`` between frames (see ``BUSY_SECONDS``).
    Reading pauses while the buffer is full and resumes when the reader made room.

    With ``pre_auth=True`` (the relay's listener) the link starts not admitted:
    every frame, whatever its type, is capped at ``MAX_PLAIN_BYTES`` (a header
    announcing more is refused with TOO_LARGE before anything is allocated for
    it) and the buffer starts at ``HELLO_READ_SIZE`` and grows only to the one
    frame announced, so an unauthenticated connection costs a few KiB.
    :meth:`admit` lifts that to the ticket's cap.

    *send_buffer* fixes the kernel's send buffer (``SO_SNDBUF``) of the socket.
    What goes to a device is small (input, clipboard, refresh), and with the
    kernel's autotuning several MiB of it could wait in the kernel, in arrival
    order, where the relay can no longer serve its viewers' lanes in turn.
    """

    transport = "tcp"

    def __init__(
        self,
        on_connect: Callable[[TcpLink], object] | None = None,
        *,
        pre_auth: bool = False,
        send_buffer: int | None = None,
    ) -> None:
        self._on_connect = on_connect
        self._send_buffer = send_buffer
        self._admitted = not pre_auth
        self._buf = bytearray(IDLE_READ_SIZE if self._admitted else HELLO_READ_SIZE)
        self._view = memoryview(self._buf)
        self._last_empty = float("-inf")  #: when everything received was last handed out
        self._start = 0  #: first byte not yet handed out
        self._end = 0  #: bytes received so far
        self._max_payload = MAX_PAYLOAD_BYTES if self._admitted else MAX_PLAIN_BYTES
        self._header: tuple | None = None  #: parsed header of the frame at _start, if any
        self._error: ProtocolError | None = None
        self._eof = False
        self._read_paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._closed: asyncio.Future[None] | None = None
        self._transport: asyncio.Transport | None = None
        self._out = _OutBuffer()
        self.peer = "?"

    # -- asyncio.BufferedProtocol ---------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._closed = asyncio.get_running_loop().create_future()
        if self._send_buffer:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self._send_buffer)
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        if self._on_connect is not None:
            self._on_connect(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._view[self._end :]  # never empty: reading pauses when the buffer is full

    def buffer_updated(self, nbytes: int) -> None:
        self._end += nbytes
        if self._end == len(self._buf):
            self._read_paused = True
            self._transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return True  # half-open: the relay may still send its CLOSE frame, then closes

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._wake()
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_exception(ConnectionResetError("connection lost"))
        if not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # -- Link -------------------------------------------------------------------------

    def set_max_payload(self, max_payload: int) -> None:
        self._max_payload = min(max_payload, self._max_payload)

    def admit(self, max_payload: int) -> None:
        self._admitted = True
        self._max_payload = min(max_payload, MAX_PAYLOAD_BYTES)

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def write_buffer_size(self) -> int:
        transport = self._transport
        return 0 if transport is None or transport.is_closing() else transport.get_write_buffer_size()

    @property
    def read_buffer_size(self) -> int:
        """Bytes this link holds for reading now (what a quiet session costs)."""
        return len(self._buf)

    def _parse(self, limit: int) -> list[Frame]:
        """Up to *limit* whole frames from ``[_start, _end)``; payloads are views."""
        view, start, end = self._view, self._start, self._end
        header, max_payload = self._header, self._max_payload
        frames: list[Frame] = []
        try:
            while end - start >= HEADER_SIZE and len(frames) < limit:
                if header is None:
                    header = parse_header_at(view, start, max_payload=max_payload)
                frame_type, flags, counter, length = header
                stop = start + HEADER_SIZE + length
                if stop > end:
                    break
                frames.append(new_frame(frame_type, counter, view[start + HEADER_SIZE : stop], flags))
                header = None
                start = stop
        except ProtocolError as exc:
            self._error = exc  # the frames before it still count; the next call raises
            if not frames:
                raise
        self._start, self._header = start, header
        return frames

    def _make_room(self) -> None:
        """Called when no frame handed out earlier is in use any more: move the
        unparsed tail to the front, grow for one large (already checked) frame,
        give back a grown buffer once it is empty, and resume reading."""
        start, end = self._start, self._end
        need = HEADER_SIZE + self._header[3] if self._header is not None else HEADER_SIZE
        if start == end:
            if end:  # (0: nothing received since the last call, nothing to decide)
                self._resize_empty()
        elif need > len(self._buf) or len(self._buf) - start < need:
            # Not admitted: exactly the frame announced (at most one plain frame).
            size = max(READ_SIZE, need) if self._admitted else max(len(self._buf), need)
            if size != len(self._buf):
                buf = bytearray(size)
                buf[: end - start] = self._view[start:end]
                self._buf, self._view = buf, memoryview(buf)
            else:
                self._view[: end - start] = self._view[start:end]
            self._start, self._end = 0, end - start
        if self._read_paused and self._end < len(self._buf):
            self._read_paused = False
            self._transport.resume_reading()

    def _resize_empty(self) -> None:
        """Everything received was handed out: the moment to pick the buffer's size.
        Busy (the last time was moments ago): ``READ_SIZE``, for reads of many
        frames at once. Quiet: ``IDLE_READ_SIZE``, so that a session that sends
        now and then does not hold a large buffer in between."""
        self._start = self._end = 0
        if not self._admitted:
            return
        now = time.monotonic()
        size = READ_SIZE if now - self._last_empty < BUSY_SECONDS else IDLE_READ_SIZE
        self._last_empty = now
        if len(self._buf) != size:
            self._buf = bytearray(size)
            self._view = memoryview(self._buf)

    async def _next(self, limit: int) -> list[Frame] | None:
        if self._error is not None:
            raise self._error
        self._make_room()
        while True:
            frames = self._parse(limit)
            if frames:
                return frames
            if self._eof:
                if self._end > self._start:
                    self._error = ProtocolError(
                        CloseCode.BAD_FRAME, f"stream ended inside a frame ({self._end - self._start} bytes left)"
                    )
                    raise self._error
                return None
            self._make_room()
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def recv_frame(self) -> Frame | None:
        frames = await self._next(1)
        if frames is None:
            return None
        frame = frames[0]
        return Frame(frame.type, frame.counter, bytes(frame.payload), frame.flags)  # outlives the buffer

    async def recv_frames(self) -> list[Frame] | None:
        """Every whole frame received so far (waiting for one). The payloads are
        views into the read buffer, valid until the next call."""
        return await self._next(1 << 30)

    async def _drain(self) -> None:
        if self._transport.is_closing():
            await asyncio.sleep(0)  # let connection_lost run, like StreamWriter.drain
            if self._closed.done():
                raise ConnectionResetError("connection lost")
        if self._write_paused:
            self._drain_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._drain_waiter
            finally:
                self._drain_waiter = None

    async def send(self, data: bytes) -> None:
        self._transport.write(data)
        await self._drain()

    async def send_many(self, sealer: FrameSealer, frames: Sequence[tuple[FrameType, bytes]]) -> None:
        size = sum(HEADER_SIZE + len(payload) + TAG_SIZE for _, payload in frames)
        out, offset = self._out.take(size), 0
        for frame_type, payload in frames:
            offset = sealer.seal_into(out, offset, frame_type, payload)
        self._out.write(self._transport, size)  # one buffer, one system call
        await self._drain()

    async def close(self, code: int, reason: str) -> None:
        # TCP has no close code: the sealed CLOSE frame sent before carried it.
        transport = self._transport
        if transport is None or self._closed.done():
            return
        if not transport.is_closing():
            transport.close()
        try:
            await asyncio.wait_for(asyncio.shield(self._closed), 2)
        except asyncio.TimeoutError:
            # A peer that stopped reading would keep the buffered bytes forever.
            transport.abort()


# websockets' asyncio connection: send_context() checks the state, writes and drains.
_CAN_FRAME = hasattr(ServerConnection, "send_context")


class WebSocketLink:
    transport = "websocket"

    def __init__(self, ws: ServerConnection) -> None:
        self._ws = ws
        # Framing messages ourselves is only this simple with no extension
        # (compression is off on the relay) and the server side (no masking).
        self._frame_ourselves = _CAN_FRAME and not ws.protocol.extensions and ws.protocol.side is Side.SERVER
        self._max_payload = MAX_PAYLOAD_BYTES
        self._out = _OutBuffer()
        peer = ws.remote_address
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)

    def set_max_payload(self, max_payload: int) -> None:
        self._max_payload = min(max_payload, self._max_payload)

    def admit(self, max_payload: int) -> None:
        # Until now the library refused any message above one plain frame (see
        # RelayWebSocketConnection); an admitted viewer may send whole messages.
        self._max_payload = min(max_payload, MAX_PAYLOAD_BYTES)
        protocol = self._ws.protocol
        if hasattr(protocol, "max_message_size"):  # websockets >= 15
            protocol.max_message_size = MAX_MESSAGE_BYTES
        else:
            protocol.max_size = MAX_MESSAGE_BYTES

    def abort(self) -> None:
        transport = self._ws.transport
        if transport is not None:
            transport.abort()

    def write_buffer_size(self) -> int:
        transport = self._ws.transport
        return 0 if transport is None or transport.is_closing() else transport.get_write_buffer_size()

    async def _recv_message(self) -> bytes | None:
        try:
            message = await self._ws.recv()
        except ConnectionClosed:
            return None
        if isinstance(message, str):
            raise ProtocolError(CloseCode.BAD_FRAME, "text messages are not part of the protocol; send binary frames")
        return message

    async def recv_frame(self) -> Frame | None:
        """The handshake's HELLO, which comes alone in its message."""
        message = await self._recv_message()
        return None if message is None else decode_message(message, max_payload=self._max_payload)

    async def recv_frames(self) -> list[Frame] | None:
        message = await self._recv_message()
        # The payloads stay views of the message: the caller opens them right away.
        return None if message is None else decode_frames(message, max_payload=self._max_payload, copy=False)

    async def send(self, data: bytes) -> None:
        await self._ws.send(data)

    async def send_many(self, sealer: FrameSealer, frames: Sequence[tuple[FrameType, bytes]]) -> None:
        # Everything ready goes out as few binary messages as the size cap allows:
        # each message costs a header, an event and a parse on both sides whatever
        # it carries, so a burst of small frames (input, clipboard, status, a
        # slow viewer catching up) is one message, not one each.
        messages = message_groups([HEADER_SIZE + len(payload) + TAG_SIZE for _, payload in frames])
        ws = self._ws
        if not self._frame_ourselves:
            for first, stop, _ in messages:
                await ws.send(sealer.seal_many(frames[first:stop]))
            return
        # The messages are framed here (RFC 6455: FIN + binary opcode, length, no
        # mask from a server, no extension negotiated) and each frame is sealed
        # straight into its place, so a batch is one buffer, one write, one drain,
        # with no copies beyond the encryption. send_context() keeps websockets'
        # rules: the connection must be open, and a closing or broken one raises
        # ConnectionClosed.
        out = self._out.take(sum(n + _ws_header_size(n) for *_, n in messages))
        offset = 0
        for first, stop, n in messages:
            offset = _put_ws_header(out, offset, n)
            for frame_type, payload in frames[first:stop]:
                offset = sealer.seal_into(out, offset, frame_type, payload)
        async with ws.send_context():
            self._out.write(ws.transport, offset)

    async def close(self, code: int, reason: str) -> None:
        # Not wrapped in a timeout: websockets aborts the TCP connection itself
        # after the server's close_timeout, whereas cancelling close() would leave
        # a half-closed socket that recv() waits on forever.
        try:
            await self._ws.close(code, reason[:120])
        except (ConnectionClosed, OSError):
            pass


def _ws_header_size(n: int) -> int:
    return 2 if n < 126 else 4 if n < 65536 else 10


def _put_ws_header(out: bytearray, offset: int, n: int) -> int:
    """Write an unmasked, final, binary WebSocket frame header for *n* bytes."""
    if n < 126:
        out[offset : offset + 2] = bytes((0x82, n))
        return offset + 2
    if n < 65536:
        out[offset : offset + 4] = b"\x82\x7e" + n.to_bytes(2, "big")
        return offset + 4
    out[offset : offset + 10] = b"\x82\x7f" + n.to_bytes(8, "big")
    return offset + 10


class RelayWebSocketConnection(ServerConnection):
    """The viewer leg's WebSocket connection (``serve(create_connection=...)``).

    websockets refuses a message above ``max_size`` before reading its payload,
    and closes with 1009 (message too big). The protocol's code for "too large"
    is 4004 on both legs, so that close is sent with 4004 instead. The relay
    starts every connection at :data:`PRE_AUTH_MESSAGE_BYTES` (serve's
    ``max_size``) and raises it to :data:`MAX_MESSAGE_BYTES` once the HELLO is
    accepted (:meth:`WebSocketLink.admit`).
    """

    def __init__(self, protocol: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(protocol, *args, **kwargs)
        fail = protocol.fail

        def fail_too_large_as_4004(code: int, reason: str = "") -> None:
            if code == 1009:  # MESSAGE_TOO_BIG
                code, reason = int(CloseCode.TOO_LARGE), f"message too large: {reason}"[:123]
            fail(code, reason)

        protocol.fail = fail_too_large_as_4004
