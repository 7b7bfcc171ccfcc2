"""Session recordings, written into the tenant's encrypted file store.

A recording is one file in the tenant's container (``core.files``), so it is
encrypted under the tenant's data key like every other tenant file and goes
away with the tenant. The relay gets that key from the device ticket's
recording grant (wrapped by the master key) and unwraps it with the master key.

Plaintext format inside the encrypted file (big-endian)::

    "GPRC"  u8 version=1  u32 n  n bytes of JSON header
            {"tenant_id", "session_id", "kind", "started_at"}
    then records, each:
    u32 length  u8 frame_type  u8 source (0 device, 1 viewer)  u64 t_us  payload

``t_us`` is microseconds since the recording started; ``payload`` is the opened
frame payload (what the protocol's decoders read). Records are written in
arrival order, so timestamps never decrease. The file store decrypts
sequentially, so playback seeks by scanning record headers
(:meth:`RecordingReader.records` with ``start_at``); headers are 14 bytes and
payloads are skipped, so a seek costs one decryption pass up to that point.

Writing is streamed: the event loop only puts records on a queue bounded in
records and in bytes (1024, 64 MiB) and a thread feeds them to
``TenantFiles.put``, which encrypts in chunks. If the disk can't keep up, records
are dropped (counted) rather than block the relay or fill its memory.
"""

from __future__ import annotations

import json
import queue
import struct
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .protocol import FrameType

if TYPE_CHECKING:
    from guidepath.core.files import FileInfo, TenantFiles

MAGIC = b"GPRC"
VERSION = 1
RECORD = struct.Struct(">IBBQ")
CONTENT_TYPE = "application/x-guidepath-recording"
SOURCE_DEVICE = 0
SOURCE_VIEWER = 1
_END = object()


@dataclass(frozen=True, slots=True)
class Record:
    t: float  #: seconds since the recording started
    source: int  #: SOURCE_DEVICE or SOURCE_VIEWER
    type: FrameType
    payload: bytes


@dataclass(frozen=True)
class SavedRecording:
    info: FileInfo
    duration_seconds: float
    records: int
    dropped: int


class RecordingWriter:
    """Streams one session's records into a new file of *files*.

    ``start()`` then ``write(…)`` from the event loop (never blocks), then
    ``finish()`` returns a future of :class:`SavedRecording`.
    """

    def __init__(
        self,
        files: TenantFiles,
        header: dict[str, Any],
        *,
        file_name: str = "",
        queue_limit: int = 1024,
        queue_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self._files = files
        self._header = dict(header)
        self._file_name = file_name
        self._queue: queue.Queue[Any] = queue.Queue(queue_limit)
        #: Bounded in bytes too: 1024 records of up to 8 MiB would be 8 GiB.
        self._queue_bytes = queue_bytes
        self._queued = 0
        self._queued_lock = threading.Lock()
        self._started = time.monotonic()
        self._last_t = 0
        self._future: Future[SavedRecording] = Future()
        self._thread: threading.Thread | None = None
        self._finished = False
        self.records = 0
        self.dropped = 0

    def start(self) -> None:
        self._started = time.monotonic()
        self._header.setdefault("started_at", time.time())
        self._thread = threading.Thread(target=self._run, name="relay-recording", daemon=True)
        self._thread.start()

    def write(self, source: int, frame_type: FrameType, payload: bytes) -> None:
        if self._finished:
            return
        t_us = max(self._last_t, int((time.monotonic() - self._started) * 1_000_000))
        self._last_t = t_us
        size = RECORD.size + len(payload)
        with self._queued_lock:
            if self._queued + size > self._queue_bytes and self._queued:
                self.dropped += 1
                return
            self._queued += size
        try:
            self._queue.put_nowait(RECORD.pack(len(payload), frame_type, source, t_us) + payload)
            self.records += 1
        except queue.Full:
            with self._queued_lock:
                self._queued -= size
            self.dropped += 1

    def finish(self) -> Future[SavedRecording]:
        if not self._finished:
            self._finished = True
            # The end marker must get through even when the queue is full.
            threading.Thread(target=self._queue.put, args=(_END,), daemon=True).start()
        return self._future

    def _pieces(self) -> Iterator[bytes]:
        header = json.dumps(self._header, separators=(",", ":")).encode()
        yield MAGIC + bytes([VERSION]) + struct.pack(">I", len(header)) + header
        while (item := self._queue.get()) is not _END:
            with self._queued_lock:
                self._queued -= len(item)
            yield item

    def _run(self) -> None:
        try:
            info = self._files.put(self._pieces(), name=self._file_name, content_type=CONTENT_TYPE)
        except BaseException as exc:  # reported, never raised into the loop
            self._future.set_exception(exc)
            return
        self._future.set_result(SavedRecording(info, self._last_t / 1_000_000, self.records, self.dropped))


class RecordingReader:
    """Reads a recording back from decrypted chunks (``TenantFiles.open(id)``)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._bytes = _ByteSource(iter(chunks))
        prefix = self._bytes.take(9)
        if len(prefix) < 9 or prefix[:4] != MAGIC:
            raise ValueError("not a guidepath recording")
        if prefix[4] != VERSION:
            raise ValueError(f"recording version {prefix[4]} is not supported")
        (size,) = struct.unpack(">I", prefix[5:9])
        self.header: dict[str, Any] = json.loads(self._bytes.take(size))

    def records(self, *, start_at: float = 0.0) -> Iterator[Record]:
        """Yield records in order, skipping (without copying) those before *start_at*."""
        # Records carry whole microseconds; round, since a time read back from a record
        # (t_us / 1e6) times 1e6 may land just below its own microsecond (492.99999…).
        threshold = round(start_at * 1_000_000)
        while True:
            head = self._bytes.take(RECORD.size)
            if not head:
                return
            if len(head) < RECORD.size:
                raise ValueError("recording ends inside a record header")
            length, frame_type, source, t_us = RECORD.unpack(head)
            if t_us < threshold:
                self._bytes.skip(length)
                continue
            payload = self._bytes.take(length)
            if len(payload) < length:
                raise ValueError("recording ends inside a record")
            yield Record(t_us / 1_000_000, source, FrameType(frame_type), payload)


class _ByteSource:
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()

    def _fill(self, size: int) -> None:
        while len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                return
            self._buffer += chunk

    def take(self, size: int) -> bytes:
        self._fill(size)
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out

    def skip(self, size: int) -> None:
        while size > 0:
            if not self._buffer:
                self._fill(1)
                if not self._buffer:
                    return
            step = min(size, len(self._buffer))
            del self._buffer[:step]
            size -= step
