"""``guidepath db``: schema migrations for the global database and every tenant."""

from __future__ import annotations

import sys

import click

from .context import CliState, pass_state, user_error_message


@click.group()
def db() -> None:
    """Database schema migrations."""


@db.command("upgrade")
@pass_state
def upgrade(state: CliState) -> None:
    """Upgrade the global database, then every tenant, to the current schema.

    Each tenant is migrated in its own transaction, so an interrupted run can
    simply be started again: tenants already current are skipped quickly. A tenant
    that fails does not stop the others; the command then exits with status 1.
    """
    from ..tenancy.service import TenantService

    kernel = state.kernel
    changed = kernel.upgrade_global()
    click.echo(f"Global database: {'upgraded' if changed else 'already current'}.")

    service = TenantService(kernel)
    tenants = kernel.directory.list()
    if not tenants:
        click.echo("No tenants.")
        return

    upgraded: list[str] = []
    current: list[str] = []
    failed: list[tuple[str, str]] = []

    def on_tenant(tenant, did_change: bool) -> None:
        (upgraded if did_change else current).append(tenant.slug)

    with click.progressbar(
        tenants,
        label="Upgrading tenants",
        item_show_func=lambda t: t.slug if t is not None else None,
        show_pos=True,
        file=sys.stderr,
    ) as bar:
        for tenant in bar:
            try:
                service.migrate_all(on_tenant=on_tenant, tenants=[tenant])
            except Exception as exc:  # noqa: BLE001 - report it, carry on with the rest
                failed.append((tenant.slug, user_error_message(exc) or repr(exc)))

    skipped = len(tenants) - len(upgraded) - len(current) - len(failed)
    summary = f"{len(upgraded)} tenants upgraded, {len(current)} already current"
    if skipped:
        summary += f", {skipped} skipped (being created or deleted)"
    click.echo(summary + ".")
    if failed:
        for slug, reason in failed:
            click.echo(f"  {slug}: {reason}", err=True)
        raise click.ClickException(
            f"{len(failed)} tenants failed to upgrade; fix the cause and run `guidepath db upgrade` again"
        )
