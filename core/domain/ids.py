"""Ids: tenants' and objects'.

A tenant id is ``t`` + 16 lowercase hex characters, random, never derived from the
slug: it names the tenant's schema, role, cache keys, topics and file container,
so those names never carry user text. This module is its one definition.

Object ids are a type prefix, then a time-ordered, random, URL-safe body. Time
order lets lists page by id (keyset pagination) without an extra column; 80 random
bits make ids unguessable, so knowing one id tells nothing about others.
"""

from __future__ import annotations

import re
import secrets
import time

#: What a tenant id looks like; use ``TENANT_ID.fullmatch``.
TENANT_ID = re.compile(r"t[0-9a-f]{16}")


def new_tenant_id() -> str:
    return "t" + secrets.token_hex(8)

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _b32(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_id(prefix: str) -> str:
    """``cus_01hx…``: 10 characters of milliseconds, 16 of randomness."""
    millis = int(time.time() * 1000)
    return f"{prefix}_{_b32(millis, 10)}{_b32(secrets.randbits(80), 16)}"
