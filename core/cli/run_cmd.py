"""``guidepath run``: serve the web app.

Server mode serves through gunicorn (``core/web/serving.py``: worker processes with
threads, graceful shutdown, JSON access logs); embedded mode (and ``make run``) with
werkzeug's threaded server in this one process. The web package (and Flask) is
imported only here, when the command runs.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import logging
import os
import signal
from collections.abc import Mapping
from typing import Any

import click

from .context import CliState, pass_state

DEMO_MODULE = "guidepath.core.demo"


@click.command(short_help="Serve the web app.")
@click.option("--demo", is_flag=True, help="Create (or refresh) a demo tenant with demo users and data.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--log-format", type=click.Choice(["json", "text"]), default="json", show_default=True,
              help="Request and application logs on stderr: JSON lines for log pipelines, or text.")
@click.option("--workers", type=click.IntRange(0, 256), default=None,
              help="Server mode: worker processes (default GUIDEPATH_WEB_WORKERS, else one per CPU).")
@click.option("--threads", type=click.IntRange(0, 100_000), default=None,
              help="Server mode: threads per worker, the requests plus WebSockets it serves at once "
                   "(default GUIDEPATH_WEB_THREADS, else 1000).")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="Server mode: log every request (method, path, status, duration_ms).")
@pass_state
def run(state: CliState, demo: bool, host: str, port: int, log_format: str = "json",
        workers: int | None = None, threads: int | None = None, access_log: bool = True) -> None:
    """Serve the web app; each tenant answers at http://SLUG.<base-domain>:PORT/.

    In server mode (GUIDEPATH_DATABASE_URL on PostgreSQL) it serves through gunicorn:
    WORKERS processes of THREADS threads; an open WebSocket holds a thread. SIGTERM
    lets in-flight requests finish (up to GUIDEPATH_WEB_SHUTDOWN_SECONDS) and closes
    WebSockets with 1001 "going away". Embedded mode serves from this one process
    with werkzeug's threaded server.
    """
    if log_format == "json":
        from ..logs import configure

        configure()
    config = state.config
    kernel = state.kernel
    if config.embedded:
        from ..tenancy.service import TenantService

        kernel.upgrade_global()
        TenantService(kernel).migrate_all()  # quick when current; nobody else to ask
    elif not kernel.global_schema_current():
        raise click.ClickException(
            "the global database schema is not current: run `guidepath db upgrade` first"
        )

    if demo:
        echo_demo(seed_demo(load_demo(), kernel, config.base_domain, port))

    if not config.embedded:
        serve_with_gunicorn(state, host, port, workers, threads, access_log, log_format)
        return

    from ..web.app import create_app

    with relays_started() as relays:
        app = create_app(kernel=kernel)  # also starts the kernel's event workers (and an in-process relay)

    echo_tenants(kernel, config.base_domain, port)
    for relay in relays:
        click.echo(f"Relay (in-process, ports picked at start-up): devices on tcp {relay['tcp']}, "
                   f"viewers on {relay['ws']}")
    click.echo(f"Listening on http://{host}:{port} (Ctrl+C to stop)")

    from werkzeug.serving import run_simple

    stop_on_sigterm()
    try:
        run_simple(host, port, app, threaded=True)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    finally:
        # Stop the event workers cleanly: the publisher finishes the batch it holds
        # (anything unsent stays in the outbox for the next start).
        kernel.close()
    click.echo("Stopped.")


def echo_tenants(kernel: Any, base_domain: str, port: int) -> None:
    tenants = [t for t in kernel.directory.list() if t.active]
    if tenants:
        click.echo("Tenants:")
        for tenant in tenants:
            click.echo(f"  http://{tenant.slug}.{base_domain}:{port}/")
    else:
        click.echo("No tenants yet: create one with `guidepath tenants create SLUG`.")


def serve_with_gunicorn(state: CliState, host: str, port: int, workers: int | None, threads: int | None,
                        access_log: bool, log_format: str) -> None:
    """Server mode: gunicorn's master in this process, a kernel and an app per worker."""
    from ..web import serving

    config = state.config
    echo_tenants(state.kernel, config.base_domain, port)
    workers = workers or config.web_workers or serving.default_workers()
    threads = threads or config.web_threads or serving.DEFAULT_THREADS
    # The master only supervises: it holds no database connection across the fork.
    state.kernel.close()
    worker_kernels: list[Any] = []

    def build_app() -> Any:  # in each worker process
        from ..kernel import Kernel
        from ..web.app import create_app

        kernel = Kernel(config)
        worker_kernels.append(kernel)
        return create_app(kernel=kernel)

    def close_kernels() -> None:  # the worker is exiting: the outbox publisher finishes its batch
        while worker_kernels:
            worker_kernels.pop().close()

    click.echo(f"Listening on http://{host}:{port} (gunicorn: {workers} worker(s) x {threads} threads; "
               "Ctrl+C to stop)")
    master = os.getpid()
    try:
        serving.serve(build_app, host=host, port=port, workers=workers, threads=threads,
                      shutdown_seconds=config.web_shutdown_seconds, access_log_on=access_log,
                      json_logs=log_format == "json", on_worker_exit=close_kernels)
    except SystemExit as exc:  # gunicorn's master and workers end with sys.exit()
        if os.getpid() != master:
            raise
        if exc.code not in (0, None):
            raise click.ClickException(f"the server stopped with exit status {exc.code} (see the log above)") \
                from None
    click.echo("Stopped.")


#: The logger and message with which the relay plugins' hosting announces the relay it
#: starts inside the app (embedded mode), with the fields ``tcp`` and ``ws``. Core does
#: not import the relay, so this is how ``guidepath run`` learns the ports it picked.
RELAY_LOGGER = "guidepath.relay.hosting"
RELAY_STARTED = "in-process relay started"


@contextlib.contextmanager
def relays_started():
    """Collect the addresses of the relays started inside this process meanwhile."""
    logger = logging.getLogger(RELAY_LOGGER)
    relays: list[dict[str, str]] = []
    level, shown = logger.level, logger.getEffectiveLevel()

    def collect(record: logging.LogRecord) -> bool:
        tcp, ws = getattr(record, "tcp", None), getattr(record, "ws", None)
        if record.msg == RELAY_STARTED and tcp and ws:
            relays.append({"tcp": str(tcp), "ws": str(ws)})
        return record.levelno >= shown  # the logs show what they showed before

    logger.setLevel(min(shown, logging.INFO))  # so that the announcement is made at all
    logger.addFilter(collect)
    try:
        yield relays
    finally:
        logger.removeFilter(collect)
        logger.setLevel(level)


def stop_on_sigterm() -> None:
    """Let ``SIGTERM`` (systemd, Docker, Kubernetes) stop the server like Ctrl+C.

    Python's default for SIGTERM kills the process at once, skipping ``finally``
    blocks; werkzeug already shuts down cleanly on ``KeyboardInterrupt``.
    """

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def load_demo() -> Any:
    if importlib.util.find_spec(DEMO_MODULE) is None:
        raise click.ClickException(f"--demo is not available: {DEMO_MODULE} is not installed")
    return importlib.import_module(DEMO_MODULE)


def seed_demo(module: Any, kernel: Any, base_domain: str, port: int) -> Any:
    """Seed the demo tenant, telling the seeder our URL when it wants to know."""
    try:
        accepts_url = "base_url" in inspect.signature(module.seed).parameters
    except (TypeError, ValueError):  # pragma: no cover - a C callable or the like
        accepts_url = False
    if accepts_url:
        slug = getattr(module, "DEMO_SLUG", "demo")
        return module.seed(kernel, base_url=f"http://{slug}.{base_domain}:{port}")
    return module.seed(kernel)


def echo_demo(result: Any) -> None:
    """Print what the demo seeder returned (its URLs and logins), whatever its shape."""
    if result is None:
        return
    if isinstance(result, str):
        click.echo(result)
    elif isinstance(result, Mapping):
        for key, value in result.items():
            if isinstance(value, (Mapping, list, tuple)):
                click.echo(f"{key}:")
                for line in _lines(value):
                    click.echo(f"  {line}")
            else:
                click.echo(f"{key}: {value}")
    elif isinstance(result, (list, tuple)):
        for line in _lines(result):
            click.echo(line)
    else:
        click.echo(str(result))


def _lines(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [f"{k}: {v}" for k, v in value.items()]
    return [str(v) if not isinstance(v, Mapping) else ", ".join(f"{k}: {x}" for k, x in v.items())
            for v in value]
