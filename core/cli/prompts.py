"""Asking the person at the terminal, and refusing to hang when there is none."""

from __future__ import annotations

import sys

import click


def prompt_password(option: str) -> str:
    """Ask for a new password, twice and hidden; without a terminal, ask for ``option``."""
    if not sys.stdin.isatty():
        raise click.UsageError(f"give {option} (there is no terminal to ask for it on)")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)
