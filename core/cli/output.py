"""How commands print: aligned tables for people, JSON for scripts (always RFC 8259
JSON, as the API writes it: ``domain.strict_json.dumps``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

import click

from ..domain import strict_json


def echo_json(data: Any) -> None:
    click.echo(strict_json.dumps(data, indent=2, sort_keys=True, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    return str(value)


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, empty: str = "") -> None:
    """Print rows under upper-case headers, columns padded to their widest cell."""
    if not rows:
        if empty:
            click.echo(empty)
        return
    cells = [[_cell(v) for v in row] for row in rows]
    titles = [h.upper() for h in headers]
    widths = [max(len(t), *(len(r[i]) for r in cells)) for i, t in enumerate(titles)]
    for line in (titles, *cells):
        click.echo("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, str) and _looks_like_timestamp(value):
        return value[:16].replace("T", " ")
    if isinstance(value, (dict, list)):
        return strict_json.dumps(value, sort_keys=True)
    return str(value)


def _looks_like_timestamp(value: str) -> bool:
    # "2026-01-31T12:34:56.789Z": the domain layer's ISO 8601 strings.
    if len(value) < 19 or value[10] != "T":
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
