"""Devices and their diagnostics fields (filled by the device client or the API)."""

from __future__ import annotations

from .records import Resource
from .tables import customers, devices


def _text(limit: int) -> dict:
    return {"type": ["string", "null"], "maxLength": limit, "pattern": r"^[^\x00-\x1f]*$"}


DEVICE_SCHEMA = {
    "type": "object",
    "properties": {
        "customer_id": {"type": ["string", "null"], "maxLength": 40,
                        "description": "The owner's customer id; it must exist (422 otherwise)"},
        "manufacturer": _text(100),
        "brand": _text(100),
        "model": _text(100),
        "os_name": _text(50),
        "os_version": _text(50),
        "memory_bytes": {"type": ["integer", "null"], "minimum": 0, "maximum": 2**53},
        "processor": _text(200),
        "device_name": _text(200),
        "serial_number": _text(100),
        "extra": {"type": "object", "maxProperties": 64,
                  "description": "Anything else the device client reports (at most 64 keys)"},
    },
    "examples": [{"manufacturer": "Samsung", "brand": "samsung", "model": "SM-S918B", "os_name": "Android",
                  "os_version": "14", "memory_bytes": 8589934592, "processor": "Snapdragon 8 Gen 2",
                  "device_name": "Ada's phone", "serial_number": "R5CW1234567",
                  "extra": {"carrier": "Vodafone"}}],
}

DEVICES = Resource(devices, "dev", DEVICE_SCHEMA, "device", refs={"customer_id": customers})

#: A device as the API returns it.
DEVICE_OUTPUT_SCHEMA = DEVICES.output_schema()
