"""Key derivation with HKDF-SHA256.

One key should do one job. Rather than store a key per purpose, guidepath derives
them from a parent key with HKDF and a distinct ``info`` label; the labels always
start with ``guidepath/`` so keys derived here never collide with another
application that might share the parent.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def hkdf_sha256(
    key_material: bytes, *, info: bytes, salt: bytes | None = None, length: int = 32
) -> bytes:
    """Derive *length* bytes from *key_material* for the purpose named by *info*."""
    if not info:
        raise ValueError("HKDF info must name the purpose of the derived key")
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(
        key_material
    )
