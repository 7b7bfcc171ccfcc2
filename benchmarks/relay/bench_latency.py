"""Relay benchmark: latency per frame at 30 fps through the relay, against websockify
and a direct connection, in one run.

A device sends a 64 KiB SCREEN frame every 1/30 s (a screen update of a 1280x720
display) and the viewer notes when each one has arrived whole. Device and viewer
run in this process on one event loop, so both ends read the same clock
(``perf_counter_ns``); the relay and websockify run in processes of their own.

* **ours**: device :class:`RelayClient` over TCP (seals with AES-256-GCM) -> our
  relay (opens, validates, routes, re-seals) -> viewer :class:`RelayClient` over
  WebSocket (opens and validates). Latency = viewer has the opened frame - the
  device started sealing it.
* **websockify**: the same bytes, unencrypted: a TCP server as the device ->
  websockify -> a ``websockets`` client; a frame has arrived when its last byte has.
* **direct**: the same bytes over one loopback TCP connection, no bridge: the
  floor of this machine and event loop. "Added" latency is a target's minus this.

Rounds alternate ours, websockify, direct, direct, websockify, ours; the first
``SKIP`` frames of a round are not counted (connection warm-up). The last line::

    RESULT bench=relay-latency p50_ms=.. p99_ms=.. added_p99_ms=.. ws_p50_ms=.. ws_p99_ms=.. direct_p99_ms=.. ratio=<p99 / 5 ms>

``ratio`` is ours p99 over the 5 ms target (below 1 meets it). ``QUICK=1``: one
cycle of 3 s rounds.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import struct
import sys
import time

from harness import HOST, Procs, free_port, run, start_relay, start_websockify, ticket_pair, use_uvloop

QUICK = bool(os.environ.get("QUICK"))
FPS = 30
SIZE = 64 * 1024
SECONDS = 3.0 if QUICK else 10.0
CYCLES = 1 if QUICK else 2  # one cycle = ours, websockify, direct, direct, websockify, ours
SKIP = 10
TARGET_P99_MS = 5.0
STAMP = struct.Struct(">QI")  # perf_counter_ns at send, sequence number


def frame_bytes(seq: int, filler: bytes) -> bytes:
    return STAMP.pack(time.perf_counter_ns(), seq) + filler


async def paced(send, count: int) -> None:
    """Call ``send(seq)`` *count* times at FPS, on schedule (no drift)."""
    start = time.perf_counter()
    for seq in range(count):
        delay = start + seq / FPS - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await send(seq)


async def round_ours(ports: dict, secret: bytes, n: int, count: int) -> list[float]:
    from guidepath.relay.client import RelayClient
    from guidepath.relay.protocol import FrameType, ImageFormat, ImageFrame

    tickets = ticket_pair(secret, f"latency-{n}", max_fps=1000)
    (dticket, dtoken), (vticket, vtoken) = tickets["device"], tickets["viewer"]
    viewer = await RelayClient.connect_ws(f"ws://{HOST}:{ports['ws_port']}/", vtoken, vticket.key)
    device = await RelayClient.connect_tcp(HOST, ports["tcp_port"], dtoken, dticket.key)
    header = len(ImageFrame.whole(ImageFormat.JPEG, 1280, 720, b"x").encode()) - 1
    filler = os.urandom(SIZE - header - STAMP.size)
    latencies: list[float] = []

    async def receive() -> None:
        while len(latencies) < count:
            frame = await viewer.next_of(FrameType.SCREEN, timeout=30)
            sent, _seq = STAMP.unpack_from(ImageFrame.decode(frame.payload).data)
            latencies.append((time.perf_counter_ns() - sent) / 1e6)

    async def send(seq: int) -> None:
        await device.send(FrameType.SCREEN, ImageFrame.whole(ImageFormat.JPEG, 1280, 720, frame_bytes(seq, filler)).encode())

    receiver = asyncio.create_task(receive())
    await paced(send, count)
    await asyncio.wait_for(receiver, 30)
    await device.close()
    await viewer.abort()
    return latencies


async def _stream_round(connect_viewer, count: int, device_port: int = 0) -> list[float]:
    """A plain TCP device server on *device_port* (0: any); *connect_viewer(port)*
    returns an async iterator of the byte chunks the viewer receives of the device's
    stream (through a bridge, or directly)."""
    accepted: asyncio.Future = asyncio.get_running_loop().create_future()
    server = await asyncio.start_server(lambda r, w: accepted.done() or accepted.set_result(w), HOST, device_port,
                                        reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    chunks = await connect_viewer(port)
    writer = await asyncio.wait_for(accepted, 10)
    filler = os.urandom(SIZE - STAMP.size)
    latencies: list[float] = []

    async def receive() -> None:
        buffer = bytearray()
        async for chunk in chunks:
            buffer += chunk
            while len(buffer) >= SIZE:
                sent, _seq = STAMP.unpack_from(buffer)
                latencies.append((time.perf_counter_ns() - sent) / 1e6)
                del buffer[:SIZE]
            if len(latencies) >= count:
                return

    async def send(seq: int) -> None:
        writer.write(frame_bytes(seq, filler))
        await writer.drain()

    receiver = asyncio.create_task(receive())
    await paced(send, count)
    await asyncio.wait_for(receiver, 30)
    writer.close()
    server.close()
    return latencies


async def round_websockify(bridge: tuple[int, int], count: int) -> list[float]:
    """*bridge*: (websockify's port, the device port it forwards to)."""
    from websockets.asyncio.client import connect

    ws_port, device_port = bridge

    async def viewer(_target_port: int):
        ws = await connect(f"ws://{HOST}:{ws_port}/", subprotocols=["binary"], max_size=None,
                           compression=None, ping_interval=None)

        async def chunks():
            try:
                while True:
                    yield await ws.recv()
            finally:
                ws.transport.abort()

        return chunks()

    return await _stream_round(viewer, count, device_port)


async def round_direct(count: int) -> list[float]:
    async def viewer(target_port: int):
        reader, writer = await asyncio.open_connection(HOST, target_port)

        async def chunks():
            try:
                while data := await reader.read(256 * 1024):
                    yield data
            finally:
                writer.close()

        return chunks()

    return await _stream_round(viewer, count)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    started = time.perf_counter()
    count = int(SECONDS * FPS)
    secret = os.urandom(32)
    procs = Procs()
    results: dict[str, list[float]] = {"ours": [], "ws": [], "direct": []}
    try:
        ports = start_relay(procs, secret)
        device_port = free_port()  # websockify's target: each websockify round listens there
        bridge = (start_websockify(procs, device_port)[0], device_port)
        order = ["ours", "ws", "direct", "direct", "ws", "ours"] * CYCLES
        for n, target in enumerate(order, 1):
            t0 = time.perf_counter()
            if target == "ours":
                got = run(round_ours(ports, secret, n, count))
            elif target == "direct":
                got = run(round_direct(count))
            else:
                got = run(round_websockify(bridge, count))
            counted = got[SKIP:]
            results[target] += counted
            print(f"round {n:2d} {target:6s}: p50 {statistics.median(counted):6.2f} ms  p99 {percentile(counted, 99):6.2f} ms"
                  f"  max {max(counted):6.2f} ms  frames {len(counted)}  load {os.getloadavg()[0]:.2f}"
                  f" ({time.perf_counter() - t0:.1f} s)", flush=True)
    finally:
        procs.stop()

    p = {t: (statistics.median(v), percentile(v, 99)) for t, v in results.items()}
    for target, (p50, p99) in p.items():
        print(f"{target:6s}: p50 {p50:.2f} ms  p99 {p99:.2f} ms  ({len(results[target])} frames of {SIZE // 1024} KiB at {FPS} fps)")
    added50, added99 = p["ours"][0] - p["direct"][0], p["ours"][1] - p["direct"][1]
    print(f"added by our relay (ours - direct): p50 {added50:.2f} ms  p99 {added99:.2f} ms;"
          f" by websockify: p50 {p['ws'][0] - p['direct'][0]:.2f} ms  p99 {p['ws'][1] - p['direct'][1]:.2f} ms")
    print(f"loop={'uvloop' if use_uvloop() else 'asyncio'} elapsed={time.perf_counter() - started:.1f}s")
    print(f"RESULT bench=relay-latency p50_ms={p['ours'][0]:.2f} p99_ms={p['ours'][1]:.2f} added_p50_ms={added50:.2f}"
          f" added_p99_ms={added99:.2f} ws_p50_ms={p['ws'][0]:.2f} ws_p99_ms={p['ws'][1]:.2f}"
          f" direct_p50_ms={p['direct'][0]:.2f} direct_p99_ms={p['direct'][1]:.2f}"
          f" ratio={p['ours'][1] / TARGET_P99_MS:.2f}")


if __name__ == "__main__":
    sys.exit(main())
