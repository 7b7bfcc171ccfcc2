"""Cryptographic building blocks for the rest of guidepath.

Everything that touches key material lives here, so that the choices that matter
(AES-256-GCM with random nonces, HKDF-SHA256 for derived keys, Argon2id for
passwords, SHA-256 for high-entropy tokens) are made once, reviewed once and tested
once. Other packages ask for an operation ("seal this", "wrap this tenant's data
key") and never pick an algorithm themselves.

This package must not import any other ``guidepath`` package: it sits at the bottom
of the dependency graph, and anything it imported could end up handling secrets
without meaning to.
"""

from __future__ import annotations

from .aead import DecryptionError, check_key, new_key, open_sealed, seal
from .kdf import hkdf_sha256
from .keys import MasterKey
from .passwords import (
    DEFAULT_PARAMS,
    Argon2Params,
    default_params,
    hash_password,
    needs_rehash,
    set_default_params,
    verify_password,
)
from .tokens import constant_time_equals, hash_token, new_token

__all__ = [
    "Argon2Params",
    "DEFAULT_PARAMS",
    "DecryptionError",
    "MasterKey",
    "check_key",
    "constant_time_equals",
    "default_params",
    "hash_password",
    "hash_token",
    "hkdf_sha256",
    "needs_rehash",
    "new_key",
    "new_token",
    "open_sealed",
    "seal",
    "set_default_params",
    "verify_password",
]
