"""How cache keys are named, in one place.

Every Redis key and pub/sub channel that belongs to a tenant starts with
``gp:{tenant_id}:``. The Redis ACL user of a tenant is granted exactly that pattern,
so the name layout is a security boundary, not a style choice: it lives here so that
the cache, the ACL provisioner and the real-time fan-out cannot drift apart.
"""

from __future__ import annotations

import unicodedata

from ..domain.ids import TENANT_ID

TENANT_ID_PATTERN = TENANT_ID  # the one definition is guidepath.core.domain.ids
"""Tenant ids are ``t`` + 16 lowercase hex digits (see ``docs/architecture.md``)."""

MAX_KEY_LENGTH = 512
"""Longest key suffix a caller may pass, in characters.

Long keys cost memory on every replica and usually mean user text leaked into a
key name; 512 leaves room for composite keys made of several object ids.
"""

KEY_NAMESPACE = "gp"


def validate_tenant_id(tenant_id: object) -> str:
    """Return ``tenant_id`` if it is a well-formed tenant id, else raise.

    Tenant ids go into key names, channel names and ACL user names, so anything but
    the exact format (no ``*``, ``:``, spaces, upper case) is refused rather than
    escaped.
    """
    if not isinstance(tenant_id, str):
        raise TypeError(f"tenant id must be a str, not {type(tenant_id).__name__}")
    if not TENANT_ID_PATTERN.fullmatch(tenant_id):
        raise ValueError(f"malformed tenant id {tenant_id!r}: expected 't' + 16 lowercase hex digits")
    return tenant_id


def tenant_prefix(tenant_id: str) -> str:
    """The prefix ``gp:{tenant_id}:`` shared by all of a tenant's keys and channels."""
    return f"{KEY_NAMESPACE}:{validate_tenant_id(tenant_id)}:"


def validate_key(key: object, *, what: str = "cache key") -> str:
    """Return ``key`` if callers may use it as a key suffix, else raise.

    Control characters are refused because they corrupt logs and ``redis-cli``
    output; lone surrogates because they cannot be encoded as UTF-8 and would make
    two different strings map to one Redis key.
    """
    if not isinstance(key, str):
        raise TypeError(f"{what} must be a str, not {type(key).__name__}")
    if not key:
        raise ValueError(f"{what} must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"{what} is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}")
    for char in key:
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise ValueError(f"{what} {key!r} contains the control character {char!r}")
    return key


def tenant_key(tenant_id: str, key: str) -> str:
    """The full key ``gp:{tenant_id}:{key}`` after validating both parts."""
    return tenant_prefix(tenant_id) + validate_key(key)


def fanout_channel(tenant_id: str) -> str:
    """The pub/sub channel that carries a tenant's real-time events between nodes."""
    return tenant_prefix(tenant_id) + "fanout"
