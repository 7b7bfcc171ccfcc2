"""Per-direction subkeys and counter nonces.

Each direction of a connection gets its own AES-256 key, derived from the ticket's
32-byte connection key with HKDF-SHA256 and an ``info`` naming the direction. The
nonce is the direction's frame counter, which never repeats, so no (key, nonce)
pair is ever used twice and no random nonce is needed.
"""

from __future__ import annotations

from enum import Enum

from guidepath.core.crypto import check_key, hkdf_sha256

NONCE_SIZE = 12
INFO_PREFIX = b"guidepath relay v1 "


class Direction(str, Enum):
    """Who seals for whom. The value is the text of the HKDF info suffix."""

    DEVICE_TO_RELAY = "device->relay"
    RELAY_TO_DEVICE = "relay->device"
    VIEWER_TO_RELAY = "viewer->relay"
    RELAY_TO_VIEWER = "relay->viewer"

    @classmethod
    def outbound(cls, role: str) -> Direction:
        """The direction a client of *role* ("device"/"viewer") seals with."""
        return cls(f"{role}->relay")

    @classmethod
    def inbound(cls, role: str) -> Direction:
        """The direction the relay seals with towards a client of *role*."""
        return cls(f"relay->{role}")


def direction_key(connection_key: bytes, direction: Direction) -> bytes:
    """HKDF-SHA256(ikm=connection_key, salt=none, info="guidepath relay v1 <dir>")."""
    check_key(connection_key)
    return hkdf_sha256(connection_key, info=INFO_PREFIX + direction.value.encode("ascii"))


def counter_nonce(counter: int) -> bytes:
    """12-byte nonce: four zero bytes then the counter as a big-endian u64."""
    return b"\x00\x00\x00\x00" + counter.to_bytes(8, "big")
