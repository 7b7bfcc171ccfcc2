"""Relay benchmark: device -> relay -> viewer, against websockify, in one run.

Processes (all on loopback, each started and stopped by this script):

* **relay**: our relay alone in its own process (``harness.start_relay``), like
  websockify, which runs in its own process (it forks one handler per client).
* **device**: a separate process. Ours: :class:`RelayClient` over TCP, sealing
  every frame with AES-256-GCM. websockify: a plain TCP server that websockify
  connects to, sending the same bytes unencrypted.
* **viewer**: a separate process. Ours: :class:`RelayClient` over WebSocket,
  opening and validating every frame. websockify: a plain ``websockets`` client
  (same library, compression off).

What is measured: the **viewer** counts the bytes and frames it received over a
fixed window (``WINDOW`` s) that starts ``WARMUP`` s after its first frame. The
device sends as fast as the path takes it, but never more than ``inflight(size)``
frames (4 MiB, at most 200) ahead of what the viewer acknowledged (the viewer
sends its count back to the device over a side TCP connection every eighth of
the window; that connection is not part of the measured path). Both targets use
the same window. Each round also prints the CPU time per delivered frame of the
relay (or websockify with its forked handler), the device and the viewer.

Frame type: **CLIPBOARD** frames (device -> relay -> viewer) of 64 KiB and
1 KiB, ASCII text starting with a 12-digit sequence number. They go through the
same read / open / validate / route / seal / WebSocket path as screen frames but
through the relay's bounded FIFO instead of the latest-frame slot, so nothing is
coalesced: with at most 200 frames in flight, below the FIFO's limit (256), none
can be refused, and the viewer checks every sequence number (``lost`` must be 0).
``--type screen`` measures SCREEN frames instead (latest-frame slot: frames
replaced in the relay are counted as ``lost``; delivered ones only count).

websockify does no framing: it forwards whatever each TCP read returned as one
WebSocket message, so its "frames" are bytes / frame size (at 1 KiB it moves
many frames per message; we send one message per frame).

Rounds alternate ours, websockify, websockify, ours, ... per frame size to
cancel drift. The medians go into the last line::

    RESULT bench=relay mbps=.. fps=.. ws_mbps=.. ws_fps=.. mbps_ratio=.. fps_ratio=.. ratio=<min of the two>

``QUICK=1``: 2 rounds per target and size, shorter windows (< 60 s in all).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time

from harness import HOST, Procs, cpu_seconds, free_port, payloads, run, start_relay, start_websockify, ticket_pair, use_uvloop

HERE = os.path.abspath(__file__)
QUICK = bool(os.environ.get("QUICK"))
BIG, SMALL = 64 * 1024, 1024
WARMUP = 0.75 if QUICK else 1.0
WINDOW = 2.0 if QUICK else 4.0
CYCLES = 1 if QUICK else 3  # one cycle = ours, websockify, websockify, ours
#: Frames the device may send ahead of the viewer's acknowledgement: 4 MiB, at most
#: 200 frames (the relay's control FIFO holds 256, so none can be refused).
INFLIGHT_BYTES, INFLIGHT_MAX = 4 * 1024 * 1024, 200


def inflight(size: int) -> int:
    return int(os.environ.get("INFLIGHT") or min(INFLIGHT_MAX, max(8, INFLIGHT_BYTES // size)))
# -- the device process ---------------------------------------------------------------


async def device(args: argparse.Namespace) -> dict:
    make = payloads(args.size)
    acked = 0
    more = asyncio.Event()
    side_server_ready = asyncio.get_running_loop().create_future()
    side_done = asyncio.Event()

    async def on_side(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal acked
        side_server_ready.set_result(None)
        try:
            while True:
                data = await reader.readexactly(8)
                acked = int.from_bytes(data, "big")
                more.set()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            side_done.set()
            more.set()
            writer.close()

    side = await asyncio.start_server(on_side, HOST, args.side_port)
    sent = 0
    window = inflight(args.size)

    if args.target == "ours":
        from guidepath.relay.client import RelayClient, RelayClosed
        from guidepath.relay.protocol import (
            FrameType,
            ImageFormat,
            ImageFrame,
            ProtocolError,
        )

        dev = await RelayClient.connect_tcp(HOST, args.port, args.token, bytes.fromhex(args.key))
        frame_type = FrameType.CLIPBOARD if args.type == "clipboard" else FrameType.SCREEN
        if frame_type is FrameType.SCREEN:
            header = ImageFrame.whole(ImageFormat.JPEG, 1280, 720, b"x").encode()[:-1]
            raw = make

            def make(n: int) -> bytes:
                return header + raw(n)[: args.size - len(header)]

        async def drain_incoming() -> None:  # REFRESH etc.
            with contextlib.suppress(RelayClosed, ConnectionError, ProtocolError):
                while True:
                    await dev.recv()

        incoming = asyncio.create_task(drain_incoming())
        await side_server_ready
        cpu0 = time.process_time()
        while not side_done.is_set():
            while sent - acked >= window and not side_done.is_set():
                more.clear()
                await more.wait()
            if side_done.is_set():
                break
            try:
                await dev.send(frame_type, make(sent))
            except (ConnectionError, RelayClosed):
                break
            sent += 1
        await dev.close()
        incoming.cancel()
    else:
        accepted = asyncio.get_running_loop().create_future()

        async def on_target(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.set_result(writer)
            with contextlib.suppress(asyncio.CancelledError):  # cancelled at the end of the run
                await side_done.wait()

        target = await asyncio.start_server(on_target, HOST, args.port, reuse_address=True)
        print("listening", flush=True)
        writer = await accepted
        await side_server_ready
        cpu0 = time.process_time()
        while not side_done.is_set():
            while sent - acked >= window and not side_done.is_set():
                more.clear()
                await more.wait()
            if side_done.is_set():
                break
            writer.write(make(sent))
            try:
                await writer.drain()
            except ConnectionError:
                break
            sent += 1
        writer.close()
        target.close()
    side.close()
    return {"sent": sent, "cpu": time.process_time() - cpu0}


# -- the viewer process -----------------------------------------------------------------


async def viewer(args: argparse.Namespace) -> dict:
    size = args.size
    if args.target == "ours":
        from guidepath.relay.client import RelayClient
        from guidepath.relay.protocol import FrameType

        view = await RelayClient.connect_ws(f"ws://{HOST}:{args.port}/", args.token, bytes.fromhex(args.key))
        wanted = FrameType.CLIPBOARD if args.type == "clipboard" else FrameType.SCREEN
        offset = 14 if args.type == "screen" else 0  # after the image header

        async def next_chunk() -> tuple[int, int, int]:
            """(bytes, frames, sequence number) of the next data frame."""
            while True:
                frame = await view.recv()
                if frame.type is wanted:
                    p = frame.payload
                    return len(p), 1, int(p[offset : offset + 12])

        def close() -> None:  # drop the connection: the relay sees the viewer go
            view._transport.ws.transport.abort()
    else:
        from websockets.asyncio.client import connect

        ws = await connect(f"ws://{HOST}:{args.port}/", subprotocols=["binary"], max_size=None,
                           compression=None, ping_interval=None)
        total = 0

        async def next_chunk() -> tuple[int, int, int]:
            nonlocal total
            message = await ws.recv()
            before = total // size
            total += len(message)
            return len(message), total // size - before, -1

        def close() -> None:
            ws.transport.abort()

    # Connected (ours: the relay attached us before its ACK): open the ack channel.
    for _ in range(100):
        try:
            _, ack_writer = await asyncio.open_connection(HOST, args.side_port)
            break
        except OSError:
            await asyncio.sleep(0.02)
    cpu0 = time.process_time()
    every = max(1, inflight(size) // 8)
    frames = nbytes = lost = 0
    expected = 0
    window_bytes = window_frames = 0
    first = None
    last_ack = 0
    while True:
        b, f, seq = await next_chunk()
        now = time.perf_counter()
        if first is None:
            first = now
            start, end = first + args.warmup, first + args.warmup + args.window
        if seq >= 0:  # ours: frames are numbered; a gap is a frame the relay did not deliver
            lost += seq - expected
            expected = seq + 1
            frames += f
            done = expected  # the device may count lost frames as done
        else:  # websockify: a byte stream
            frames += f
            done = frames
        nbytes += b
        if start <= now < end:
            window_bytes += b
            window_frames += f
        elif now >= end:
            break
        if done - last_ack >= every:
            last_ack = done
            ack_writer.write(done.to_bytes(8, "big"))
    ack_writer.close()
    close()
    return {"bytes": window_bytes, "frames": window_frames, "seconds": args.window, "lost": lost,
            "total_frames": frames, "total_bytes": nbytes, "cpu": time.process_time() - cpu0}


# -- the orchestrator -------------------------------------------------------------------


def run_round(procs: Procs, target: str, size: int, ports: dict, secret: bytes, ftype: str, n: int) -> dict:
    bridge = ports["relay_pid"] if target == "ours" else ports["websockify_pid"]
    bridge_cpu0 = cpu_seconds(bridge)
    side_port = free_port()
    common = [sys.executable, HERE, "--size", str(size), "--side-port", str(side_port), "--type", ftype,
              "--warmup", str(WARMUP), "--window", str(WINDOW)]
    if target == "ours":
        tickets = {role: ["--token", token, "--key", ticket.key.hex()]
                   for role, (ticket, token) in ticket_pair(secret, f"s{n}-{size}", max_fps=10_000_000).items()}
        dev = procs.start(common + ["--device", "ours", "--port", str(ports["tcp_port"])] + tickets["device"],
                          stdout=subprocess.PIPE, text=True)
        view = procs.start(common + ["--viewer", "ours", "--port", str(ports["ws_port"])] + tickets["viewer"],
                           stdout=subprocess.PIPE, text=True)
    else:
        dev = procs.start(common + ["--device", "ws", "--port", str(ports["target_port"])],
                          stdout=subprocess.PIPE, text=True)
        assert dev.stdout.readline().strip() == "listening"
        view = procs.start(common + ["--viewer", "ws", "--port", str(ports["websockify_port"])],
                           stdout=subprocess.PIPE, text=True)
    out, _ = view.communicate(timeout=60)
    bridge_cpu = cpu_seconds(bridge) - bridge_cpu0
    dev_out, _ = dev.communicate(timeout=30)
    result = json.loads(out.strip().splitlines()[-1])
    result["device_cpu"] = json.loads(dev_out.strip().splitlines()[-1])["cpu"]
    result["bridge_cpu"] = bridge_cpu
    per = 1e6 / max(1, result["total_frames"])
    result["us_per_frame"] = {"bridge": bridge_cpu * per, "device": result["device_cpu"] * per,
                              "viewer": result["cpu"] * per}
    result["mbps"] = result["bytes"] / result["seconds"] / 1e6
    result["fps"] = result["frames"] / result["seconds"]
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default=None, help="cProfile output file for the relay process")
    ap.add_argument("--device", choices=["ours", "ws"])
    ap.add_argument("--viewer", choices=["ours", "ws"])
    ap.add_argument("--port", type=int)
    ap.add_argument("--side-port", type=int)
    ap.add_argument("--size", type=int)
    ap.add_argument("--token")
    ap.add_argument("--key")
    ap.add_argument("--type", choices=["clipboard", "screen"], default="clipboard")
    ap.add_argument("--warmup", type=float, default=WARMUP)
    ap.add_argument("--window", type=float, default=WINDOW)
    ap.add_argument("--only", choices=["ours", "ws"], default=None, help="measure one target only")
    ap.add_argument("--sizes", default=f"{BIG},{SMALL}")
    ap.add_argument("--cycles", type=int, default=CYCLES)
    args = ap.parse_args()
    if args.device:
        args.target = args.device
        print(json.dumps(run(device(args))), flush=True)
        return
    if args.viewer:
        args.target = args.viewer
        print(json.dumps(run(viewer(args))), flush=True)
        return
    orchestrate(args)


def orchestrate(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    secret = os.urandom(32)
    procs = Procs()
    results: dict[tuple[str, int], list[dict]] = {}
    sizes = [int(s) for s in args.sizes.split(",")]
    try:
        ports = start_relay(procs, secret, profile=args.profile)
        ports["target_port"] = free_port()
        ports["websockify_port"], ports["websockify_pid"] = start_websockify(procs, ports["target_port"])
        order = ["ours", "ws", "ws", "ours"] * args.cycles
        if args.only:
            order = [args.only] * (2 * args.cycles)
        n = 0
        for size in sizes:
            for target in order:
                n += 1
                t0 = time.perf_counter()
                r = run_round(procs, target, size, ports, secret, args.type, n)
                results.setdefault((target, size), []).append(r)
                name = "ours      " if target == "ours" else "websockify"
                print(f"round {n:2d} {name} {size // 1024:2d} KiB {args.type}: {r['mbps']:8.1f} MB/s "
                      f"{r['fps']:9.0f} frames/s  lost {r['lost']}  "
                      "CPU µs/frame relay|bridge {bridge:.0f} device {device:.0f} viewer {viewer:.0f}  ".format(**r["us_per_frame"])
                      + f"load {os.getloadavg()[0]:.2f} ({time.perf_counter() - t0:.1f} s)", flush=True)
    finally:
        procs.stop()

    def med(target: str, size: int, key: str) -> float:
        rs = results.get((target, size))
        return statistics.median(r[key] for r in rs) if rs else float("nan")

    mbps, fps = med("ours", BIG, "mbps"), med("ours", SMALL, "fps")
    ws_mbps, ws_fps = med("ws", BIG, "mbps"), med("ws", SMALL, "fps")
    for size in sizes:
        for target in ("ours", "ws"):
            rs = results.get((target, size))
            if rs:
                us = {k: statistics.median(r["us_per_frame"][k] for r in rs) for k in ("bridge", "device", "viewer")}
                print(f"median CPU µs/frame {size // 1024:2d} KiB {target:4s}: "
                      "relay|bridge {bridge:.1f} device {device:.1f} viewer {viewer:.1f}".format(**us))
        print(f"median {size // 1024:2d} KiB: ours {med('ours', size, 'mbps'):8.1f} MB/s {med('ours', size, 'fps'):9.0f} "
              f"frames/s | websockify {med('ws', size, 'mbps'):8.1f} MB/s {med('ws', size, 'fps'):9.0f} frames/s")
    mr, fr = mbps / ws_mbps, fps / ws_fps
    print(f"inflight={','.join(str(inflight(size)) for size in sizes)} frames warmup={WARMUP}s window={WINDOW}s type={args.type} "
          f"loop={'uvloop' if use_uvloop() else 'asyncio'} elapsed={time.perf_counter() - started:.1f}s")
    print(f"RESULT bench=relay mbps={mbps:.1f} fps={fps:.0f} ws_mbps={ws_mbps:.1f} ws_fps={ws_fps:.0f} "
          f"mbps_ratio={mr:.2f} fps_ratio={fr:.2f} ratio={min(mr, fr):.2f}")


if __name__ == "__main__":
    main()
