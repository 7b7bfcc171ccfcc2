"""Tenant stack overhead: guidepath's API against a bare Flask + SQLAlchemy app.

Server mode on loopback: a throwaway PostgreSQL global database and container
database (``ScratchDatabases``), Redis for the cache, the in-process event bus
(no Kafka), a random master key. One tenant, one support session, one API key.

Two servers, each in its OWN PROCESS, both werkzeug's multi-threaded server
(``make_server(threaded=True)``, what ``run_simple(threaded=True)`` and
``guidepath run`` use), request logging off in both:

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

Everything it starts (servers, load generators) it stops; the databases, the
tenant's PostgreSQL role and its Redis ACL user are removed even on error. Last line:

    RESULT bench=web ours_rps=<v> bare_rps=<v> ours_p50_ms=<v> bare_p50_ms=<v> ratio=<ours/bare>
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
REDIS_URL = os.environ.get("GUIDEPATH_BENCH_REDIS", "redis://127.0.0.1:6379/0")
PG_ADMIN_URL = os.environ.get("GUIDEPATH_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SERVER_MAX_LIFETIME = 1800.0  # a server left behind by a killed parent still goes away
SLUG = "bench-web"
HERE = Path(__file__).resolve()


# -- servers (run in their own processes: `bench_web.py _serve ours|bare SPEC`) ------------


def _serve(kind: str, spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no per-request log lines
    from werkzeug.serving import make_server

    closers = []
    if kind == "ours":
        from guidepath.core.config import Config
        from guidepath.core.kernel import Kernel
        from guidepath.core.web.app import create_app

        config = Config(
            data_dir=Path(spec["data_dir"]), database_url=spec["global_url"], redis_url=spec["redis_url"],
            kafka_bootstrap=None, master_key=spec["master_key"],
            tenant_pool_size=spec["pool_size"], tenant_pool_max_connections=spec["pool_max"],
        )
        kernel = Kernel(config)
        app = create_app(kernel=kernel)  # starts the event workers, as `guidepath run` does
        closers.append(kernel.close)
    elif kind == "bare":
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
    else:
        raise SystemExit(f"unknown server kind {kind!r}")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    parent = os.getppid()
    started = time.monotonic()

    def watchdog() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent or time.monotonic() - started > SERVER_MAX_LIFETIME:
                server.shutdown()
                return

    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    threading.Thread(target=watchdog, daemon=True).start()
    print(f"PORT {server.server_port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        for close in closers:
            close()


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
    pct = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))

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


def start_server(kind: str, spec_path: Path, procs: list) -> int:
    proc = subprocess.Popen([sys.executable, str(HERE), "_serve", kind, str(spec_path)],
                            stdout=subprocess.PIPE, text=True)
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
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def main() -> None:
    import requests

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
        ports = {"ours": start_server("ours", spec, procs), "bare": start_server("bare", spec, procs)}
        path = f"/api/v1/sessions/{session['id']}"

        for kind, port in ports.items():  # both answer the same row before anything is timed
            host = f"{SLUG}.localhost:{port}"
            response = requests.get(f"http://127.0.0.1:{port}{path}", timeout=10,
                                    headers={"Host": host, "Authorization": f"Bearer {key}"})
            if response.status_code != 200 or response.json().get("id") != session["id"]:
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
        print(f"RESULT bench=web ours_rps={summary['ours']['rps']:.1f} bare_rps={summary['bare']['rps']:.1f} "
              f"ours_p50_ms={summary['ours']['p50']:.2f} bare_p50_ms={summary['bare']['p50']:.2f} "
              f"concurrency={CONCURRENCY} loadgen={loadgen} ratio={ratio:.3f}", flush=True)
    finally:
        stop_processes(procs)
        if kernel is not None:
            if tenant_slug is not None:
                try:
                    TenantService(kernel).delete(tenant_slug)  # role, schema, Redis ACL user
                except Exception:  # noqa: BLE001 - the databases are dropped next anyway
                    logging.exception("could not delete the benchmark tenant")
            kernel.close()
        databases.drop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_serve":
        _serve(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "_load":
        a = sys.argv[2:]
        _load(int(a[0]), a[1], a[2], a[3], int(a[4]), float(a[5]))
    else:
        main()
