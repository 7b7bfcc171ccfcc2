"""``guidepath analytics rebuild --tenant SLUG``: replay the tenant's retained events
into fresh aggregate tables and swap them in (:mod:`.rebuild`)."""

from __future__ import annotations

import sys

import click

from guidepath.core.plugin_api import pass_state, tenant_option


@click.group("analytics", help="The analytics plugin's aggregates.")
def analytics_group():
    pass


@analytics_group.command("rebuild")
@tenant_option
@pass_state
def rebuild_command(state, slug):
    """Rebuild the tenant SLUG's analytics from its retained events (the outbox), then
    swap the fresh tables in; the live ones keep serving until then."""
    from .rebuild import rebuild

    tenant, ctx = state.tenant_context(slug)
    bar = None

    def total(count: int) -> None:
        nonlocal bar
        bar = click.progressbar(length=count, label=f"Replaying {tenant.slug}'s events", file=sys.stderr)
        bar.__enter__()

    try:
        result = rebuild(ctx, progress=lambda n: bar.update(n) if bar else None, total=total)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    click.echo(f"rebuilt {tenant.slug}'s analytics: {result.events} events replayed "
               f"({result.applied} counted), {result.tail} more since the replay began")
