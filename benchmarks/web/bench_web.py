"""Tenant stack overhead: guidepath's API against a bare Flask + SQLAlchemy app.

Server mode on loopback: a throwaway PostgreSQL global database and container
database (``ScratchDatabases``), Redis for the cache, the in-process event bus
(no Kafka), a random master key. One tenant, one support session, one API key.

Two servers, each in its OWN PROCESS TREE, both gunicorn with guidepath's gthread
worker class and the same WORKERS x THREADS (``core/web/serving.py``, what
``guidepath run`` serves with in server mode), request logging off in both:

* **ours** — ``create_app(kernel=...)``: host → tenant resolution, bearer API key
  check against the tenant's database, plugin state, the tenant's pooled engine
  running as the tenant's PostgreSQL role, ``GET /api/v1/sessions/{id}``.
* **bare** — Flask + SQLAlchemy Core, one engine connected as the SAME tenant role
  with the same pool size, answering the same path with the same
  ``SELECT ... FROM support_sessions WHERE id = ...`` and ``jsonify``; no tenancy,
  no authentication.

The load generator is a third process: ``wrk`` when installed (keep-alive, N
connections), else a Python ``http.client`` keep-alive client with N threads. Each
sends ``Authorization: Bearer <key>`` and ``Host: {slug}.localhost:PORT``. Rounds
alternate the targets (ours, bare, bare, ours, ...) to cancel machine drift.

    .venv/bin/python benchmarks/web/bench_web.py           # 6 rounds x 10 s per target
    QUICK=1 .venv/bin/python benchmarks/web/bench_web.py   # 2 rounds x 5 s, < 60 s
    LOADGEN=python ...                                      # force the Python client
    CONCURRENCY=8 ROUND_SECONDS=10 ROUNDS=6 POOL_SIZE=2     # knobs (these are the defaults)
    WORKERS=2 THREADS=1000 WS_SOCKETS=5000 PARTS=http,ws    # more knobs (QUICK: WS_SOCKETS=1000)

Then the ``/ws`` part: one ``ours`` node (WORKERS workers, threads for WS_SOCKETS
sockets) and an asyncio client process opening WS_SOCKETS idle sockets authenticated
with the API key; the server tree's PSS before and after gives the memory per socket;
then one ``POST /api/v1/sessions/{id}/state`` and the time until its
``session.state_changed`` event reaches each socket (target: all, p99 < 1 s).

Everything it starts (servers, load generators) it stops; the databases, the
tenant's PostgreSQL role and its Redis ACL user are removed even on error. Last line:

    RESULT bench=web ours_rps=<v> bare_rps=<v> ours_p50_ms=<v> bare_p50_ms=<v> concurrency=<n> loadgen=<g>
        ratio=<ours/bare> ws_sockets=<held> ws_asked=<n> ws_received=<n> ws_p99_s=<v> ws_kib_per_socket=<v>
        workers=<n> threads=<n>          (one line)
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

QUICK = os.environ.get("QUICK", "") not in ("", "0")
CONCURRENCY = int(os.environ.get("CONCURRENCY", "8"))
ROUNDS = int(os.environ.get("ROUNDS", "2" if QUICK else "6"))
ROUND_SECONDS = float(os.environ.get("ROUND_SECONDS", "5" if QUICK else "10"))
WARMUP_SECONDS = 2.0 if QUICK else 4.0
POOL_SIZE = int(os.environ.get("POOL_SIZE", "2"))  # the kernel's default tenant_pool_size
#: Both servers are gunicorn with guidepath's worker class (core/web/serving.py), the same
#: workers and threads: what `guidepath run` serves with in server mode.
WORKERS = int(os.environ.get("WORKERS", "2"))
THREADS = int(os.environ.get("THREADS", "1000"))  # `guidepath run`'s default
#: Idle authenticated /ws sockets one node (WORKERS processes) is asked to hold.
WS_SOCKETS = int(os.environ.get("WS_SOCKETS", "1000" if QUICK else "5000"))
WS_TARGET_P99_S = 1.0
PARTS = set(os.environ.get("PARTS", "http,ws").split(","))
SERVER_MAX_LIFETIME = 1800.0  # a server left behind by a killed parent still goes away
REDIS_URL = os.environ.get("GUIDEPATH_BENCH_REDIS", "redis://127.0.0.1:6379/0")
PG_ADMIN_URL = os.environ.get("GUIDEPATH_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SLUG = "bench-web"
HERE = Path(__file__).resolve()


# -- servers (run in their own processes: `bench_web.py _serve ours|bare SPEC`) ------------


def _serve(kind: str, spec_path: str, port: int, threads: int) -> None:
    spec = json.loads(Path(spec_path).read_text())
    logging.basicConfig(level=logging.WARNING)
    from guidepath.core.web import serving

    closers: list = []

    def build_ours():
        from guidepath.core.config import Config
        from guidepath.core.kernel import Kernel
        from guidepath.core.web.app import create_app

        config = Config(
            data_dir=Path(spec["data_dir"]), database_url=spec["global_url"], redis_url=spec["redis_url"],
            kafka_bootstrap=None, master_key=spec["master_key"],
            tenant_pool_size=spec["pool_size"], tenant_pool_max_connections=spec["pool_max"],
        )
        kernel = Kernel(config)
        closers.append(kernel.close)
        return create_app(kernel=kernel)  # starts the event workers, as `guidepath run` does

    def build_bare():
        from flask import Flask, abort, jsonify
        from sqlalchemy import create_engine, text

        engine = create_engine(spec["tenant_url"], pool_size=spec["pool_size"], max_overflow=0,
                               pool_timeout=10, pool_pre_ping=False, pool_recycle=1800)
        query = text("SELECT id, customer_id, device_id, agent_id, state, resolution, created_at, "
                     "updated_at, ended_at FROM support_sessions WHERE id = :id")
        app = Flask("bare")

        @app.get("/api/v1/sessions/<session_id>")
        def get_session(session_id: str):
            with engine.connect() as conn:
                row = conn.execute(query, {"id": session_id}).first()
            if row is None:
                abort(404)
            return jsonify({k: (v.isoformat() if hasattr(v, "isoformat") else v)
                            for k, v in row._mapping.items()})

        closers.append(engine.dispose)
        return app

    factories = {"ours": build_ours, "bare": build_bare}
    if kind not in factories:
        raise SystemExit(f"unknown server kind {kind!r}")

    def ready() -> None:  # in gunicorn's master, once it listens
        parent, started = os.getppid(), time.monotonic()

        def watchdog() -> None:
            while os.getppid() == parent and time.monotonic() - started < SERVER_MAX_LIFETIME:
                time.sleep(0.5)
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watchdog, daemon=True).start()
        print(f"PORT {port}", flush=True)

    def close() -> None:
        for closer in closers:
            closer()

    # Request logging off in both (as before with werkzeug); gunicorn's own lines at warning.
    serving.serve(factories[kind], host="127.0.0.1", port=port, workers=WORKERS, threads=threads,
                  shutdown_seconds=10, access_log_on=False, json_logs=False, on_worker_exit=close,
                  on_ready=ready, log_level="warning")


# -- the Python load generator (`bench_web.py _load PORT HOST PATH KEY N SECONDS`) -----------


def _load(port: int, host: str, path: str, key: str, concurrency: int, seconds: float) -> None:
    import http.client

    headers = {"Host": host, "Authorization": f"Bearer {key}", "Connection": "keep-alive"}
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    start_gate = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start_gate.wait()
        lat, clock = latencies[i], time.perf_counter
        while True:
            t0 = clock()
            if t0 >= deadline[0]:
                break
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[i] += 1
                else:
                    lat.append(clock() - t0)
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start_gate.wait()
    for t in threads:
        t.join(timeout=seconds + 60)
    elapsed = time.perf_counter() - began
    all_lat = sorted(x for lat in latencies for x in lat)
    ok = len(all_lat)
    print(json.dumps({
        "rps": ok / elapsed, "ok": ok, "errors": sum(errors),
        "p50_ms": 1000 * all_lat[ok // 2] if ok else None,
        "p99_ms": 1000 * all_lat[min(ok - 1, int(ok * 0.99))] if ok else None,
    }))


# -- the WebSocket load generator (`bench_web.py _wsload PORT HOST KEY N SESSION_ID`) -------


def _wsload(port: int, host: str, key: str, count: int, session_id: str) -> None:
    """Open ``count`` authenticated /ws sockets (asyncio, one process), print ``OPEN n``,
    wait for a line on stdin, change the session's state over HTTP and time its
    ``session.state_changed`` event's arrival on every socket; print a JSON summary."""
    import asyncio
    import http.client
    import resource
    import socket

    from websockets.asyncio.client import connect

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    async def main() -> None:
        gate = asyncio.Semaphore(100)  # handshakes in flight at once
        arrived: list[float] = []
        sent_at = [0.0]
        failed: list[str] = []

        async def one() -> object:
            async with gate:
                raw = socket.create_connection(("127.0.0.1", port))
                ws = await connect(f"ws://{host}/ws", sock=raw, ping_interval=None, open_timeout=120,
                                   close_timeout=1, max_queue=None,
                                   additional_headers={"Authorization": f"Bearer {key}"})
                hello = json.loads(await asyncio.wait_for(ws.recv(), 60))
                assert hello["type"] == "hello", hello
                return ws

        t0 = time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
        sockets = [r for r in results if not isinstance(r, BaseException)]
        failed += [repr(r)[:200] for r in results if isinstance(r, BaseException)]
        opened_s = time.perf_counter() - t0
        print(f"OPEN {len(sockets)} {opened_s:.1f}", flush=True)
        await asyncio.to_thread(sys.stdin.readline)

        async def wait_event(ws) -> None:
            while True:
                message = json.loads(await ws.recv())
                event = message.get("event") or {}
                if event.get("type") == "session.state_changed" and \
                        event.get("data", {}).get("session_id") == session_id:
                    arrived.append(time.perf_counter() - sent_at[0])
                    return

        def change_state() -> int:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            sent_at[0] = time.perf_counter()
            conn.request("POST", f"/api/v1/sessions/{session_id}/state", body=json.dumps({"state": "waiting"}),
                         headers={"Host": host, "Authorization": f"Bearer {key}",
                                  "Content-Type": "application/json"})
            status = conn.getresponse().status
            conn.close()
            return status

        waiters = [asyncio.ensure_future(wait_event(ws)) for ws in sockets]
        status = await asyncio.to_thread(change_state)
        _, pending = await asyncio.wait(waiters, timeout=30)
        for task in pending:
            task.cancel()
        lat = sorted(arrived)
        n = len(lat)
        print(json.dumps({
            "opened": len(sockets), "open_errors": len(failed), "first_error": failed[0] if failed else None,
            "open_seconds": opened_s, "state_status": status, "received": n,
            "p50_s": lat[n // 2] if n else None, "p99_s": lat[min(n - 1, int(n * 0.99))] if n else None,
            "max_s": lat[-1] if n else None,
        }), flush=True)
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)

    asyncio.run(main())


def tree_pss_kib(pid: int) -> int:
    """Proportional set size of a process and its descendants (shared pages split)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
            total += int(re.search(r"^Pss:\s+(\d+) kB", rollup, re.MULTILINE).group(1))
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, AttributeError):
            continue
    return total


def measure_ws(spec: Path, procs: list, host_slug: str, key: str, session_id: str) -> dict:
    """One ``ours`` node with threads for WS_SOCKETS sockets: open them, measure memory,
    change a session's state, time its arrival on every socket."""
    threads = WS_SOCKETS + 100  # a socket holds a thread; any worker may get most of them
    port = start_server("ours", spec, procs, threads=threads)
    server = procs[-1]
    host = f"{host_slug}.localhost:{port}"
    time.sleep(2.0)  # the workers' start-up allocations settle
    before = tree_pss_kib(server.pid)
    client = subprocess.Popen([sys.executable, str(HERE), "_wsload", str(port), host, key, str(WS_SOCKETS),
                               session_id], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    procs.append(client)
    line = client.stdout.readline()  # type: ignore[union-attr]
    if not line.startswith("OPEN "):
        raise RuntimeError(f"the WebSocket client failed: {line!r}")
    opened, open_seconds = int(line.split()[1]), float(line.split()[2])
    time.sleep(3.0)  # idle
    after = tree_pss_kib(server.pid)
    threads_now = sum(int(re.search(r"^Threads:\s+(\d+)", Path(f"/proc/{p}/status").read_text(), re.MULTILINE).group(1))
                      for p in [server.pid, *_children(server.pid)])
    client.stdin.write("go\n")  # type: ignore[union-attr]
    client.stdin.flush()  # type: ignore[union-attr]
    result = json.loads(client.stdout.readline())  # type: ignore[union-attr]
    client.wait(timeout=60)
    result.update({"asked": WS_SOCKETS, "pss_before_mib": before / 1024, "pss_after_mib": after / 1024,
                   "kib_per_socket": (after - before) / max(opened, 1), "server_threads": threads_now,
                   "open_seconds": open_seconds})
    return result


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


# -- orchestration ---------------------------------------------------------------------------


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(port: int, host: str, path: str, key: str, seconds: float) -> dict:
    cmd = ["wrk", "-t", "2", "-c", str(CONCURRENCY), "-d", f"{max(1, round(seconds))}s", "--latency",
           "--timeout", "30s", "-H", f"Host: {host}", "-H", f"Authorization: Bearer {key}",
           f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    pct = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.MULTILINE))

    def as_ms(s: str) -> float:
        m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", s)
        return _ms(m.group(1), m.group(2))

    # wrk counts non-2xx answers as requests: only successful ones count as throughput.
    ok_rps = rps * (total - (int(bad.group(1)) if bad else 0)) / total if total else 0.0
    return {"rps": ok_rps, "ok": total, "errors": errors,
            "p50_ms": as_ms(pct["50"]) if "50" in pct else None,
            "p99_ms": as_ms(pct["99"]) if "99" in pct else None}


def run_python_load(port: int, host: str, path: str, key: str, seconds: float) -> dict:
    cmd = [sys.executable, str(HERE), "_load", str(port), host, path, key, str(CONCURRENCY), str(seconds)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 90, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def start_server(kind: str, spec_path: Path, procs: list, threads: int = THREADS) -> int:
    from guidepath.core.testing.tansu import free_port

    proc = subprocess.Popen([sys.executable, str(HERE), "_serve", kind, str(spec_path), str(free_port()),
                             str(threads)], stdout=subprocess.PIPE, text=True)
    procs.append(proc)
    found: list[int] = []

    def read_port() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            if line.startswith("PORT "):
                found.append(int(line.split()[1]))
                return

    reader = threading.Thread(target=read_port, daemon=True)
    reader.start()
    reader.join(timeout=60)
    if not found:
        raise RuntimeError(f"the {kind} server did not start (exit code {proc.poll()})")
    return found[0]


def stop_processes(procs: list) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def measure_http(spec: Path, procs: list, path: str, key: str, session_id: str, use_wrk: bool,
                 loadgen: str) -> dict:
    """ours against bare, both gunicorn with WORKERS x THREADS; rounds alternate."""
    import requests

    ports = {"ours": start_server("ours", spec, procs), "bare": start_server("bare", spec, procs)}

    for kind, port in ports.items():  # both answer the same row before anything is timed
        host = f"{SLUG}.localhost:{port}"
        response = requests.get(f"http://127.0.0.1:{port}{path}", timeout=10,
                                headers={"Host": host, "Authorization": f"Bearer {key}"})
        if response.status_code != 200 or response.json().get("id") != session_id:
            raise RuntimeError(f"{kind} answered {response.status_code}: {response.text[:300]}")

    def measure(kind: str, seconds: float) -> dict:
        port = ports[kind]
        host = f"{SLUG}.localhost:{port}"
        run = run_wrk if use_wrk else run_python_load
        return run(port, host, path, key, seconds)

    for kind in ports:
        measure(kind, WARMUP_SECONDS)

    results: dict[str, list[dict]] = {"ours": [], "bare": []}
    for r in range(ROUNDS):
        for kind in (("ours", "bare") if r % 2 == 0 else ("bare", "ours")):
            res = measure(kind, ROUND_SECONDS)
            results[kind].append(res)
            print(f"  round {r + 1} {kind:4s} {res['rps']:8.1f} req/s  p50 {res['p50_ms'] or 0:6.2f} ms  "
                  f"p99 {res['p99_ms'] or 0:7.2f} ms  errors {res['errors']}", flush=True)

    summary = {}
    for kind, runs in results.items():
        summary[kind] = {
            "rps": statistics.fmean(x["rps"] for x in runs),
            "p50": statistics.median(x["p50_ms"] for x in runs if x["p50_ms"] is not None),
            "p99": statistics.median(x["p99_ms"] for x in runs if x["p99_ms"] is not None),
            "errors": sum(x["errors"] for x in runs),
        }
    if summary["ours"]["errors"] or summary["bare"]["errors"]:
        print(f"WARNING: errors during measurement: ours {summary['ours']['errors']}, "
              f"bare {summary['bare']['errors']}", flush=True)
    ratio = summary["ours"]["rps"] / summary["bare"]["rps"]
    print(f"ours {summary['ours']['rps']:.1f} req/s (p50 {summary['ours']['p50']:.2f} ms, "
          f"p99 {summary['ours']['p99']:.2f} ms); bare {summary['bare']['rps']:.1f} req/s "
          f"(p50 {summary['bare']['p50']:.2f} ms, p99 {summary['bare']['p99']:.2f} ms); "
          f"target ratio 0.7", flush=True)
    return {"ours_rps": f"{summary['ours']['rps']:.1f}", "bare_rps": f"{summary['bare']['rps']:.1f}",
            "ours_p50_ms": f"{summary['ours']['p50']:.2f}", "bare_p50_ms": f"{summary['bare']['p50']:.2f}",
            "concurrency": CONCURRENCY, "loadgen": loadgen, "ratio": f"{ratio:.3f}"}

def main() -> None:

    from guidepath.core.config import Config
    from guidepath.core.crypto import passwords
    from guidepath.core.domain import api_keys, support_sessions
    from guidepath.core.kernel import Kernel
    from guidepath.core.tenancy.service import TenantService
    from guidepath.core.tenancy.storage import harden_container
    from guidepath.core.testing.databases import ScratchDatabases

    passwords.set_default_params(passwords.Argon2Params.for_tests())  # no users are made; cheap anyway
    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl+C, so the finally: below cleans up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    use_wrk = shutil.which("wrk") is not None and os.environ.get("LOADGEN", "") != "python"
    loadgen = "wrk" if use_wrk else "python"
    print(f"bench-web: {'QUICK ' if QUICK else ''}{ROUNDS} rounds x {ROUND_SECONDS:g} s per target, "
          f"{CONCURRENCY} keep-alive connections ({loadgen}), pool size {POOL_SIZE}, {os.cpu_count()} CPUs",
          flush=True)

    tmp = Path(tempfile.mkdtemp(prefix="gp-bench-web-"))
    databases = ScratchDatabases(PG_ADMIN_URL)
    procs: list[subprocess.Popen] = []
    kernel = None
    tenant_slug = None
    try:
        global_url = databases.create("global")
        container_url = databases.create("c1")
        harden_container(container_url)
        master_key = base64.b64encode(secrets.token_bytes(32)).decode()
        config = Config(data_dir=tmp / "data", database_url=global_url, redis_url=REDIS_URL,
                        kafka_bootstrap=None, master_key=master_key, tenant_pool_size=POOL_SIZE)
        kernel = Kernel(config)
        kernel.upgrade_global()
        kernel.directory.add_container(container_url)
        tenant = TenantService(kernel).create(SLUG)
        tenant_slug = tenant.slug
        ctx = kernel.context(tenant)
        with ctx.begin() as conn:
            key = api_keys.create(conn, {"name": "bench", "role": "agent"}, created_by=None)["key"]
            session = support_sessions.create(conn, {}, ctx.emit)
        kernel.pools.discard(tenant.id)  # the orchestrator holds no tenant connection while measuring

        spec = tmp / "spec.json"  # holds the tenant role's password: 0600, removed at the end
        spec.touch(mode=0o600)
        spec.write_text(json.dumps({
            "data_dir": str(config.data_dir), "global_url": global_url, "redis_url": REDIS_URL,
            "master_key": master_key, "pool_size": POOL_SIZE,
            "pool_max": config.tenant_pool_max_connections,
            "tenant_url": kernel.storage_for(tenant).tenant_url(tenant.id),
        }))
        path = f"/api/v1/sessions/{session['id']}"
        fields = {}
        if "http" in PARTS:
            fields.update(measure_http(spec, procs, path, key, session["id"], use_wrk, loadgen))
        if "ws" in PARTS:
            stop_processes(procs)
            procs.clear()
            ws = measure_ws(spec, procs, SLUG, key, session["id"])
            met = ws["received"] == ws["asked"] and ws["p99_s"] is not None and ws["p99_s"] < WS_TARGET_P99_S
            print(f"/ws: {ws['opened']}/{ws['asked']} idle sockets opened in {ws['open_seconds']:.1f} s "
                  f"({ws['open_errors']} refused{': ' + ws['first_error'] if ws['first_error'] else ''}); "
                  f"server threads {ws['server_threads']}; PSS {ws['pss_before_mib']:.0f} -> "
                  f"{ws['pss_after_mib']:.0f} MiB = {ws['kib_per_socket']:.0f} KiB per socket; state change "
                  f"(HTTP {ws['state_status']}) reached {ws['received']} sockets, p50 {ws['p50_s'] or 0:.3f} s, "
                  f"p99 {ws['p99_s'] or 0:.3f} s, max {ws['max_s'] or 0:.3f} s; target {WS_SOCKETS} sockets, "
                  f"p99 < {WS_TARGET_P99_S:g} s: {'met' if met else 'NOT met'}", flush=True)
            fields.update({"ws_sockets": ws["opened"], "ws_asked": ws["asked"], "ws_received": ws["received"],
                           "ws_p99_s": f"{ws['p99_s'] or 0:.3f}", "ws_kib_per_socket": f"{ws['kib_per_socket']:.0f}"})
        print("RESULT bench=web " + " ".join(f"{k}={v}" for k, v in fields.items())
              + f" workers={WORKERS} threads={THREADS}", flush=True)
    finally:
        stop_processes(procs)
        if kernel is not None:
            if tenant_slug is not None:
                try:
                    TenantService(kernel).delete(tenant_slug)  # role, schema, Redis ACL user
                except Exception:
                    logging.exception("could not delete the benchmark tenant")
            kernel.close()
        databases.drop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_serve":
        _serve(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_wsload":
        a = sys.argv[2:]
        _wsload(int(a[0]), a[1], a[2], int(a[3]), a[4])
    elif len(sys.argv) > 1 and sys.argv[1] == "_load":
        a = sys.argv[2:]
        _load(int(a[0]), a[1], a[2], a[3], int(a[4]), float(a[5]))
    else:
        main()
