"""Random bearer tokens (API keys, session tokens) and how to store them.

A token is ``<prefix>_<43 URL-safe characters>``: 256 random bits, plus a readable
prefix so a leaked token found in a log or a repository can be recognised (and
revoked) at a glance, as GitHub and Stripe do.

Only :func:`hash_token` of a token is stored. A plain SHA-256 is the right hash here,
unlike for passwords: a token has 256 bits of entropy, so nobody can guess their way
back from the hash however fast the hash is, and a slow hash would only add latency
to every authenticated request. Salting is unnecessary for the same reason, and an
unsalted hash lets the database find the row by an indexed lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

TOKEN_BYTES = 32

_PREFIX = re.compile(r"[a-z][a-z0-9]{0,15}")


def new_token(prefix: str) -> str:
    """Return a new random token such as ``gpk_3q2Z…`` for ``prefix="gpk"``."""
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise ValueError(f"token prefix must match {_PREFIX.pattern}: {prefix!r}")
    return f"{prefix}_{secrets.token_urlsafe(TOKEN_BYTES)}"


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest of *token*, the form kept in the database."""
    if not isinstance(token, str):
        raise TypeError("token must be a str")
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    """Compare two secrets without leaking, through timing, where they differ.

    Text is compared as UTF-8 (``hmac.compare_digest`` itself rejects non-ASCII
    ``str``). Mixing ``str`` and ``bytes`` is a programming error and raises.
    """
    if isinstance(a, str) and isinstance(b, str):
        return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
    if isinstance(a, (bytes, bytearray)) and isinstance(b, (bytes, bytearray)):
        return hmac.compare_digest(a, b)
    raise TypeError("constant_time_equals needs two str or two bytes")
