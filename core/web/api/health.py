"""Liveness and readiness. Readiness checks every configured backend and says
which one failed, so a load balancer (and a human) can tell why a node is out."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


def _check(fn) -> dict:
    started = time.perf_counter()
    try:
        ok = fn()
        error = None if ok is not False else "unreachable"
    except Exception as exc:  # noqa: BLE001 - report, do not crash the probe
        ok, error = False, f"{type(exc).__name__}: {exc}"
    return {"ok": bool(ok) and error is None, "error": error,
            "ms": round((time.perf_counter() - started) * 1000, 2)}


@bp.get("/readyz")
def readyz():
    kernel = current_app.extensions["guidepath"]

    def database() -> bool:
        with kernel.global_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return kernel.global_schema_current() or False

    checks = {"database": _check(database), "bus": _check(kernel.bus.ping),
              "cache": _check(kernel.caches.ping)}
    if kernel.config.redis_url:
        checks["fanout"] = _check(lambda: kernel.fanout.ping() if hasattr(kernel.fanout, "ping") else True)
    ready = all(c["ok"] for c in checks.values())
    return jsonify({"status": "ready" if ready else "not_ready", "checks": checks}), (200 if ready else 503)
