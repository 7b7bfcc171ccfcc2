"""Serving the web app in production: gunicorn with threaded (gthread) workers.

``guidepath run`` in server mode calls :func:`serve`; embedded mode keeps werkzeug's
threaded server. Why gunicorn's gthread worker (and what it holds) is in
docs/architecture.md, "Production serving"; the numbers are in docs/performance.md.

* **Workers** are processes, each with its own kernel (database pools, event
  workers, Redis fan-out subscription), built in the worker after the fork: nothing
  with a thread or a socket crosses a ``fork()``.
* **Threads.** A flask-sock WebSocket holds one pool thread for its whole life (plus
  the reader threads of ``core/web/ws.py`` and simple_websocket), so a worker's
  ``threads`` bounds the sockets *and* the requests it serves at once. Kept-alive
  HTTP connections wait in the worker's poller and hold no thread.
* **SIGTERM** (systemd, Kubernetes): the master stops accepting and tells each worker
  to stop; a worker finishes its in-flight requests (for up to
  ``web_shutdown_seconds``), and closes its open WebSockets at once with 1001 "going
  away", so that clients reconnect to another node instead of waiting. The process
  exits 0.
* **Access logs** are lines of the app's own log format (``core/logs.py``): one
  record per request on the ``guidepath.access`` logger with ``method``, ``path``,
  ``status``, ``duration_ms``, ``bytes``, ``remote_addr``, ``host``; a WebSocket is
  logged when it closes, with status 101 and its lifetime.
"""

from __future__ import annotations

import logging
import os
import resource
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

access_log = logging.getLogger("guidepath.access")
log = logging.getLogger("guidepath.serving")

#: WebSocket close code 1001 (RFC 6455 §7.4.1): the endpoint is going away.
GOING_AWAY = 1001
#: How long a stopping worker waits for clients to answer its close frames before it
#: cuts the remaining sockets.
CLOSE_WAIT_SECONDS = 2.0


def default_workers(cpus: int | None = None) -> int:
    """One worker process per CPU (each is a full kernel: pools, event workers)."""
    return max(1, cpus if cpus is not None else (os.cpu_count() or 1))


#: Threads per worker unless configured: sockets held plus requests served at once.
#: Threads are started only when needed, so an idle bound costs nothing.
DEFAULT_THREADS = 1000


# -- open WebSockets, so that a stopping worker can close them --------------------------


class _Sockets:
    """The WebSockets open in this worker process."""

    def __init__(self) -> None:
        self._open: weakref.WeakSet = weakref.WeakSet()
        self._lock = threading.Lock()

    def add(self, ws: Any) -> None:
        with self._lock:
            self._open.add(ws)

    def snapshot(self) -> list:
        with self._lock:
            return [ws for ws in self._open if getattr(ws, "connected", False)]

    def __len__(self) -> int:
        return len(self.snapshot())

    def close_all(self, code: int = GOING_AWAY, reason: str = "going away",
                  wait: float = CLOSE_WAIT_SECONDS) -> int:
        """Send every open socket a close frame, wake its readers, then cut whatever
        has not answered within ``wait`` seconds. Returns how many were open."""
        sockets = self.snapshot()
        for ws in sockets:
            try:
                ws.close(reason=code, message=reason)
            except Exception:  # noqa: BLE001 - closed meanwhile, or the peer is gone
                pass
            ws.event.set()  # a receive() waiting on this socket raises ConnectionClosed now
        deadline = time.monotonic() + wait
        for ws in sockets:
            ws.thread.join(max(0.0, deadline - time.monotonic()))
        for ws in sockets:
            if ws.thread.is_alive():  # the client did not answer: end the socket's reader
                try:
                    ws.sock.shutdown(2)  # socket.SHUT_RDWR
                except OSError:
                    pass
        return len(sockets)


open_sockets = _Sockets()


class _TrackingThread(threading.Thread):
    """simple_websocket's background thread for one socket (``thread_class``, an
    option flask-sock passes through ``SOCK_SERVER_OPTIONS``): records the socket in
    :data:`open_sockets`. Daemonic, so a client that never answers a close cannot
    keep a stopping worker alive."""

    def __init__(self, *args: Any, target: Callable | None = None, **kwargs: Any) -> None:
        super().__init__(*args, target=target, daemon=True, **kwargs)
        owner = getattr(target, "__self__", None)
        if owner is not None:
            open_sockets.add(owner)


# -- gunicorn: the worker, the logger, the application ------------------------------


class Worker(ThreadWorker):
    """gunicorn's gthread worker that closes its WebSockets with 1001 when told to stop."""

    def handle_exit(self, sig: int, frame: Any) -> None:
        stopping = self.alive
        super().handle_exit(sig, frame)
        if stopping:
            threading.Thread(target=self._close_sockets, name="guidepath-ws-close", daemon=True).start()

    def _close_sockets(self) -> None:
        count = open_sockets.close_all()
        if count:
            log.info("closed WebSockets: the worker is stopping", extra={"sockets": count, "code": GOING_AWAY})


def _fields(method: str, path: str, status: int, seconds: float, size: int | None, environ: dict) -> dict:
    return {"method": method, "path": path, "status": status, "duration_ms": round(seconds * 1000, 2),
            "bytes": size, "remote_addr": environ.get("REMOTE_ADDR"), "host": environ.get("HTTP_HOST")}


class JsonLogger(glogging.Logger):
    """gunicorn's own messages and its access log in the app's JSON line format."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        from ..logs import JsonFormatter

        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: dict, request_time: Any) -> None:
        if not self.cfg.accesslog:
            return
        status = resp.status_code if isinstance(resp.status_code, int) else None  # None: nothing was sent
        access_log.info("request", extra=_fields(req.method, req.path, status, request_time.total_seconds(),
                                                  getattr(resp, "sent", None), environ))


class _WebSocketAccessLog:
    """Logs WebSocket requests, which gunicorn's access log does not see: flask-sock
    ends them by raising ``StopIteration`` (the socket was answered directly)."""

    def __init__(self, app: Callable, enabled: bool) -> None:
        self.app, self.enabled = app, enabled

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        started = time.monotonic()
        try:
            return self.app(environ, start_response)
        except StopIteration:
            if self.enabled and environ.get("HTTP_UPGRADE", "").lower() == "websocket":
                access_log.info("request", extra=_fields(environ.get("REQUEST_METHOD", "GET"),
                                                         environ.get("PATH_INFO", ""), 101,
                                                         time.monotonic() - started, None, environ))
            raise


class Server(BaseApplication):
    """gunicorn, configured in code (no command line, no configuration file)."""

    def __init__(self, app_factory: Callable[[], Any], options: dict[str, Any], access: bool) -> None:
        self._factory, self._options, self._access = app_factory, options, access
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn >= 24's control socket is one path per user (~/.gunicorn): several
            # nodes on one host (guidepath@8000, @8001) would take it from each other.
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Any:  # in each worker, after the fork
        app = self._factory()
        options = app.config.setdefault("SOCK_SERVER_OPTIONS", {})
        options.setdefault("thread_class", _TrackingThread)
        return _WebSocketAccessLog(app, self._access)


def raise_open_files_limit() -> int:
    """Raise this process's open-files limit to its hard limit (a socket is a file);
    children inherit it. Returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return target
        except (ValueError, OSError):
            pass
    return soft


def serve(
    app_factory: Callable[[], Any],
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    shutdown_seconds: int = 30,
    access_log_on: bool = True,
    json_logs: bool = True,
    on_worker_exit: Callable[[], None] | None = None,
    on_ready: Callable[[], None] | None = None,
    log_level: str = "info",
) -> None:
    """Serve what ``app_factory()`` builds (called once in each worker) until SIGTERM
    or SIGINT; returns when every worker has stopped (gunicorn's master then exits
    the process with ``SystemExit(0)``)."""
    raise_open_files_limit()

    def worker_exit(server: Any, worker: Any) -> None:
        if on_worker_exit is not None:
            on_worker_exit()

    def when_ready(server: Any) -> None:
        if on_ready is not None:
            on_ready()

    options: dict[str, Any] = {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": workers,
        "threads": threads,
        "worker_class": f"{__name__}.Worker",
        # Connections a worker keeps: its threads' plus kept-alive idle ones.
        "worker_connections": threads + 1000,
        "graceful_timeout": shutdown_seconds,
        "timeout": 60,  # a worker whose main loop hangs that long is restarted
        "keepalive": 5,
        "accesslog": "-" if access_log_on else None,
        "errorlog": "-",
        "loglevel": log_level,
        "proc_name": "guidepath",
        "worker_exit": worker_exit,
        "when_ready": when_ready,
        "preload_app": False,
    }
    if json_logs:
        options["logger_class"] = f"{__name__}.JsonLogger"
    Server(app_factory, options, access_log_on).run()
