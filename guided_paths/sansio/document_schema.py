"""The published Guided Path document schema: its text, a fresh copy, compiled validators.

``guided_paths/schema/guided-path.v1.json`` (JSON Schema 2020-12) is part of the
code, shipped as the plugin package's data: editors and the JS SDK read it from
``GET /api/v1/guided-paths/schema``, the built-in step types are its ``$defs``,
and validation checks documents against it. It is read once per process.

Validation needs "is this valid?" for a 5,000-step document to cost one fast
call, and precise errors only for what failed; :func:`schema_validators`
compiles the schema once for both.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

__all__ = [
    "DOCUMENT_SCHEMA_ID",
    "SchemaValidators",
    "document_schema",
    "fast_is_valid",
    "schema_text",
    "schema_validators",
]

DOCUMENT_SCHEMA_ID = "https://guidepath.dev/schemas/guided-path.v1.json"


@functools.cache
def schema_text() -> str:
    """The schema's JSON text."""
    # Package data, read once: the schema is part of the code, not state. It is
    # published with the plugin (guided_paths/schema/), one package up.
    return (resources.files("guidepath.guided_paths") / "schema" / "guided-path.v1.json").read_text("utf-8")


def document_schema() -> dict[str, Any]:
    """The published Guided Path document schema (a fresh copy each call)."""
    return json.loads(schema_text())


@dataclass(frozen=True)
class SchemaValidators:
    """The document schema, compiled once, split so that a 5,000-step document
    costs one fast check: ``document``/``step`` answer "valid?" (Rust
    ``jsonschema-rs`` when installed); ``skeleton``/``step_detail`` produce the
    precise errors (Python ``jsonschema``) only for the parts that failed."""

    document: Any
    step: Any
    skeleton: Draft202012Validator
    step_detail: Draft202012Validator


@functools.cache
def schema_validators() -> SchemaValidators:
    """The compiled validators, built on first use, once per process."""
    schema = json.loads(schema_text())
    step_schema = {"$schema": schema["$schema"], **schema["$defs"]["step"], "$defs": schema["$defs"]}
    skeleton = json.loads(schema_text())
    skeleton["properties"]["steps"]["additionalProperties"] = True
    try:
        import jsonschema_rs
    except ImportError:  # optional accelerator: same results, slower
        fast_document = fast_step = None
    else:
        fast_document = jsonschema_rs.Draft202012Validator(schema)
        fast_step = jsonschema_rs.Draft202012Validator(step_schema)
    return SchemaValidators(
        document=fast_document,
        step=fast_step,
        skeleton=Draft202012Validator(skeleton),
        step_detail=Draft202012Validator(step_schema),
    )


def fast_is_valid(validator: Any, instance: Any) -> bool | None:
    """``validator.is_valid`` of the accelerator, ``None`` when it cannot say."""
    if validator is None:
        return None
    try:
        return bool(validator.is_valid(instance))
    except Exception:  # noqa: BLE001 - e.g. an int too large for it; use the slow path
        return None
