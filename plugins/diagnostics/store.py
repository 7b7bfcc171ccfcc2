"""Storing a device's report on the session's device record, in one transaction.

A session without a device gets one (linked to the session's customer); a session
with one gets its fields updated. The fields a report leaves out are kept: a device
that cannot read its serial number does not erase the one an agent typed in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from guidepath.core.plugin_api import DEVICES, Conflict, support_sessions

from .fields import FIELDS, check

if TYPE_CHECKING:  # pragma: no cover
    from guidepath.core.plugin_api import TenantContext

EVENT = "diagnostics.updated"
SOURCES = ("device", "app")


def record(ctx: TenantContext, conn: Connection, session_id: str, info: Any, *, source: str) -> dict[str, Any]:
    """Validate ``info`` and store it on the session's device; returns the device.

    Raises ``Invalid`` (nothing written) for a bad report, ``NotFound`` for an
    unknown session and ``Conflict`` for an ended one. Emits ``diagnostics.updated``
    in the same transaction.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")
    fields = check(info)
    session = support_sessions.get(conn, session_id)
    if session["state"] == "ended":
        raise Conflict("the session has ended; its device record is kept as it was", field="id")
    if session["device_id"] is None:
        device = DEVICES.create(conn, {"customer_id": session["customer_id"], **fields})
        support_sessions.patch(conn, session_id, {"device_id": device["id"]})
        changed = sorted(fields)
    else:
        before = DEVICES.get(conn, session["device_id"])
        device = DEVICES.patch(conn, session["device_id"], fields)
        changed = sorted(name for name in fields if before.get(name) != device.get(name))
    ctx.emit(conn, EVENT, {"session_id": session_id, "device_id": device["id"], "source": source,
                           "changed": changed})
    return device


def view(conn: Connection, session_id: str) -> dict[str, Any]:
    """The session's device fields (all null when no device has reported yet)."""
    session = support_sessions.get(conn, session_id)
    if session["device_id"] is None:
        return {"session_id": session_id, "device_id": None, "updated_at": None,
                **{name: ({} if name == "extra" else None) for name in FIELDS}}
    device = DEVICES.get(conn, session["device_id"])
    return {"session_id": session_id, "device_id": device["id"], "updated_at": device["updated_at"],
            **{name: device.get(name) for name in FIELDS}}
