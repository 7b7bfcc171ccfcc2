"""One admitted client connection: its ticket, its channel and its writer task.

Reading happens in the server's handler; writing happens here, in one task per
connection that takes frames from the :class:`~.outbox.Outbox`, seals them with
the next counter and sends them. Sealing at send time (not at enqueue time)
keeps counters in send order even though media frames may be replaced while
they wait.

A connection can only hurt itself (see :mod:`.limits`): its control frames are
rate-limited (:meth:`charge`, 4023), what waits for it is bounded in bytes
(a viewer that falls behind is closed, 4024), a writer that makes no progress
is cut off (:meth:`stalled`), and a close never waits behind a blocked writer
longer than ``close_timeout``: then the link is aborted and everything the
connection held is released.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from websockets.exceptions import ConnectionClosed

from .limits import ConnectionLimits, TokenBucket
from .links import Link
from .outbox import Outbox
from .protocol import Channel, Close, CloseCode, FrameType, ProtocolError
from .tickets import Ticket

log = logging.getLogger("guidepath.relay")

#: Up to this many payload bytes are sealed and written together (plus one frame).
BATCH_BYTES = 256 * 1024

_MEDIA = frozenset({FrameType.SCREEN, FrameType.CAMERA})


class ClientConnection:
    def __init__(
        self,
        link: Link,
        ticket: Ticket,
        channel: Channel,
        *,
        control_limit: int | None = None,
        limits: ConnectionLimits | None = None,
    ) -> None:
        limits = limits or ConnectionLimits()
        if control_limit is not None:
            limits = replace(limits, control_queue_frames=control_limit)
        self.limits = limits
        self.link = link
        self.ticket = ticket
        self.channel = channel
        self.outbox = Outbox(
            control_limit=limits.control_queue_frames,
            control_bytes=limits.control_queue_bytes,
            lane_bytes=limits.input_lane_bytes,
        )
        self.role = ticket.role
        loop = asyncio.get_running_loop()
        self.last_seen = loop.time()
        self.close_code: CloseCode | int | None = None
        self.close_reason = ""
        #: True when the peer sent CLOSE itself (a deliberate goodbye).
        self.peer_closed = False
        self._writer: asyncio.Task[None] | None = None
        self._force_close: asyncio.TimerHandle | None = None
        # A max_fps window: frames counted in the current second.
        self._window_start = 0.0
        self._window_count = 0
        self.rate_dropped = 0
        # Rate limits of what this client sends (control frames; see charge()).
        now = self.last_seen
        self._frames = TokenBucket(limits.control_rate, limits.control_burst, now)
        self._bytes = TokenBucket(limits.control_bytes_rate, limits.control_bytes_burst, now)
        self._infos = TokenBucket(limits.device_info_rate, limits.device_info_burst, now)
        # Write progress, for stalled().
        self._sending = False
        self.batches_sent = 0
        self._stall_mark: tuple[int, int] | None = None
        self._stall_since = 0.0

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

    # -- what the relay sends to this client -----------------------------------------

    def send(self, frame_type: FrameType, payload: bytes = b"") -> bool:
        """Queue a control frame; False if it was not queued. A client whose queue
        is full cannot keep up: it is closed with SLOW_CONSUMER."""
        outbox = self.outbox
        if outbox.put_control(frame_type, payload):
            return True
        if not outbox.closing:
            self.fell_behind()
        return False

    def send_from(self, source: str, frame_type: FrameType, payload: bytes) -> bool:
        """Queue a frame another client (*source*, its connection id) sent to this
        one, in that client's own lane; False (dropped) if that lane is full."""
        return self.outbox.put_lane(source, frame_type, payload)

    def send_latest(self, frame_type: FrameType, payload: bytes) -> bool:
        """Queue a control frame that supersedes an unsent one of its type (DEVICE_INFO)."""
        return self.outbox.put_latest(frame_type, payload)

    def offer_media(self, frame_type: FrameType, payload: bytes) -> bool:
        """Offer a media frame; True if it replaced an unsent one (a drop)."""
        return self.outbox.put_media(frame_type, payload)

    def fell_behind(self) -> None:
        outbox = self.outbox
        log.warning(
            "client cannot keep up with control frames; closing it",
            extra={**self.log_fields, "queued_bytes": outbox.queued_bytes},
        )
        self.close(
            CloseCode.SLOW_CONSUMER,
            f"too slow: {outbox.control_limit} frames or {outbox.control_bytes} bytes of control frames waiting",
            discard=True,  # what waits is of no use to a client being closed: the CLOSE goes next
        )

    # -- what this client sends ----------------------------------------------------------

    def within_rate(self, now: float) -> bool:
        """Count one media frame against ``max_fps``; False if over the limit."""
        if now - self._window_start >= 1.0:
            self._window_start, self._window_count = now, 0
        self._window_count += 1
        if self._window_count > self.ticket.limits.max_fps:
            self.rate_dropped += 1
            return False
        return True

    def charge(self, frame_type: FrameType, size: int, now: float) -> None:
        """Count one received control frame against this client's rate limits;
        raise RATE_LIMITED (4023) above them. Media frames and a device's
        clipboard are not counted (see :class:`~.limits.ConnectionLimits`)."""
        if frame_type in _MEDIA:
            return
        if self.role == "device":
            if frame_type is FrameType.CLIPBOARD:
                return
            if frame_type is FrameType.DEVICE_INFO and not self._infos.take(now):
                raise ProtocolError(
                    CloseCode.RATE_LIMITED,
                    f"more than {self.limits.device_info_rate:g} DEVICE_INFO frames per second",
                )
        if not self._frames.take(now):
            raise ProtocolError(
                CloseCode.RATE_LIMITED, f"more than {self.limits.control_rate:g} control frames per second"
            )
        if not self._bytes.take(now, size):
            raise ProtocolError(
                CloseCode.RATE_LIMITED, f"more than {int(self.limits.control_bytes_rate)} control bytes per second"
            )

    # -- closing --------------------------------------------------------------------------

    def close(self, code: CloseCode | int, reason: str, *, discard: bool = False) -> None:
        """Send a sealed CLOSE (after queued control frames, or instead of them
        with *discard*), then close the link.

        If that has not happened within ``close_timeout`` (the peer does not read,
        so the writer is stuck), the link is aborted: a close never waits behind a
        blocked writer."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self.outbox.finish(FrameType.CLOSE, Close(int(code), reason).encode(), discard=discard)
        if self._force_close is None and self._writer is not None and not self._writer.done():
            self._force_close = asyncio.get_running_loop().call_later(self.limits.close_timeout, self.abort)

    def abort(self, code: CloseCode | int | None = None, reason: str = "") -> None:
        """Drop the connection now: nothing more is sent, everything queued is released."""
        if self.close_code is None and code is not None:
            self.close_code, self.close_reason = code, reason
        self.outbox.abort()
        self.link.abort()

    def closed_by_peer(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self.peer_closed = True
        self.outbox.abort()

    def stalled(self, now: float) -> bool:
        """True if a write has made no progress (no batch finished, the transport's
        buffer did not shrink) for ``write_timeout``: the peer stopped reading."""
        if not self._sending:
            self._stall_mark = None
            return False
        mark = (self.batches_sent, self.link.write_buffer_size())
        last = self._stall_mark
        if last is None or mark[0] != last[0] or mark[1] < last[1]:
            self._stall_mark, self._stall_since = mark, now
            return False
        return now - self._stall_since >= self.limits.write_timeout

    async def wait_closed(self, timeout: float = 2.0) -> None:
        """Wait for the writer to send what it must and close; force it after *timeout*."""
        if self._writer is None:
            await self.link.close(int(self.close_code or CloseCode.NORMAL), self.close_reason)
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._writer), timeout)
        except asyncio.TimeoutError:
            self.outbox.abort()
            self.link.abort()
            self._writer.cancel()
            await self.link.close(int(self.close_code or CloseCode.NORMAL), self.close_reason)

    async def _write_loop(self) -> None:
        try:
            # Everything ready is sealed (counters in send order) and written at
            # once, then one drain: one system call per batch, not per frame.
            while batch := await self.outbox.get_batch(BATCH_BYTES):
                self._sending = True
                await self.link.send_many(self.channel.sealer, [(item.type, item.payload) for item in batch])
                self._sending = False
                self.batches_sent += 1
                if batch[-1].final:
                    break
        except (ConnectionError, OSError, ConnectionClosed):
            self.outbox.abort()
        except Exception:
            log.exception("relay writer failed", extra=self.log_fields)
            self.outbox.abort()
        finally:
            self._sending = False
            if self._force_close is not None:
                self._force_close.cancel()
                self._force_close = None
            await self.link.close(int(self.close_code or CloseCode.NORMAL), self.close_reason)
