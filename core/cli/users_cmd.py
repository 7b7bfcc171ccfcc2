"""``guidepath users``: a tenant's agents and admins."""

from __future__ import annotations

from typing import Any

import click

from .context import CliState, pass_state, tenant_option
from .output import echo_json, echo_table
from .prompts import prompt_password

PAGE = 200

@click.group()
def users() -> None:
    """Create and list the users (agents and admins) of the tenant SLUG.

    \b
    Examples:
      guidepath users list acme                  (or: users list --tenant acme)
      guidepath users create acme --email ann@acme.example.com --role admin
    """


@users.command("create")
@tenant_option
@click.option("--email", required=True, help="Login email.")
@click.option("--password", default=None,
              help="At least 10 characters (asked for when omitted on a terminal).")
@click.option("--role", type=click.Choice(["agent", "admin"]), default="agent", show_default=True)
@click.option("--name", default=None, help="Display name.")
@pass_state
def create(state: CliState, slug: str, email: str, password: str | None, role: str,
           name: str | None) -> None:
    """Create a user in the tenant SLUG."""
    from ..domain import audit
    from ..domain import users as users_domain

    tenant, ctx = state.tenant_context(slug)
    if password is None:
        password = prompt_password("--password")
    data: dict[str, Any] = {"email": email, "password": password, "role": role}
    if name is not None:
        data["name"] = name
    with ctx.begin() as conn:
        user = users_domain.create(conn, data)
        audit.record(conn, "cli", "user.created", user["id"], {"role": role})
    click.echo(f"Created {user['role']} {user['email']} ({user['id']}) in tenant {tenant.slug!r}.")


@users.command("list")
@tenant_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def list_(state: CliState, slug: str, as_json: bool) -> None:
    """List the users of the tenant SLUG."""
    from ..domain import users as users_domain

    _tenant, ctx = state.tenant_context(slug)
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    with ctx.begin() as conn:
        while True:
            page = users_domain.list_users(conn, limit=PAGE, cursor=cursor)
            rows.extend(page.items)
            cursor = page.next
            if cursor is None:
                break
    if as_json:
        echo_json(rows)
        return
    echo_table(
        ["id", "email", "name", "role", "disabled", "created"],
        [[u["id"], u["email"], u["name"], u["role"], u["disabled"], u["created_at"]] for u in rows],
        empty="No users.",
    )
