"""Query-string parameters shared by list endpoints."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import request

from ...domain.errors import Invalid
from ...domain.records import page_limit


def paging() -> dict:
    return {"limit": page_limit(request.args.get("limit")), "cursor": request.args.get("cursor") or None}


def timestamp(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{name} must be an ISO-8601 timestamp like 2026-01-31T12:00:00Z", field=name) from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def reject_unknown(allowed: set[str]) -> None:
    unknown = set(request.args) - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise Invalid(f"unknown query parameter {name!r}; allowed: {', '.join(sorted(allowed)) or 'none'}",
                      field=name)
