"""``guidepath paths``: import, export and list a tenant's Guided Paths.

The same :mod:`.store` functions as the API, so a file the CLI imports is checked
exactly as the API would check it::

    guidepath paths import phone.json --tenant acme --publish
    guidepath paths export phone-wont-charge --tenant acme -o phone.json
    guidepath paths list --tenant acme
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from guidepath.core.plugin_api import (
    BadJSON, CliState, Invalid, echo_table, parse_int, parse_json, pass_state, tenant_option,
)

from . import store
from .plugin import limits_for, tenant_apps, tenant_registry
from .tables import MAX_VERSION

CLI_ACTOR = "cli"


@click.group()
def paths() -> None:
    """Import, export and list the Guided Paths of the tenant SLUG."""


def _problems(issues: list, heading: str) -> str:
    lines = [heading]
    lines += [f"  {i.pointer or '/'}: {i.message} [{i.code}]" for i in issues]
    return "\n".join(lines)


@paths.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@tenant_option
@click.option("--publish", is_flag=True, help="Publish the imported draft as a new version.")
@pass_state
def import_path(state: CliState, file: Path, slug: str, publish: bool) -> None:
    """Import FILE (a Guided Path document) into the tenant SLUG: a new path, or a new
    draft of the path with the document's id. Nothing is stored if it cannot be published with --publish."""
    try:
        document = parse_json(file.read_bytes())
    except BadJSON as exc:
        raise click.ClickException(f"{file} is not a JSON document: {exc.message}") from None
    _tenant, ctx = state.tenant_context(slug)
    # Read before the transaction: on SQLite a second connection would wait for its lock.
    registry, limits, apps = tenant_registry(ctx), limits_for(ctx), tenant_apps(ctx)
    try:
        with ctx.begin() as conn:
            result = store.import_document(conn, document, registry, actor=CLI_ACTOR, emit=ctx.emit,
                                           publish_it=publish, limits=limits, known_apps=apps)
    except store.InvalidDocument as exc:
        raise click.ClickException(_problems(exc.issues, f"{file}: {exc.message}")) from None
    path = result.path
    verb = "created" if result.created else "updated the draft of"
    click.echo(f"{verb} {path['key']} ({path['id']})")
    if result.issues:
        click.echo(_problems(result.issues, f"{len(result.issues)} problem(s) to fix before publishing:"),
                   err=True)
    if result.version is not None:
        click.echo(f"published version {result.version}")


@paths.command("export")
@click.argument("path_key", metavar="PATH_KEY")
@tenant_option
@click.option("--version", "version", default=None, metavar="N|draft",
              help="A version number, or 'draft'; default: the latest published version.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@pass_state
def export_path(state: CliState, path_key: str, slug: str, version: str | None, output: Path | None) -> None:
    """Export a path of the tenant SLUG (by key or id) as a JSON document that
    `paths import` reads back."""
    wanted: int | str | None = version
    if version not in (None, "draft"):
        try:
            wanted = parse_int(version, field="--version", minimum=1, maximum=MAX_VERSION)
        except Invalid:
            raise click.BadParameter(f"a version number from 1 to {MAX_VERSION}, or 'draft'",
                                     param_hint="--version") from None
    _tenant, ctx = state.tenant_context(slug)
    with ctx.engine.connect() as conn:
        document, filename = store.export_document(conn, path_key, wanted)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, "utf-8")
        click.echo(f"wrote {filename} to {output}", err=True)


@paths.command("list")
@tenant_option
@click.option("--status", type=click.Choice(["active", "archived", "all"]), default="all", show_default=True)
@pass_state
def list_paths(state: CliState, slug: str, status: str) -> None:
    """List the paths of the tenant SLUG with their latest published version."""
    _tenant, ctx = state.tenant_context(slug)
    rows = []
    cursor = None
    with ctx.engine.connect() as conn:
        while True:
            page = store.list_paths(conn, status=None if status == "all" else status, limit=200, cursor=cursor)
            rows += [(p["key"], p["id"], p["status"], p["latest_version"], p["title"]) for p in page.items]
            cursor = page.next
            if cursor is None:
                break
    echo_table(["key", "id", "status", "version", "title"], rows, empty="no guided paths")
