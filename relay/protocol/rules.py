"""Who may send which frame type, and the payload check for each type.

Kept apart from the codec so that the relay and the clients enforce the same
table: a device never sends INPUT, a viewer never sends SCREEN, a camera session
carries no input events. Pure: no IO.
"""

from __future__ import annotations

from .errors import CloseCode, ProtocolError
from .frames import Frame, FrameType
from .messages import (
    Ack,
    Close,
    DeviceInfo,
    InputEvent,
    check_image,
    check_ping,
    decode_clipboard,
    decode_peer_status,
)

_IMAGES = frozenset({FrameType.SCREEN, FrameType.CAMERA})
KINDS = frozenset({"remote_control", "camera"})

_FROM_DEVICE = {
    "remote_control": frozenset({FrameType.SCREEN, FrameType.CLIPBOARD, FrameType.DEVICE_INFO}),
    "camera": frozenset({FrameType.CAMERA, FrameType.DEVICE_INFO}),
}
_FROM_VIEWER = {
    # REFRESH from a viewer: "send a full frame and your device info again" (an
    # agent's "refresh diagnostics"); the relay rate-limits what reaches the device.
    "remote_control": frozenset({FrameType.INPUT, FrameType.CLIPBOARD, FrameType.REFRESH}),
    "camera": frozenset({FrameType.REFRESH}),
}
_ALWAYS = frozenset({FrameType.PING, FrameType.PONG, FrameType.CLOSE})
_TO_DEVICE = frozenset({FrameType.ACK, FrameType.INPUT, FrameType.CLIPBOARD, FrameType.REFRESH}) | _ALWAYS
_TO_VIEWER = (
    frozenset({FrameType.ACK, FrameType.SCREEN, FrameType.CAMERA, FrameType.CLIPBOARD})
    | frozenset({FrameType.DEVICE_INFO, FrameType.PEER_STATUS})
    | _ALWAYS
)


_ALLOWED_FROM = {
    (role, kind): table[kind] | _ALWAYS
    for role, table in (("device", _FROM_DEVICE), ("viewer", _FROM_VIEWER))
    for kind in KINDS
}


def allowed_from(role: str, kind: str) -> frozenset[FrameType]:
    """Frame types a client of *role* may send in a session of *kind*."""
    allowed = _ALLOWED_FROM.get((role, kind))
    if allowed is None:  # an unknown role or kind: fail as before
        table = _FROM_DEVICE if role == "device" else _FROM_VIEWER
        return table[kind] | _ALWAYS
    return allowed


def allowed_to(role: str) -> frozenset[FrameType]:
    """Frame types the relay may send to a client of *role*."""
    return _TO_DEVICE if role == "device" else _TO_VIEWER


def check_from_client(frame: Frame, role: str, kind: str) -> None:
    """Refuse a frame the sender may not send, or whose payload does not validate."""
    if frame.type not in allowed_from(role, kind):
        raise ProtocolError(
            CloseCode.NOT_ALLOWED, f"a {role} may not send {frame.type.name} frames in a {kind} session"
        )
    validate_payload(frame)


def check_from_relay(frame: Frame, role: str) -> None:
    if frame.type not in allowed_to(role):
        raise ProtocolError(CloseCode.NOT_ALLOWED, f"the relay may not send {frame.type.name} to a {role}")
    validate_payload(frame)


def validate_payload(frame: Frame) -> None:
    """Decode the payload of an opened frame for its type; raise if invalid."""
    t, payload = frame.type, frame.payload
    if t in _IMAGES:
        full = check_image(payload)  # ImageFrame.decode's checks without copying the image
        if t is FrameType.CAMERA and not full:
            raise ProtocolError(CloseCode.INVALID_PAYLOAD, "camera frames must cover the whole image")
    elif t is FrameType.INPUT:
        InputEvent.decode(payload)
    elif t is FrameType.CLIPBOARD:
        decode_clipboard(payload)
    elif t is FrameType.DEVICE_INFO:
        DeviceInfo.decode(payload)
    elif t in (FrameType.PING, FrameType.PONG):
        check_ping(payload)
    elif t is FrameType.CLOSE:
        Close.decode(payload)
    elif t is FrameType.PEER_STATUS:
        decode_peer_status(payload)
    elif t is FrameType.ACK:
        Ack.decode(payload)
    elif t is FrameType.REFRESH:
        if payload:
            raise ProtocolError(CloseCode.INVALID_PAYLOAD, "REFRESH has an empty payload")
