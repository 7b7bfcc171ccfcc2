"""``guidepath config``: inspect the effective configuration (secrets hidden)."""

from __future__ import annotations

import json
from typing import Any

import click

from .context import CliState, pass_state
from .output import echo_json


@click.group()
def config() -> None:
    """Inspect the effective configuration."""


@config.command("show")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "toml"]), default="json", show_default=True,
    help="json, or key = value lines in the style of guidepath.toml.",
)
@pass_state
def show(state: CliState, fmt: str) -> None:
    """Print the configuration after environment, guidepath.toml and defaults are
    merged. The master key, the cookie secret and URL passwords are redacted."""
    values = state.config.redacted()
    if fmt == "json":
        echo_json(values)
        return
    # Derived, not settings: comments in a file one could paste into guidepath.toml.
    for derived in ("mode", "relays"):
        if value := values.pop(derived, None):
            click.echo(f"# {derived}: {value}")
    for key, value in values.items():
        click.echo(_toml_line(key, value))


def _toml_line(key: str, value: Any) -> str:
    if value is None:
        return f"# {key} = (not set)"
    if isinstance(value, bool):
        return f"{key} = {'true' if value else 'false'}"
    if isinstance(value, (int, float)):
        return f"{key} = {value}"
    if isinstance(value, dict):
        if not value:
            return f"# {key} = {{}}"
        inner = ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items())
        return f"{key} = {{ {inner} }}"
    # JSON string escaping is valid TOML basic-string escaping.
    return f"{key} = {json.dumps(str(value))}"
