"""Query-string helpers read inside a view: the way before :mod:`..contract`.

A view now declares its query parameters with ``@documented(query=[...])`` (checked
before it runs, and documented) and reads them with ``query_args()``; core's views all
do. These helpers stay because ``guidepath.core.plugin_api`` exports them (partner
API 1.0): partners' plugins may use them.

Integers go through :func:`int_param` (ASCII digits, bounded; 422 naming the field),
never ``int(request.args[...])``: see :mod:`guidepath.core.domain.integers`.
"""

from __future__ import annotations

from datetime import datetime

from flask import request

from ...domain.errors import Invalid
from ...domain.integers import INT64_MAX, parse_int
from ...domain.records import page_limit
from ...domain.timestamps import parse_timestamp


def paging() -> dict:
    return {"limit": page_limit(request.args.get("limit")), "cursor": request.args.get("cursor") or None}


def int_param(name: str, *, minimum: int = 0, maximum: int = INT64_MAX,
              default: int | None = None) -> int | None:
    """``?name=`` as an integer in ``minimum..maximum``; ``default`` when absent or empty."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    return parse_int(raw, field=name, minimum=minimum, maximum=maximum)


def timestamp(name: str) -> datetime | None:
    raw = request.args.get(name)
    return parse_timestamp(raw, field=name) if raw else None


def reject_unknown(allowed: set[str]) -> None:
    unknown = set(request.args) - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise Invalid(f"unknown query parameter {name!r}; allowed: {', '.join(sorted(allowed)) or 'none'}",
                      field=name)
