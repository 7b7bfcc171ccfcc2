"""What a connection still has to send: control messages in order, media latest-only.

A viewer on a slow link must never make the relay buffer without bound, and it
gains nothing from stale pictures: for each media type (screen, camera) the
outbox keeps one slot holding the newest frame, and a frame that is replaced
before it was sent is counted as dropped (the relay then asks the device for a
full frame, so the viewer's picture heals). Control messages (input, clipboard,
status) are small and must not be reordered or merged, so they go through a
bounded FIFO; when that is full the message is refused and the caller decides.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

from .protocol import FrameType


@dataclass(frozen=True, slots=True)
class Outgoing:
    type: FrameType
    payload: bytes
    final: bool = False  #: the last frame: the writer closes the link after it


class Outbox:
    def __init__(self, *, control_limit: int = 256) -> None:
        self.control_limit = control_limit
        self._control: deque[Outgoing] = deque()
        self._media: dict[FrameType, Outgoing] = {}
        self._final: Outgoing | None = None
        self._done = False
        self._ready = asyncio.Event()
        self.dropped_media = 0
        self.refused_control = 0

    @property
    def closing(self) -> bool:
        return self._final is not None or self._done

    def put_control(self, frame_type: FrameType, payload: bytes) -> bool:
        """Queue a control frame; False (and nothing queued) if the queue is full."""
        if self.closing:
            return False
        if len(self._control) >= self.control_limit:
            self.refused_control += 1
            return False
        self._control.append(Outgoing(frame_type, payload))
        self._ready.set()
        return True

    def push_front(self, frame_type: FrameType, payload: bytes) -> None:
        """Queue a control frame ahead of all others (the handshake's ACK)."""
        self._control.appendleft(Outgoing(frame_type, payload))
        self._ready.set()

    def put_media(self, frame_type: FrameType, payload: bytes) -> bool:
        """Offer a media frame; True if it replaced one that was never sent."""
        if self.closing:
            return False
        replaced = frame_type in self._media
        if replaced:
            self.dropped_media += 1
        self._media[frame_type] = Outgoing(frame_type, payload)
        self._ready.set()
        return replaced

    def finish(self, frame_type: FrameType, payload: bytes) -> None:
        """Queue the last frame (CLOSE): pending control goes first, media is dropped."""
        if self.closing:
            return
        self._media.clear()
        self._final = Outgoing(frame_type, payload, final=True)
        self._ready.set()

    def abort(self) -> None:
        """Stop at once: the next ``get`` returns None."""
        self._done = True
        self._control.clear()
        self._media.clear()
        self._ready.set()

    def _take(self) -> Outgoing | None:
        """The next frame to send if one is ready (control, then media, then the final one)."""
        if self._done:
            return None
        if self._control:
            return self._control.popleft()
        if self._media:
            frame_type = next(iter(self._media))
            return self._media.pop(frame_type)
        if self._final is not None:
            final, self._final = self._final, None
            self._done = True
            return final
        return None

    async def get(self) -> Outgoing | None:
        """The next frame to send, waiting for one; None once finished."""
        while True:
            if self._done:
                return None
            item = self._take()
            if item is not None:
                return item
            self._ready.clear()
            await self._ready.wait()

    async def get_batch(self, max_bytes: int) -> list[Outgoing]:
        """Wait like :meth:`get`, then also take what else is ready right now, in the
        same order, while the payloads add up to less than *max_bytes*; the final
        frame ends a batch. An empty list once finished.

        Media slots still hold one frame each: a batch never takes more than one
        frame per media type, so a viewer can never be sent a backlog of pictures.
        """
        item = await self.get()
        if item is None:
            return []
        batch = [item]
        size = len(item.payload)
        while not item.final and size < max_bytes:
            item = self._take()
            if item is None:
                break
            batch.append(item)
            size += len(item.payload)
        return batch
