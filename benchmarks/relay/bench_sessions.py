"""Relay benchmark: how many concurrent sessions one relay process holds at 5 fps with
100 KiB screen frames while p99 latency stays under 100 ms, and its memory per session.

Processes: our relay (``harness.start_relay``), one process with every session's
viewer (:class:`RelayClient` over WebSocket) and one with every session's device
(:class:`RelayClient` over TCP). Each device sends a 100 KiB SCREEN frame every
200 ms, at its own phase, stamped with ``time.monotonic_ns()`` (CLOCK_MONOTONIC,
one clock for every process of the machine); the viewer notes when the opened frame
is in its hands. A step runs N sessions: connect them all, ``WARMUP`` s, then count
the frames sent during ``WINDOW`` s. A frame the relay replaced with a newer one
(the latest-frame slot of a viewer that lags) counts as not delivered.

Steps grow until the p99 latency of a step reaches 100 ms or fewer than 99 % of
its frames are delivered; the answer is the last step within both. The two client
processes share the machine's two cores with the relay, so near the limit they
compete with it: the number is what this machine holds, the relay included.

Memory per session: the relay's resident memory with the step's sessions running,
minus its resident memory just before they connected, divided by N. Each step gets
a fresh relay process, so memory freed by an earlier step cannot hide in the figure.
The CPU each process used during the window is printed too (100 % = one core).

    RESULT bench=relay-sessions held=.. p99_ms=.. delivered=.. kib_per_session=.. ratio=<p99 / 100 ms>

``ratio`` is the held step's p99 over the 100 ms budget. ``QUICK=1``: three steps,
shorter windows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import struct
import subprocess
import sys
import time

from harness import HOST, Procs, cpu_seconds, rss_bytes, run, start_relay, ticket_pair, use_uvloop

QUICK = bool(os.environ.get("QUICK"))
HERE = os.path.abspath(__file__)
FPS = 5
SIZE = 100 * 1024
WARMUP = 1.0 if QUICK else 2.0
WINDOW = 3.0 if QUICK else 6.0
STEPS = [50, 200, 400] if QUICK else [50, 100, 200, 400, 600, 800, 900, 1000, 1100, 1200, 1500, 2000]
P99_BUDGET_MS = 100.0
MIN_DELIVERED = 0.99
CONNECT_AT_ONCE = 64
STAMP = struct.Struct(">Q")


# -- client processes -------------------------------------------------------------------


async def connect_all(connect, grants: list[dict]) -> list:
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def one(grant: dict):
        async with gate:
            return await connect(grant)

    return await asyncio.gather(*(one(g) for g in grants))


async def read_line() -> str:
    return (await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)).strip()


async def devices(grants: list[dict]) -> dict:
    from guidepath.relay.client import RelayClient
    from guidepath.relay.protocol import FrameType, ImageFormat, ImageFrame

    clients = await connect_all(
        lambda g: RelayClient.connect_tcp(HOST, g["port"], g["token"], bytes.fromhex(g["key"])), grants)
    print("ready", flush=True)
    start_ns, end_ns = (int(x) for x in (await read_line()).split()[1:])  # "go <window start> <window end>"
    header = len(ImageFrame.whole(ImageFormat.JPEG, 1920, 1080, b"x").encode()) - 1
    filler = os.urandom(SIZE - header - STAMP.size)
    sent_in_window = 0
    cpu0 = time.process_time()

    async def drain(client) -> None:  # PINGs from the relay
        try:
            while True:
                frame = await client.recv()
                if frame.type is FrameType.PING:
                    await client.send(FrameType.PONG, frame.payload)
        except Exception:  # noqa: BLE001 - the session ended
            pass

    async def send_loop(client, phase: float) -> None:
        nonlocal sent_in_window
        period = 1 / FPS
        next_at = time.monotonic() + phase
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            now = time.monotonic_ns()
            if now >= end_ns:
                return
            await client.send(FrameType.SCREEN,
                              ImageFrame.whole(ImageFormat.JPEG, 1920, 1080, STAMP.pack(now) + filler).encode())
            if now >= start_ns:
                sent_in_window += 1
            next_at += period

    drains = [asyncio.create_task(drain(c)) for c in clients]
    await asyncio.gather(*(send_loop(c, i / len(clients) / FPS) for i, c in enumerate(clients)))
    cpu = time.process_time() - cpu0
    await asyncio.sleep(1.0)  # the last frames reach the viewers before the devices leave
    for task in drains:
        task.cancel()
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return {"sent": sent_in_window, "cpu": cpu}


async def viewers(grants: list[dict]) -> dict:
    from guidepath.relay.client import RelayClient
    from guidepath.relay.protocol import FrameType, ImageFrame

    clients = await connect_all(
        lambda g: RelayClient.connect_ws(g["ws_url"], g["token"], bytes.fromhex(g["key"])), grants)
    print("ready", flush=True)
    start_ns, end_ns = (int(x) for x in (await read_line()).split()[1:])
    latencies: list[float] = []
    cpu0 = time.process_time()

    async def receive(client) -> None:
        try:
            while True:
                frame = await client.next_of(FrameType.SCREEN, timeout=WINDOW + WARMUP + 30)
                sent = STAMP.unpack_from(ImageFrame.decode(frame.payload).data)[0]
                if start_ns <= sent < end_ns:
                    latencies.append((time.monotonic_ns() - sent) / 1e6)
        except Exception:  # noqa: BLE001 - the device left: the session is over
            pass

    await asyncio.wait([asyncio.create_task(receive(c)) for c in clients],
                       timeout=(end_ns - time.monotonic_ns()) / 1e9 + 3)
    cpu = time.process_time() - cpu0
    for c in clients:
        await c.abort()
    return {"received": len(latencies), "p50": statistics.median(latencies) if latencies else float("nan"),
            "p99": percentile(latencies, 99), "max": max(latencies, default=float("nan")), "cpu": cpu}


# -- the orchestrator -------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def run_step(secret: bytes, n: int, step: int) -> dict:
    procs = Procs()
    try:
        return _run_step(procs, start_relay(procs, secret), secret, n, step)
    finally:
        procs.stop()


def _run_step(procs: Procs, ports: dict, secret: bytes, n: int, step: int) -> dict:
    pairs = [ticket_pair(secret, f"sessions-{step}-{i}") for i in range(n)]
    grants = {
        role: [{"token": token, "key": ticket.key.hex(), "port": ports["tcp_port"],
                "ws_url": f"ws://{HOST}:{ports['ws_port']}/"} for ticket, token in (p[role] for p in pairs)]
        for role in ("device", "viewer")
    }
    time.sleep(0.5)  # the fresh relay settles (imports, first allocations)
    rss_before = rss_bytes(ports["relay_pid"])
    clients = {}
    for role in ("viewer", "device"):  # viewers first: every frame has someone to go to
        proc = procs.start([sys.executable, HERE, "--role", role], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True)
        proc.stdin.write(json.dumps(grants[role]) + "\n")
        proc.stdin.flush()
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the {role} process did not connect its {n} sessions")
        clients[role] = proc
    start_ns = time.monotonic_ns() + int(WARMUP * 1e9)
    end_ns = start_ns + int(WINDOW * 1e9)
    for proc in clients.values():
        proc.stdin.write(f"go {start_ns} {end_ns}\n")
        proc.stdin.flush()
    time.sleep(WARMUP + WINDOW / 2)
    rss_during = rss_bytes(ports["relay_pid"])
    relay_cpu0, t0 = cpu_seconds(ports["relay_pid"]), time.monotonic()
    time.sleep(WINDOW / 4)
    relay_cpu = (cpu_seconds(ports["relay_pid"]) - relay_cpu0) / (time.monotonic() - t0)
    out = {role: json.loads(proc.communicate(timeout=120)[0].strip().splitlines()[-1]) for role, proc in clients.items()}
    viewer, sent = out["viewer"], out["device"]["sent"]
    return {
        "n": n,
        "device_cpu": out["device"]["cpu"] / (WARMUP + WINDOW),
        "viewer_cpu": viewer["cpu"] / (WARMUP + WINDOW),
        "p50": viewer["p50"],
        "p99": viewer["p99"],
        "max": viewer["max"],
        "delivered": viewer["received"] / sent if sent else 0.0,
        "sent": sent,
        "relay_cpu": relay_cpu,
        "kib_per_session": (rss_during - rss_before) / n / 1024,
    }


def orchestrate() -> None:
    started = time.perf_counter()
    secret = os.urandom(32)
    held = None
    for step, n in enumerate(STEPS, 1):
        r = run_step(secret, n, step)
        ok = r["p99"] < P99_BUDGET_MS and r["delivered"] >= MIN_DELIVERED
        print(f"{n:5d} sessions: p50 {r['p50']:7.2f} ms  p99 {r['p99']:7.2f} ms  max {r['max']:7.2f} ms  "
              f"delivered {100 * r['delivered']:6.2f} % of {r['sent']}  "
              f"CPU relay {100 * r['relay_cpu']:3.0f} % devices {100 * r['device_cpu']:3.0f} % "
              f"viewers {100 * r['viewer_cpu']:3.0f} %  relay memory {r['kib_per_session']:6.1f} KiB/session  "
              f"load {os.getloadavg()[0]:.2f}  {'ok' if ok else 'over'}", flush=True)
        if not ok:
            break
        held = r
    print(f"{FPS} fps, {SIZE // 1024} KiB frames, warmup {WARMUP}s, window {WINDOW}s, "
          f"loop={'uvloop' if use_uvloop() else 'asyncio'} elapsed={time.perf_counter() - started:.1f}s")
    if held is None:
        print("RESULT bench=relay-sessions held=0 ratio=nan")
        return
    print(f"RESULT bench=relay-sessions held={held['n']} p99_ms={held['p99']:.1f} delivered={held['delivered']:.4f} "
          f"kib_per_session={held['kib_per_session']:.1f} ratio={held['p99'] / P99_BUDGET_MS:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--role", choices=["device", "viewer"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.role:
        grants = json.loads(sys.stdin.readline())
        result = run(devices(grants) if args.role == "device" else viewers(grants))
        print(json.dumps(result), flush=True)
        return
    orchestrate()


if __name__ == "__main__":
    main()
