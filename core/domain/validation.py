"""Input validation with JSON Schema; errors name the field as a JSON Pointer-ish path."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .errors import Invalid


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(
        json.loads(schema_json), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    return _validator(json.dumps(schema, sort_keys=True))


def field_of(error: ValidationError) -> str | None:
    path = list(error.absolute_path)
    if error.validator == "required":
        # "'email' is a required property": the missing field is the one to name.
        missing = error.message.split("'")[1] if "'" in error.message else None
        path.append(missing)
    if error.validator == "additionalProperties":
        extras = [p for p in error.message.split("'")[1::2]]
        if extras:
            path.append(extras[0])
    return ".".join(str(p) for p in path) or None


def describe(error: ValidationError) -> str:
    field = field_of(error)
    if error.validator == "additionalProperties":
        return f"unknown field {field!r}"
    if error.validator == "required":
        return f"{field!r} is required"
    return f"{field or 'body'}: {error.message}"


def validate(schema: dict[str, Any], data: Any) -> None:
    """Raise :class:`Invalid` naming the first offending field (errors sorted by path)."""
    errors = sorted(validator_for(schema).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        best = errors[0]
        raise Invalid(describe(best), field=field_of(best))


def all_errors(schema: dict[str, Any], data: Any) -> list[dict[str, Any]]:
    return [
        {"field": field_of(e), "message": describe(e)}
        for e in validator_for(schema).iter_errors(data)
    ]
