"""Password hashing with Argon2id.

Passwords are low-entropy, so the hash must be slow and memory-hard to make a
stolen table expensive to crack; Argon2id is the current OWASP recommendation.
Hashes are stored in the PHC string format used by the reference implementation
and by ``argon2-cffi``::

    $argon2id$v=19$m=19456,t=2,p=1$<salt, base64 no padding>$<hash, base64 no padding>

The parameters travel inside the string, so they can be raised later: verification
uses the parameters of the stored hash, and :func:`needs_rehash` tells the login
code to store a fresh hash once the password has been checked.

Production code passes no parameters and gets :data:`DEFAULT_PARAMS`. Test suites
lower the cost either per call (``params=Argon2Params.for_tests()``) or for the
whole process, for code that hashes deep inside the domain layer::

    previous = set_default_params(Argon2Params.for_tests())
    ...
    set_default_params(previous)
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
import unicodedata
from dataclasses import dataclass

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

# OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1.
MEMORY_COST_KIB = 19456
ITERATIONS = 2
LANES = 1
SALT_SIZE = 16
HASH_SIZE = 32

# Upper bounds on what verification will agree to compute. A stored hash is
# normally ours, but a corrupted or planted one must not make a login request
# allocate gigabytes or spin for minutes.
MAX_MEMORY_COST_KIB = 1 << 20  # 1 GiB
MAX_ITERATIONS = 32
MAX_LANES = 16

_VERSION = 19
_PHC = re.compile(
    r"\$argon2id\$v=(?P<v>\d+)\$m=(?P<m>\d{1,10}),t=(?P<t>\d{1,10}),p=(?P<p>\d{1,10})"
    r"\$(?P<salt>[A-Za-z0-9+/]{11,88})\$(?P<hash>[A-Za-z0-9+/]{22,88})"
)


@dataclass(frozen=True)
class Argon2Params:
    """Argon2id cost parameters: memory in KiB, iterations (passes), lanes."""

    memory_cost: int = MEMORY_COST_KIB
    iterations: int = ITERATIONS
    lanes: int = LANES

    def __post_init__(self) -> None:
        if not 1 <= self.lanes <= MAX_LANES:
            raise ValueError(f"lanes must be between 1 and {MAX_LANES}")
        if not 1 <= self.iterations <= MAX_ITERATIONS:
            raise ValueError(f"iterations must be between 1 and {MAX_ITERATIONS}")
        if not 8 * self.lanes <= self.memory_cost <= MAX_MEMORY_COST_KIB:
            raise ValueError(
                f"memory_cost must be between 8*lanes and {MAX_MEMORY_COST_KIB} KiB"
            )

    @classmethod
    def for_tests(cls) -> Argon2Params:
        """The cheapest valid parameters: for test suites only, never production."""
        return cls(memory_cost=8, iterations=1, lanes=1)


DEFAULT_PARAMS = Argon2Params()
_default_params = DEFAULT_PARAMS


def set_default_params(params: Argon2Params) -> Argon2Params:
    """Replace the parameters used when a call passes none; return the old ones.

    For test suites only: a cheap hash makes a login test fast, and in
    production it would make stolen hashes cheap to crack.
    """
    global _default_params
    if not isinstance(params, Argon2Params):
        raise TypeError("params must be an Argon2Params")
    previous, _default_params = _default_params, params
    return previous


def default_params() -> Argon2Params:
    """Return the parameters used when a call passes none."""
    return _default_params


@dataclass(frozen=True)
class _Parsed:
    params: Argon2Params
    salt: bytes
    digest: bytes


def hash_password(password: str, *, params: Argon2Params | None = None) -> str:
    """Return the PHC-encoded Argon2id hash of *password* with a fresh random salt."""
    params = params or _default_params
    salt = os.urandom(SALT_SIZE)
    digest = _argon2(_encode_password(password), salt, params, HASH_SIZE)
    return (
        f"$argon2id$v={_VERSION}$m={params.memory_cost},t={params.iterations},"
        f"p={params.lanes}${_b64(salt)}${_b64(digest)}"
    )


def verify_password(password: str, encoded: str) -> bool:
    """Check *password* against a stored hash; False for any malformed hash.

    The comparison is constant-time. A malformed hash returns False rather than
    raising so a corrupted row reads as "wrong password", not as a server error
    that would tell the caller the account exists.
    """
    parsed = _parse(encoded)
    if parsed is None or not isinstance(password, str):
        return False
    candidate = _argon2(
        _encode_password(password), parsed.salt, parsed.params, len(parsed.digest)
    )
    return hmac.compare_digest(candidate, parsed.digest)


def needs_rehash(encoded: str, *, params: Argon2Params | None = None) -> bool:
    """True if *encoded* was not made with *params* (or cannot be parsed).

    Call it after a successful :func:`verify_password`, while the plain password
    is at hand, and store ``hash_password(password)`` when it says so.
    """
    params = params or _default_params
    parsed = _parse(encoded)
    return (
        parsed is None
        or parsed.params != params
        or len(parsed.salt) != SALT_SIZE
        or len(parsed.digest) != HASH_SIZE
    )


def _encode_password(password: str) -> bytes:
    # NFKC so that the same password typed on two keyboards (composed "é" versus
    # "e" + combining accent) hashes the same, as NIST SP 800-63B advises.
    if not isinstance(password, str):
        raise TypeError("password must be a str")
    return unicodedata.normalize("NFKC", password).encode("utf-8")


def _argon2(secret: bytes, salt: bytes, params: Argon2Params, length: int) -> bytes:
    kdf = Argon2id(
        salt=salt,
        length=length,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_cost,
    )
    return kdf.derive(secret)


def _parse(encoded: object) -> _Parsed | None:
    if not isinstance(encoded, str):
        return None
    match = _PHC.fullmatch(encoded)
    if match is None or int(match["v"]) != _VERSION:
        return None
    try:
        params = Argon2Params(
            memory_cost=int(match["m"]),
            iterations=int(match["t"]),
            lanes=int(match["p"]),
        )
        salt = _unb64(match["salt"])
        digest = _unb64(match["hash"])
    except (ValueError, binascii.Error):
        return None
    if len(salt) < 8 or not 16 <= len(digest) <= 64:
        return None
    return _Parsed(params=params, salt=salt, digest=digest)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if len(text) % 4 == 1:
        raise ValueError("impossible base64 length")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
