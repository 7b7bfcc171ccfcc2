"""Many tenants in one container database: provisioning, migrations, cold tenants,
and the bound on connections.

Server mode on loopback: a throwaway PostgreSQL global database and ONE container
database (``ScratchDatabases``), Redis (per-tenant ACL users), the in-process event
bus, a random master key, ``tenant_pool_max_connections=20`` and
``tenant_pool_size=2``. Then:

1. **Provisioning**: ``TenantService.create(slug)`` (no admin user) N times, timed
   one by one; the two database steps are timed separately by wrapping
   ``PostgresTenantStorage.provision`` (role + schema + grants) and
   ``migrate.upgrade`` (Alembic, kernel and plugin branches) for the duration of
   the loop. The rest (directory rows, data key, Redis ACL user, hooks) is "other".
   Reported for all tenants and for the first and last 10 % (does it slow down as
   the catalog grows?).
2. **Re-running migrations** when every tenant is current:
   ``TenantService.migrate_all()`` in process, and the real ``guidepath db upgrade``
   command in a subprocess (start-up included). Applying a *new* revision is not
   measured: that needs a revision file in ``core/db/migrations`` (see
   docs/performance.md).
3. **Outbox sweep**: what the event workers' periodic sweep (every 15 s) costs with
   N tenants: one ``_drain`` per active tenant, as ``EventWorkers`` does, timed, and
   how many tenant connections it opens.
4. **Cold tenant**: through the real HTTP app (``LiveServer``, werkzeug threaded),
   ``GET /api/v1/sessions/{id}`` with a bearer key, for C tenants: the first request
   after the tenant's pool is closed and its directory and plugin-state cache
   entries are dropped, then the median of 5 warm requests.
5. **Connection bound**: 8 concurrent clients request every tenant in turn (2
   passes) while a sampler thread reads ``count(*)`` of ``pg_stat_activity`` for
   tenant roles (``usename LIKE 'gp_t%'``) on our container database every 5 ms.
   The peak must stay at or under ``tenant_pool_max_connections``.

    .venv/bin/python benchmarks/tenancy/bench_tenancy.py           # N=1000, C=50
    QUICK=1 .venv/bin/python benchmarks/tenancy/bench_tenancy.py   # N=100, C=20, < 60 s
    TENANTS=300 COLD_SAMPLES=30 ...                                 # knobs

Everything it creates goes away even on error: the server, the kernel's pools,
every tenant's Redis ACL user and keys, the databases and the tenant roles. Last line:

    RESULT bench=tenancy tenants=N create_p50_ms=... create_p95_ms=... ... peak_connections=P
           max_connections=20 ratio=<peak_connections / max_connections>

(``ratio`` here is the connection bound, not a speed ratio: at most 1.0 means the
configured cap held while requests rotated over all N tenants.)
"""

from __future__ import annotations

import base64
import logging
import os
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
TENANTS = int(os.environ.get("TENANTS", "100" if QUICK else "1000"))
COLD_SAMPLES = int(os.environ.get("COLD_SAMPLES", "20" if QUICK else "50"))
WORKERS = int(os.environ.get("WORKERS", "8"))
PASSES = int(os.environ.get("PASSES", "2"))
POOL_MAX = int(os.environ.get("POOL_MAX", "20"))
POOL_SIZE = int(os.environ.get("POOL_SIZE", "2"))
REDIS_URL = os.environ.get("GUIDEPATH_BENCH_REDIS", "redis://127.0.0.1:6379/0")
PG_ADMIN_URL = os.environ.get("GUIDEPATH_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REPO = Path(__file__).resolve().parents[2]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def ms(seconds: float) -> float:
    return seconds * 1000.0


class Timed:
    """Wraps a function for the duration of a ``with`` block, summing its time per call."""

    def __init__(self, owner: object, name: str) -> None:
        self.owner, self.name = owner, name
        self.original = getattr(owner, name)
        self.last = 0.0

    def __enter__(self) -> "Timed":
        original = self.original

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.last += time.perf_counter() - started

        setattr(self.owner, self.name, timed)
        return self

    def take(self) -> float:
        value, self.last = self.last, 0.0
        return value

    def __exit__(self, *exc: object) -> None:
        setattr(self.owner, self.name, self.original)


class ConnectionSampler(threading.Thread):
    """Polls pg_stat_activity for tenant-role backends on one database; keeps the peak."""

    def __init__(self, admin_url: str, database: str, interval: float = 0.005) -> None:
        super().__init__(name="pg-activity-sampler", daemon=True)
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(admin_url)
        self._conn = psycopg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                     dbname=url.database, autocommit=True)
        self.database, self.interval = database, interval
        self.peak = 0
        self.samples = 0
        self._halt = threading.Event()

    def count(self) -> int:
        # Filtered to our container database: other test runs may share this server.
        return self._conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE usename LIKE 'gp\\_t%%' AND datname = %s",
            (self.database,),
        ).fetchone()[0]

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, self.count())
            self.samples += 1
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)
        self._conn.close()


def main() -> None:
    import requests
    from sqlalchemy.engine import make_url

    from guidepath.core.config import Config
    from guidepath.core.db import migrate
    from guidepath.core.domain import api_keys, support_sessions
    from guidepath.core.events.dispatch import EventWorkers
    from guidepath.core.kernel import Kernel
    from guidepath.core.tenancy.service import TenantService
    from guidepath.core.tenancy.storage import PostgresTenantStorage, harden_container
    from guidepath.core.testing.databases import ScratchDatabases
    from guidepath.core.testing.live_server import LiveServer
    from guidepath.core.web.app import create_app

    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl+C, so the finally: below cleans up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    print(f"bench-tenancy: {'QUICK ' if QUICK else ''}{TENANTS} tenants in one container, "
          f"tenant_pool_max_connections={POOL_MAX}, tenant_pool_size={POOL_SIZE}, {os.cpu_count()} CPUs",
          flush=True)
    started_all = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="gp-bench-tenancy-"))
    databases = ScratchDatabases(PG_ADMIN_URL)
    kernel = None
    server = None
    created: list = []  # Tenant records, for cleanup of their Redis users
    result: dict[str, str] = {}
    try:
        global_url = databases.create("global")
        container_url = databases.create("c1")
        container_db = make_url(container_url).database
        harden_container(container_url)
        master_key = base64.b64encode(secrets.token_bytes(32)).decode()
        config = Config(data_dir=tmp / "data", database_url=global_url, redis_url=REDIS_URL,
                        kafka_bootstrap=None, master_key=master_key,
                        tenant_pool_max_connections=POOL_MAX, tenant_pool_size=POOL_SIZE)
        kernel = Kernel(config)
        kernel.upgrade_global()
        kernel.directory.add_container(container_url, capacity=max(5000, TENANTS))
        service = TenantService(kernel)
        print(f"  plugins loaded: {', '.join(i.name for i in kernel.plugins.infos()) or 'none'}", flush=True)

        # -- 1. provisioning --------------------------------------------------------------
        total, provision, migrations = [], [], []
        run_id = secrets.token_hex(3)
        with Timed(PostgresTenantStorage, "provision") as t_prov, Timed(migrate, "upgrade") as t_mig:
            for i in range(TENANTS):
                t0 = time.perf_counter()
                tenant = service.create(f"b{run_id}-{i:05d}")
                total.append(time.perf_counter() - t0)
                created.append(tenant)
                provision.append(t_prov.take())
                migrations.append(t_mig.take())
                if (i + 1) % max(1, TENANTS // 10) == 0:
                    print(f"  created {i + 1}/{TENANTS} (last: {ms(total[-1]):.0f} ms)", flush=True)
        other = [t - p - m for t, p, m in zip(total, provision, migrations)]
        tenth = max(1, TENANTS // 10)
        create_s = sum(total)
        print(f"provisioning: {TENANTS} tenants in {create_s:.1f} s; per tenant "
              f"p50 {ms(statistics.median(total)):.0f} ms, p95 {ms(pct(total, 0.95)):.0f} ms; "
              f"role+schema p50 {ms(statistics.median(provision)):.0f} ms, "
              f"migrations p50 {ms(statistics.median(migrations)):.0f} ms, "
              f"other p50 {ms(statistics.median(other)):.0f} ms; "
              f"first 10% p50 {ms(statistics.median(total[:tenth])):.0f} ms, "
              f"last 10% p50 {ms(statistics.median(total[-tenth:])):.0f} ms", flush=True)
        result.update(
            tenants=str(TENANTS), create_p50_ms=f"{ms(statistics.median(total)):.0f}",
            create_p95_ms=f"{ms(pct(total, 0.95)):.0f}",
            role_schema_p50_ms=f"{ms(statistics.median(provision)):.0f}",
            migrations_p50_ms=f"{ms(statistics.median(migrations)):.0f}",
        )

        # Credentials and one support session per tenant for the HTTP parts (untimed).
        keys: dict[str, tuple[str, str]] = {}
        for tenant in created:
            ctx = kernel.context(tenant)
            with ctx.begin() as conn:
                key = api_keys.create(conn, {"name": "bench", "role": "agent"}, created_by=None)["key"]
                session = support_sessions.create(conn, {}, ctx.emit)
            keys[tenant.id] = (key, session["id"])

        # -- 2. migrations when everything is current ---------------------------------------
        t0 = time.perf_counter()
        changed = service.migrate_all()
        rerun_s = time.perf_counter() - t0
        if changed:
            print(f"WARNING: migrate_all reports {changed} of {TENANTS} tenants upgraded although every "
                  f"one was just created at head: the up-to-date check does not recognise a current "
                  f"tenant, so each re-run goes through Alembic's upgrade for every tenant", flush=True)
        # The floor a re-run could reach: open each tenant's migration connection and read
        # its version rows, nothing else.
        target = migrate.heads("tenant", kernel.tenant_migrations)
        t0 = time.perf_counter()
        for tenant in created:
            with kernel.storage_for(tenant).migration_connection(tenant.id) as conn:
                migrate.current_heads(conn, tenant.id)
        check_s = time.perf_counter() - t0
        print(f"  script heads {sorted(target)}; version-check-only pass {check_s:.2f} s "
              f"({ms(check_s / TENANTS):.1f} ms/tenant)", flush=True)
        env = {**os.environ, "GUIDEPATH_DATA_DIR": str(config.data_dir), "GUIDEPATH_DATABASE_URL": global_url,
               "GUIDEPATH_REDIS_URL": REDIS_URL, "GUIDEPATH_MASTER_KEY": master_key}
        env.pop("GUIDEPATH_KAFKA_BOOTSTRAP", None)
        cli = REPO / ".venv" / "bin" / "guidepath"
        cli_cmd = [str(cli)] if cli.exists() else [sys.executable, "-m", "guidepath.core.cli"]
        t0 = time.perf_counter()
        proc = subprocess.run([*cli_cmd, "db", "upgrade"], env=env, capture_output=True, text=True,
                              timeout=600, cwd=tmp)
        cli_s = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"guidepath db upgrade failed: {proc.stderr[-2000:]}")
        print(f"migrations, all current: migrate_all {rerun_s:.2f} s ({ms(rerun_s / TENANTS):.1f} ms/tenant); "
              f"`guidepath db upgrade` {cli_s:.2f} s end to end ({proc.stdout.strip().splitlines()[-1]})",
              flush=True)
        result.update(migrate_rerun_s=f"{rerun_s:.2f}", migrate_rerun_changed=str(changed),
                      version_check_s=f"{check_s:.2f}", db_upgrade_cli_s=f"{cli_s:.2f}")

        # -- 3. the event workers' outbox sweep over every tenant -------------------------
        kernel.pools.close()
        workers = EventWorkers(kernel)  # not started: we time one sweep by hand
        opened = kernel.pools.opened_total
        t0 = time.perf_counter()
        for tenant in kernel.directory.list():
            if tenant.active:
                workers._drain(tenant.id)  # what the sweep does for each active tenant
        sweep_s = time.perf_counter() - t0
        sweep_opened = kernel.pools.opened_total - opened
        print(f"outbox sweep (every 15 s per app node): {sweep_s:.2f} s for {TENANTS} tenants, "
              f"{sweep_opened} tenant connections opened", flush=True)
        result.update(sweep_s=f"{sweep_s:.2f}")

        # -- 4. cold vs warm first request through the HTTP app ------------------------------
        kernel.pools.close()
        app = create_app(kernel=kernel, start_workers=False)
        server = LiveServer(app).start()
        http = requests.Session()

        def get(tenant) -> float:
            key, session_id = keys[tenant.id]
            t0 = time.perf_counter()
            response = http.get(f"{server.url}/api/v1/sessions/{session_id}", timeout=30, headers={
                "Host": f"{tenant.slug}.localhost:{server.port}", "Authorization": f"Bearer {key}"})
            elapsed = time.perf_counter() - t0
            if response.status_code != 200:
                raise RuntimeError(f"{tenant.slug}: {response.status_code} {response.text[:200]}")
            return elapsed

        get(created[0])  # the first request of the process (imports, first connections): untimed
        step = max(1, len(created) // COLD_SAMPLES)
        sample = created[::step][:COLD_SAMPLES]
        cold, warm = [], []
        for tenant in sample:
            kernel.pools.discard(tenant.id)      # its pool is closed (as if evicted) ...
            kernel.forget_plugin_states(tenant.id)
            kernel.directory._forget()           # ... and its host and plugin state not cached
            cold.append(get(tenant))
            warm.append(statistics.median(get(tenant) for _ in range(5)))
        print(f"cold vs warm request ({len(sample)} tenants): cold p50 {ms(statistics.median(cold)):.1f} ms "
              f"(p95 {ms(pct(cold, 0.95)):.1f}), warm p50 {ms(statistics.median(warm)):.1f} ms "
              f"(p95 {ms(pct(warm, 0.95)):.1f})", flush=True)
        result.update(cold_p50_ms=f"{ms(statistics.median(cold)):.1f}",
                      warm_p50_ms=f"{ms(statistics.median(warm)):.1f}")

        # -- 5. connections while requests rotate over every tenant --------------------------
        kernel.pools.close()
        peak_before = kernel.pools.peak_open
        sampler = ConnectionSampler(PG_ADMIN_URL, container_db)
        sampler.start()
        order = [t for _ in range(PASSES) for t in created]
        cursor = iter(order)
        lock = threading.Lock()
        failures: list[str] = []
        latencies: list[float] = []

        def worker() -> None:
            client = requests.Session()
            while True:
                with lock:
                    tenant = next(cursor, None)
                if tenant is None:
                    return
                key, session_id = keys[tenant.id]
                t0 = time.perf_counter()
                try:
                    response = client.get(f"{server.url}/api/v1/sessions/{session_id}", timeout=30, headers={
                        "Host": f"{tenant.slug}.localhost:{server.port}", "Authorization": f"Bearer {key}"})
                    ok = response.status_code == 200
                    detail = f"{response.status_code} {response.text[:120]}"
                except requests.RequestException as exc:
                    ok, detail = False, repr(exc)
                with lock:
                    latencies.append(time.perf_counter() - t0)
                    if not ok:
                        failures.append(f"{tenant.slug}: {detail}")

        t0 = time.perf_counter()
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(WORKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        rotate_s = time.perf_counter() - t0
        sampler.stop()
        peak = sampler.peak
        in_process_peak = max(kernel.pools.peak_open, peak_before)
        if failures:
            print(f"WARNING: {len(failures)} failed requests, e.g. {failures[:3]}", flush=True)
        print(f"rotation: {len(order)} requests over {TENANTS} tenants with {WORKERS} workers in {rotate_s:.1f} s "
              f"({len(order) / rotate_s:.0f} req/s, p50 {ms(statistics.median(latencies)):.1f} ms); "
              f"peak tenant connections in pg_stat_activity {peak} ({sampler.samples} samples), "
              f"kernel's own count peak {kernel.pools.peak_open}; configured max {kernel.pools.max_connections}",
              flush=True)
        result.update(rotate_rps=f"{len(order) / rotate_s:.0f}", failed=str(len(failures)),
                      peak_connections=str(peak), max_connections=str(POOL_MAX))
        print(f"total time {time.perf_counter() - started_all:.1f} s", flush=True)
        fields = " ".join(f"{k}={v}" for k, v in result.items())
        print(f"RESULT bench=tenancy {fields} ratio={peak / POOL_MAX:.2f}", flush=True)
    finally:
        if server is not None:
            server.stop()
        if kernel is not None:
            kernel.pools.close()
            for tenant in created:  # Redis ACL users and keys live outside the databases
                try:
                    kernel.caches.deprovision(tenant.id)
                except Exception:  # noqa: BLE001 - keep cleaning
                    logging.exception("could not remove the Redis user of %s", tenant.id)
            kernel.close()
        databases.drop_all()  # the databases, tenant schemas and tenant roles
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
