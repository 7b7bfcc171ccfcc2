"""Relay tickets: what the app grants, sealed so a relay can check it alone.

The app (``plugins/remote_control``) issues a ticket over HTTPS to a device or a
viewer: a token for the relay, plus the connection key and relay address for the
client. The token is the ticket itself, AES-256-GCM-sealed under a secret that the
app and every relay derive from the shared master key, so a relay needs no
database and no call back to the app to admit a connection: it opens the token,
checks relay, expiry and single use, and the token's contents are authentic.

Example (the app side)::

    secret = ticket_secret(master_key)
    ticket, token = issue_ticket(
        secret, relay_id="relay-1", tenant_id=tenant.id, session_id=session.id,
        kind="remote_control", role="device",
    )
    # hand out: token, ticket.key (base64), ticket.expires_at, relay address

And the relay side::

    ticket = open_ticket(secret, token, relay_id="relay-1")  # or TicketRefused
    used.claim(ticket)                                        # or TicketRefused

.. versionadded:: 0.1
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from guidepath.core.crypto import MasterKey, check_key

from .protocol.errors import CloseCode
from .protocol.frames import MAX_PAYLOAD_BYTES
from .protocol.rules import KINDS

DEFAULT_TTL_SECONDS = 60
MAX_TTL_SECONDS = 3600
MAX_TOKEN_CHARS = 4096
TOKEN_VERSION = 1
_AAD = b"guidepath relay ticket v1"
_NONCE_SIZE = 12
ROLES = ("device", "viewer")


class TicketRefused(Exception):
    """A ticket can't be used; :attr:`code` is the close code sent to the client."""

    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code = CloseCode(code)
        self.reason = reason


@dataclass(frozen=True)
class TicketLimits:
    """What one connection may send; the relay enforces them."""

    max_fps: int = 30
    max_width: int = 3840
    max_height: int = 2160
    #: Cap on one frame's payload on the wire (ciphertext and tag).
    max_frame_bytes: int = MAX_PAYLOAD_BYTES

    def __post_init__(self) -> None:
        for name in ("max_fps", "max_width", "max_height", "max_frame_bytes"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ValueError(f"limits.{name} must be a positive integer")
        if self.max_frame_bytes > MAX_PAYLOAD_BYTES:
            raise ValueError(f"limits.max_frame_bytes may not exceed {MAX_PAYLOAD_BYTES}")


@dataclass(frozen=True)
class RecordingGrant:
    """Permission to record this session into the tenant's file store.

    The tenant's data key travels wrapped by the master key (as stored in the
    tenant directory), so only a holder of the master key (a relay) can use it.
    """

    wrapped_data_key: bytes
    file_name: str | None = None


@dataclass(frozen=True)
class Ticket:
    ticket_id: str
    relay_id: str
    tenant_id: str
    session_id: str
    kind: str  #: "remote_control" | "camera"
    role: str  #: "device" | "viewer"
    connection_id: str
    key: bytes = field(repr=False)  #: 32 bytes; the client's connection key
    expires_at: int  #: unix seconds; the ticket can't start a connection after this
    limits: TicketLimits = field(default_factory=TicketLimits)
    recording: RecordingGrant | None = None

    @property
    def pairing_key(self) -> tuple[str, str, str]:
        """Device and viewers meet on this: the tenant comes from the sealed
        ticket, so a ticket of tenant A never reaches a session of tenant B."""
        return (self.tenant_id, self.session_id, self.kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": TOKEN_VERSION,
            "tid": self.ticket_id,
            "relay": self.relay_id,
            "tenant": self.tenant_id,
            "session": self.session_id,
            "kind": self.kind,
            "role": self.role,
            "conn": self.connection_id,
            "key": _b64(self.key),
            "exp": self.expires_at,
            "limits": [self.limits.max_fps, self.limits.max_width, self.limits.max_height, self.limits.max_frame_bytes],
            "rec": None
            if self.recording is None
            else {"wrapped": _b64(self.recording.wrapped_data_key), "name": self.recording.file_name},
        }

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> Ticket:
        rec = obj["rec"]
        fps, width, height, frame_bytes = obj["limits"]
        ticket = cls(
            ticket_id=obj["tid"],
            relay_id=obj["relay"],
            tenant_id=obj["tenant"],
            session_id=obj["session"],
            kind=obj["kind"],
            role=obj["role"],
            connection_id=obj["conn"],
            key=_unb64(obj["key"]),
            expires_at=obj["exp"],
            limits=TicketLimits(fps, width, height, frame_bytes),
            recording=None if rec is None else RecordingGrant(_unb64(rec["wrapped"]), rec["name"]),
        )
        _check_fields(ticket)
        return ticket


def ticket_secret(master_key: MasterKey) -> bytes:
    """The 32-byte secret tickets are sealed with, derived from the master key.

    HKDF-SHA256 with info ``guidepath/relay-tickets/global``; the app and every
    relay hold the master key, so they agree on it without another secret to
    distribute, and rotating the master key rotates it.
    """
    return master_key.derive("relay-tickets", "global")


def issue_ticket(
    secret: bytes,
    *,
    relay_id: str,
    tenant_id: str,
    session_id: str,
    kind: str,
    role: str,
    connection_id: str | None = None,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    limits: TicketLimits | None = None,
    recording: RecordingGrant | None = None,
    now: float | None = None,
) -> tuple[Ticket, str]:
    """Create a ticket and its token (base64url text, ~400 characters).

    A fresh random 256-bit key and ticket id come with every call; give the
    client ``ticket.key`` and the token, give nobody the secret. *recording* is
    honoured on device tickets only. Raises ``ValueError`` for bad arguments.

    .. versionadded:: 0.1
    """
    check_key(secret)
    if not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl_seconds must be between 1 and {MAX_TTL_SECONDS}")
    if recording is not None and role != "device":
        raise ValueError("only device tickets carry a recording grant")
    issued = time.time() if now is None else now
    ticket = Ticket(
        ticket_id="tkt_" + _b64(os.urandom(16)),
        relay_id=relay_id,
        tenant_id=tenant_id,
        session_id=session_id,
        kind=kind,
        role=role,
        connection_id=connection_id or "con_" + _b64(os.urandom(12)),
        key=os.urandom(32),
        expires_at=int(issued) + ttl_seconds,
        limits=limits or TicketLimits(),
        recording=recording,
    )
    _check_fields(ticket)
    return ticket, seal_ticket(secret, ticket)


def seal_ticket(secret: bytes, ticket: Ticket) -> str:
    """The token of *ticket*: base64url(version 0x01 || nonce || AES-GCM(JSON))."""
    check_key(secret)
    nonce = os.urandom(_NONCE_SIZE)
    plaintext = json.dumps(ticket.to_dict(), separators=(",", ":"), sort_keys=True).encode()
    blob = bytes([TOKEN_VERSION]) + nonce + AESGCM(secret).encrypt(nonce, plaintext, _AAD)
    return _b64(blob)


def open_ticket(secret: bytes, token: str, *, relay_id: str, now: float | None = None) -> Ticket:
    """Return the ticket inside *token*, or raise :class:`TicketRefused`.

    Refused: not a token, tampered or sealed under another secret
    (``TICKET_INVALID``), expired (``TICKET_EXPIRED``), or issued for another
    relay (``TICKET_WRONG_RELAY``). Single use is checked by :class:`UsedTickets`.
    """
    check_key(secret)
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
        raise TicketRefused(CloseCode.TICKET_INVALID, "ticket is missing or too long")
    try:
        blob = _unb64(token)
    except ValueError:
        raise TicketRefused(CloseCode.TICKET_INVALID, "ticket is not base64url text") from None
    if len(blob) < 1 + _NONCE_SIZE + 16 or blob[0] != TOKEN_VERSION:
        raise TicketRefused(CloseCode.TICKET_INVALID, "ticket has an unknown format; ask the app for a new one")
    nonce, sealed = blob[1 : 1 + _NONCE_SIZE], blob[1 + _NONCE_SIZE :]
    try:
        plaintext = AESGCM(secret).decrypt(nonce, sealed, _AAD)
    except InvalidTag:
        raise TicketRefused(
            CloseCode.TICKET_INVALID, "ticket failed authentication: it was modified or not issued by this platform"
        ) from None
    try:
        ticket = Ticket.from_dict(json.loads(plaintext))
    except (ValueError, KeyError, TypeError):
        # Authentic but unreadable: an app of another version issued it.
        raise TicketRefused(CloseCode.TICKET_INVALID, "ticket contents are not understood by this relay") from None
    if ticket.relay_id != relay_id:
        raise TicketRefused(
            CloseCode.TICKET_WRONG_RELAY, f"ticket is for relay {ticket.relay_id!r}, not this one ({relay_id!r})"
        )
    current = time.time() if now is None else now
    if current >= ticket.expires_at:
        raise TicketRefused(
            CloseCode.TICKET_EXPIRED,
            f"ticket expired {int(current - ticket.expires_at)} s ago; ask the app for a new one",
        )
    return ticket


class UsedTickets:
    """Ticket ids already used on this relay, forgotten once they expire.

    In memory is enough: a ticket names one relay, so no other relay can accept
    it, and an expired ticket is refused anyway. Not thread-safe; the relay uses
    it from its event loop only.
    """

    def __init__(self) -> None:
        self._expiry: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._expiry)

    def claim(self, ticket: Ticket, *, now: float | None = None) -> None:
        """Mark *ticket* used; raise ``TicketRefused(TICKET_USED)`` the second time."""
        current = time.time() if now is None else now
        self.purge(current)
        if ticket.ticket_id in self._expiry:
            raise TicketRefused(CloseCode.TICKET_USED, "ticket was already used; tickets are single-use")
        self._expiry[ticket.ticket_id] = ticket.expires_at

    def purge(self, now: float) -> None:
        expired = [tid for tid, exp in self._expiry.items() if exp <= now]
        for tid in expired:
            del self._expiry[tid]


def _check_fields(ticket: Ticket) -> None:
    for name in ("ticket_id", "relay_id", "tenant_id", "session_id", "connection_id"):
        value = getattr(ticket, name)
        if not isinstance(value, str) or not 0 < len(value) <= 128:
            raise ValueError(f"{name} must be a non-empty string of at most 128 characters")
    if ticket.kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}")
    if ticket.role not in ROLES:
        raise ValueError(f"role must be one of {list(ROLES)}")
    check_key(ticket.key)
    if type(ticket.expires_at) is not int:
        raise ValueError("expires_at must be integer unix seconds")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _unb64(text: str) -> bytes:
    # Strict: the standard decoder silently skips foreign characters.
    if not isinstance(text, str) or not _B64URL.fullmatch(text):
        raise ValueError("not base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError, TypeError):
        raise ValueError("not base64url") from None
    # Canonical form only: otherwise unused low bits of the last character
    # would let one ticket have several spellings.
    if _b64(raw) != text:
        raise ValueError("not canonical base64url")
    return raw


