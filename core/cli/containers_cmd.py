"""``guidepath containers``: register the PostgreSQL databases that hold tenants.

A container database holds many tenants, one schema and one login role each
(server mode only: embedded tenants are SQLite files). New tenants go to the
least full container.
"""

from __future__ import annotations

import click

from ..config import redact_url
from .context import CliState, pass_state
from .output import echo_json, echo_table

DEFAULT_CAPACITY = 5000


@click.group()
def containers() -> None:
    """Register and list the PostgreSQL databases that hold tenants."""


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://``; use the psycopg 3 driver for them.

    SQLAlchemy would pick psycopg2 for a bare ``postgresql://``, which guidepath
    does not install.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise click.BadParameter(
            "not a database URL; expected postgresql+psycopg://USER[:PASSWORD]@HOST[:PORT]/DATABASE",
            param_hint="URL",
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if not parsed.drivername.startswith("postgresql"):
        raise click.BadParameter(
            f"containers are PostgreSQL databases, not {parsed.get_backend_name()!r}; "
            "expected postgresql+psycopg://USER[:PASSWORD]@HOST[:PORT]/DATABASE",
            param_hint="URL",
        )
    if not parsed.database:
        raise click.BadParameter("the URL names no database (…/DATABASE at the end)", param_hint="URL")
    return parsed.render_as_string(hide_password=False)


def check_container(url: str) -> None:
    """Connect once and make sure the URL's user can provision tenant roles."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    shown = redact_url(url)
    try:
        engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 10})
        try:
            with engine.connect() as conn:
                can_create_roles = conn.execute(text(
                    "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
                )).scalar()
        finally:
            engine.dispose()
    except (SQLAlchemyError, ImportError) as exc:
        reason = getattr(exc, "orig", None) or exc
        raise click.ClickException(
            f"cannot connect to {shown}: {str(reason).strip().splitlines()[0]}"
        ) from None
    if not can_create_roles:
        raise click.ClickException(
            f"the user in {shown} cannot create roles; tenants need one login role each. "
            "Use a user with CREATEROLE (ALTER ROLE … CREATEROLE) that owns the database"
        )


def _same_database(a: str, b: str) -> bool:
    from sqlalchemy.engine import make_url

    ua, ub = make_url(a), make_url(b)
    return (ua.host or "localhost", ua.port or 5432, ua.database) == (
        ub.host or "localhost", ub.port or 5432, ub.database)


@containers.command("add")
@click.argument("url")
@click.option("--capacity", type=click.IntRange(min=1), default=DEFAULT_CAPACITY, show_default=True,
              help="How many tenants this database may hold.")
@pass_state
def add(state: CliState, url: str, capacity: int) -> None:
    """Register the PostgreSQL database URL as a tenant container.

    The connection is tried first, then the database is locked down (nobody may
    connect or use the public schema unless granted), then it is registered.
    """
    from ..tenancy.storage import harden_container

    config = state.config
    url = normalize_url(url)
    if config.embedded:
        raise click.ClickException(
            "containers hold tenants in server mode only; this installation is embedded "
            "(set GUIDEPATH_DATABASE_URL to the PostgreSQL global database first)"
        )
    if _same_database(url, config.global_database_url):
        raise click.ClickException(
            "that is the global database; tenants must live in a separate container database"
        )
    kernel = state.ready_kernel()
    existing = next((c for c in kernel.directory.containers() if c.url == url), None)
    if existing is not None:
        click.echo(f"Container {existing.id} is already registered ({redact_url(url)}).")
        return
    check_container(url)
    harden_container(url)
    container = kernel.directory.add_container(url, capacity)
    click.echo(f"Added container {container.id}: {redact_url(url)} (capacity {capacity}).")


@containers.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def list_(state: CliState, as_json: bool) -> None:
    """List the container databases with how full they are."""
    rows = state.ready_kernel().directory.containers()
    if as_json:
        echo_json([
            {"id": c.id, "url": redact_url(c.url), "tenants": c.tenant_count, "capacity": c.capacity}
            for c in rows
        ])
        return
    echo_table(
        ["id", "url", "tenants"],
        [[c.id, redact_url(c.url), f"{c.tenant_count}/{c.capacity}"] for c in rows],
        empty="No containers.",
    )
