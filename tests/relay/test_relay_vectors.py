"""relay/protocol/vectors.json is true: our code reproduces every vector, and the
generator would write the same file (so the JS SDK can rely on it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guidepath.relay.protocol import (
    CloseCode,
    Direction,
    FrameOpener,
    FrameSealer,
    FrameType,
    ProtocolError,
    StreamDecoder,
    counter_nonce,
    decode_message,
    direction_key,
)

from make_vectors import PATH, render  # noqa: E402  (tests/relay is on sys.path)

VECTORS = json.loads(PATH.read_text())
KEY = bytes.fromhex(VECTORS["connection_key_hex"])


def test_file_is_up_to_date():
    assert PATH.read_text() == render(), "run tests/relay/make_vectors.py"


def test_keys_and_nonces():
    for name, key_hex in VECTORS["direction_keys"].items():
        assert direction_key(KEY, Direction(name)).hex() == key_hex
    for counter, nonce_hex in VECTORS["nonces"].items():
        assert counter_nonce(int(counter)).hex() == nonce_hex


@pytest.mark.parametrize("vector", VECTORS["frames"], ids=lambda v: v["note"])
def test_sealed_frames(vector):
    direction = Direction(vector["direction"])
    plaintext = bytes.fromhex(vector["plaintext_hex"])
    wire = bytes.fromhex(vector["wire_hex"])
    sealer = FrameSealer(KEY, direction, first_counter=vector["counter"])
    assert sealer.seal(FrameType[vector["type"]], plaintext) == wire
    opener = FrameOpener(KEY, direction, first_counter=vector["counter"])
    (frame,) = StreamDecoder().feed(wire)
    assert opener.open(frame).payload == plaintext


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["note"])
def test_invalid_frames(vector):
    opener = FrameOpener(KEY, Direction(vector["direction"]), first_counter=vector["expected_counter"])
    with pytest.raises(ProtocolError) as exc:
        for frame in StreamDecoder().feed(bytes.fromhex(vector["wire_hex"])):
            opener.open(frame)
    assert exc.value.code == CloseCode(vector["close_code"])


def test_plain_messages_decode():
    for vector in VECTORS["plain"]:
        frame = decode_message(bytes.fromhex(vector["wire_hex"]))
        assert frame.type is FrameType[vector["type"]] and frame.counter == 0
