"""Where a request's time goes: CPU per request, in process, with parts switched off.

A companion to bench_web.py for investigation (not a benchmark with a RESULT line):
the same server-mode set-up, the same ``GET /api/v1/sessions/{id}`` with a bearer
key, driven through Flask's test client in one thread, so the numbers are the
Python CPU cost of each layer without sockets or thread scheduling. Each variant
switches one layer off by monkeypatching it for the measurement only:

* bare Flask + SQLAlchemy (the baseline of bench_web.py);
* ours as shipped;
* ours with the API key check not cached (a database query per request);
* ours without the plugin ``session_capabilities`` hook;
* ours without the security headers.

    .venv/bin/python benchmarks/web/breakdown.py            # 3 x 1000 requests per variant

The lowest of three runs is reported (the least disturbed by other work on the machine).
Everything it creates is removed, even on error.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

N = int(os.environ.get("REQUESTS", "1000"))
REDIS_URL = os.environ.get("GUIDEPATH_BENCH_REDIS", "redis://127.0.0.1:6379/0")
PG_ADMIN_URL = os.environ.get("GUIDEPATH_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def main() -> None:
    from flask import Flask, jsonify
    from sqlalchemy import create_engine, text

    from guidepath.core.config import Config
    from guidepath.core.domain import api_keys, support_sessions
    from guidepath.core.kernel import Kernel
    from guidepath.core.tenancy.service import TenantService
    from guidepath.core.tenancy.storage import harden_container
    from guidepath.core.testing.databases import ScratchDatabases
    from guidepath.core.web import app as app_module
    from guidepath.core.web import auth
    from guidepath.core.web.api import sessions as sessions_api
    from guidepath.core.web.app import create_app

    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="gp-bench-breakdown-"))
    databases = ScratchDatabases(PG_ADMIN_URL)
    kernel = None
    engine = None
    slug = None
    try:
        global_url, container_url = databases.create("global"), databases.create("c1")
        harden_container(container_url)
        kernel = Kernel(Config(data_dir=tmp, database_url=global_url, redis_url=REDIS_URL,
                               master_key=base64.b64encode(secrets.token_bytes(32)).decode()))
        kernel.upgrade_global()
        kernel.directory.add_container(container_url)
        tenant = TenantService(kernel).create("breakdown")
        slug = tenant.slug
        ctx = kernel.context(tenant)
        with ctx.begin() as conn:
            key = api_keys.create(conn, {"name": "bench"}, created_by=None)["key"]
            session = support_sessions.create(conn, {}, ctx.emit)

        engine = create_engine(kernel.storage_for(tenant).tenant_url(tenant.id), pool_size=2, max_overflow=0,
                               pool_pre_ping=False)
        query = text("SELECT id, customer_id, device_id, agent_id, state, resolution, created_at, "
                     "updated_at, ended_at FROM support_sessions WHERE id = :id")
        bare = Flask("bare")

        @bare.get("/api/v1/sessions/<session_id>")
        def get_session(session_id: str):
            with engine.connect() as conn:
                row = conn.execute(query, {"id": session_id}).first()
            return jsonify({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row._mapping.items()})

        ours = create_app(kernel=kernel, start_workers=False)
        path = f"/api/v1/sessions/{session['id']}"
        headers = {"Host": "breakdown.localhost:8000", "Authorization": f"Bearer {key}"}

        def measure(label: str, app) -> float:
            client = app.test_client()
            for _ in range(200):
                assert client.get(path, headers=headers).status_code == 200
            best = float("inf")
            for _ in range(3):
                c0 = time.process_time()
                for _ in range(N):
                    client.get(path, headers=headers)
                best = min(best, (time.process_time() - c0) / N)
            print(f"  {label:42s} {best * 1e6:7.0f} us CPU/request", flush=True)
            return best

        print(f"CPU per request, lowest of 3 x {N} (in process, one thread):")
        base = measure("bare Flask + SQLAlchemy", bare)
        full = measure("ours", ours)

        # The API key check with a cold cache every time: what a request cost
        # before the check was cached (credential_cache_seconds=0).
        kernel.api_key_principals.ttl = 0
        uncached = measure("ours, API key check not cached", ours)
        kernel.api_key_principals.ttl = kernel.config.credential_cache_seconds

        saved_caps = sessions_api._with_capabilities
        sessions_api._with_capabilities = lambda s: s
        measure("ours without session_capabilities", ours)
        sessions_api._with_capabilities = saved_caps

        funcs = ours.after_request_funcs[None]
        funcs.remove(app_module._security_headers)
        measure("ours without security headers", ours)
        funcs.append(app_module._security_headers)

        print(f"ratio bare/ours CPU {base / full:.2f}; with the key check uncached {base / uncached:.2f}")
    finally:
        if engine is not None:
            engine.dispose()
        if kernel is not None:
            if slug is not None:
                TenantService(kernel).delete(slug)
            kernel.close()
        databases.drop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
