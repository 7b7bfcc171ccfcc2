"""``/sessions/{id}``: one support session, live (or read only once it has ended).

Server-rendered: the session's header, the customer and device panel (the
diagnostics fields the device record holds), the actions the agent may take, and
the panels plugins add (``session_panels``: the Guided Path runner, remote control
and camera, …). ``session.js`` brings chat, private notes, the timeline, take /
transfer / invite / end, and keeps all of it current from ``WS /ws``.
"""

from __future__ import annotations

from typing import Any

from ..domain import support_sessions
from ..domain.customers import CUSTOMERS
from ..domain.devices import DEVICES
from ..domain.errors import NotFound
from ..web.contract import page
from ..web.tenant import tenant_ctx
from .access import console_page, signed_in_user
from .blueprint import bp
from .rendering import render_page

#: The device fields shown, in order, with their labels (the diagnostics a device reports).
DEVICE_FIELDS = (
    ("manufacturer", "Manufacturer"), ("brand", "Brand"), ("model", "Model"), ("os_name", "OS"),
    ("os_version", "OS version"), ("memory_bytes", "Memory"), ("processor", "Processor"),
    ("device_name", "Device name"), ("serial_number", "Serial number"),
)


def _maybe(get, conn, record_id: str | None) -> dict[str, Any] | None:
    if not record_id:
        return None
    try:
        return get(conn, record_id)
    except NotFound:
        return None


@bp.get("/sessions/<session_id>")
@page("A support session: customer, device, Guided Path, chat, notes, timeline")
@console_page()
def session_page(session_id: str):
    principal = signed_in_user()
    ctx = tenant_ctx()
    with ctx.engine.connect() as conn:
        session = support_sessions.get(conn, session_id)
        customer = _maybe(CUSTOMERS.get, conn, session["customer_id"])
        device = _maybe(DEVICES.get, conn, session["device_id"])
    session = {**session, "capabilities": ctx.hooks.session_capabilities(ctx.tenant, session)}
    panels = ctx.hooks.session_panels(ctx.tenant, session, principal)
    read_only = session["state"] == "ended"
    mine = session["agent_id"] == principal["id"]
    title = _customer_name(customer)
    return render_page(
        "console/session.html", title=f"{title} · session", page_name="session", principal=principal,
        session=session, customer=customer, device=device, device_fields=DEVICE_FIELDS,
        customer_name=title, panels=panels, read_only=read_only, mine=mine,
        page_context={"session": session, "readOnly": read_only,
                      "panels": [{"key": p.key, "module": p.module} for p in panels if p.module]},
    )


def _customer_name(customer: dict[str, Any] | None) -> str:
    if not customer:
        return "Anonymous customer"
    name = " ".join(part for part in (customer.get("first_name"), customer.get("last_name")) if part)
    return name or customer.get("email") or "Unnamed customer"
