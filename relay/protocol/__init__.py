"""The relay wire protocol, sans IO.

Everything in this package is pure: it turns bytes into frames and frames into
bytes, seals and opens them, and validates payloads. It may do no IO (no sockets,
no files, no clocks, no globals), so it is tested without servers and can be
ported to another language from ``docs/relay-protocol.md`` and the test vectors
in ``vectors.json``. It imports only ``guidepath.core.crypto``.
"""

from __future__ import annotations

from .channel import Channel, FrameOpener, FrameSealer
from .errors import CloseCode, ProtocolError
from .frames import (
    HEADER_SIZE,
    MAX_MESSAGE_BYTES,
    MAX_PAYLOAD_BYTES,
    MAX_PLAIN_BYTES,
    TAG_SIZE,
    VERSION,
    Frame,
    FrameType,
    decode_frames,
    decode_message,
    encode_plain,
)
from .keys import Direction, counter_nonce, direction_key
from .messages import (
    Ack,
    Close,
    DeviceInfo,
    Hello,
    ImageFormat,
    ImageFrame,
    InputEvent,
    Refusal,
    decode_clipboard,
    decode_peer_status,
    encode_clipboard,
    encode_peer_status,
)
from .rules import KINDS, allowed_from, allowed_to, check_from_client, check_from_relay, validate_payload
from .stream import StreamDecoder

__all__ = [
    "Ack",
    "Channel",
    "Close",
    "CloseCode",
    "DeviceInfo",
    "Direction",
    "Frame",
    "FrameOpener",
    "FrameSealer",
    "FrameType",
    "HEADER_SIZE",
    "Hello",
    "ImageFormat",
    "ImageFrame",
    "InputEvent",
    "KINDS",
    "MAX_MESSAGE_BYTES",
    "MAX_PAYLOAD_BYTES",
    "MAX_PLAIN_BYTES",
    "ProtocolError",
    "Refusal",
    "StreamDecoder",
    "TAG_SIZE",
    "VERSION",
    "allowed_from",
    "allowed_to",
    "check_from_client",
    "check_from_relay",
    "counter_nonce",
    "decode_clipboard",
    "decode_frames",
    "decode_message",
    "decode_peer_status",
    "direction_key",
    "encode_clipboard",
    "encode_peer_status",
    "encode_plain",
    "validate_payload",
]
