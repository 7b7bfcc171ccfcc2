"""What ``?expand=`` adds to sessions: the customer, the device, the agent, the queue.

One query per part for a whole page of sessions, never one per session.
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import Connection, select

from .errors import Invalid
from .session_queue import queue_stats
from .support_sessions import EXPANSIONS
from .tables import customers, devices, users


def parse_expand(raw: str | None) -> list[str]:
    """``customer,device`` → the list; an unknown part is a 422 naming it."""
    if raw is None:
        return []
    parts = [p.strip() for p in raw.split(",")]
    for part in parts:
        if part not in EXPANSIONS:
            raise Invalid(f"expand: unknown value {part!r}; allowed: {', '.join(EXPANSIONS)} "
                          "(comma-separated)", field="expand")
    return list(dict.fromkeys(parts))


def full_name(first: str | None, last: str | None) -> str | None:
    name = " ".join(p for p in (first, last) if p)
    return name or None


def device_summary(row: Any) -> str:
    """``Acme Test Phone 7 · Android 15``: maker and model, then the system."""
    maker = row.manufacturer or row.brand
    model = row.model or ""
    if maker and model.lower().startswith(maker.lower()):
        maker = None  # "Samsung Samsung Galaxy" reads badly
    hardware = " ".join(p for p in (maker, model) if p)
    system = " ".join(p for p in (row.os_name, row.os_version) if p)
    summary = " · ".join(p for p in (hardware, system) if p)
    return summary or row.device_name or "Unknown device"


def expand(conn: Connection, sessions: list[dict[str, Any]], parts: Iterable[str]) -> list[dict[str, Any]]:
    """Add the asked-for parts to each session: one query per part for the whole page."""
    parts = list(parts)
    if not parts or not sessions:
        return sessions
    out = [dict(s) for s in sessions]

    def ids(key: str) -> list[str]:
        return sorted({s[key] for s in out if s[key]})

    if "customer" in parts:
        found = {r.id: {"id": r.id, "name": full_name(r.first_name, r.last_name), "email": r.email}
                 for r in conn.execute(select(customers.c.id, customers.c.first_name, customers.c.last_name,
                                              customers.c.email).where(customers.c.id.in_(ids("customer_id"))))}
        for s in out:
            s["customer"] = found.get(s["customer_id"])
    if "device" in parts:
        found = {r.id: {"id": r.id, "summary": device_summary(r)}
                 for r in conn.execute(select(devices).where(devices.c.id.in_(ids("device_id"))))}
        for s in out:
            s["device"] = found.get(s["device_id"])
    if "agent" in parts:
        found = {r.id: {"id": r.id, "name": r.name or None, "email": r.email}
                 for r in conn.execute(select(users.c.id, users.c.name, users.c.email)
                                       .where(users.c.id.in_(ids("agent_id"))))}
        for s in out:
            s["agent"] = found.get(s["agent_id"])
    if "queue" in parts:
        stats = queue_stats(conn)
        for s in out:
            s["queue"] = stats.view(s)
    return out
