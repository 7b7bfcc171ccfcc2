"""The diagnostics document: which fields a device may report, and their limits.

The limits are the device table's columns (``core/domain/tables.py``), so a value
that validates always fits: a too-long model name is refused with its field's name
rather than cut short or failing in the database.
"""

from __future__ import annotations

import json
from typing import Any

from guidepath.core.plugin_api import Invalid, validate

TEXT_FIELDS = {
    "manufacturer": 100, "brand": 100, "model": 100, "os_name": 50, "os_version": 50,
    "processor": 200, "device_name": 200, "serial_number": 100,
}
FIELDS = [*TEXT_FIELDS, "memory_bytes", "extra"]

MAX_EXTRA_PROPERTIES = 64
MAX_EXTRA_BYTES = 8192


def _text(limit: int) -> dict[str, Any]:
    # Control characters would let a device forge lines in logs and the agent UI.
    return {"type": ["string", "null"], "maxLength": limit, "pattern": r"^[^\x00-\x1f\x7f]*$"}


DIAGNOSTICS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        **{name: _text(limit) for name, limit in TEXT_FIELDS.items()},
        "memory_bytes": {"type": ["integer", "null"], "minimum": 0, "maximum": 2**53},
        "extra": {
            "type": "object", "maxProperties": MAX_EXTRA_PROPERTIES,
            "propertyNames": {"pattern": r"^[A-Za-z0-9_.-]{1,64}$"},
            "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
        },
    },
    "additionalProperties": False,
    "minProperties": 1,
}


def check(info: Any) -> dict[str, Any]:
    """The reported fields, validated, or :class:`Invalid` naming the wrong field."""
    validate(DIAGNOSTICS_SCHEMA, info)
    extra = info.get("extra")
    if extra is not None:
        size = len(json.dumps(extra, separators=(",", ":")).encode())
        if size > MAX_EXTRA_BYTES:
            raise Invalid(f"extra is {size} bytes; at most {MAX_EXTRA_BYTES} are kept", field="extra")
    return {name: info[name] for name in FIELDS if name in info}
