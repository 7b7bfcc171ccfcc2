"""What a connection still has to send: control messages in order, media latest-only.

A viewer on a slow link must never make the relay buffer without bound, and it
gains nothing from stale pictures: for each media type (screen, camera) the
outbox keeps one slot holding the newest frame, and a frame that is replaced
before it was sent is counted as dropped (the relay then asks the device for a
full frame, so the viewer's picture heals). DEVICE_INFO has a latest-only slot
too (a newer report supersedes an unsent one). Control messages (input,
clipboard, status) must not be reordered or merged, so they go through a FIFO
bounded in frames *and bytes*; when that is full the message is refused and the
caller decides (the relay closes a viewer that cannot keep up).

Frames from other clients (viewers' INPUT and CLIPBOARD on their way to the
device) wait in one *lane* per sender, each bounded on its own and served in
turn, so a viewer that floods fills only its own lane: the others' input still
gets through at their share.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

from .limits import ENTRY_OVERHEAD
from .protocol import FrameType


@dataclass(frozen=True, slots=True)
class Outgoing:
    type: FrameType
    payload: bytes
    final: bool = False  #: the last frame: the writer closes the link after it


class _Lane:
    __slots__ = ("bytes", "items")

    def __init__(self) -> None:
        self.items: deque[Outgoing] = deque()
        self.bytes = 0


class Outbox:
    def __init__(
        self,
        *,
        control_limit: int = 256,
        control_bytes: int = 8 * 1024 * 1024,
        lane_bytes: int = 2 * 1024 * 1024,
    ) -> None:
        self.control_limit = control_limit
        self.control_bytes = control_bytes
        self.lane_bytes = lane_bytes
        self._control: deque[Outgoing] = deque()
        self._control_size = 0
        self._lanes: dict[str, _Lane] = {}  #: non-empty lanes, in serving order
        self._latest: dict[FrameType, Outgoing] = {}
        self._media: dict[FrameType, Outgoing] = {}
        self._final: Outgoing | None = None
        self._done = False
        self._ready = asyncio.Event()
        self.dropped_media = 0
        self.refused_control = 0
        self.refused_lane = 0
        self.replaced_latest = 0

    @property
    def closing(self) -> bool:
        return self._final is not None or self._done

    @property
    def queued_bytes(self) -> int:
        """Payload bytes (plus the per-entry charge of control frames) waiting to be sent."""
        size = self._control_size + sum(lane.bytes for lane in self._lanes.values())
        size += sum(len(item.payload) for item in self._latest.values())
        return size + sum(len(item.payload) for item in self._media.values())

    def put_control(self, frame_type: FrameType, payload: bytes) -> bool:
        """Queue a control frame; False (and nothing queued) if closing or full.

        Full: ``control_limit`` frames, or ``control_bytes`` bytes (a frame larger
        than that is still taken into an empty queue)."""
        if self.closing:
            return False
        cost = len(payload) + ENTRY_OVERHEAD
        if self._control and (
            len(self._control) >= self.control_limit or self._control_size + cost > self.control_bytes
        ):
            self.refused_control += 1
            return False
        self._control.append(Outgoing(frame_type, payload))
        self._control_size += cost
        self._ready.set()
        return True

    def put_lane(self, source: str, frame_type: FrameType, payload: bytes) -> bool:
        """Queue a frame another client sent (a viewer's input to the device) in
        *source*'s lane; False if closing or that lane is full."""
        if self.closing:
            return False
        cost = len(payload) + ENTRY_OVERHEAD
        lane = self._lanes.get(source)
        if lane is None:
            lane = self._lanes[source] = _Lane()
        elif len(lane.items) >= self.control_limit or lane.bytes + cost > self.lane_bytes:
            self.refused_lane += 1
            return False
        lane.items.append(Outgoing(frame_type, payload))
        lane.bytes += cost
        self._ready.set()
        return True

    def push_front(self, frame_type: FrameType, payload: bytes) -> None:
        """Queue a control frame ahead of all others (the handshake's ACK)."""
        self._control.appendleft(Outgoing(frame_type, payload))
        self._control_size += len(payload) + ENTRY_OVERHEAD
        self._ready.set()

    def put_latest(self, frame_type: FrameType, payload: bytes) -> bool:
        """Offer a control frame of which only the newest matters (DEVICE_INFO):
        it replaces an unsent one of its type (True if it did)."""
        if self.closing:
            return False
        replaced = frame_type in self._latest
        if replaced:
            self.replaced_latest += 1
        self._latest[frame_type] = Outgoing(frame_type, payload)
        self._ready.set()
        return replaced

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

    def finish(self, frame_type: FrameType, payload: bytes, *, discard: bool = False) -> None:
        """Queue the last frame (CLOSE): pending control goes first (unless
        *discard*: then it is dropped and the CLOSE is next), media and
        latest-only frames are dropped."""
        if self.closing:
            return
        self._media.clear()
        self._latest.clear()
        if discard:
            self._control.clear()
            self._control_size = 0
            self._lanes.clear()
        self._final = Outgoing(frame_type, payload, final=True)
        self._ready.set()

    def abort(self) -> None:
        """Stop at once: the next ``get`` returns None; everything queued is released."""
        self._done = True
        self._control.clear()
        self._control_size = 0
        self._lanes.clear()
        self._latest.clear()
        self._media.clear()
        self._final = None
        self._ready.set()

    def _take(self) -> Outgoing | None:
        """The next frame to send if one is ready (control, the lanes in turn,
        latest-only control, media, then the final one)."""
        if self._done:
            return None
        if self._control:
            item = self._control.popleft()
            self._control_size -= len(item.payload) + ENTRY_OVERHEAD
            return item
        if self._lanes:
            lanes = self._lanes
            source = next(iter(lanes))
            lane = lanes.pop(source)
            item = lane.items.popleft()
            lane.bytes -= len(item.payload) + ENTRY_OVERHEAD
            if lane.items:
                lanes[source] = lane  # to the back of the line: the next lane goes first
            return item
        if self._latest:
            return self._latest.pop(next(iter(self._latest)))
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
