"""The handshake: read the hello, check the ticket, or refuse with a reason.

Split from the server so the whole admission rule set reads in one place:
the first frame must be a plain HELLO; its ticket must open under the ticket
secret, name this relay, be unexpired and unused; and its role must match both
the hello and the leg (devices on TCP, viewers on WebSocket).
"""

from __future__ import annotations

import asyncio
import time

from .links import Link
from .protocol import Channel, CloseCode, FrameType, Hello, ProtocolError, Refusal, encode_plain
from .tickets import Ticket, TicketRefused, UsedTickets, open_ticket


async def read_hello(link: Link, timeout: float) -> Hello:
    try:
        frame = await asyncio.wait_for(link.recv_frame(), timeout)
    except asyncio.TimeoutError:
        raise ProtocolError(CloseCode.HELLO_EXPECTED, f"no hello within {timeout:g} s") from None
    if frame is None:
        raise ConnectionResetError("client left before its hello")
    if frame.type is not FrameType.HELLO:
        raise ProtocolError(CloseCode.HELLO_EXPECTED, f"the first frame must be HELLO, got {frame.type.name}")
    return Hello.decode(frame.payload)


def check_ticket(
    hello: Hello, *, leg_role: str, secret: bytes, relay_id: str, used: UsedTickets, now: float | None = None
) -> Ticket:
    current = time.time() if now is None else now
    ticket = open_ticket(secret, hello.ticket, relay_id=relay_id, now=current)
    if ticket.role != leg_role or hello.role != leg_role:
        where = "TCP" if leg_role == "device" else "WebSocket"
        raise TicketRefused(
            CloseCode.TICKET_WRONG_ROLE,
            f"a {ticket.role} ticket can't be used as a {hello.role} on the {where} leg, which is for {leg_role}s",
        )
    used.claim(ticket, now=current)
    return ticket


def relay_channel(ticket: Ticket) -> Channel:
    return Channel.relay(ticket.role, ticket.key, max_payload=ticket.limits.max_frame_bytes)


async def refuse(link: Link, code: CloseCode, reason: str) -> None:
    """Send a plain REFUSE and close: the only unsealed thing a relay ever sends."""
    try:
        await asyncio.wait_for(link.send(encode_plain(FrameType.REFUSE, Refusal(int(code), reason).encode())), 2)
    except (ConnectionError, OSError, asyncio.TimeoutError, Exception):
        pass
    await link.close(int(code), reason)
