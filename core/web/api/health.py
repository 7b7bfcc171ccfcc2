"""Liveness and readiness. Readiness checks every configured backend and says
which one failed, so a load balancer (and a human) can tell why a node is out."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from ..contract import documented

bp = Blueprint("health", __name__)

LIVE_SCHEMA = {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}

_CHECK = {
    "type": "object",
    "required": ["ok", "error", "ms"],
    "properties": {
        "ok": {"type": "boolean"},
        "error": {"type": ["string", "null"], "description": "Why it failed"},
        "ms": {"type": "number", "minimum": 0, "description": "How long the check took"},
    },
}

READY_SCHEMA = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": {"enum": ["ready", "not_ready"]},
        "checks": {
            "type": "object",
            "description": "One entry per configured backend: `database`, `bus`, `cache`, and `fanout` with Redis",
            "required": ["database", "bus", "cache"],
            "properties": {name: _CHECK for name in ("database", "bus", "cache", "fanout")},
            "additionalProperties": _CHECK,
        },
    },
    "examples": [{"status": "ready", "checks": {
        "database": {"ok": True, "error": None, "ms": 0.41}, "bus": {"ok": True, "error": None, "ms": 0.02},
        "cache": {"ok": True, "error": None, "ms": 0.01}}}],
}


@bp.get("/healthz")
@documented("Liveness: the process answers", query=[], returns=LIVE_SCHEMA, security=[])
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
@documented("Readiness of every configured backend",
            description="200 when every check passes; 503, with the same body saying which check failed, "
                        "otherwise.", query=[], returns=READY_SCHEMA, responses={503: READY_SCHEMA}, security=[])
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
