"""What the relay benchmarks share: the relay process, its tickets, the event loop
choice, process bookkeeping and CPU accounting (``bench_relay.py``,
``bench_latency.py``, ``bench_sessions.py``)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def use_uvloop() -> bool:
    """uvloop (the optional ``fast`` extra) when importable, unless BENCH_LOOP=asyncio.
    The same choice for every asyncio process of the run: our relay, device and
    viewer, and websockify's device and viewer (websockify itself is not asyncio)."""
    if os.environ.get("BENCH_LOOP", "uvloop") == "asyncio":
        return False
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def run(coro):
    if use_uvloop():
        import uvloop

        return uvloop.run(coro)
    return asyncio.run(coro)


def payloads(size: int):
    """Frame *n*: 12 ASCII digits then ASCII filler (valid UTF-8 clipboard text)."""
    filler = bytes(65 + (b % 26) for b in os.urandom(size - 12))
    return lambda n: b"%012d" % n + filler


def serve_relay(profile: str | None) -> None:
    if os.environ.get("BENCH_RELAY_PACKAGE"):  # e.g. a copy of an older relay/, for before/after
        import importlib

        sys.path.insert(0, os.path.dirname(os.environ["BENCH_RELAY_PACKAGE"]))
        server_module = importlib.import_module(os.path.basename(os.environ["BENCH_RELAY_PACKAGE"]) + ".server")
        RelayServer, RelaySettings = server_module.RelayServer, server_module.RelaySettings
    else:
        from guidepath.relay.server import RelayServer, RelaySettings

    secret = bytes.fromhex(os.environ["BENCH_SECRET"])
    server = RelayServer(RelaySettings(relay_id="bench", ticket_secret=secret, tcp_port=0, ws_port=0,
                                       heartbeat_seconds=60, idle_timeout_seconds=300))

    async def main() -> None:
        await server.start()
        print(json.dumps({"tcp_port": server.tcp_port, "ws_port": server.ws_port}), flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await server.stop()

    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        try:
            run(main())
        finally:
            profiler.disable()
            profiler.dump_stats(profile)
    else:
        run(main())


class Procs:
    """Every process this run started; ``stop()`` ends them all."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, argv: list[str], **kw) -> subprocess.Popen:
        proc = subprocess.Popen(argv, **kw)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def cpu_seconds(pid: int) -> float:
    """CPU time of *pid* and its children (websockify forks one per client), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")

    def stat(p: int | str) -> list[str] | None:
        try:
            with open(f"/proc/{p}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()
        except OSError:
            return None

    fields = stat(pid)
    total = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (child := stat(entry)) is not None and child[1] == str(pid):
            total += int(child[11]) + int(child[12])
    return total / ticks


def wait_port(port: int) -> None:
    for _ in range(200):
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def start_relay(procs: Procs, secret: bytes, *, profile: str | None = None) -> dict:
    """Start our relay in its own process; its ports and pid."""
    env = {**os.environ, "BENCH_SECRET": secret.hex()}
    argv = [sys.executable, os.path.abspath(__file__)] + (["--profile", profile] if profile else [])
    relay = procs.start(argv, stdout=subprocess.PIPE, text=True, env=env)
    ports = json.loads(relay.stdout.readline())
    ports["relay_pid"] = relay.pid
    return ports


def start_websockify(procs: Procs, target_port: int) -> tuple[int, int]:
    """websockify bridging a free port to *target_port*; (its port, its pid)."""
    port = free_port()
    proc = procs.start([sys.executable, "-m", "websockify", f"{HOST}:{port}", f"{HOST}:{target_port}"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return port, proc.pid


def ticket_pair(secret: bytes, session_id: str, **limits) -> dict[str, tuple]:
    """A device and a viewer ticket of one bench session: role -> (ticket, token)."""
    from guidepath.relay.tickets import TicketLimits, issue_ticket

    return {
        role: issue_ticket(secret, relay_id="bench", tenant_id="tbench", session_id=session_id,
                           kind="remote_control", role=role, limits=TicketLimits(**limits))
        for role in ("device", "viewer")
    }


def rss_bytes(pid: int) -> int:
    """Resident memory of *pid* (VmRSS)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


if __name__ == "__main__":  # the relay process (start_relay)
    serve_relay(sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--profile" else None)
