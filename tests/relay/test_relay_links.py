"""The TCP leg's in-place frame reader (relay.links.TcpLink) against real sockets."""

from __future__ import annotations

import asyncio
import os
import random
import sys

import pytest
from guidepath.relay.links import BUSY_SECONDS, IDLE_READ_SIZE, READ_SIZE, TcpLink
from guidepath.relay.protocol import CloseCode, FrameType, ProtocolError
from guidepath.relay.protocol.frames import pack_header


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request):
    """Both event loops the relay may run on (uvloop: the optional ``fast`` extra)."""
    if request.param == "asyncio":
        return asyncio.run
    if sys.platform == "win32":
        pytest.skip("uvloop does not run on Windows (the test extra leaves it out there)")
    import uvloop  # in the test extra (pyproject.toml): missing is a broken install, not a skip

    return uvloop.run


def _wire(frame_type: FrameType, counter: int, payload: bytes) -> bytes:
    return pack_header(frame_type, counter, len(payload)) + payload


async def _pair(max_payload: int | None = None):
    accepted: asyncio.Future[TcpLink] = asyncio.get_running_loop().create_future()
    server = await asyncio.get_running_loop().create_server(
        lambda: TcpLink(on_connect=accepted.set_result), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    link = await accepted
    if max_payload is not None:
        link.set_max_payload(max_payload)
    return server, link, reader, writer


def test_frames_survive_any_chunking_and_sizes_beyond_the_buffer(run):
    async def main() -> None:
        server, link, _, writer = await _pair()
        rng = random.Random(7)
        sizes = [16, 17, 1000, 65536, READ_SIZE - 16, READ_SIZE, READ_SIZE + 5, 3 * READ_SIZE] + [
            rng.randrange(16, 200_000) for _ in range(60)
        ]
        sent = [(FrameType.CLIPBOARD, n, os.urandom(size)) for n, size in enumerate(sizes)]
        stream = b"".join(_wire(*f) for f in sent)

        async def feed() -> None:
            offset = 0
            while offset < len(stream):
                step = rng.choice([1, 7, 15, 16, 17, 4096, 65536, 300_000])
                writer.write(stream[offset : offset + step])
                offset += step
                await writer.drain()
                if rng.random() < 0.2:
                    await asyncio.sleep(0)
            writer.write_eof()

        feeding = asyncio.create_task(feed())
        got = []
        first = await link.recv_frame()  # the hello path: a copy that outlives the buffer
        got.append((first.type, first.counter, bytes(first.payload)))
        while (frames := await link.recv_frames()) is not None:
            got.extend((f.type, f.counter, bytes(f.payload)) for f in frames)
            if rng.random() < 0.3:
                await asyncio.sleep(0.001)  # a slow reader: the buffer fills and reading pauses
        await feeding
        assert got == sent
        await link.close(1000, "")
        writer.close()
        server.close()

    run(main())


def test_a_header_above_the_cap_is_refused_before_its_payload(run):
    async def main() -> None:
        server, link, _, writer = await _pair(max_payload=1024)
        writer.write(_wire(FrameType.PING, 0, bytes(24)) + pack_header(FrameType.CLIPBOARD, 1, 1025))
        await writer.drain()
        frames = await link.recv_frames()
        assert [f.counter for f in frames] == [0]
        with pytest.raises(ProtocolError) as caught:
            await link.recv_frames()
        assert caught.value.code == CloseCode.TOO_LARGE
        with pytest.raises(ProtocolError):  # broken for good
            await link.recv_frames()
        await link.close(1000, "")
        writer.close()
        server.close()

    run(main())


def test_a_stream_ending_inside_a_frame_is_a_bad_frame(run):
    async def main() -> None:
        server, link, _, writer = await _pair()
        writer.write(_wire(FrameType.PING, 0, bytes(24))[:-3])
        writer.write_eof()
        with pytest.raises(ProtocolError) as caught:
            while await link.recv_frames() is not None:
                pass
        assert caught.value.code == CloseCode.BAD_FRAME
        await link.close(1000, "")
        writer.close()
        server.close()

    run(main())


def test_a_clean_end_of_stream_is_none(run):
    async def main() -> None:
        server, link, _, writer = await _pair()
        writer.write(_wire(FrameType.PING, 0, bytes(24)))
        writer.write_eof()
        assert len(await link.recv_frames()) == 1
        assert await link.recv_frames() is None
        await link.close(1000, "")
        writer.close()
        server.close()

    run(main())


def test_a_quiet_link_keeps_a_small_buffer_and_a_busy_one_a_large(run):
    """Memory per session: a device that sends now and then (a camera at 5 fps) must
    not hold READ_SIZE between frames; one that streams reads in large chunks."""

    async def main() -> None:
        server, link, _, writer = await _pair()
        assert link.read_buffer_size == IDLE_READ_SIZE

        async def one_frame(n: int, size: int) -> None:
            writer.write(_wire(FrameType.CLIPBOARD, n, os.urandom(size)))
            await writer.drain()
            (frame,) = await link.recv_frames()
            assert frame.counter == n and len(frame.payload) == size

        await one_frame(0, 100_000)  # larger than the idle buffer: grown for it
        assert link.read_buffer_size >= 100_016
        await asyncio.sleep(BUSY_SECONDS * 2)
        await one_frame(1, 20)
        assert link.read_buffer_size == IDLE_READ_SIZE  # quiet again: given back
        for n in range(2, 40):  # streaming: the large buffer stays
            await one_frame(n, 1000)
        assert link.read_buffer_size == READ_SIZE
        await link.close(1000, "")
        writer.close()
        server.close()

    run(main())
