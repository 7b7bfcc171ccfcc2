"""``guidepath run``: serve the web app with werkzeug (development and small sites).

The web package (and Flask) is imported only here, when the command runs.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import logging
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
@pass_state
def run(state: CliState, demo: bool, host: str, port: int, log_format: str = "json") -> None:
    """Serve the web app; each tenant answers at http://SLUG.<base-domain>:PORT/."""
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

    from ..web.app import create_app

    with relays_started() as relays:
        app = create_app(kernel=kernel)  # also starts the kernel's event workers (and an in-process relay)

    tenants = [t for t in kernel.directory.list() if t.active]
    if tenants:
        click.echo("Tenants:")
        for tenant in tenants:
            click.echo(f"  http://{tenant.slug}.{config.base_domain}:{port}/")
    else:
        click.echo("No tenants yet: create one with `guidepath tenants create SLUG`.")
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
