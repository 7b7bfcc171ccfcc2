"""Devices and their diagnostics fields (filled by the device client or the API)."""

from __future__ import annotations

from .records import Resource
from .tables import customers, devices


def _text(limit: int) -> dict:
    return {"type": ["string", "null"], "maxLength": limit, "pattern": r"^[^\x00-\x1f]*$"}


DEVICE_SCHEMA = {
    "type": "object",
    "properties": {
        "customer_id": {"type": ["string", "null"], "maxLength": 40},
        "manufacturer": _text(100),
        "brand": _text(100),
        "model": _text(100),
        "os_name": _text(50),
        "os_version": _text(50),
        "memory_bytes": {"type": ["integer", "null"], "minimum": 0, "maximum": 2**53},
        "processor": _text(200),
        "device_name": _text(200),
        "serial_number": _text(100),
        "extra": {"type": "object", "maxProperties": 64},
    },
}

DEVICES = Resource(devices, "dev", DEVICE_SCHEMA, "device", refs={"customer_id": customers})
