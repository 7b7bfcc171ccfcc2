"""``guidepath worker webhooks``: the delivery worker as a process of its own.

In server mode deliveries can scale apart from the app nodes: run any number of
these next to (or instead of relying on) the worker each app node runs. They
share the stored deliveries safely (leases claimed with one conditional UPDATE,
candidates read ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; see ``store.py``).
Such a process does not consume events: it finds new deliveries, written by the
app nodes' event dispatchers, with its sweep (``--sweep-seconds``).

The ``worker`` group is shared: a plugin that already added it (another
plugin's ``guidepath worker …``) keeps it and ``webhooks`` joins it.
"""

from __future__ import annotations

import dataclasses
import signal
import threading

import click

from guidepath.core.plugin_api import pass_state


@click.command("webhooks", help="Deliver webhooks until stopped (Ctrl-C or SIGTERM). Several may run at once.")
@click.option("--threads", type=click.IntRange(1, 256), default=None, help="Delivery threads (default 8).")
@click.option("--sweep-seconds", type=click.FloatRange(0.1, 3600), default=None,
              help="How often to look for new and due deliveries in every tenant (default 15).")
@pass_state
def webhooks_worker(state, threads, sweep_seconds):
    from .options import state_for
    from .worker import DeliveryWorker

    kernel = state.ready_kernel()
    webhook_state = state_for(kernel)
    changes = {k: v for k, v in (("threads", threads), ("sweep_seconds", sweep_seconds)) if v is not None}
    if changes:
        webhook_state.options = dataclasses.replace(webhook_state.options, **changes)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    worker = DeliveryWorker(kernel, name="webhooks-worker")
    worker.start()
    click.echo(f"webhooks worker running ({webhook_state.options.threads} threads); Ctrl-C stops it", err=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        worker.stop()
        click.echo("webhooks worker stopped", err=True)


@click.group("worker", help="Background workers that run as processes of their own (server mode).")
def worker_group():
    pass


def add_commands(cli: click.Group) -> None:
    group = cli.commands.get("worker")
    if not isinstance(group, click.Group):
        group = worker_group
        cli.add_command(group)
    group.add_command(webhooks_worker)
