"""Agent console speed (issue 11): page and API server time, and real-time latency.

Server mode on loopback, everything started here and stopped at the end: a Tansu
broker (Kafka protocol), throw-away PostgreSQL databases (``ScratchDatabases``), the
local Redis, a random master key. One tenant seeded in bulk (SQLAlchemy Core, as
the migration role, straight into the tenant's schema) with SESSIONS historical
sessions (10,000; QUICK 3,000), CUSTOMERS customers (2,000; QUICK 600) with one or
two devices each, chat messages and timeline entries, 13 agents, and 30 live
sessions (18 waiting, 10 active, 2 created).

Three servers, each in its OWN PROCESS, werkzeug's threaded server, request logging off:

* **node1**, **node2** — ``create_app(kernel=...)`` with the Kafka bus and Redis
  fan-out, the event workers running as under ``guidepath run``; the two nodes
  share PostgreSQL, Redis and the broker (the topology of
  tests/core/web/test_fanout_processes.py).
* **bare** — Flask + SQLAlchemy Core connected as the SAME tenant role with the
  same pool size, answering the queue's list with ONE query (live sessions LEFT
  JOIN customers, devices, users, the waiting position by a window function)
  rendered to the same JSON shape; no tenancy, no authentication, no plugins.

**Server time.** Each server process wraps its WSGI app in a timing middleware
(benchmark only): from the WSGI call until the body has been produced and closed
(Flask's teardown included), sent back as an ``X-Bench-Server-Ms`` header. It is
what our code costs per request, without the client's Python or loopback I/O, which
on 2 shared cores would otherwise dominate and vary. The client side (one
keep-alive connection, sequential requests, ``requests``) is printed beside it.

Sets, signed in with a real login cookie (the tenant's admin, who is an agent):

* **queue** — ``GET /queue`` + ``GET /api/v1/sessions?state=live&expand=customer,
  device,agent,queue&limit=200`` (what queue.js asks for);
* **session** — ``GET /sessions/<id>`` + ``GET /api/v1/sessions/<id>?expand=customer,
  device,agent,queue`` + ``…/messages?limit=200`` + ``…/timeline?limit=200``, over
  live and ended sessions in turn;
* **history** — ``/history?q=<last name>``, ``/history?outcome=resolved&from=<day>``
  and the API's ``?q=…&order=newest&expand=customer,agent&limit=25`` and
  ``?outcome=resolved&since=…&order=newest&expand=customer,agent&limit=25``.

A set's time is the sum of its requests' server times in one iteration (the work
one page view costs); p50/p95 over ITERATIONS (300; QUICK 40). History's figure is
the worst of its four requests' p95 (each history search is one request). The bare
baseline is asked in the same iterations, alternating, and ``ratio`` is our queue
API's p50 server time over bare's.

**Real-time latency.** An agent's ``/ws`` (cookie) on node1; state changes
(``POST /api/v1/sessions/{id}/state``, waiting ⇄ active) made on node2; the time
from the POST's response to the ``session.state_changed`` event's arrival on the
socket, one change at a time after a random 50–550 ms pause (so the changes do not
lock onto the consumer's fetch cycle), WS_CHANGES of them (100; QUICK 25), after a
warm-up that waits out the consumer-group rebalance (at least 6 s after the nodes
started, and 5 consecutive events under 1 s). FETCH_MAX_WAIT_MS=<ms> sets the
dispatcher consumer's ``fetch_max_wait_ms`` in both nodes (diagnosis only).
For each change the event's own time, the outbox row's ``published_at`` and the
moment a Redis subscriber of the fan-out channel saw it split the path into:
POST → published to the broker (nudge, drain, ack) → dispatched to Redis (consumer
fetch, timeline write, publish) → on the socket (node1's listener and its socket loop).

    .venv/bin/python benchmarks/console/bench_console.py        # or: make bench-console
    QUICK=1 .venv/bin/python benchmarks/console/bench_console.py
    ITERATIONS=300 WS_CHANGES=100 SESSIONS=10000 CUSTOMERS=2000 POOL_SIZE=2   # knobs

Last line:

    RESULT bench=console queue_p95_ms=… session_p95_ms=… history_p95_ms=… ws_p95_ms=… ratio=…
"""

from __future__ import annotations

import base64
import json
import logging
import os
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

QUICK = os.environ.get("QUICK", "") not in ("", "0")
SESSIONS = int(os.environ.get("SESSIONS", "3000" if QUICK else "10000"))
CUSTOMERS = int(os.environ.get("CUSTOMERS", "600" if QUICK else "2000"))
ITERATIONS = int(os.environ.get("ITERATIONS", "40" if QUICK else "300"))
WARMUP_ITERATIONS = 5 if QUICK else 20
WS_CHANGES = int(os.environ.get("WS_CHANGES", "25" if QUICK else "100"))
WS_WARMUP = 5  # consecutive events under 1 s, and at least WS_SETTLE_SECONDS after the nodes started
WS_SETTLE_SECONDS = 6.0  # 3x the group's session timeout: both nodes have joined and the group rebalanced
#: Diagnosis only: the dispatcher consumer's fetch_max_wait_ms in both nodes (unset: the
#: product's, i.e. kafka-python's default of 500 ms).
FETCH_MAX_WAIT_MS = os.environ.get("FETCH_MAX_WAIT_MS")
POOL_SIZE = int(os.environ.get("POOL_SIZE", "2"))  # the kernel's default tenant_pool_size
LIVE = {"waiting": 18, "active": 10, "created": 2}
AGENTS = 12  # plus the admin
REDIS_URL = os.environ.get("GUIDEPATH_BENCH_REDIS", "redis://127.0.0.1:6379/0")
PG_ADMIN_URL = os.environ.get("GUIDEPATH_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
KAFKA_SESSION_TIMEOUT_MS = 2_000  # as the tests: Tansu joins a group in ~half of it
SERVER_MAX_LIFETIME = 1800.0
SLUG = "bench-console"
ADMIN_EMAIL = "admin@bench-console.example.com"
ADMIN_PASSWORD = "correct-horse-battery"
HERE = Path(__file__).resolve()
TIMING_HEADER = "X-Bench-Server-Ms"

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Linus",
         "Radia", "Niklaus", "Hedy", "Tim", "Karen", "John", "Sophie", "Dennis", "Anita", "Guido",
         "Mary", "Claude", "Joan", "Bjarne", "Katherine", "Vint", "Susan", "Leslie", "Ida", "Yukihiro"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton",
        "Torvalds", "Perlman", "Wirth", "Lamarr", "Berners-Lee", "Jones", "McCarthy", "Wilson", "Ritchie",
        "Borg", "Rossum", "Keller", "Shannon", "Clarke", "Stroustrup", "Johnson", "Cerf", "Kare", "Lamport",
        "Rhodes", "Matsumoto", "Backus", "Kay", "Engelbart", "Sutherland", "Cocke", "Hoare", "Milner",
        "Naur", "Iverson", "Kahan", "Codd", "Gray", "Stonebraker", "Feigenbaum", "Reddy", "Rivest",
        "Shamir", "Adleman", "Diffie", "Hellman"]
SEARCHES = ["Lovelace", "Hopper", "Dijkstra", "Shamir", "Codd"]
DEVICES = [("Samsung", "samsung", "Galaxy S23", "Android", "14"), ("Google", "google", "Pixel 8", "Android", "15"),
           ("Apple", "Apple", "iPhone 15", "iOS", "17.4"), ("Xiaomi", "Redmi", "Note 12", "Android", "13"),
           ("Acme", "Acme", "Test Phone 7", "Android", "15"), ("Motorola", "moto", "g84", "Android", "14")]


# -- servers (`bench_console.py _serve ours|bare SPEC NAME`) -----------------------------------


class ServerTiming:
    """WSGI middleware: the time from the call until the body is produced and closed,
    returned in a response header. The body is buffered (these responses are small);
    ``/ws`` passes through untouched."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/ws":
            return self.app(environ, start_response)
        started = time.perf_counter()
        captured: list = []

        def capture(status, headers, exc_info=None):
            captured[:] = [status, headers, exc_info]
            return lambda data: None  # nothing here writes through write()

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        elapsed_ms = (time.perf_counter() - started) * 1000
        status, headers, exc_info = captured
        start_response(status, [*headers, (TIMING_HEADER, f"{elapsed_ms:.3f}")], exc_info)
        return [body]


def _serve(kind: str, spec_path: str, name: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    logging.basicConfig(level=logging.WARNING, format=f"{name} %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from werkzeug.serving import make_server

    closers = []
    if kind == "ours":
        from guidepath.core.config import Config
        from guidepath.core.kernel import Kernel
        from guidepath.core.web.app import create_app

        config = Config(
            data_dir=Path(spec["data_dir"]) / name, database_url=spec["global_url"], redis_url=spec["redis_url"],
            kafka_bootstrap=spec["kafka_bootstrap"], kafka_session_timeout_ms=KAFKA_SESSION_TIMEOUT_MS,
            master_key=spec["master_key"], tenant_pool_size=spec["pool_size"],
            tenant_pool_max_connections=spec["pool_max"],
        )
        if spec.get("fetch_max_wait_ms"):  # diagnosis knob, see FETCH_MAX_WAIT_MS
            from guidepath.core.events.kafka_settings import KafkaSettings

            product_config = KafkaSettings.consumer_config
            KafkaSettings.consumer_config = lambda self, group: {  # type: ignore[method-assign]
                **product_config(self, group), "fetch_max_wait_ms": int(spec["fetch_max_wait_ms"])}
        kernel = Kernel(config)
        app = create_app(kernel=kernel)  # starts the event workers, as `guidepath run` does
        closers.append(kernel.close)
    elif kind == "bare":
        from flask import Flask, jsonify
        from sqlalchemy import create_engine, text

        engine = create_engine(spec["tenant_url"], pool_size=spec["pool_size"], max_overflow=0,
                               pool_timeout=10, pool_pre_ping=False, pool_recycle=1800)
        query = text("""
            SELECT s.id, s.customer_id, s.device_id, s.agent_id, s.state, s.resolution, s.outcome,
                   s.created_at, s.updated_at, s.ended_at, s.waiting_since, s.started_at,
                   c.first_name, c.last_name, c.email AS customer_email,
                   d.manufacturer, d.model, d.os_name, d.os_version,
                   u.name AS agent_name, u.email AS agent_email,
                   CASE WHEN s.state = 'waiting' THEN
                        row_number() OVER (PARTITION BY s.state = 'waiting' ORDER BY s.waiting_since, s.id)
                   END AS position
            FROM support_sessions s
            LEFT JOIN customers c ON c.id = s.customer_id
            LEFT JOIN devices d ON d.id = s.device_id
            LEFT JOIN users u ON u.id = s.agent_id
            WHERE s.state IN ('created', 'waiting', 'active')
            ORDER BY s.id LIMIT :limit""")
        app = Flask("bare")

        def iso(value):
            return value.isoformat() if value is not None else None

        @app.get("/api/v1/sessions")
        def live_sessions():
            with engine.connect() as conn:
                rows = conn.execute(query, {"limit": 201}).all()
            items = []
            for r in rows[:200]:
                name = " ".join(p for p in (r.first_name, r.last_name) if p) or None
                items.append({
                    "id": r.id, "customer_id": r.customer_id, "device_id": r.device_id, "agent_id": r.agent_id,
                    "state": r.state, "resolution": r.resolution, "outcome": r.outcome,
                    "created_at": iso(r.created_at), "updated_at": iso(r.updated_at), "ended_at": iso(r.ended_at),
                    "waiting_since": iso(r.waiting_since), "started_at": iso(r.started_at),
                    "customer": {"id": r.customer_id, "name": name, "email": r.customer_email}
                    if r.customer_id else None,
                    "device": {"id": r.device_id, "summary": f"{r.manufacturer} {r.model} · {r.os_name} {r.os_version}"}
                    if r.device_id else None,
                    "agent": {"id": r.agent_id, "name": r.agent_name, "email": r.agent_email} if r.agent_id else None,
                    "queue": {"state": r.state, "position": r.position,
                              "waiting_ahead": r.position - 1 if r.position else None},
                })
            return jsonify({"items": items, "next": None})

        closers.append(engine.dispose)
    else:
        raise SystemExit(f"unknown server kind {kind!r}")

    app.wsgi_app = ServerTiming(app.wsgi_app)
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


def start_server(kind: str, spec_path: Path, name: str, procs: list, logs: Path) -> subprocess.Popen:
    log = open(logs / f"{name}.log", "wb")  # noqa: SIM115 - a pipe nobody reads could block the server
    proc = subprocess.Popen([sys.executable, str(HERE), "_serve", kind, str(spec_path), name],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    log.close()
    proc.log_path = logs / f"{name}.log"  # type: ignore[attr-defined]
    procs.append(proc)
    return proc


def wait_port(proc: subprocess.Popen, name: str, timeout: float = 90.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in proc.log_path.read_text(errors="replace").splitlines():  # type: ignore[attr-defined]
            if line.startswith("PORT "):
                return int(line.split()[1])
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    tail = "\n".join(proc.log_path.read_text(errors="replace").splitlines()[-30:])  # type: ignore[attr-defined]
    raise RuntimeError(f"{name} did not start (exit code {proc.poll()}):\n{tail}")


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


# -- seeding ---------------------------------------------------------------------------------


def _id(prefix: str, at: datetime) -> str:
    """An id as ``new_id`` makes it, but for a time in the past (ids are time-ordered)."""
    from guidepath.core.domain.ids import _b32

    return f"{prefix}_{_b32(int(at.timestamp() * 1000), 10)}{_b32(secrets.randbits(80), 16)}"


def seed(conn, rng: random.Random, now: datetime, admin_id: str) -> dict:
    """Bulk inserts (executemany, SQLAlchemy Core) straight into the tenant's tables."""
    from guidepath.core.crypto.passwords import hash_password
    from guidepath.core.domain.tables import (
        customers,
        devices,
        session_messages,
        session_timeline,
        support_sessions,
        users,
    )

    password_hash = hash_password(ADMIN_PASSWORD)  # the agents never sign in; one hash for all
    agent_rows = []
    for i in range(AGENTS):
        at = now - timedelta(days=400 - i)
        agent_rows.append({
            "id": _id("usr", at), "email": f"agent{i}@bench-console.example.com",
            "name": f"{FIRST[i]} Agent{i}", "role": "agent", "password_hash": password_hash, "disabled": False,
            "failed_logins": 0, "created_at": at, "updated_at": at,
            "availability": "online" if i < 6 else ("busy" if i < 8 else "offline"), "capacity": 3,
        })
    conn.execute(users.insert(), agent_rows)
    agent_ids = [a["id"] for a in agent_rows] + [admin_id]

    customer_rows, device_rows, devices_of = [], [], {}
    for i in range(CUSTOMERS):
        at = now - timedelta(days=420) + timedelta(seconds=i * 400 * 86400 / CUSTOMERS)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        cid = _id("cus", at)
        customer_rows.append({
            "id": cid, "email": f"{first}.{last}.{i}@example.net".lower(), "first_name": first, "last_name": last,
            "phone": f"+44 20 7{rng.randrange(100, 999)} {rng.randrange(1000, 9999)}" if rng.random() < 0.7 else None,
            "created_at": at, "updated_at": at,
        })
        devices_of[cid] = []
        for _ in range(2 if rng.random() < 0.2 else 1):
            maker, brand, model, os_name, os_version = rng.choice(DEVICES)
            did = _id("dev", at)
            device_rows.append({
                "id": did, "customer_id": cid, "manufacturer": maker, "brand": brand, "model": model,
                "os_name": os_name, "os_version": os_version, "memory_bytes": rng.choice([4, 6, 8, 12]) << 30,
                "processor": "arm64-v8a", "device_name": f"{first}'s {model}",
                "serial_number": secrets.token_hex(6).upper(), "extra": {}, "created_at": at, "updated_at": at,
            })
            devices_of[cid].append(did)
    conn.execute(customers.insert(), customer_rows)
    conn.execute(devices.insert(), device_rows)

    def session_row(at: datetime, state: str, agent: str | None, outcome: str | None) -> dict:
        customer = rng.choice(customer_rows) if rng.random() < 0.95 else None
        cid = customer["id"] if customer else None
        started = at + timedelta(seconds=rng.randrange(10, 600)) if agent else None
        ended = (started or at) + timedelta(seconds=rng.randrange(120, 2400)) if state == "ended" else None
        return {
            "id": _id("ses", at), "customer_id": cid, "device_id": rng.choice(devices_of[cid]) if cid else None,
            "agent_id": agent, "state": state, "created_at": at, "updated_at": ended or started or at,
            "ended_at": ended, "started_at": started,
            "waiting_since": at + timedelta(seconds=5) if state == "waiting" else None,
            "outcome": outcome, "resolution": "reset the network settings" if outcome == "resolved" else None,
        }

    historical = SESSIONS - sum(LIVE.values())
    session_rows = []
    for i in range(historical):  # the last 365 days, evenly, a little jitter; time order = id order
        at = now - timedelta(days=365) + timedelta(seconds=i * 364 * 86400 / historical + rng.randrange(0, 600))
        roll = rng.random()
        outcome = "resolved" if roll < 0.65 else ("unresolved" if roll < 0.85 else "abandoned")
        agent = None if outcome == "abandoned" else rng.choice(agent_ids)
        session_rows.append(session_row(at, "ended", agent, outcome))
    live_agents = [a for a in agent_rows if a["availability"] == "online"]
    for state, count in LIVE.items():
        for k in range(count):
            at = now - timedelta(minutes=rng.randrange(1, 50))
            agent = live_agents[k % len(live_agents)]["id"] if state == "active" else None
            session_rows.append(session_row(at, state, agent, None))
    session_rows.sort(key=lambda r: r["id"])
    conn.execute(support_sessions.insert(), session_rows)

    message_rows, timeline_rows = [], []
    for s in session_rows:
        created = s["created_at"]
        steps = [("session.created", created, {"session_id": s["id"], "customer_id": s["customer_id"]})]
        if s["state"] != "created":
            steps.append(("session.state_changed", created + timedelta(seconds=5),
                          {"session_id": s["id"], "from_state": "created", "to_state": "waiting",
                           "resolution": None, "agent_id": None}))
        if s["started_at"]:
            steps.append(("session.state_changed", s["started_at"],
                          {"session_id": s["id"], "from_state": "waiting", "to_state": "active",
                           "resolution": None, "agent_id": s["agent_id"]}))
            end = s["ended_at"] or now
            for m in range(rng.randrange(2, 13)):
                at = s["started_at"] + (end - s["started_at"]) * (m + 1) / 14
                agent_says = m % 2 == 0
                message_rows.append({
                    "id": _id("msg", at), "session_id": s["id"], "kind": "note" if m == 5 else "chat",
                    "author_type": "agent" if agent_says else "customer",
                    "author_id": s["agent_id"] if agent_says else s["customer_id"],
                    "author_name": "Agent" if agent_says else "Customer",
                    "body": "Could you open Settings → Network and read me what it says?" if agent_says
                    else "It says connected, but nothing loads.", "created_at": at,
                })
        if s["ended_at"]:
            steps.append(("session.state_changed", s["ended_at"],
                          {"session_id": s["id"], "from_state": "active" if s["started_at"] else "waiting",
                           "to_state": "ended", "resolution": s["resolution"], "agent_id": s["agent_id"],
                           "outcome": s["outcome"]}))
        for event_type, at, data in steps:
            timeline_rows.append({"event_id": "evt_" + secrets.token_urlsafe(16), "session_id": s["id"],
                                  "type": event_type, "at": at, "actor": None, "data": data})
    for start in range(0, len(message_rows), 5000):
        conn.execute(session_messages.insert(), message_rows[start:start + 5000])
    for start in range(0, len(timeline_rows), 5000):
        conn.execute(session_timeline.insert(), timeline_rows[start:start + 5000])
    return {"sessions": session_rows, "agents": agent_rows, "customers": len(customer_rows),
            "devices": len(device_rows), "messages": len(message_rows), "timeline": len(timeline_rows)}


# -- measuring -------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Timed:
    """GETs over one keep-alive connection, recording server and client time per label."""

    def __init__(self, session, base: str, host: str) -> None:
        self.session, self.base, self.host = session, base, host
        self.server: dict[str, list[float]] = {}
        self.client: dict[str, list[float]] = {}

    def get(self, label: str, path: str, record: bool = True) -> float:
        t0 = time.perf_counter()
        response = self.session.get(self.base + path, headers={"Host": self.host, "Accept": "text/html"
                                                               if not path.startswith("/api/") else "application/json"},
                                    timeout=30, allow_redirects=False)
        client_ms = (time.perf_counter() - t0) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {response.text[:300]}")
        server_ms = float(response.headers[TIMING_HEADER])
        if record:
            self.server.setdefault(label, []).append(server_ms)
            self.client.setdefault(label, []).append(client_ms)
        return server_ms


def main() -> None:
    import redis
    import requests
    import simple_websocket
    from guidepath.core.config import Config
    from guidepath.core.crypto import passwords
    from guidepath.core.events.outbox import event_outbox
    from guidepath.core.kernel import Kernel
    from guidepath.core.realtime.fanout import fanout_channel
    from guidepath.core.tenancy.service import TenantService
    from guidepath.core.tenancy.storage import harden_container
    from guidepath.core.testing.client import TenantClient
    from guidepath.core.testing.databases import ScratchDatabases
    from guidepath.core.testing.tansu import TansuBroker
    from sqlalchemy import select, text

    passwords.set_default_params(passwords.Argon2Params.for_tests())  # the sign-in is not what is measured
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds like Ctrl+C: the finally cleans up
    began = time.monotonic()
    print(f"bench-console: {'QUICK ' if QUICK else ''}{SESSIONS} sessions, {CUSTOMERS} customers, "
          f"{ITERATIONS} iterations per set, {WS_CHANGES} WebSocket changes, pool size {POOL_SIZE}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)

    tmp = Path(tempfile.mkdtemp(prefix="gp-bench-console-"))
    databases = ScratchDatabases(PG_ADMIN_URL)
    broker = TansuBroker()
    procs: list[subprocess.Popen] = []
    kernel = None
    tenant_slug = None
    sockets: list = []
    stop_probe = threading.Event()
    try:
        broker.start()
        global_url = databases.create("global")
        container_url = databases.create("c1")
        harden_container(container_url)
        master_key = base64.b64encode(secrets.token_bytes(32)).decode()
        config = Config(data_dir=tmp / "data", database_url=global_url, redis_url=REDIS_URL,
                        kafka_bootstrap=broker.bootstrap, kafka_session_timeout_ms=KAFKA_SESSION_TIMEOUT_MS,
                        master_key=master_key, tenant_pool_size=POOL_SIZE)
        kernel = Kernel(config)  # the orchestrator's: no event workers (only create_app starts them)
        kernel.upgrade_global()
        kernel.directory.add_container(container_url)
        tenant = TenantService(kernel).create(SLUG, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
        tenant_slug = tenant.slug
        storage = kernel.storage_for(tenant)

        # The servers start while the data goes in (they need the tenant, not its rows).
        spec = tmp / "spec.json"  # holds the tenant role's password: 0600, removed at the end
        spec.touch(mode=0o600)
        spec.write_text(json.dumps({
            "data_dir": str(tmp / "nodes"), "global_url": global_url, "redis_url": REDIS_URL,
            "kafka_bootstrap": broker.bootstrap, "master_key": master_key, "pool_size": POOL_SIZE,
            "pool_max": config.tenant_pool_max_connections, "tenant_url": storage.tenant_url(tenant.id),
            "fetch_max_wait_ms": FETCH_MAX_WAIT_MS,
        }))
        started = {name: start_server(kind, spec, name, procs, tmp)
                   for name, kind in (("node1", "ours"), ("node2", "ours"), ("bare", "bare"))}

        t0 = time.monotonic()
        rng = random.Random(11)
        now = datetime.now(UTC)
        from guidepath.core.domain.tables import users as users_table

        with storage.migration_connection(tenant.id) as conn:
            admin_id = conn.execute(select(users_table.c.id).where(users_table.c.email == ADMIN_EMAIL)).scalar_one()
            conn.execute(users_table.update().where(users_table.c.id == admin_id).values(
                availability="online", capacity=50, name="Bench Admin"))
            seeded = seed(conn, rng, now, admin_id)
        with storage.migration_connection(tenant.id) as conn:
            # As autovacuum would soon after such a load; the plans are then the same run to run.
            conn.execute(text("ANALYZE users, customers, devices, support_sessions, session_messages, "
                              "session_timeline"))
        print(f"seeded in {time.monotonic() - t0:.1f} s: {len(seeded['sessions'])} sessions, "
              f"{seeded['customers']} customers, {seeded['devices']} devices, {seeded['messages']} messages, "
              f"{seeded['timeline']} timeline entries, {len(seeded['agents']) + 1} agents", flush=True)
        kernel.pools.discard(tenant.id)
        ports = {name: wait_port(proc, name) for name, proc in started.items()}
        nodes_ready = time.monotonic()
        print(f"servers up after {time.monotonic() - began:.1f} s: {ports}", flush=True)

        def host(node: str) -> str:
            return f"{SLUG}.localhost:{ports[node]}"

        on1 = TenantClient(f"http://127.0.0.1:{ports['node1']}", host("node1")).login(ADMIN_EMAIL, ADMIN_PASSWORD)
        cookie = on1.session.cookies.get("gp_session")
        ours = Timed(on1.session, on1.server_url, on1.host)
        bare = Timed(requests.Session(), f"http://127.0.0.1:{ports['bare']}", host("bare"))

        # -- pages and API -------------------------------------------------------------------
        live = [s for s in seeded["sessions"] if s["state"] != "ended"]
        ended_with_talk = [s for s in seeded["sessions"] if s["state"] == "ended" and s["started_at"]][-200:]
        session_targets = [s["id"] for s in live if s["state"] == "active"][:5] + \
                          [s["id"] for s in rng.sample(ended_with_talk, 5)]
        since = (now - timedelta(days=90))
        queue_api = "/api/v1/sessions?state=live&expand=customer,device,agent,queue&limit=200"
        expand = "customer,device,agent,queue"

        def iteration(i: int, record: bool) -> None:
            q = SEARCHES[i % len(SEARCHES)]
            sid = session_targets[i % len(session_targets)]
            sets = {
                "queue": [("queue page", "/queue"), ("queue API", queue_api)],
                "session": [("session page", f"/sessions/{sid}"),
                            ("session API", f"/api/v1/sessions/{sid}?expand={expand}"),
                            ("messages API", f"/api/v1/sessions/{sid}/messages?limit=200"),
                            ("timeline API", f"/api/v1/sessions/{sid}/timeline?limit=200")],
                "history": [("history q page", f"/history?q={q}"),
                            ("history outcome page", f"/history?outcome=resolved&from={since.date().isoformat()}"),
                            ("history q API", f"/api/v1/sessions?q={q}&order=newest&expand=customer,agent&limit=25"),
                            ("history outcome API", ("/api/v1/sessions?outcome=resolved&since="
                             f"{since.strftime('%Y-%m-%dT%H:%M:%SZ')}&order=newest&expand=customer,agent&limit=25"))],
            }
            order = ["queue", "session", "history"]
            if i % 2:
                order.reverse()
            for name in order:
                total = sum(ours.get(label, path, record) for label, path in sets[name])
                if record and name != "history":  # each history search is one request: no set total
                    ours.server.setdefault(f"{name} set", []).append(total)
                if name == "queue":  # the baseline right beside ours, alternating who goes first
                    bare.get("bare queue API", queue_api, record)
                    if i % 2:
                        ours.get("queue API (again)", queue_api, record)

        first = json.loads(on1.get(queue_api).text)
        body = bare.session.get(bare.base + queue_api, headers={"Host": bare.host}, timeout=10).json()
        if len(first["items"]) != sum(LIVE.values()) or len(body["items"]) != len(first["items"]):
            raise RuntimeError(f"live sessions: ours {len(first['items'])}, bare {len(body['items'])}")
        for i in range(WARMUP_ITERATIONS):
            iteration(i, record=False)
        t0 = time.monotonic()
        for i in range(ITERATIONS):
            iteration(i, record=True)
        print(f"pages: {ITERATIONS} iterations in {time.monotonic() - t0:.1f} s "
              f"(load average {os.getloadavg()[0]:.1f})", flush=True)
        print(f"  {'server time, ms':28s} {'p50':>7s} {'p95':>7s} {'max':>7s}   client p50 / p95", flush=True)
        for timed in (ours, bare):
            for label, values in timed.server.items():
                client = timed.client.get(label)
                tail = f"   {pct(client, .5):6.1f} / {pct(client, .95):6.1f}" if client else ""
                print(f"  {label:28s} {pct(values, .5):7.1f} {pct(values, .95):7.1f} {max(values):7.1f}{tail}",
                      flush=True)
        queue_p95 = pct(ours.server["queue set"], .95)
        session_p95 = pct(ours.server["session set"], .95)
        history_p95 = max(pct(ours.server[k], .95) for k in ours.server if k.startswith("history ")
                          and not k.endswith(" set"))
        ours_api = ours.server["queue API"] + ours.server.get("queue API (again)", [])
        ratio = statistics.median(ours_api) / statistics.median(bare.server["bare queue API"])

        # -- real-time: a socket on node1, changes on node2 -----------------------------------
        on2 = TenantClient(f"http://127.0.0.1:{ports['node2']}", host("node2")).login(ADMIN_EMAIL, ADMIN_PASSWORD)

        class WsClient(simple_websocket.Client):
            def __init__(self, url: str, *, virtual_host: str, headers: dict[str, str]) -> None:
                self._virtual_host = virtual_host
                super().__init__(url, headers=headers)

            def handshake(self) -> None:
                self.host = self._virtual_host
                self.sock.settimeout(10)
                super().handshake()
                self.sock.settimeout(None)
                self.connected = self._handle_events()

        ws = WsClient(f"ws://127.0.0.1:{ports['node1']}/ws", virtual_host=host("node1"),
                      headers={"Cookie": f"gp_session={cookie}"})
        sockets.append(ws)
        hello = json.loads(ws.receive(timeout=10))
        if hello.get("type") != "hello":
            raise RuntimeError(f"the socket said {hello!r}")

        redis_seen: dict[str, float] = {}  # event id -> wall time a plain Redis subscriber saw it
        probe = redis.Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
        probe.subscribe(fanout_channel(tenant.id))

        def listen() -> None:
            while not stop_probe.is_set():
                message = probe.get_message(timeout=0.2)
                if message and message["type"] == "message":
                    seen_at = time.time()
                    try:
                        event = json.loads(message["data"]).get("event") or {}
                    except ValueError:
                        continue
                    if event.get("id"):
                        redis_seen[event["id"]] = seen_at
            probe.close()

        threading.Thread(target=listen, daemon=True).start()

        def wait_event(session_id: str, to_state: str, deadline: float) -> tuple[dict, float] | None:
            while (left := deadline - time.monotonic()) > 0:
                raw = ws.receive(timeout=left)
                if raw is None:
                    return None
                arrived = time.time()
                event = json.loads(raw).get("event") or {}
                if (event.get("type") == "session.state_changed" and event["data"].get("session_id") == session_id
                        and event["data"].get("to_state") == to_state):
                    return event, arrived
            return None

        movers = [s["id"] for s in live if s["state"] == "waiting"][:5]
        states = {sid: "waiting" for sid in movers}

        def change(k: int, timeout: float) -> tuple[float, dict, float, float] | None:
            # A random pause first: changing again right after the last event arrived would
            # lock our changes to the consumer's fetch cycle (it is always just about to wait).
            time.sleep(rng.uniform(0.05, 0.55))
            sid = movers[k % len(movers)]
            target = "active" if states[sid] == "waiting" else "waiting"
            response = on2.post(f"/api/v1/sessions/{sid}/state", json={"state": target})
            answered = time.time()
            if response.status_code != 200:
                raise RuntimeError(f"state change answered {response.status_code}: {response.text[:300]}")
            states[sid] = target
            got = wait_event(sid, target, time.monotonic() + timeout)
            if got is None:
                return None
            event, arrived = got
            return (arrived - answered) * 1000, event, answered, arrived

        t0 = time.monotonic()
        fast, k = 0, 0
        warm_deadline = t0 + 120
        while fast < WS_WARMUP or time.monotonic() - nodes_ready < WS_SETTLE_SECONDS:
            if time.monotonic() > warm_deadline:
                raise RuntimeError("no steady event flow within 120 s of warm-up")
            got = change(k, 60)
            k += 1
            fast = fast + 1 if got is not None and got[0] < 1000 else 0
        time.sleep(0.5)
        print(f"real-time warm-up: {k} changes, {time.monotonic() - t0:.1f} s", flush=True)

        samples: list[tuple[float, dict, float, float]] = []
        lost = 0
        t0 = time.monotonic()
        for j in range(WS_CHANGES):
            got = change(k + j, 10)
            if got is None:
                lost += 1
            else:
                samples.append(got)
        time.sleep(0.3)
        with storage.migration_connection(tenant.id) as conn:
            published = dict(conn.execute(select(event_outbox.c.id, event_outbox.c.published_at).where(
                event_outbox.c.id.in_([s[1]["id"] for s in samples]))).all())
        latencies = [s[0] for s in samples]
        split = {"emitted → POST answered": [], "POST answered → published": [],
                 "published → on Redis": [], "on Redis → on socket": []}
        for ms, event, answered, arrived in samples:
            emitted = datetime.fromisoformat(event["time"]).timestamp()
            pub = published.get(event["id"])
            on_redis = redis_seen.get(event["id"])
            split["emitted → POST answered"].append((answered - emitted) * 1000)
            if pub is not None and on_redis is not None:
                pub_t = pub.timestamp()
                split["POST answered → published"].append((pub_t - answered) * 1000)
                split["published → on Redis"].append((on_redis - pub_t) * 1000)
                split["on Redis → on socket"].append((arrived - on_redis) * 1000)
        slow = sum(1 for s in samples if s[0] > 1000)
        print(f"real-time: {len(samples)} changes in {time.monotonic() - t0:.1f} s, lost {lost}, over 1 s {slow}, "
              f"fetch_max_wait_ms {FETCH_MAX_WAIT_MS or 'product default (500)'} "
              f"(load average {os.getloadavg()[0]:.1f})", flush=True)
        print(f"  {'POST answered → on socket':28s} p50 {pct(latencies, .5):7.1f}  p95 {pct(latencies, .95):7.1f}  "
              f"max {max(latencies):7.1f} ms", flush=True)
        for label, values in split.items():
            if values:
                print(f"  {label:28s} p50 {pct(values, .5):7.1f}  p95 {pct(values, .95):7.1f}  "
                      f"max {max(values):7.1f} ms", flush=True)
        ws_p95 = pct(latencies, .95) if len(samples) == WS_CHANGES else float("inf")

        targets = [("queue", queue_p95, 150), ("session", session_p95, 150), ("history", history_p95, 200),
                   ("ws", ws_p95, 300)]
        verdict = ", ".join(f"{name} {value:.1f} ms {'met' if value < bound else 'MISSED'} (< {bound})"
                            for name, value, bound in targets)
        print(f"targets (p95): {verdict}; total {time.monotonic() - began:.0f} s", flush=True)
        print(f"RESULT bench=console queue_p95_ms={queue_p95:.1f} session_p95_ms={session_p95:.1f} "
              f"history_p95_ms={history_p95:.1f} ws_p95_ms={ws_p95:.1f} ws_p50_ms={pct(latencies, .5):.1f} "
              f"bare_queue_p50_ms={statistics.median(bare.server['bare queue API']):.2f} "
              f"ours_queue_p50_ms={statistics.median(ours_api):.2f} ratio={ratio:.2f}", flush=True)
    finally:
        stop_probe.set()
        for ws in sockets:
            try:
                ws.close()
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        stop_processes(procs)
        if kernel is not None:
            if tenant_slug is not None:
                try:
                    TenantService(kernel).delete(tenant_slug)  # role, schema, topics, Redis ACL user
                except Exception:
                    logging.exception("could not delete the benchmark tenant")
            kernel.close()
        databases.drop_all()
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_serve":
        _serve(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
