"""The ``guidepath`` command line: run the app, upgrade databases, and administer
tenants, containers, users and plugins without the web console.

Each command group lives in its own module (``tenants_cmd.py``, ``db_cmd.py``, …);
:mod:`.context` holds the per-invocation state (configuration and a lazily built
kernel) and turns user errors into ``Error: …`` with exit code 1. Installed plugins
add commands with the ``register_cli_commands`` hook.

Must not import Flask (or the web package) at import time: administering tenants
must work without the web stack, and start fast. ``guidepath run`` imports the web
app when it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .config_cmd import config
from .containers_cmd import containers
from .context import CliState, configure_logging
from .db_cmd import db
from .group import RootGroup
from .plugins_cmd import plugins
from .run_cmd import run
from .tenants_cmd import tenants
from .users_cmd import users

__all__ = ["build_cli", "cli", "main"]


def build_cli() -> RootGroup:
    """A fresh root group with the built-in commands.

    Plugin commands are added to it on first use; tests that install a plugin
    build their own group so its commands do not leak into other tests.
    """

    @click.group(cls=RootGroup, name="guidepath",
                 context_settings={"help_option_names": ["-h", "--help"]})
    @click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder for embedded databases, files and the master key "
        "(overrides GUIDEPATH_DATA_DIR; default ./var).",
    )
    @click.option("-v", "--verbose", is_flag=True, help="Log everything, with tracebacks.")
    @click.version_option(package_name="guidepath", prog_name="guidepath")
    @click.pass_context
    def root(ctx: click.Context, data_dir: Path | None, verbose: bool) -> None:
        """guidepath: a multi-tenant live-support platform.

        Configuration comes from GUIDEPATH_* environment variables, then
        guidepath.toml in the data folder. Without GUIDEPATH_DATABASE_URL everything
        runs embedded (SQLite, in-process cache and bus) under the data folder.

        \b
        Start here:
          guidepath run --demo                 serve the app with a demo tenant
          guidepath tenants create acme        add a tenant (acme.localhost)
          guidepath db upgrade                 migrate every database after an update
        """
        configure_logging(verbose)
        state = CliState(data_dir, verbose=verbose)
        ctx.obj = state
        ctx.call_on_close(state.close)

    for command in (run, db, tenants, containers, users, plugins, config):
        root.add_command(command)
    return root


cli = build_cli()


def main(args: list[str] | None = None, **extra: Any) -> Any:
    """Console-script entry point (``guidepath = "guidepath.core.cli:main"``)."""
    return cli.main(args=args, prog_name="guidepath", **extra)
