"""The client side of the protocol, for devices (TCP) and viewers (WebSocket).

This is the reference implementation of the handshake a client in another
language must perform: send a plain HELLO with the ticket token, then expect
either the relay's sealed ACK (counter 0 of relay->client, which also proves the
relay holds the same key) or a plain REFUSE with a reason code. After that both
sides exchange sealed frames. Used by :mod:`.device_client`, by the tests and
by the benchmark; a browser viewer does the same with WebCrypto.

    client = await RelayClient.connect_ws(url, token, key)
    frame = await client.recv()
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .protocol import (
    Ack,
    Channel,
    Close,
    CloseCode,
    Frame,
    FrameType,
    Hello,
    ProtocolError,
    Refusal,
    StreamDecoder,
    check_from_relay,
    decode_frames,
    encode_plain,
)
from .protocol.channel import FrameSealer
from .protocol.frames import HEADER_SIZE, MAX_MESSAGE_BYTES, TAG_SIZE, message_groups

#: A send buffer grown beyond this for one large frame is not kept.
_KEEP_BYTES = 1024 * 1024


class RelayRefused(Exception):
    """The relay refused the hello (see :class:`~.protocol.CloseCode` for *code*)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"relay refused the connection ({code}): {reason}")
        self.code = code
        self.reason = reason


class RelayClosed(Exception):
    """The connection ended; *code* and *reason* come from the relay's CLOSE."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"relay closed the connection ({code}): {reason}")
        self.code = code
        self.reason = reason


class _Transport(Protocol):
    async def send(self, data: bytes) -> None: ...

    async def recv_frame(self) -> Frame | None: ...

    async def close(self) -> None: ...


class _TcpTransport:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.decoder = StreamDecoder()
        self.frames: deque[Frame] = deque()
        self._out = bytearray()

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send_sealed(self, sealer: FrameSealer, frame_type: FrameType, payload: bytes) -> None:
        # Sealed into a reused buffer and handed to the transport without an
        # await in between. Kept for the next frame only if the transport sent it
        # all at once (then nothing of it can be referenced any more).
        size = HEADER_SIZE + len(payload) + TAG_SIZE
        out = self._out
        if len(out) < size:
            out = bytearray(size)
        sealer.seal_into(out, 0, frame_type, payload)
        transport = self.writer.transport
        with memoryview(out) as view:
            transport.write(view[:size] if size < len(out) else view)
        self._out = out if not transport.get_write_buffer_size() and len(out) <= _KEEP_BYTES else bytearray()
        await self.writer.drain()

    async def recv_frame(self) -> Frame | None:
        while not self.frames:
            try:
                data = await self.reader.read(256 * 1024)
            except (ConnectionError, OSError):
                return None
            if not data:
                return None
            self.frames.extend(self.decoder.feed(data))
        return self.frames.popleft()

    async def close(self) -> None:
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 2)
        except (ConnectionError, OSError, asyncio.TimeoutError):
            pass


class _WsTransport:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: deque[Frame] = deque()

    async def send(self, data: bytes) -> None:
        await self.ws.send(data)

    async def recv_frame(self) -> Frame | None:
        if not self.frames:
            try:
                message = await self.ws.recv()
            except ConnectionClosed:
                return None
            if isinstance(message, str):
                raise ProtocolError(CloseCode.BAD_FRAME, "the relay sent a text message")
            # One message may carry several frames. No copy of the payloads:
            # RelayClient.recv opens (decrypts) each one as it is handed out.
            self.frames.extend(decode_frames(message, copy=False))
        return self.frames.popleft()

    async def close(self) -> None:
        try:
            await self.ws.close()
        except (ConnectionClosed, OSError):
            pass

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code


class RelayClient:
    """An admitted connection to a relay: send and receive sealed frames."""

    def __init__(self, transport: _Transport, channel: Channel, ack: Ack) -> None:
        self._transport = transport
        self.channel = channel
        self.ack = ack
        self.role = ack.role
        self.kind = ack.kind
        self.close_code: int | None = None
        self.close_reason = ""

    @classmethod
    async def connect_tcp(
        cls, host: str, port: int, token: str, key: bytes, *, role: str = "device", timeout: float = 10.0
    ) -> RelayClient:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, limit=2**20), timeout)
        return await cls._handshake(_TcpTransport(reader, writer), token, key, role, timeout)

    @classmethod
    async def connect_ws(
        cls, url: str, token: str, key: bytes, *, role: str = "viewer", timeout: float = 10.0, **ws_options: Any
    ) -> RelayClient:
        ws = await asyncio.wait_for(
            connect(
                url, max_size=MAX_MESSAGE_BYTES, ping_interval=None, compression=None,
                close_timeout=2, **ws_options,
            ),
            timeout,
        )
        return await cls._handshake(_WsTransport(ws), token, key, role, timeout)

    @classmethod
    async def _handshake(cls, transport: _Transport, token: str, key: bytes, role: str, timeout: float) -> RelayClient:
        channel = Channel.client(role, key)
        try:
            await transport.send(encode_plain(FrameType.HELLO, Hello(role=role, ticket=token).encode()))
            frame = await asyncio.wait_for(transport.recv_frame(), timeout)
            if frame is None:
                code = getattr(transport, "close_code", None) or CloseCode.NORMAL
                raise RelayRefused(int(code), "the relay closed the connection during the handshake")
            if frame.type is FrameType.REFUSE:
                refusal = Refusal.decode(frame.payload)
                raise RelayRefused(refusal.code, refusal.reason)
            if frame.type is not FrameType.ACK:
                raise ProtocolError(CloseCode.NOT_ALLOWED, f"expected ACK, got {frame.type.name}")
            ack = Ack.decode(channel.open(frame).payload)
        except BaseException:
            await transport.close()
            raise
        return cls(transport, channel, ack)

    async def send(self, frame_type: FrameType, payload: bytes = b"") -> None:
        """Seal and send one frame.

        Raises :class:`RelayClosed` when the connection is already gone, like
        :meth:`recv` does: the relay may close at any moment (the device left,
        the session ended), and a caller answering a PING that raced the close
        must see the same exception as one that reads next. Frames the relay
        sent before closing, its CLOSE with the reason included, can still be
        read with :meth:`recv`.
        """
        try:
            send_sealed = getattr(self._transport, "send_sealed", None)
            if send_sealed is not None:  # TCP: sealed straight into a reused buffer
                await send_sealed(self.channel.sealer, frame_type, payload)
                return
            # seal_many: the header and ciphertext are written into one buffer (no join).
            await self._transport.send(self.channel.sealer.seal_many(((frame_type, payload),)))
        except (ConnectionClosed, ConnectionError, OSError) as exc:
            raise self._closed_error() from exc

    async def send_many(self, frames: Sequence[tuple[FrameType, bytes]]) -> None:
        """Seal *frames* in order and send them together: one write on TCP, as
        few WebSocket messages as the message cap allows (whole frames may share
        a message). What a client with a burst to send (input events, a catch-up)
        should use instead of a loop over :meth:`send`."""
        try:
            sealer = self.channel.sealer
            if isinstance(self._transport, _WsTransport):
                sizes = [HEADER_SIZE + len(payload) + TAG_SIZE for _, payload in frames]
                for first, stop, _ in message_groups(sizes):
                    await self._transport.send(sealer.seal_many(frames[first:stop]))
            else:
                await self._transport.send(sealer.seal_many(frames))
        except (ConnectionClosed, ConnectionError, OSError) as exc:
            raise self._closed_error() from exc

    def _closed_error(self) -> RelayClosed:
        code = self.close_code or getattr(self._transport, "close_code", None) or CloseCode.GOING_AWAY
        return RelayClosed(int(code), self.close_reason or "connection lost")

    async def recv(self) -> Frame:
        """The next frame from the relay, opened and validated.

        Raises :class:`RelayClosed` when the relay sends CLOSE or the connection
        ends, and :class:`ProtocolError` if the relay breaks the protocol.
        """
        frame = await self._transport.recv_frame()
        if frame is None:
            code = getattr(self._transport, "close_code", None) or CloseCode.GOING_AWAY
            self.close_code = self.close_code or int(code)
            raise RelayClosed(self.close_code, self.close_reason or "connection lost")
        frame = self.channel.open(frame)
        check_from_relay(frame, self.role)
        if frame.type is FrameType.CLOSE:
            close = Close.decode(frame.payload)
            self.close_code, self.close_reason = close.code, close.reason
            raise RelayClosed(close.code, close.reason)
        return frame

    async def next_of(self, *types: FrameType, timeout: float = 10.0) -> Frame:
        """The next frame of one of *types*, answering PINGs and skipping the rest.

        What a simple client (a test, a script) wants instead of its own loop
        over :meth:`recv`. A PONG that cannot be sent because the relay closed
        meanwhile is not an error here: the relay's CLOSE is still to be read,
        and :meth:`recv` raises :class:`RelayClosed` with its reason.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await asyncio.wait_for(self.recv(), max(0.01, deadline - loop.time()))
            if frame.type in types:
                return frame
            if frame.type is FrameType.PING:
                try:
                    await self.send(FrameType.PONG, frame.payload)
                except RelayClosed:
                    pass

    async def close(self, code: int = CloseCode.NORMAL, reason: str = "") -> None:
        """Say goodbye (a device's CLOSE 1000 ends the session) and disconnect."""
        try:
            await asyncio.wait_for(self.send(FrameType.CLOSE, Close(int(code), reason).encode()), 2)
        except (RelayClosed, asyncio.TimeoutError):
            pass
        await self._transport.close()

    async def abort(self) -> None:
        """Drop the connection without CLOSE (what a crash or a network loss looks like)."""
        await self._transport.close()
