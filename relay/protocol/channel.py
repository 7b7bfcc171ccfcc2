"""Sealing and opening frames for one direction of one connection.

A :class:`FrameSealer` owns the send counter and a :class:`FrameOpener` the
receive counter, so the rules "every frame gets the next counter" and "accept only
the next counter" each live in one place. Both are pure: bytes in, bytes out.

    >>> key = bytes(32)
    >>> sealer = FrameSealer(key, Direction.DEVICE_TO_RELAY)
    >>> opener = FrameOpener(key, Direction.DEVICE_TO_RELAY)
    >>> wire = sealer.seal(FrameType.PING, b"12345678")
    >>> opener.open(decode_message(wire)).payload
    b'12345678'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import CloseCode, ProtocolError
from .frames import (
    HEADER,
    HEADER_SIZE,
    MAX_COUNTER,
    MAX_PAYLOAD_BYTES,
    PLAIN_TYPES,
    TAG_SIZE,
    VERSION,
    Frame,
    FrameType,
    decode_message,
    new_frame,
    pack_header,
)
from .keys import Direction, counter_nonce, direction_key

__all__ = ["Channel", "FrameOpener", "FrameSealer", "decode_message"]

_HAS_ENCRYPT_INTO = hasattr(AESGCM, "encrypt_into")  # cryptography >= 46
_NONCE_PREFIX = bytes(4)  # see counter_nonce


class FrameSealer:
    """Seals outgoing frames of one direction with counters 0, 1, 2, …"""

    def __init__(self, connection_key: bytes, direction: Direction, *, first_counter: int = 0) -> None:
        self.direction = direction
        self._aead = AESGCM(direction_key(connection_key, direction))
        self.next_counter = first_counter

    def seal(self, frame_type: FrameType, payload: bytes) -> bytes:
        """Return the wire bytes of one sealed frame (header || ciphertext || tag)."""
        if frame_type in PLAIN_TYPES:
            raise ValueError(f"{frame_type.name} frames are plain, not sealed")
        counter = self.next_counter
        if counter > MAX_COUNTER:
            raise OverflowError("frame counter exhausted: open a new connection")
        header = pack_header(frame_type, counter, len(payload) + TAG_SIZE)
        sealed = self._aead.encrypt(counter_nonce(counter), bytes(payload), header)
        self.next_counter = counter + 1
        return header + sealed

    def seal_many(self, frames: Sequence[tuple[FrameType, bytes]]) -> bytearray:
        """The wire bytes of several frames, sealed in order into one buffer.

        The same as joining ``seal()`` of each, with no intermediate copies: each
        frame is encrypted straight into its place (one write for a TCP stream).
        """
        counter = self.next_counter
        if counter + len(frames) - 1 > MAX_COUNTER:
            raise OverflowError("frame counter exhausted: open a new connection")
        total = 0
        for frame_type, payload in frames:
            if frame_type in PLAIN_TYPES:
                raise ValueError(f"{frame_type.name} frames are plain, not sealed")
            total += HEADER_SIZE + len(payload) + TAG_SIZE
        out = bytearray(total)
        offset = 0
        for frame_type, payload in frames:
            offset = self.seal_into(out, offset, frame_type, payload)
        return out

    def seal_into(self, out: bytearray, offset: int, frame_type: FrameType, payload: bytes) -> int:
        """Seal one frame into ``out[offset:]`` (which must have room for
        ``HEADER_SIZE + len(payload) + TAG_SIZE`` bytes); return the offset after it."""
        if frame_type in PLAIN_TYPES:
            raise ValueError(f"{frame_type.name} frames are plain, not sealed")
        counter = self.next_counter
        if counter > MAX_COUNTER:
            raise OverflowError("frame counter exhausted: open a new connection")
        length = len(payload) + TAG_SIZE
        body = offset + HEADER_SIZE
        HEADER.pack_into(out, offset, VERSION, frame_type, 0, counter, length)
        nonce = _NONCE_PREFIX + counter.to_bytes(8, "big")
        if _HAS_ENCRYPT_INTO:
            with memoryview(out) as view:
                self._aead.encrypt_into(nonce, payload, view[offset:body], view[body : body + length])
        else:
            out[body : body + length] = self._aead.encrypt(nonce, bytes(payload), bytes(out[offset:body]))
        self.next_counter = counter + 1
        return body + length


class FrameOpener:
    """Opens incoming frames of one direction, accepting only the next counter."""

    def __init__(
        self,
        connection_key: bytes,
        direction: Direction,
        *,
        first_counter: int = 0,
        max_payload: int = MAX_PAYLOAD_BYTES,
    ) -> None:
        self.direction = direction
        self._aead = AESGCM(direction_key(connection_key, direction))
        self.expected_counter = first_counter
        self.max_payload = min(max_payload, MAX_PAYLOAD_BYTES)

    def open(self, frame: Frame) -> Frame:
        """Authenticate and decrypt *frame*; return it with the plaintext payload.

        The counter is checked before decryption (a replay is refused without
        spending AES on it) and advanced only after authentication succeeds, so
        a forged frame cannot desynchronise the stream.
        """
        frame_type, counter, payload, flags = frame.type, frame.counter, frame.payload, frame.flags
        if frame_type in PLAIN_TYPES:
            raise ProtocolError(CloseCode.NOT_ALLOWED, f"{frame_type.name} must not appear after the hello")
        length = len(payload)
        if length > self.max_payload:
            raise ProtocolError(CloseCode.TOO_LARGE, f"payload above this connection's cap of {self.max_payload} bytes")
        expected = self.expected_counter
        if counter != expected:
            what = "replayed or reordered" if counter < expected else "skipped ahead"
            raise ProtocolError(
                CloseCode.OUT_OF_ORDER,
                f"frame counter {counter} {what}: expected {expected}",
            )
        header = HEADER.pack(VERSION, frame_type, flags, counter, length)  # the AAD: the header as received
        try:
            plaintext = self._aead.decrypt(_NONCE_PREFIX + counter.to_bytes(8, "big"), payload, header)
        except InvalidTag:
            raise ProtocolError(
                CloseCode.AUTHENTICATION_FAILED,
                f"frame {counter} failed authentication (wrong key or direction, or modified)",
            ) from None
        self.expected_counter = expected + 1
        return new_frame(frame_type, counter, plaintext, flags)

    def open_message(self, data: bytes) -> Frame:
        """Decode and open a WebSocket message that holds exactly one frame."""
        return self.open(decode_message(data, max_payload=self.max_payload))


@dataclass
class Channel:
    """Both directions of one connection, from one side's point of view.

    ``Channel.client("device", key)`` seals device->relay and opens relay->device;
    ``Channel.relay("device", key)`` is the mirror image.
    """

    sealer: FrameSealer
    opener: FrameOpener
    role: str = field(default="device")

    @classmethod
    def client(cls, role: str, key: bytes, *, max_payload: int = MAX_PAYLOAD_BYTES) -> Channel:
        return cls(
            FrameSealer(key, Direction.outbound(role)),
            FrameOpener(key, Direction.inbound(role), max_payload=max_payload),
            role,
        )

    @classmethod
    def relay(cls, role: str, key: bytes, *, max_payload: int = MAX_PAYLOAD_BYTES) -> Channel:
        return cls(
            FrameSealer(key, Direction.inbound(role)),
            FrameOpener(key, Direction.outbound(role), max_payload=max_payload),
            role,
        )

    def seal(self, frame_type: FrameType, payload: bytes = b"") -> bytes:
        return self.sealer.seal(frame_type, payload)

    def open(self, frame: Frame) -> Frame:
        return self.opener.open(frame)

