"""Authenticated encryption of small values with AES-256-GCM.

``seal`` produces a self-contained blob (``nonce || ciphertext || tag``) so callers
store one opaque value and never manage nonces. Nonces are 96 random bits: with a
given key that is safe for about 2**32 messages, far more than any key here seals
(wrapped data keys, file metadata). Large contents use the chunked stream format in
``guidepath.core.files`` instead, because a single GCM message must be held whole
in memory to be authenticated.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16


class DecryptionError(ValueError):
    """Ciphertext could not be authenticated.

    One exception for every cause (wrong key, wrong associated data, tampering,
    truncation) on purpose: telling an attacker which one it was helps them.
    """


def new_key() -> bytes:
    """Return a fresh random 256-bit key."""
    return os.urandom(KEY_SIZE)


def check_key(key: bytes) -> None:
    """Refuse anything but a 32-byte key, so AES-128 never happens by accident."""
    if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_SIZE:
        raise ValueError(f"an AES-256 key must be {KEY_SIZE} bytes")


def seal(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """Encrypt and authenticate *plaintext*; *aad* is authenticated but not stored.

    Bind the ciphertext to its context through *aad* (a tenant id, a record id) so a
    blob copied to another place fails to open there.
    """
    check_key(key)
    nonce = os.urandom(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, blob: bytes, aad: bytes = b"") -> bytes:
    """Return the plaintext of a blob made by :func:`seal` with the same key and aad.

    Raises :class:`DecryptionError` if the blob was modified, truncated, or sealed
    with another key or other associated data.
    """
    check_key(key)
    if len(blob) < NONCE_SIZE + TAG_SIZE:
        raise DecryptionError("sealed value is too short to be valid (truncated?)")
    nonce, ciphertext = blob[:NONCE_SIZE], blob[NONCE_SIZE:]
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise DecryptionError(
            "sealed value failed authentication: wrong key, wrong associated data,"
            " or the value was modified"
        ) from None
