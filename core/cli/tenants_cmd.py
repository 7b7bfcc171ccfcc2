"""``guidepath tenants``: create, inspect, suspend, resume and delete tenants."""

from __future__ import annotations

from typing import Any

import click

from .context import CliState, pass_state, tenant_option
from .output import echo_json, echo_table
from .prompts import prompt_password


@click.group()
def tenants() -> None:
    """Create and manage tenants (the tenant SLUG lives at SLUG.<base-domain>).

    Every command here takes the tenant as SLUG or as --tenant SLUG, like the
    users and plugins commands.
    """


def tenant_row(tenant: Any) -> dict[str, Any]:
    return tenant.public()


@tenants.command("create")
@tenant_option
@click.option("--name", default="", help="Display name (default: the slug).")
@click.option("--admin-email", default=None, help="Create a first admin user with this email.")
@click.option("--admin-password", default=None,
              help="The admin's password (asked for when omitted on a terminal).")
@pass_state
def create(state: CliState, slug: str, name: str, admin_email: str | None,
           admin_password: str | None) -> None:
    """Create the tenant SLUG: its database, data key, files and cache.

    SLUG becomes the first label of the tenant's host name, so it must be a
    lower-case DNS label (a-z, 0-9, '-').
    """
    service = state.tenants()
    if admin_email is not None and admin_password is None:
        _refuse_unusable_slug(service, slug)  # before making anyone type a password
        admin_password = prompt_password("--admin-password")
    tenant = service.create(slug, name=name, admin_email=admin_email, admin_password=admin_password)
    click.echo(f"Created tenant {tenant.slug!r} ({tenant.id}) at {tenant.slug}.{state.config.base_domain}")
    if admin_email is not None:
        click.echo(f"Admin user: {admin_email.strip().lower()}")


def _refuse_unusable_slug(service: Any, slug: str) -> None:
    from ..domain.errors import Conflict, Invalid
    from ..tenancy.slugs import SlugError, validate_slug

    try:
        validate_slug(slug)
    except SlugError as exc:
        raise Invalid(str(exc), field="slug") from None
    if service.directory.get_by_slug(slug) is not None:
        raise Conflict(f"a tenant with slug {slug!r} already exists", field="slug")


@tenants.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def list_(state: CliState, as_json: bool) -> None:
    """List all tenants."""
    rows = state.ready_kernel().directory.list()
    if as_json:
        echo_json([tenant_row(t) for t in rows])
        return
    echo_table(
        ["slug", "id", "status", "container", "created"],
        [[t.slug, t.id, t.status, t.container_id, t.created_at] for t in rows],
        empty="No tenants.",
    )


@tenants.command("show")
@tenant_option
@pass_state
def show(state: CliState, slug: str) -> None:
    """Show the tenant SLUG as JSON."""
    tenant = state.tenants().require(slug)
    data = tenant_row(tenant)
    data["host"] = f"{tenant.slug}.{state.config.base_domain}"
    echo_json(data)


@tenants.command("suspend")
@tenant_option
@pass_state
def suspend(state: CliState, slug: str) -> None:
    """Suspend the tenant SLUG: its hosts stop answering, its data is kept."""
    tenant = state.tenants().suspend(slug)
    click.echo(f"Tenant {tenant.slug!r} suspended.")


@tenants.command("resume")
@tenant_option
@pass_state
def resume(state: CliState, slug: str) -> None:
    """Resume the suspended tenant SLUG."""
    tenant = state.tenants().resume(slug)
    click.echo(f"Tenant {tenant.slug!r} resumed.")


@tenants.command("delete")
@tenant_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_state
def delete(state: CliState, slug: str, yes: bool) -> None:
    """Delete the tenant SLUG for good: its database, files, cache and data key."""
    service = state.tenants()
    tenant = service.require(slug)  # an unknown slug fails before we ask anything
    if not yes:
        click.confirm(
            f"Delete tenant {tenant.slug!r} ({tenant.id}) and destroy all its data? "
            "This cannot be undone",
            abort=True,
        )
    service.delete(slug)
    click.echo(f"Tenant {slug!r} deleted.")
