"""The reference device: joins a session with a ticket and shares a screen or camera.

It is what ``guidepath device`` runs, a working example for device SDK authors,
and the device side of the end-to-end tests and the benchmark. Pictures come
from a real screenshot when a display and the optional ``mss`` package exist,
else from a generated moving test pattern; camera pictures come from a folder of
PNG/JPEG files, else from the pattern. Input events are handed to a callback
(the CLI prints them as JSON lines); applying them to a real desktop is left to
platform SDKs.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .client import RelayClient, RelayClosed
from .device_info import collect_device_info
from .png import encode_png, test_pattern
from .protocol import DeviceInfo, FrameType, ImageFormat, ImageFrame, InputEvent, decode_clipboard

_FORMATS = {".png": ImageFormat.PNG, ".jpg": ImageFormat.JPEG, ".jpeg": ImageFormat.JPEG}


def pattern_frames(width: int = 640, height: int = 360) -> Iterator[ImageFrame]:
    for n in itertools.count():
        yield ImageFrame.whole(ImageFormat.PNG, width, height, encode_png(width, height, test_pattern(width, height, n)))


def screenshot_frames() -> Iterator[ImageFrame] | None:
    """Real screenshots, if this machine has a display and ``mss`` is installed."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.name == "nt"):
        return None
    try:
        import mss  # type: ignore[import-not-found]
    except ImportError:
        return None

    def frames() -> Iterator[ImageFrame]:
        with mss.mss() as grabber:
            monitor = grabber.monitors[1]
            while True:
                shot = grabber.grab(monitor)
                yield ImageFrame.whole(ImageFormat.PNG, shot.width, shot.height, encode_png(shot.width, shot.height, shot.rgb))

    return frames()


def folder_frames(folder: Path) -> Iterator[ImageFrame] | None:
    """Images of *folder* in name order, looping; sizes read from the files."""
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in _FORMATS)
    if not files:
        return None
    images = []
    for path in files:
        data = path.read_bytes()
        size = _image_size(data)
        if size:
            images.append(ImageFrame.whole(_FORMATS[path.suffix.lower()], size[0], size[1], data))
    return itertools.cycle(images) if images else None


def _image_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:2] == b"\xff\xd8":  # JPEG: find a start-of-frame marker
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker, length = data[i + 1], int.from_bytes(data[i + 2 : i + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                return int.from_bytes(data[i + 7 : i + 9], "big"), int.from_bytes(data[i + 5 : i + 7], "big")
            i += 2 + length
    return None


@dataclass
class DeviceClient:
    """Connect with ``run()``; it returns when the session ends or *duration* is up."""

    host: str
    port: int
    token: str
    key: bytes
    fps: float = 5.0
    camera_dir: Path | None = None
    on_input: Callable[[InputEvent], None] = lambda event: None
    on_clipboard: Callable[[str], None] = lambda text: None
    device_info: DeviceInfo = field(default_factory=collect_device_info)
    #: Reads the device's diagnostics again when the relay asks for a refresh (the
    #: CLI reads the real machine); None sends ``device_info`` again unchanged.
    refresh_info: Callable[[], DeviceInfo] | None = None
    frames: Iterator[ImageFrame] | None = None
    sent: int = 0
    refreshes: int = 0
    client: RelayClient | None = None

    async def run(self, *, duration: float | None = None) -> None:
        self.client = client = await RelayClient.connect_tcp(self.host, self.port, self.token, self.key)
        source = self.frames or self._source(client.kind)
        frame_type = FrameType.CAMERA if client.kind == "camera" else FrameType.SCREEN
        await client.send(FrameType.DEVICE_INFO, self.device_info.encode())
        sender = asyncio.create_task(self._send_loop(client, source, frame_type))
        receiver = asyncio.create_task(self._receive_loop(client))
        try:
            done, _ = await asyncio.wait({sender, receiver}, timeout=duration, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.exception() and not isinstance(task.exception(), RelayClosed):
                    raise task.exception()
        finally:
            for task in (sender, receiver):
                task.cancel()
            await asyncio.gather(sender, receiver, return_exceptions=True)
            await client.close()

    def _source(self, kind: str) -> Iterator[ImageFrame]:
        if kind == "camera" and self.camera_dir is not None:
            frames = folder_frames(self.camera_dir)
            if frames is not None:
                return frames
        if kind == "remote_control":
            frames = screenshot_frames()
            if frames is not None:
                return frames
        return pattern_frames()

    async def _send_loop(self, client: RelayClient, source: Iterator[ImageFrame], frame_type: FrameType) -> None:
        interval = 1.0 / self.fps
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            # Encoding a PNG takes milliseconds: keep it off the loop that answers pings.
            image = await asyncio.to_thread(next, source)
            await client.send(frame_type, image.encode())
            self.sent += 1
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    async def _receive_loop(self, client: RelayClient) -> None:
        while True:
            frame = await client.recv()
            if frame.type is FrameType.INPUT:
                self.on_input(InputEvent.decode(frame.payload))
            elif frame.type is FrameType.CLIPBOARD:
                self.on_clipboard(decode_clipboard(frame.payload))
            elif frame.type is FrameType.PING:
                await client.send(FrameType.PONG, frame.payload)
            elif frame.type is FrameType.REFRESH:
                # Every frame this client sends is a full frame already; what a refresh
                # adds is the device's current diagnostics (memory, battery… change).
                self.refreshes += 1
                if self.refresh_info is not None:
                    self.device_info = self.refresh_info()
                await client.send(FrameType.DEVICE_INFO, self.device_info.encode())


def print_input(event: InputEvent) -> None:
    print(json.dumps({"input": event.to_dict()}), flush=True)
