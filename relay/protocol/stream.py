"""Incremental decoding of a TCP byte stream into frames.

TCP delivers bytes, not messages: a read may hold half a header or three frames.
:class:`StreamDecoder` buffers what it is fed and returns whole frames, checking
each header (and its length cap) as soon as the header is complete, before the
payload arrives. It does no IO: the caller reads the socket and feeds the bytes.
"""

from __future__ import annotations

from .errors import CloseCode, ProtocolError
from .frames import HEADER_SIZE, MAX_PAYLOAD_BYTES, Frame, parse_header_at


class StreamDecoder:
    """``feed(bytes) -> list[Frame]``; payloads of sealed frames stay ciphertext.

    After a :class:`ProtocolError` the decoder is broken for good (the stream has
    lost framing), and every later ``feed`` raises the same error.
    """

    def __init__(self, *, max_payload: int = MAX_PAYLOAD_BYTES) -> None:
        self.max_payload = min(max_payload, MAX_PAYLOAD_BYTES)
        self._buffer = bytearray()
        self._header: tuple | None = None
        self._error: ProtocolError | None = None

    @property
    def buffered(self) -> int:
        """Bytes held waiting for the rest of a frame."""
        return len(self._buffer)

    def set_max_payload(self, max_payload: int) -> None:
        """Lower the cap once the ticket's limits are known (never raises it)."""
        self.max_payload = min(max_payload, self.max_payload)

    def feed(self, data: bytes) -> list[Frame]:
        if self._error is not None:
            raise self._error
        buffer = self._buffer
        if buffer:
            buffer += data
            source = buffer
        else:
            source = data  # nothing pending: parse the chunk in place, keep only its tail
        view = memoryview(source)
        frames: list[Frame] = []
        end = len(source)
        offset = 0
        header = self._header
        max_payload = self.max_payload
        try:
            while end - offset >= HEADER_SIZE:
                if header is None:
                    header = parse_header_at(view, offset, max_payload=max_payload)
                frame_type, flags, counter, length = header
                stop = offset + HEADER_SIZE + length
                if stop > end:
                    break
                frames.append(Frame(frame_type, counter, view[offset + HEADER_SIZE : stop].tobytes(), flags))
                header = None
                offset = stop
        except ProtocolError as exc:
            view.release()
            self._error = exc
            self._buffer.clear()
            raise
        view.release()
        self._header = header
        if source is buffer:
            if offset:
                del buffer[:offset]
        elif offset < end:
            buffer += memoryview(data)[offset:]
        return frames

    def eof(self) -> None:
        """Call at end of stream: a partial frame left over is an error."""
        if self._buffer:
            raise ProtocolError(CloseCode.BAD_FRAME, f"stream ended inside a frame ({len(self._buffer)} bytes left)")
