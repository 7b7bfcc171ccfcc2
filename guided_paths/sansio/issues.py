"""What validation reports: :class:`Issue`, and JSON Schema errors turned into issues.

An issue says where (a JSON Pointer into the document), what (a stable ``code``
for programs, like ``schema.required`` or ``graph.dead_end``) and what to do (a
``message`` for people). ``jsonschema``'s own messages quote whole instances and
point at the parent of a missing field, so :func:`schema_issues` rewrites its
errors: one issue per unknown field, a pointer to the field that is missing or
misnamed, short quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError

from .json_pointer import escape, pointer_to
from .json_values import excerpt, json_type_name

__all__ = ["Issue", "schema_issues"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem: where (JSON Pointer), what (stable code), and what to do."""

    pointer: str
    code: str
    message: str


def schema_issues(
    error: ValidationError, root: Any, *, prefix: str = "", code_prefix: str = "schema"
) -> list[Issue]:
    """Turn one jsonschema error into issues with precise pointers and readable
    messages (jsonschema's own messages quote whole instances)."""
    path = list(error.absolute_path)
    pointer = prefix + pointer_to(path)
    instance = error.instance
    validator = error.validator
    value = error.validator_value
    schema_path = list(error.absolute_schema_path)

    if "propertyNames" in schema_path:
        # The instance is the offending key; point at it.
        key_pointer = f"{pointer}/{escape(instance)}"
        what = "step id" if path == ["steps"] else "variable name" if path == ["variables"] else "name"
        detail = error.message if validator != "pattern" else f"must match {value}"
        return [Issue(key_pointer, f"{code_prefix}.bad_name", f"{what} {excerpt(instance)}: {detail}")]
    if validator == "required":
        missing = [name for name in value if type(instance) is dict and name not in instance
                   and repr(name) in error.message]
        return [
            Issue(f"{pointer}/{escape(name)}", f"{code_prefix}.required", f"{name!r} is required here")
            for name in missing[:1] or value[:1]
        ]
    if validator == "additionalProperties" and type(instance) is dict and value is False:
        allowed = set(error.schema.get("properties", {}))
        extras = [k for k in instance if k not in allowed]
        listing = ", ".join(sorted(allowed)) or "none"
        return [
            Issue(f"{pointer}/{escape(k)}", f"{code_prefix}.unknown_field",
                  f"unknown field {k!r}; allowed here: {listing}")
            for k in extras
        ]
    if validator is None or (validator == "not" and value == {}):  # "never allowed here"
        name = path[-1] if path else "this value"
        return [Issue(pointer, f"{code_prefix}.not_allowed", f"{name!r} is not allowed here{_context(root, path)}")]
    if validator == "type":
        expected = " or ".join(value) if type(value) is list else value
        return [Issue(pointer, f"{code_prefix}.type",
                      f"must be {expected}, not {json_type_name(instance)}")]
    if validator == "enum":
        return [Issue(pointer, f"{code_prefix}.enum",
                      f"{excerpt(instance)} is not one of {', '.join(excerpt(v) for v in value)}")]
    if validator == "const":
        return [Issue(pointer, f"{code_prefix}.const", f"must be {excerpt(value)}, not {excerpt(instance)}")]
    if validator == "pattern":
        return [Issue(pointer, f"{code_prefix}.pattern", f"{excerpt(instance)} does not match {value}")]
    message = error.message
    if len(message) > 300:
        message = message[:299] + "…"
    return [Issue(pointer, f"{code_prefix}.{_snake(str(validator))}", message)]


def _context(root: Any, path: list[Any]) -> str:
    """Explain a ``false`` schema inside a question (``options`` on a text question…)."""
    node = root
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return ""
    if type(node) is dict and type(node.get("kind")) is str:
        return f" for a question of kind {node['kind']!r}"
    return ""


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
