"""What keeps one client from hurting the others: rate limits, queue bounds,
write deadlines, and logging that cannot be turned into a flood.

Every limit here is per connection (or per tenant for reports), so a client
that exceeds one is closed or loses its own frames; nobody else notices. The
values are :class:`ConnectionLimits` (one per relay, from ``RelaySettings``);
the table with the close codes is docs/relay-protocol.md §7.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

#: Bytes charged per queued control frame on top of its payload (the queue entry
#: itself), so a queue of many tiny frames is bounded as well as one of large ones.
ENTRY_OVERHEAD = 64


@dataclass(frozen=True)
class ConnectionLimits:
    """Per-connection bounds (see docs/relay-protocol.md §7, "Limits")."""

    #: Control frames (everything but SCREEN/CAMERA) a connection may have waiting to be sent.
    control_queue_frames: int = 256
    #: ... and their bytes: above either, a viewer is closed with SLOW_CONSUMER (4024).
    #: Must hold a burst of the largest control frames (CLIPBOARD, 1 MiB).
    control_queue_bytes: int = 8 * 1024 * 1024
    #: Bytes of one viewer's INPUT/CLIPBOARD waiting for the device (each viewer has its
    #: own lane, served in turn: one viewer cannot fill the device's queue for the others).
    input_lane_bytes: int = 2 * 1024 * 1024
    #: Control frames a client may send per second (sustained) and in a burst: above, 4023.
    #: Not counted: SCREEN/CAMERA (max_fps applies) and a device's CLIPBOARD (it only
    #: reaches its own session's viewers, whose queues are bounded).
    control_rate: float = 500.0
    control_burst: float = 1000.0
    control_bytes_rate: float = 4 * 1024 * 1024
    control_bytes_burst: float = 8 * 1024 * 1024
    #: DEVICE_INFO frames a device may send per second and in a burst (each becomes a report).
    device_info_rate: float = 5.0
    device_info_burst: float = 10.0
    #: A write that makes no progress for this long (the peer stopped reading) closes
    #: the connection (4024); so does a close that could not be sent in close_timeout.
    write_timeout: float = 10.0
    close_timeout: float = 2.0


class TokenBucket:
    """``take(now, n)``: True while the average stays under *rate* per second
    with bursts up to *burst*."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, now

    def take(self, now: float, amount: float = 1.0) -> bool:
        tokens = self.tokens + (now - self.stamp) * self.rate
        tokens = min(tokens, self.burst)
        self.stamp = now
        if tokens < amount:
            self.tokens = tokens
            return False
        self.tokens = tokens - amount
        return True


class DropLog:
    """Log a recurring drop at most once per *interval*: the first occurrence at
    once, then one line per interval with how many happened since (``dropped``)
    and in all (``dropped_total``). A flood of drops costs a counter, not a log."""

    def __init__(self, logger: logging.Logger, message: str, *, interval: float = 10.0) -> None:
        self.logger, self.message, self.interval = logger, message, interval
        self.total = 0
        self.pending = 0
        self._last = float("-inf")

    def __call__(self, **fields: object) -> None:
        self.total += 1
        self.pending += 1
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self.logger.warning(self.message, extra={**fields, "dropped": self.pending, "dropped_total": self.total})
            self.pending = 0
