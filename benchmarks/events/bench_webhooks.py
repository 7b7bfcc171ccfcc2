"""Webhook delivery (issue 12): throughput per worker, latency at half that rate, isolation.

Server mode on loopback, everything started here and stopped at the end: throw-away
PostgreSQL databases (``ScratchDatabases``: global + one container), the local Redis,
a random master key, one tenant (``TenantService.create``: role, schema, migrations,
Redis ACL user; deleted at the end). ``GUIDEPATH_WEBHOOKS_ALLOW_PRIVATE=1`` so plain
``http://`` to 127.0.0.1 is allowed; every other delivery option is the product's
default (8 delivery threads, at most 2 at once per subscription, 10 s read timeout,
15 s sweep, tenant pool of 2 connections).

Processes of their own:

* **receiver** — ``http.server.ThreadingHTTPServer`` (HTTP/1.1) answering ``204`` at
  once to any POST and noting its arrival time (``time.time()``), path and
  ``webhook-id``; beside it a **dead** endpoint that accepts connections and never
  answers (the delivery hits the 10 s read timeout).
* **worker** — ``DeliveryWorker`` (the plugin's class, what ``guidepath worker
  webhooks`` runs) on its own kernel. A fresh process per phase.
* **bare** — the baseline client: the same number of threads (8) posting the same
  bodies, signed per request with the same ``signing.headers`` and the same
  subscription secrets, with ``http.client``, a new connection per request — as the
  worker does (``sender.post`` closes its connection after each delivery; no keep-alive).

Phases:

1. **Throughput** — N pending deliveries (10,000; QUICK 2,000) spread over SUBS
   subscriptions (4: with 2 per subscription, all 8 threads can be busy) written
   straight into ``webhook_deliveries`` (as ``handle_event`` writes them), then the
   worker starts and drains them. Rate = deliveries / (last arrival − first arrival)
   at the receiver. The bare client sends the same N bodies, timed the same way, run
   twice (before and after ours; the better counts). ``ratio`` = ours / bare.
2. **Latency** — the worker process emits events at half the measured throughput
   (in deliveries/s; each event matches the SUBS subscriptions) for SECONDS (20;
   QUICK 8): ``Event.new`` then the plugin's own ``handle_event`` (what an app node's
   dispatcher calls: pending rows + an in-process nudge of its worker). Latency =
   receiver arrival − the moment just before ``Event.new``; p50/p99. The outbox and
   the bus (before ``handle_event``) are not in it.
3. **Isolation** — phase 2 again with one more subscription (to every event) whose
   endpoint never answers; the live subscriptions' p99 beside phase 2's.

    .venv/bin/python benchmarks/events/bench_webhooks.py          # or: make bench-webhooks
    QUICK=1 .venv/bin/python benchmarks/events/bench_webhooks.py  # under a minute
    N=10000 SUBS=4 SECONDS=20 LAT_RATE=<deliveries/s> POOL_SIZE=2  # knobs
    PROFILE=1                                                     # diagnosis (see docs/performance.md)

Last line:

    RESULT bench=webhooks deliveries_per_s=… p99_ms=… p99_with_dead_ms=… ratio=ours/bare
"""

from __future__ import annotations

import base64
import dataclasses
import http.client
import http.server
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

QUICK = os.environ.get("QUICK", "") not in ("", "0")
N = int(os.environ.get("N", "2000" if QUICK else "10000"))
SUBS = int(os.environ.get("SUBS", "4"))
SECONDS = float(os.environ.get("SECONDS", "8" if QUICK else "20"))
POOL_SIZE = int(os.environ.get("POOL_SIZE", "2"))  # the worker's tenant_pool_size (the kernel's default: 2)
THREADS = 8  # the product's default Options.threads; the bare client uses as many
LAT_RATE = os.environ.get("LAT_RATE")  # deliveries/s for phases 2-3 (default: half of phase 1)
REDIS_URL = os.environ.get("GUIDEPATH_BENCH_REDIS", "redis://127.0.0.1:6379/0")
PG_ADMIN_URL = os.environ.get("GUIDEPATH_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SLUG = "bench-webhooks"
EVENT_TYPE = "customer.created"
HERE = Path(__file__).resolve()
MAX_LIFETIME = 900.0  # child processes give up on their own after this, or when the parent goes


def watchdog(on_orphan) -> None:
    parent, started = os.getppid(), time.monotonic()

    def loop() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent or time.monotonic() - started > MAX_LIFETIME:
                on_orphan()
                return

    threading.Thread(target=loop, daemon=True).start()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- receiver process (`_receiver`) ------------------------------------------------------------


def _receiver() -> None:
    records: list[tuple[float, str, str]] = []
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            at = time.time()
            with lock:
                records.append((at, self.path, self.headers.get("webhook-id", "")))
            self.send_response(204)
            self.end_headers()

        def do_GET(self) -> None:
            with lock:
                if self.path == "/_dump":
                    body = json.dumps(records).encode()
                    records.clear()
                else:
                    body = str(len(records)).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 512

    server = Server(("127.0.0.1", 0), Handler)

    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead.listen(128)
    held: list[socket.socket] = []

    def hold() -> None:  # accept, read nothing, answer nothing
        while True:
            try:
                conn, _ = dead.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=hold, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    watchdog(server.shutdown)
    print(f"PORT {server.server_address[1]} DEAD {dead.getsockname()[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
        dead.close()
        for conn in held:
            conn.close()


# -- worker process (`_worker SPEC emit|drain`) --------------------------------------------------


def _worker(spec_path: str, mode: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    logging.basicConfig(level=logging.WARNING, format="worker %(levelname)s %(name)s: %(message)s")
    from guidepath.core.config import Config
    from guidepath.core.events import Event
    from guidepath.core.kernel import Kernel
    from guidepath.plugins.webhooks.options import state_for
    from guidepath.plugins.webhooks.plugin import handle_event
    from guidepath.plugins.webhooks.worker import DeliveryWorker

    kernel = Kernel(Config(data_dir=Path(spec["data_dir"]), database_url=spec["global_url"],
                           redis_url=spec["redis_url"], master_key=spec["master_key"],
                           tenant_pool_size=POOL_SIZE, webhooks_allow_private=True))
    state = state_for(kernel)
    state.options = dataclasses.replace(state.options, allow_private=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    watchdog(stop.set)
    worker = DeliveryWorker(kernel, name="bench-webhooks")
    worker.start()
    if os.environ.get("PROFILE") and mode == "drain":
        threading.Thread(target=_sample, args=(stop, Path(spec_path).with_name("profile.txt")), daemon=True).start()
    print(f"READY threads={state.options.threads} per_endpoint={state.options.per_endpoint} "
          f"sweep={state.options.sweep_seconds}", flush=True)
    try:
        if mode == "emit":
            tenant = kernel.directory.get_by_slug(spec["slug"])
            ctx = kernel.context(tenant)
            eps, seconds = spec["events_per_s"], spec["seconds"]
            emitted: list[tuple[str, float]] = []
            began = time.time()
            next_at = began
            while not stop.is_set() and time.time() - began < seconds:
                delay = next_at - time.time()
                if delay > 0:
                    time.sleep(delay)
                created = time.time()
                event = Event.new(tenant.id, EVENT_TYPE, {"customer_id": f"cus_{len(emitted):026d}",
                                                          "bench": True})
                handle_event(event, ctx)
                emitted.append((event.id, created))
                next_at += 1.0 / eps
            took = time.time() - began
            Path(spec["emitted_path"]).write_text(json.dumps(emitted))
            print(f"EMITTED {len(emitted)} in {took:.2f} s", flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        cpu = os.times()
        print(f"CPU user {cpu.user:.2f} s system {cpu.system:.2f} s", flush=True)
        worker._stop.set()
        worker._wake.set()
        os._exit(0)  # the benchmark is over for this process; pools and sockets go with it


def _sample(stop: threading.Event, out: Path) -> None:
    """PROFILE=1 (diagnosis): a wall-clock sampler of the worker's threads every 5 ms;
    per sample, the innermost frame of interest (guidepath, sqlalchemy, psycopg, http,
    socket, threading) and, inclusive, the product's functions on the stack."""
    from collections import Counter

    leaf: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    samples = 0
    me = threading.get_ident()
    while not stop.wait(0.005):
        for ident, frame in sys._current_frames().items():
            if ident == me:
                continue
            names = []
            f = frame
            while f is not None:
                code = f.f_code
                names.append(f"{Path(code.co_filename).parent.name}/{Path(code.co_filename).name}:{code.co_name}")
                f = f.f_back
            if not any(n.startswith(("webhooks/", "concurrent/")) for n in names):
                continue
            samples += 1
            leaf[names[0]] += 1
            for n in set(names):
                if n.startswith(("webhooks/", "pool/", "util/queue.py", "concurrent/")):
                    inclusive[n] += 1
            if samples % 500 == 0:
                lines = [f"{samples} thread samples", "-- innermost frame"]
                lines += [f"{c / samples:6.1%} {n}" for n, c in leaf.most_common(25)]
                lines += ["-- inclusive (webhooks/, sqlalchemy's pool and queue, concurrent.futures)"]
                lines += [f"{c / samples:6.1%} {n}" for n, c in inclusive.most_common(30)]
                out.write_text("\n".join(lines))


# -- bare client process (`_bare BODIES PORT`) -----------------------------------------------------


def _bare(bodies_path: str, port: str) -> None:
    from guidepath.plugins.webhooks import signing

    items = json.loads(Path(bodies_path).read_text())
    lock = threading.Lock()
    index = [0]
    failures = [0]

    def run() -> None:
        while True:
            with lock:
                i = index[0]
                index[0] += 1
            if i >= len(items):
                return
            path, event_id, payload, secret = items[i]
            body = payload.encode()
            headers = {"Content-Type": "application/json", "User-Agent": "bare/1",
                       "Content-Length": str(len(body)),
                       **signing.headers([secret], event_id, int(time.time()), body)}
            conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                response.read()
                if response.status != 204:
                    failures[0] += 1
            except OSError:
                failures[0] += 1
            finally:
                conn.close()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"DONE failures={failures[0]}", flush=True)


# -- orchestration ----------------------------------------------------------------------------


def spawn(args: list[str], name: str, logs: Path, procs: list) -> subprocess.Popen:
    log = open(logs / f"{name}.log", "wb")  # noqa: SIM115 - a pipe nobody reads could block the child
    proc = subprocess.Popen([sys.executable, str(HERE), *args], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", "GUIDEPATH_WEBHOOKS_ALLOW_PRIVATE": "1"})
    log.close()
    proc.log_path = logs / f"{name}.log"  # type: ignore[attr-defined]
    procs.append(proc)
    return proc


def wait_line(proc: subprocess.Popen, prefix: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in proc.log_path.read_text(errors="replace").splitlines():  # type: ignore[attr-defined]
            if line.startswith(prefix):
                return line
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    tail = "\n".join(proc.log_path.read_text(errors="replace").splitlines()[-30:])  # type: ignore[attr-defined]
    raise RuntimeError(f"no {prefix!r} from {proc.args[2]} (exit code {proc.poll()}):\n{tail}")


def stop(proc: subprocess.Popen, procs: list) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    if proc in procs:
        procs.remove(proc)


def main() -> None:
    from guidepath.core.config import Config
    from guidepath.core.events import Event
    from guidepath.core.kernel import Kernel
    from guidepath.core.plugin_api import new_id, utcnow
    from guidepath.core.tenancy.service import TenantService
    from guidepath.core.tenancy.storage import harden_container
    from guidepath.core.testing.databases import ScratchDatabases
    from guidepath.plugins.webhooks import store
    from guidepath.plugins.webhooks.tables import webhook_deliveries as D
    from sqlalchemy import func, select

    logging.basicConfig(level=logging.WARNING)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds like Ctrl+C: the finally cleans up
    began = time.monotonic()
    print(f"bench-webhooks: {'QUICK ' if QUICK else ''}N={N} subscriptions={SUBS} latency phases {SECONDS:g} s, "
          f"worker tenant pool {POOL_SIZE}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="gp-bench-webhooks-"))
    databases = ScratchDatabases(PG_ADMIN_URL)
    procs: list[subprocess.Popen] = []
    kernel = None
    tenant_slug = None
    try:
        receiver = spawn(["_receiver"], "receiver", tmp, procs)
        global_url = databases.create("global")
        container_url = databases.create("c1")
        harden_container(container_url)
        master_key = base64.b64encode(secrets.token_bytes(32)).decode()
        kernel = Kernel(Config(data_dir=tmp / "data", database_url=global_url, redis_url=REDIS_URL,
                               master_key=master_key, webhooks_allow_private=True))
        kernel.upgrade_global()
        kernel.directory.add_container(container_url)
        tenant = TenantService(kernel).create(SLUG)
        tenant_slug = tenant.slug
        ctx = kernel.context(tenant)
        _, port, _, dead_port = wait_line(receiver, "PORT ").split()
        base = f"http://127.0.0.1:{port}"

        def receiver_get(path: str):
            with urllib.request.urlopen(base + path, timeout=30) as response:
                return json.loads(response.read())

        subs: list[tuple[str, str, str]] = []  # (id, path, secret)
        with ctx.begin() as conn:
            for i in range(SUBS):
                made, secret = store.create(conn, {"url": f"{base}/s{i}", "event_types": ["*"]},
                                            tenant_id=tenant.id, data_key=kernel.data_key(tenant), actor=None)
                subs.append((made["id"], f"/s{i}", secret))
        spec_path = tmp / "spec.json"  # holds the master key: 0600, removed at the end
        spec_path.touch(mode=0o600)
        spec = {"data_dir": str(tmp / "worker"), "global_url": global_url, "redis_url": REDIS_URL,
                "master_key": master_key, "slug": SLUG}
        spec_path.write_text(json.dumps(spec))

        # -- 1. throughput ------------------------------------------------------------------
        bodies = []
        rows = []
        now = utcnow()
        for i in range(N):
            sub_id, path, secret = subs[i % SUBS]
            event = Event.new(tenant.id, EVENT_TYPE, {"customer_id": f"cus_{i:026d}", "bench": True})
            payload = event.to_json().decode()
            rows.append(dict(id=new_id("whd"), subscription_id=sub_id, event_id=event.id, event_type=EVENT_TYPE,
                             payload=payload, status="pending", attempt=0, schedule_pos=0, due_at=now,
                             created_at=now, updated_at=now))
            bodies.append((path, event.id, payload, secret))
        bodies_path = tmp / "bodies.json"
        bodies_path.write_text(json.dumps(bodies))

        def arrival_rate(what: str) -> float:
            records = receiver_get("/_dump")
            assert len(records) >= N, f"{what}: {len(records)} of {N} arrived"
            times = sorted(r[0] for r in records)
            gap, at = max((b - a, a - times[0]) for a, b in zip(times, times[1:]))
            print(f"  {what}: {len(times)} arrivals in {times[-1] - times[0]:.2f} s, longest pause between two "
                  f"{gap * 1000:.0f} ms ({at:.1f} s in)", flush=True)
            return (len(times) - 1) / (times[-1] - times[0])

        def run_bare(k: int) -> float:
            proc = spawn(["_bare", str(bodies_path), port], f"bare{k}", tmp, procs)
            proc.wait(timeout=600)
            procs.remove(proc)
            line = wait_line(proc, "DONE", timeout=5)
            rate = arrival_rate("bare")
            print(f"bare client (run {k}): {rate:,.0f} deliveries/s ({line})", flush=True)
            return rate

        bare_rates = [run_bare(1)]
        with ctx.begin() as conn:
            for start in range(0, N, 2000):
                conn.execute(D.insert(), rows[start:start + 2000])
        receiver_get("/_dump")
        t0 = time.monotonic()
        worker = spawn(["_worker", str(spec_path), "drain"], "worker-throughput", tmp, procs)
        print(wait_line(worker, "READY").lower(), f"(started in {time.monotonic() - t0:.1f} s)", flush=True)
        deadline = time.monotonic() + max(120.0, N / 50)
        while receiver_get("/_count") < N and time.monotonic() < deadline:
            time.sleep(0.2)
        stop(worker, procs)
        print("worker process " + wait_line(worker, "CPU", timeout=5).lower(), flush=True)
        if (tmp / "profile.txt").exists():
            print((tmp / "profile.txt").read_text(), flush=True)
        ours = arrival_rate("ours")
        with ctx.engine.connect() as conn:
            done = conn.execute(select(func.count()).select_from(D).where(D.c.status == "succeeded")).scalar()
        print(f"ours (1 worker, {THREADS} threads): {ours:,.0f} deliveries/s ({done} succeeded in the database)",
              flush=True)
        bare_rates.append(run_bare(2))
        bare = max(bare_rates)

        # -- 2 and 3. latency at half the rate, without and with a dead endpoint ------------
        rate = float(LAT_RATE) if LAT_RATE else ours / 2
        events_per_s = rate / SUBS

        def latency_phase(name: str) -> tuple[list[float], int, int]:
            spec.update(events_per_s=events_per_s, seconds=SECONDS, emitted_path=str(tmp / f"{name}.json"))
            spec_path.write_text(json.dumps(spec))
            receiver_get("/_dump")
            proc = spawn(["_worker", str(spec_path), "emit"], f"worker-{name}", tmp, procs)
            wait_line(proc, "READY")
            line = wait_line(proc, "EMITTED", timeout=SECONDS + 60)
            emitted = dict(json.loads(Path(spec["emitted_path"]).read_text()))
            want = len(emitted) * SUBS
            deadline = time.monotonic() + 15
            while receiver_get("/_count") < want and time.monotonic() < deadline:
                time.sleep(0.1)
            stop(proc, procs)
            live = {path for _, path, _ in subs}
            records = receiver_get("/_dump")
            latencies = [(at - emitted[wid]) * 1000 for at, path, wid in records if path in live and wid in emitted]
            print(f"{name}: {line.split(' ', 1)[1]} ({len(emitted) / SECONDS:,.0f} events/s x {SUBS} live "
                  f"subscriptions = {len(emitted) * SUBS / SECONDS:,.0f} deliveries/s asked), "
                  f"{len(latencies)} of {want} delivered: p50 {pct(latencies, .5):.1f} ms, "
                  f"p99 {pct(latencies, .99):.1f} ms, max {max(latencies, default=float('nan')):.1f} ms", flush=True)
            start = min(emitted.values(), default=0.0)
            slowest = sorted(((at - emitted[wid]) * 1000, emitted[wid] - start, path)
                             for at, path, wid in records if path in live and wid in emitted)[-8:]
            print("  slowest (ms @ s into the phase): " + ", ".join(f"{ms:.0f} @ {t:.1f}" for ms, t, _ in slowest),
                  flush=True)
            return latencies, len(latencies), want

        print(f"latency phases at {rate:,.0f} deliveries/s ({events_per_s:,.1f} events/s)", flush=True)
        plain, _, _ = latency_phase("latency")
        with ctx.begin() as conn:
            dead, _ = store.create(conn, {"url": f"http://127.0.0.1:{dead_port}/dead", "event_types": ["*"]},
                                   tenant_id=tenant.id, data_key=kernel.data_key(tenant), actor=None)
        with_dead, got_d, want_d = latency_phase("with-dead")
        with ctx.engine.connect() as conn:
            stuck = conn.execute(select(D.c.status, func.count()).where(D.c.subscription_id == dead["id"])
                                 .group_by(D.c.status)).all()
        print(f"dead subscription's deliveries: { {s: n for s, n in stuck} }", flush=True)

        p99, p99_dead = pct(plain, .99), pct(with_dead, .99)
        verdicts = [("throughput", ours >= 1000, f"{ours:,.0f}/s vs >= 1,000/s"),
                    ("p99", p99 < 500, f"{p99:.1f} ms vs < 500 ms"),
                    ("isolation", p99_dead < 500 and got_d == want_d,
                     f"p99 {p99_dead:.1f} ms with a dead endpoint vs {p99:.1f} ms without")]
        print("targets: " + "; ".join(f"{n} {'met' if ok else 'MISSED'} ({d})" for n, ok, d in verdicts)
              + f"; total {time.monotonic() - began:.0f} s", flush=True)
        print(f"RESULT bench=webhooks deliveries_per_s={ours:.0f} p99_ms={p99:.1f} p99_with_dead_ms={p99_dead:.1f} "
              f"p50_ms={pct(plain, .5):.1f} p50_with_dead_ms={pct(with_dead, .5):.1f} bare_per_s={bare:.0f} "
              f"ratio={ours / bare:.3f}", flush=True)
    finally:
        for proc in procs:
            stop(proc, procs)
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
    if len(sys.argv) > 1 and sys.argv[1] == "_receiver":
        _receiver()
    elif len(sys.argv) > 1 and sys.argv[1] == "_worker":
        _worker(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "_bare":
        _bare(sys.argv[2], sys.argv[3])
    else:
        main()
