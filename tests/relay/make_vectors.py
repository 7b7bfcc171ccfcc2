"""Regenerate ``relay/protocol/vectors.json`` (the protocol's test vectors).

    .venv/bin/python tests/relay/make_vectors.py

Everything in the file is deterministic (fixed key, counter nonces), so
tests/relay/test_vectors.py checks both that our code reproduces every vector
byte for byte and that this script would write the same file.
"""

from __future__ import annotations

import json
from pathlib import Path

from guidepath.relay.protocol import (
    Ack,
    Close,
    DeviceInfo,
    Direction,
    FrameSealer,
    FrameType,
    Hello,
    ImageFormat,
    ImageFrame,
    InputEvent,
    Refusal,
    counter_nonce,
    direction_key,
    encode_clipboard,
    encode_peer_status,
    encode_plain,
)
from guidepath.relay.protocol.frames import pack_header

PATH = Path(__file__).resolve().parents[2] / "relay" / "protocol" / "vectors.json"
KEY = bytes(range(32))


def _sealed(direction: Direction, frame_type: FrameType, counter: int, payload: bytes, note: str) -> dict:
    wire = FrameSealer(KEY, direction, first_counter=counter).seal(frame_type, payload)
    return {
        "note": note,
        "direction": direction.value,
        "type": frame_type.name,
        "type_code": int(frame_type),
        "counter": counter,
        "plaintext_hex": payload.hex(),
        "wire_hex": wire.hex(),
    }


def build() -> dict:
    ack = Ack("con_example", "ses_example", "remote_control", "device", 10.0, 30.0,
              {"max_fps": 30, "max_frame_bytes": 8388608, "max_height": 2160, "max_width": 3840}).encode()
    red_pixel_rgba = ImageFrame(ImageFormat.RAW_RGBA, 1, 2, 1, 1, 4, 4, b"\xff\x00\x00\xff").encode()
    frames = [
        _sealed(Direction.RELAY_TO_DEVICE, FrameType.ACK, 0, ack, "the relay's first frame to a device"),
        _sealed(Direction.DEVICE_TO_RELAY, FrameType.DEVICE_INFO, 0,
                DeviceInfo(manufacturer="ACME", model="Phone 1", os_name="Android", os_version="14",
                           memory_bytes=4294967296).encode(), "device info"),
        _sealed(Direction.DEVICE_TO_RELAY, FrameType.SCREEN, 1, red_pixel_rgba,
                "region (1,2,1,1) of a 4x4 display, raw RGBA"),
        _sealed(Direction.DEVICE_TO_RELAY, FrameType.PING, 2, bytes(range(8)), "ping"),
        _sealed(Direction.RELAY_TO_VIEWER, FrameType.PEER_STATUS, 1, encode_peer_status("connected"), "peer status"),
        _sealed(Direction.VIEWER_TO_RELAY, FrameType.INPUT, 0,
                InputEvent("pointer_down", x=10, y=20, button=0).encode(), "pointer down"),
        _sealed(Direction.VIEWER_TO_RELAY, FrameType.INPUT, 1,
                InputEvent("key_down", key="a", code="KeyA", modifiers=("shift",)).encode(), "key down"),
        _sealed(Direction.VIEWER_TO_RELAY, FrameType.CLIPBOARD, 2, encode_clipboard("héllo ✓"), "clipboard, UTF-8"),
        _sealed(Direction.RELAY_TO_DEVICE, FrameType.REFRESH, 1, b"", "refresh: empty payload"),
        _sealed(Direction.DEVICE_TO_RELAY, FrameType.CLOSE, 3, Close(1000, "bye").encode(), "close"),
        _sealed(Direction.DEVICE_TO_RELAY, FrameType.PONG, 2**32, bytes(8), "a counter above 2^32"),
    ]
    good_ping = bytes.fromhex(frames[3]["wire_hex"])
    tampered = bytearray(good_ping)
    tampered[-1] ^= 1
    invalid = [
        {"note": "last tag byte flipped", "direction": "device->relay", "expected_counter": 2,
         "wire_hex": bytes(tampered).hex(), "close_code": 4002},
        {"note": "valid frame, opened with the other direction's key", "direction": "relay->device",
         "expected_counter": 2, "wire_hex": good_ping.hex(), "close_code": 4002},
        {"note": "replay: counter 2 again after it was accepted", "direction": "device->relay",
         "expected_counter": 3, "wire_hex": good_ping.hex(), "close_code": 4003},
        {"note": "gap: counter 2 while 1 is expected", "direction": "device->relay",
         "expected_counter": 1, "wire_hex": good_ping.hex(), "close_code": 4003},
        {"note": "unknown type 0x7f", "direction": "device->relay", "expected_counter": 0,
         "wire_hex": (pack_header(0x7F, 0, 16) + bytes(16)).hex(), "close_code": 4005},
        {"note": "version 2", "direction": "device->relay", "expected_counter": 0,
         "wire_hex": (bytes([2]) + pack_header(FrameType.PING, 0, 24)[1:] + bytes(24)).hex(), "close_code": 4001},
        {"note": "length above the 8 MiB cap (header alone is enough to refuse)", "direction": "device->relay",
         "expected_counter": 0, "wire_hex": pack_header(FrameType.SCREEN, 0, 8 * 1024 * 1024 + 1).hex(),
         "close_code": 4004},
    ]
    return {
        "description": "guidepath relay protocol v1 test vectors; see docs/relay-protocol.md",
        "connection_key_hex": KEY.hex(),
        "direction_keys": {d.value: direction_key(KEY, d).hex() for d in Direction},
        "hkdf_info": {d.value: ("guidepath relay v1 " + d.value) for d in Direction},
        "nonces": {str(c): counter_nonce(c).hex() for c in (0, 1, 2**32)},
        "plain": [
            {"note": "hello", "type": "HELLO", "wire_hex": encode_plain(
                FrameType.HELLO, Hello(role="device", ticket="TOKEN").encode()).hex()},
            {"note": "refusal", "type": "REFUSE", "wire_hex": encode_plain(
                FrameType.REFUSE, Refusal(4011, "ticket expired").encode()).hex()},
        ],
        "frames": frames,
        "invalid": invalid,
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    PATH.write_text(render())
    print(f"wrote {PATH}")
