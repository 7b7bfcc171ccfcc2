"""One admitted client connection: its ticket, its channel and its writer task.

Reading happens in the server's handler; writing happens here, in one task per
connection that takes frames from the :class:`~.outbox.Outbox`, seals them with
the next counter and sends them. Sealing at send time (not at enqueue time)
keeps counters in send order even though media frames may be replaced while
they wait.
"""

from __future__ import annotations

import asyncio
import logging

from websockets.exceptions import ConnectionClosed

from .links import Link
from .outbox import Outbox
from .protocol import Channel, Close, CloseCode, FrameType
from .tickets import Ticket

log = logging.getLogger("guidepath.relay")

#: Up to this many payload bytes are sealed and written together (plus one frame).
BATCH_BYTES = 256 * 1024


class ClientConnection:
    def __init__(self, link: Link, ticket: Ticket, channel: Channel, *, control_limit: int = 256) -> None:
        self.link = link
        self.ticket = ticket
        self.channel = channel
        self.outbox = Outbox(control_limit=control_limit)
        self.role = ticket.role
        self.last_seen = asyncio.get_running_loop().time()
        self.close_code: CloseCode | int | None = None
        self.close_reason = ""
        #: True when the peer sent CLOSE itself (a deliberate goodbye).
        self.peer_closed = False
        self._writer: asyncio.Task[None] | None = None
        # A max_fps window: frames counted in the current second.
        self._window_start = 0.0
        self._window_count = 0
        self.rate_dropped = 0

    def __repr__(self) -> str:
        t = self.ticket
        return f"<{self.role} {t.connection_id} {t.tenant_id}/{t.session_id}/{t.kind}>"

    @property
    def log_fields(self) -> dict[str, object]:
        t = self.ticket
        return {
            "tenant_id": t.tenant_id,
            "session_id": t.session_id,
            "kind": t.kind,
            "role": t.role,
            "connection_id": t.connection_id,
            "peer": self.link.peer,
        }

    def start_writer(self) -> None:
        self._writer = asyncio.create_task(self._write_loop(), name=f"relay-writer-{self.ticket.connection_id}")

    def send(self, frame_type: FrameType, payload: bytes = b"") -> bool:
        """Queue a control frame; False if this client's queue is full."""
        return self.outbox.put_control(frame_type, payload)

    def offer_media(self, frame_type: FrameType, payload: bytes) -> bool:
        """Offer a media frame; True if it replaced an unsent one (a drop)."""
        return self.outbox.put_media(frame_type, payload)

    def within_rate(self, now: float) -> bool:
        """Count one media frame against ``max_fps``; False if over the limit."""
        if now - self._window_start >= 1.0:
            self._window_start, self._window_count = now, 0
        self._window_count += 1
        if self._window_count > self.ticket.limits.max_fps:
            self.rate_dropped += 1
            return False
        return True

    def close(self, code: CloseCode | int, reason: str) -> None:
        """Send a sealed CLOSE (after queued control frames), then close the link."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self.outbox.finish(FrameType.CLOSE, Close(int(code), reason).encode())

    def closed_by_peer(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self.peer_closed = True
        self.outbox.abort()

    async def wait_closed(self, timeout: float = 2.0) -> None:
        """Wait for the writer to send what it must and close; force it after *timeout*."""
        if self._writer is None:
            await self.link.close(int(self.close_code or CloseCode.NORMAL), self.close_reason)
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._writer), timeout)
        except asyncio.TimeoutError:
            self.outbox.abort()
            self._writer.cancel()
            await self.link.close(int(self.close_code or CloseCode.NORMAL), self.close_reason)

    async def _write_loop(self) -> None:
        try:
            # Everything ready is sealed (counters in send order) and written at
            # once, then one drain: one system call per batch, not per frame.
            while batch := await self.outbox.get_batch(BATCH_BYTES):
                await self.link.send_many(self.channel.sealer, [(item.type, item.payload) for item in batch])
                if batch[-1].final:
                    break
        except (ConnectionError, OSError, ConnectionClosed):
            self.outbox.abort()
        except Exception:
            log.exception("relay writer failed", extra=self.log_fields)
            self.outbox.abort()
        finally:
            await self.link.close(int(self.close_code or CloseCode.NORMAL), self.close_reason)
