"""The frame: a 16-byte header followed by a payload, usually AES-256-GCM sealed.

Layout (big-endian)::

    offset size field
    0      1    version   (1)
    1      1    type      (FrameType)
    2      2    flags     (0; reserved, must be zero)
    4      8    counter   (per direction, +1 per sealed frame, starts at 0)
    12     4    length    (bytes of payload that follow)
    16     n    payload   (ciphertext||tag for sealed types, plain for HELLO/REFUSE)

The header is self-delimiting, so a TCP stream needs no other length prefix. This
module does no IO and no cryptography: it only packs and checks headers.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from .errors import CloseCode, ProtocolError

VERSION = 1
HEADER = struct.Struct(">BBHQI")
HEADER_SIZE = HEADER.size  # 16
TAG_SIZE = 16
#: Hard cap on a payload's length; a ticket may lower it, never raise it.
MAX_PAYLOAD_BYTES = 8 * 1024 * 1024
#: Cap on plain messages (hello, refusal), which arrive before any ticket limit.
MAX_PLAIN_BYTES = 8 * 1024
MAX_COUNTER = 2**64 - 1
#: A WebSocket message carries whole frames and is never longer than the largest frame.
MAX_MESSAGE_BYTES = HEADER_SIZE + MAX_PAYLOAD_BYTES


class FrameType(IntEnum):
    """Every frame type of protocol version 1 (see docs/relay-protocol.md)."""

    HELLO = 0x01  #: plain; client -> relay; carries the ticket
    ACK = 0x02  #: sealed; relay -> client; counter 0 of the relay's direction
    REFUSE = 0x03  #: plain; relay -> client; then the relay closes
    SCREEN = 0x10  #: device -> relay -> viewers
    CAMERA = 0x11  #: device -> relay -> viewers
    REFRESH = 0x12  #: relay -> device: send a full frame next (a viewer lost frames)
    INPUT = 0x20  #: viewer -> relay -> device
    CLIPBOARD = 0x21  #: both ways
    DEVICE_INFO = 0x30  #: device -> relay -> viewers
    PEER_STATUS = 0x31  #: relay -> viewer: the device connected / reconnecting / gone
    PING = 0x40
    PONG = 0x41
    CLOSE = 0x50  #: either side, sealed, last frame of a connection


PLAIN_TYPES = frozenset({FrameType.HELLO, FrameType.REFUSE})


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame. For sealed types *payload* is the opened plaintext
    once it has passed through a :class:`~.channel.FrameOpener`, and the raw
    ciphertext before that."""

    type: FrameType
    counter: int
    payload: bytes
    flags: int = 0


_object_new = object.__new__
_set_type, _set_counter = Frame.type.__set__, Frame.counter.__set__  # type: ignore[attr-defined]
_set_payload, _set_flags = Frame.payload.__set__, Frame.flags.__set__  # type: ignore[attr-defined]


def new_frame(frame_type: FrameType, counter: int, payload: bytes, flags: int = 0) -> Frame:
    """``Frame(frame_type, counter, payload, flags)`` for the hot paths: the same
    frozen object, built without the frozen ``__init__``'s per-field overhead."""
    frame = _object_new(Frame)
    _set_type(frame, frame_type)
    _set_counter(frame, counter)
    _set_payload(frame, payload)
    _set_flags(frame, flags)
    return frame


def pack_header(frame_type: int, counter: int, length: int, flags: int = 0) -> bytes:
    return HEADER.pack(VERSION, frame_type, flags, counter, length)


_TYPES = {t.value: t for t in FrameType}


def parse_header(header: bytes, *, max_payload: int) -> tuple[FrameType, int, int, int]:
    """Check a header and return ``(type, flags, counter, length)``.

    Raises :class:`ProtocolError` for another version, nonzero flags, an unknown
    type, or a length above *max_payload* (checked before the payload is read, so
    a lying length never makes anyone buffer 4 GiB).
    """
    if len(header) != HEADER_SIZE:
        raise ProtocolError(CloseCode.BAD_FRAME, f"a frame header is {HEADER_SIZE} bytes")
    return parse_header_at(header, 0, max_payload=max_payload)


def parse_header_at(buffer: bytes | bytearray | memoryview, offset: int, *, max_payload: int) -> tuple[FrameType, int, int, int]:
    """:func:`parse_header` of the 16 bytes at *offset* of *buffer* (no copy).

    The caller guarantees that ``len(buffer) >= offset + HEADER_SIZE``.
    """
    version, raw_type, flags, counter, length = HEADER.unpack_from(buffer, offset)
    if version != VERSION:
        raise ProtocolError(
            CloseCode.BAD_FRAME,
            f"protocol version {version} is not supported (this relay speaks {VERSION})",
        )
    if flags:
        raise ProtocolError(CloseCode.BAD_FRAME, f"reserved flags must be 0, got {flags:#x}")
    frame_type = _TYPES.get(raw_type)
    if frame_type is None:
        raise ProtocolError(CloseCode.UNKNOWN_TYPE, f"unknown frame type {raw_type:#04x}")
    if frame_type in PLAIN_TYPES:
        if length > MAX_PLAIN_BYTES:
            raise ProtocolError(
                CloseCode.TOO_LARGE, f"{frame_type.name} payload of {length} bytes exceeds the cap of {MAX_PLAIN_BYTES}"
            )
    else:
        if length > max_payload:
            raise ProtocolError(
                CloseCode.TOO_LARGE, f"{frame_type.name} payload of {length} bytes exceeds the cap of {max_payload}"
            )
        if length < TAG_SIZE:
            raise ProtocolError(CloseCode.BAD_FRAME, f"sealed payload shorter than the {TAG_SIZE}-byte tag")
    return frame_type, flags, counter, length


def encode_plain(frame_type: FrameType, payload: bytes) -> bytes:
    """Encode a plain (unsealed) frame: only HELLO and REFUSE are plain."""
    if frame_type not in PLAIN_TYPES:
        raise ValueError(f"{frame_type.name} frames must be sealed")
    if len(payload) > MAX_PLAIN_BYTES:
        raise ValueError(f"plain payload above {MAX_PLAIN_BYTES} bytes")
    return pack_header(frame_type, 0, len(payload)) + payload


def decode_frames(
    data: bytes | bytearray | memoryview, *, max_payload: int = MAX_PAYLOAD_BYTES, copy: bool = True
) -> list[Frame]:
    """Decode every frame of one WebSocket message.

    A message holds one or more whole frames, concatenated exactly as on the TCP
    leg, and is at most :data:`MAX_MESSAGE_BYTES` long; a frame never spans two
    messages. Plain frames (HELLO, REFUSE) travel alone in their message. Sending
    what is ready as one message is what makes small frames cheap: a WebSocket
    message costs a header, a system call and an event on each side, whatever
    it carries. With ``copy=False`` sealed payloads are memoryviews of *data*.
    """
    size = len(data)
    if size < HEADER_SIZE:
        raise ProtocolError(CloseCode.BAD_FRAME, f"a frame header is {HEADER_SIZE} bytes")
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(
            CloseCode.TOO_LARGE, f"a message of {size} bytes exceeds the cap of {MAX_MESSAGE_BYTES} (one largest frame)"
        )
    view = memoryview(data)
    frames: list[Frame] = []
    offset = 0
    while offset < size:
        if size - offset < HEADER_SIZE:
            raise ProtocolError(
                CloseCode.BAD_FRAME, f"the message ends inside a frame header ({size - offset} bytes at offset {offset})"
            )
        frame_type, flags, counter, length = parse_header_at(view, offset, max_payload=max_payload)
        stop = offset + HEADER_SIZE + length
        if stop > size:
            raise ProtocolError(
                CloseCode.BAD_FRAME,
                f"the message ends inside a frame: {HEADER_SIZE + length} bytes announced at offset {offset},"
                f" {size - offset} left",
            )
        payload = view[offset + HEADER_SIZE : stop]
        if frame_type in PLAIN_TYPES:
            if offset or stop != size:
                raise ProtocolError(CloseCode.BAD_FRAME, f"a {frame_type.name} frame must be alone in its message")
            payload = payload.tobytes()
        elif copy:
            payload = payload.tobytes()
        frames.append(new_frame(frame_type, counter, payload, flags))
        offset = stop
    return frames


def message_groups(sizes: Sequence[int]) -> list[tuple[int, int, int]]:
    """Split frames of *sizes* (wire bytes each) into WebSocket messages:
    ``(first, stop, bytes)`` per message, in order, each as full as
    :data:`MAX_MESSAGE_BYTES` allows (a frame is never split)."""
    groups: list[tuple[int, int, int]] = []
    first, total = 0, 0
    for i, n in enumerate(sizes):
        if total and total + n > MAX_MESSAGE_BYTES:
            groups.append((first, i, total))
            first, total = i, 0
        total += n
    if sizes:
        groups.append((first, len(sizes), total))
    return groups


def decode_message(data: bytes, *, max_payload: int = MAX_PAYLOAD_BYTES, copy: bool = True) -> Frame:
    """Decode exactly one frame from *data* (one WebSocket message): the handshake's
    HELLO, which must come alone (see :func:`decode_frames` for every other message).

    The payload of a sealed frame is still ciphertext; open it with a channel.
    With ``copy=False`` a sealed frame's payload is a memoryview of *data* (for a
    caller that opens it at once: decryption makes the copy); plain frames are
    always copied.
    """
    if len(data) < HEADER_SIZE:
        raise ProtocolError(CloseCode.BAD_FRAME, f"a frame header is {HEADER_SIZE} bytes")
    frame_type, flags, counter, length = parse_header_at(data, 0, max_payload=max_payload)
    if len(data) != HEADER_SIZE + length:
        raise ProtocolError(
            CloseCode.BAD_FRAME,
            f"message of {len(data)} bytes does not hold exactly one frame of {HEADER_SIZE + length}",
        )
    if copy or frame_type in PLAIN_TYPES:
        return new_frame(frame_type, counter, bytes(data[HEADER_SIZE:]), flags)
    return new_frame(frame_type, counter, memoryview(data)[HEADER_SIZE:], flags)
