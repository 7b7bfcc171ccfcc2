"""Why a connection ends: close reason codes and the error that carries one.

Every refusal in the protocol maps to one numeric code so that a client written in
another language can react to it (reconnect, ask for a new ticket, give up) without
parsing English. The codes live in the WebSocket private range (4000-4999) plus the
two standard ones, so the viewer leg can use them as WebSocket close codes as-is.
"""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    """Close reason codes, shared by the TCP and the WebSocket legs.

    .. versionadded:: 0.1
    """

    NORMAL = 1000  #: the peer is done
    GOING_AWAY = 1001  #: the relay is shutting down
    INTERNAL_ERROR = 1011  #: a bug in the relay; nothing the client did
    BAD_FRAME = 4001  #: malformed header (version, flags, truncated)
    AUTHENTICATION_FAILED = 4002  #: AES-GCM tag did not verify
    OUT_OF_ORDER = 4003  #: counter repeated, went backwards or skipped ahead
    TOO_LARGE = 4004  #: payload length above the connection's cap
    UNKNOWN_TYPE = 4005  #: frame type this version does not know
    NOT_ALLOWED = 4006  #: known type, but not from this sender or for this kind
    INVALID_PAYLOAD = 4007  #: the payload of a known type does not validate
    HELLO_EXPECTED = 4008  #: the first message was not a hello
    TICKET_INVALID = 4010  #: malformed, tampered or sealed with another secret
    TICKET_EXPIRED = 4011
    TICKET_WRONG_RELAY = 4012
    TICKET_USED = 4013  #: tickets are single-use
    TICKET_WRONG_ROLE = 4014  #: a viewer ticket on the device leg or vice versa
    IDLE_TIMEOUT = 4020  #: nothing received for too long
    REPLACED = 4021  #: a newer device connection took over the session
    DEVICE_GONE = 4022  #: the device did not come back within the grace period
    RATE_LIMITED = 4023  #: control frames above the sender's rate limit (docs/relay-protocol.md §7)
    SLOW_CONSUMER = 4024  #: the peer did not read what the relay had to send (queue full, or writes stalled)


class ProtocolError(Exception):
    """The peer broke the protocol; the connection must be closed with :attr:`code`.

    The message is for logs and for the peer's developer: it says what was wrong,
    never any key material.
    """

    def __init__(self, code: CloseCode, message: str) -> None:
        super().__init__(message)
        self.code = CloseCode(code)
        self.message = message

    def __repr__(self) -> str:
        return f"ProtocolError({self.code.name}, {self.message!r})"
