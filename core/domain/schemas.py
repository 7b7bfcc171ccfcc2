"""Pieces of the JSON Schemas of what the API answers with (response objects).

Each object's response schema lives next to its create schema (``CUSTOMER_SCHEMA``
and ``CUSTOMERS.output_schema()``, ``users.USER_SCHEMA``…) and is written once:
the web layer declares it on its views (:func:`guidepath.core.web.contract.documented`),
which puts it in ``GET /api/openapi.json``.

A response schema says what a client can rely on: every field is present
(``required``), with its type, ``null`` where it may be. It does not repeat the
input's limits (lengths, patterns): those are checked on the way in, and a value
stored before a limit existed must not make a response "invalid". Objects stay open
(no ``additionalProperties: false``): adding a field is not a breaking change.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

#: Keywords of an input field's schema that say what the value *is* (kept in a
#: response schema); the others limit what is accepted (dropped).
_DESCRIPTIVE = ("type", "enum", "const", "format", "description", "items", "properties", "examples")

TIMESTAMP: dict[str, Any] = {"type": "string", "format": "date-time",
                             "description": "UTC, ISO-8601 (RFC 3339) with a `Z`",
                             "examples": ["2026-01-31T12:00:00.000000Z"]}
NULLABLE_TIMESTAMP: dict[str, Any] = {**TIMESTAMP, "type": ["string", "null"]}


def object_id(prefix: str, example: str, what: str = "") -> dict[str, Any]:
    """An object id: ``prefix_`` and 26 lowercase base32 characters."""
    schema: dict[str, Any] = {"type": "string", "pattern": f"^{prefix}_[0-9a-z]{{26}}$", "examples": [example]}
    if what:
        schema["description"] = what
    return schema


def output_field(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A response field's schema from the input field's: its type, not its limits."""
    out = {k: v for k, v in schema.items() if k in _DESCRIPTIVE}
    if isinstance(out.get("items"), Mapping):
        out["items"] = output_field(out["items"])
    if isinstance(out.get("properties"), Mapping):
        out["properties"] = {k: output_field(v) for k, v in out["properties"].items()}
    return out


def response_object(properties: Mapping[str, Any], *, optional: Iterable[str] = (),
                    description: str = "", examples: list[Any] | None = None) -> dict[str, Any]:
    """An object whose fields are all present except ``optional`` ones."""
    left_out = set(optional)
    schema: dict[str, Any] = {"type": "object", "required": [k for k in properties if k not in left_out],
                              "properties": dict(properties)}
    if description:
        schema["description"] = description
    if examples:
        schema["examples"] = examples
    return schema
