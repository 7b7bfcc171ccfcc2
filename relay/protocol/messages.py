"""The payloads of each frame type: encode, decode and validate.

Media (screen and camera images) use a compact binary header because they are
the bulk of the traffic; control messages are small UTF-8 JSON objects because a
browser or a phone app can produce and read them without a codec. Every decoder
validates strictly (unknown keys, wrong types and out-of-range values are
refused with ``INVALID_PAYLOAD``): the relay forwards these to other parties, so
it must not become a carrier for junk.
"""

from __future__ import annotations

import json
import struct
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from typing import Any

from .errors import CloseCode, ProtocolError

# -- images (SCREEN, CAMERA) ---------------------------------------------------------

IMAGE_HEADER = struct.Struct(">BBHHHHHH")  # format, reserved, x, y, w, h, display_w, display_h


class ImageFormat(IntEnum):
    PNG = 1
    JPEG = 2
    RAW_RGBA = 3  #: w*h*4 bytes, rows top to bottom, no padding


@dataclass(frozen=True, slots=True)
class ImageFrame:
    """An encoded image covering the region (x, y, w, h) of a display of
    (display_width, display_height) pixels. A frame whose region is the whole
    display is a *full* frame (a keyframe a new viewer can start from)."""

    format: ImageFormat
    x: int
    y: int
    width: int
    height: int
    display_width: int
    display_height: int
    data: bytes

    @property
    def full(self) -> bool:
        return (self.x, self.y, self.width, self.height) == (0, 0, self.display_width, self.display_height)

    @classmethod
    def whole(cls, fmt: ImageFormat, width: int, height: int, data: bytes) -> ImageFrame:
        return cls(ImageFormat(fmt), 0, 0, width, height, width, height, data)

    def encode(self) -> bytes:
        self._check()
        return IMAGE_HEADER.pack(
            self.format, 0, self.x, self.y, self.width, self.height, self.display_width, self.display_height
        ) + bytes(self.data)

    @classmethod
    def decode(cls, payload: bytes) -> ImageFrame:
        if len(payload) < IMAGE_HEADER.size:
            _invalid(f"image payload shorter than its {IMAGE_HEADER.size}-byte header")
        fmt, reserved, x, y, w, h, dw, dh = IMAGE_HEADER.unpack_from(payload)
        if reserved:
            _invalid("image header reserved byte must be 0")
        try:
            fmt = ImageFormat(fmt)
        except ValueError:
            _invalid(f"unknown image format {fmt}")
        frame = cls(fmt, x, y, w, h, dw, dh, bytes(payload[IMAGE_HEADER.size :]))
        frame._check()
        return frame

    def _check(self) -> None:
        if self.width < 1 or self.height < 1:
            _invalid("image region must be at least 1x1")
        if self.x + self.width > self.display_width or self.y + self.height > self.display_height:
            _invalid("image region lies outside the display")
        if not self.data:
            _invalid("image data is empty")
        if self.format is ImageFormat.RAW_RGBA and len(self.data) != self.width * self.height * 4:
            _invalid(f"raw RGBA region {self.width}x{self.height} needs {self.width * self.height * 4} bytes")


_IMAGE_FORMATS = {f.value: f for f in ImageFormat}


def check_image(payload: bytes) -> bool:
    """Validate an image payload like :meth:`ImageFrame.decode` without copying the
    image data (the relay's hot path); True if it is a full frame."""
    size = IMAGE_HEADER.size
    if len(payload) < size:
        _invalid(f"image payload shorter than its {size}-byte header")
    fmt, reserved, x, y, w, h, dw, dh = IMAGE_HEADER.unpack_from(payload)
    if reserved:
        _invalid("image header reserved byte must be 0")
    fmt = _IMAGE_FORMATS.get(fmt)
    if fmt is None:
        _invalid(f"unknown image format {IMAGE_HEADER.unpack_from(payload)[0]}")
    if w < 1 or h < 1:
        _invalid("image region must be at least 1x1")
    if x + w > dw or y + h > dh:
        _invalid("image region lies outside the display")
    data_len = len(payload) - size
    if not data_len:
        _invalid("image data is empty")
    if fmt is ImageFormat.RAW_RGBA and data_len != w * h * 4:
        _invalid(f"raw RGBA region {w}x{h} needs {w * h * 4} bytes")
    return x == 0 and y == 0 and w == dw and h == dh


# -- input events (INPUT) --------------------------------------------------------------

MAX_INPUT_BYTES = 1024
_BUTTONS = range(0, 5)
_COORD = range(0, 65536)
_DELTA = range(-100_000, 100_001)
_MODIFIERS = frozenset({"shift", "ctrl", "alt", "meta"})
_PHASES = frozenset({"start", "move", "end", "cancel"})
_INPUT_FIELDS: dict[str, frozenset[str]] = {
    "pointer_move": frozenset({"x", "y"}),
    "pointer_down": frozenset({"x", "y", "button"}),
    "pointer_up": frozenset({"x", "y", "button"}),
    "key_down": frozenset({"key", "code", "modifiers"}),
    "key_up": frozenset({"key", "code", "modifiers"}),
    "scroll": frozenset({"x", "y", "dx", "dy"}),
    "touch": frozenset({"x", "y", "id", "phase"}),
}
INPUT_TYPES = frozenset(_INPUT_FIELDS)


@dataclass(frozen=True, slots=True)
class InputEvent:
    """A pointer, key, scroll or touch event in display pixel coordinates.

    Wire form: a JSON object ``{"type": …, <fields of that type>}``; see
    ``docs/relay-protocol.md`` for the fields of each type.
    """

    type: str
    x: int | None = None
    y: int | None = None
    button: int | None = None
    key: str | None = None
    code: str | None = None
    modifiers: tuple[str, ...] | None = None
    dx: int | None = None
    dy: int | None = None
    id: int | None = None
    phase: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for name in sorted(_INPUT_FIELDS.get(self.type, ())):
            value = getattr(self, name)
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    def encode(self) -> bytes:
        data = _json(self.to_dict())
        InputEvent.decode(data)  # never send what we would refuse
        return data

    @classmethod
    def decode(cls, payload: bytes) -> InputEvent:
        if len(payload) > MAX_INPUT_BYTES:
            _invalid(f"input event above {MAX_INPUT_BYTES} bytes")
        obj = _object(payload)
        kind = obj.pop("type", None)
        if kind not in _INPUT_FIELDS:
            _invalid(f"input event type must be one of {sorted(_INPUT_FIELDS)}, got {kind!r}")
        expected = _INPUT_FIELDS[kind]
        if set(obj) != expected:
            _invalid(f"{kind} needs exactly the fields {sorted(expected)}, got {sorted(obj)}")
        for name in ("x", "y"):
            if name in obj:
                _int_in(obj, name, _COORD)
        if "button" in obj:
            _int_in(obj, "button", _BUTTONS)
        for name in ("dx", "dy"):
            if name in obj:
                _int_in(obj, name, _DELTA)
        if "id" in obj:
            _int_in(obj, "id", range(0, 32))
        if "phase" in obj and obj["phase"] not in _PHASES:
            _invalid(f"touch phase must be one of {sorted(_PHASES)}")
        if "key" in obj:
            _text(obj, "key", 1, 32)
            _text(obj, "code", 0, 32)
            mods = obj["modifiers"]
            if not isinstance(mods, list) or not set(mods) <= _MODIFIERS or len(set(mods)) != len(mods):
                _invalid(f"modifiers must be a list of distinct values from {sorted(_MODIFIERS)}")
            obj["modifiers"] = tuple(mods)
        return cls(type=kind, **obj)


# -- device info (DEVICE_INFO) ---------------------------------------------------------

MAX_DEVICE_INFO_BYTES = 64 * 1024
_DEVICE_TEXT = ("manufacturer", "brand", "model", "os_name", "os_version", "processor", "device_name", "serial_number")


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What the device says about itself; the same fields as the Devices API."""

    manufacturer: str | None = None
    brand: str | None = None
    model: str | None = None
    os_name: str | None = None
    os_version: str | None = None
    memory_bytes: int | None = None
    processor: str | None = None
    device_name: str | None = None
    serial_number: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def encode(self) -> bytes:
        data = _json(self.to_dict())
        DeviceInfo.decode(data)
        return data

    @classmethod
    def decode(cls, payload: bytes) -> DeviceInfo:
        if len(payload) > MAX_DEVICE_INFO_BYTES:
            _invalid(f"device info above {MAX_DEVICE_INFO_BYTES} bytes")
        obj = _object(payload)
        unknown = set(obj) - set(_DEVICE_TEXT) - {"memory_bytes", "extra"}
        if unknown:
            _invalid(f"unknown device info fields {sorted(unknown)}")
        for name in _DEVICE_TEXT:
            if obj.get(name) is not None:
                _text(obj, name, 0, 256)
        mem = obj.get("memory_bytes")
        if mem is not None and (type(mem) is not int or not 0 <= mem < 2**63):
            _invalid("memory_bytes must be a non-negative integer or null")
        extra = obj.get("extra", {})
        if extra is None:
            obj["extra"] = {}
        elif not isinstance(extra, dict):
            _invalid("extra must be an object")
        return cls(**obj)


# -- clipboard, ping, close, peer status -----------------------------------------------

MAX_CLIPBOARD_BYTES = 1024 * 1024


def encode_clipboard(text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) > MAX_CLIPBOARD_BYTES:
        raise ValueError(f"clipboard text above {MAX_CLIPBOARD_BYTES} bytes")
    return data


def decode_clipboard(payload: bytes) -> str:
    if len(payload) > MAX_CLIPBOARD_BYTES:
        _invalid(f"clipboard text above {MAX_CLIPBOARD_BYTES} bytes")
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        _invalid("clipboard text is not valid UTF-8")


def check_ping(payload: bytes) -> bytes:
    """PING and PONG carry exactly 8 opaque bytes; PONG echoes the PING's."""
    if len(payload) != 8:
        _invalid("ping and pong payloads are exactly 8 bytes")
    return payload


CLOSE_HEADER = struct.Struct(">H")
MAX_CLOSE_REASON_BYTES = 123  # what fits in a WebSocket close frame


@dataclass(frozen=True, slots=True)
class Close:
    code: int
    reason: str = ""

    def encode(self) -> bytes:
        reason = self.reason.encode("utf-8")[:MAX_CLOSE_REASON_BYTES]
        # Cutting may split a character; drop the broken tail rather than send junk.
        reason = reason.decode("utf-8", "ignore").encode("utf-8")
        return CLOSE_HEADER.pack(self.code) + reason

    @classmethod
    def decode(cls, payload: bytes) -> Close:
        if not 2 <= len(payload) <= 2 + MAX_CLOSE_REASON_BYTES:
            _invalid("close payload is a 2-byte code and at most 123 bytes of reason")
        (code,) = CLOSE_HEADER.unpack_from(payload)
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            _invalid("close reason is not valid UTF-8")
        return cls(code, reason)


PEER_STATES = frozenset({"waiting", "connected", "reconnecting", "gone"})


def encode_peer_status(device: str, *, grace_seconds: float | None = None) -> bytes:
    if device not in PEER_STATES:
        raise ValueError(f"device state must be one of {sorted(PEER_STATES)}")
    obj: dict[str, Any] = {"device": device}
    if grace_seconds is not None:
        obj["grace_seconds"] = grace_seconds
    return _json(obj)


def decode_peer_status(payload: bytes) -> dict[str, Any]:
    obj = _object(payload)
    if obj.get("device") not in PEER_STATES:
        _invalid("peer status needs a device state")
    return obj


# -- hello, ack, refusal -----------------------------------------------------------------

ROLES = frozenset({"device", "viewer"})


@dataclass(frozen=True, slots=True)
class Hello:
    """The first message of a connection, plain: which role, with which ticket."""

    role: str
    ticket: str
    protocol: int = 1

    def encode(self) -> bytes:
        return _json({"protocol": self.protocol, "role": self.role, "ticket": self.ticket})

    @classmethod
    def decode(cls, payload: bytes) -> Hello:
        obj = _object(payload, code=CloseCode.HELLO_EXPECTED)
        if set(obj) != {"protocol", "role", "ticket"}:
            raise ProtocolError(CloseCode.HELLO_EXPECTED, "hello needs exactly protocol, role and ticket")
        if obj["protocol"] != 1:
            raise ProtocolError(CloseCode.BAD_FRAME, f"protocol {obj['protocol']!r} is not supported (1 is)")
        if obj["role"] not in ROLES or not isinstance(obj["ticket"], str):
            raise ProtocolError(CloseCode.HELLO_EXPECTED, "hello role must be device or viewer, ticket a string")
        return cls(role=obj["role"], ticket=obj["ticket"], protocol=1)


@dataclass(frozen=True, slots=True)
class Ack:
    """The relay's sealed answer to a good hello: proof that it knows the key,
    and the parameters of this connection."""

    connection_id: str
    session_id: str
    kind: str
    role: str
    heartbeat_seconds: float
    idle_timeout_seconds: float
    limits: dict[str, int]
    resumed: bool = False

    def encode(self) -> bytes:
        return _json(asdict(self))

    @classmethod
    def decode(cls, payload: bytes) -> Ack:
        obj = _object(payload)
        try:
            return cls(**obj)
        except TypeError as exc:
            _invalid(f"bad ack: {exc}")


@dataclass(frozen=True, slots=True)
class Refusal:
    """Plain answer to a bad hello, sent before closing; a refusal can't be sealed
    because the relay could not open the ticket that holds the key."""

    code: int
    reason: str

    def encode(self) -> bytes:
        return _json({"code": int(self.code), "reason": self.reason[:512]})

    @classmethod
    def decode(cls, payload: bytes) -> Refusal:
        obj = _object(payload)
        if set(obj) != {"code", "reason"} or type(obj["code"]) is not int:
            _invalid("refusal needs an integer code and a reason")
        return cls(obj["code"], str(obj["reason"]))


# -- helpers --------------------------------------------------------------------------------


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")


def _object(payload: bytes, *, code: CloseCode = CloseCode.INVALID_PAYLOAD) -> dict[str, Any]:
    try:
        obj = json.loads(bytes(payload).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProtocolError(code, "payload is not UTF-8 JSON") from None
    if not isinstance(obj, dict):
        raise ProtocolError(code, "payload must be a JSON object")
    return obj


def _invalid(message: str) -> Any:
    raise ProtocolError(CloseCode.INVALID_PAYLOAD, message)


def _int_in(obj: dict[str, Any], name: str, allowed: range) -> None:
    value = obj[name]
    if type(value) is not int or value not in allowed:
        _invalid(f"{name} must be an integer in [{allowed.start}, {allowed.stop - 1}]")


def _text(obj: dict[str, Any], name: str, low: int, high: int) -> None:
    value = obj[name]
    if not isinstance(value, str) or not low <= len(value) <= high:
        _invalid(f"{name} must be a string of {low} to {high} characters")
