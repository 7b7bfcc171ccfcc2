"""Questions about JSON values the whole core asks: of which JSON type is this
value, does it fit a variable's declared type, is it plain JSON at all.

Documents, answers, action results and app outputs arrive as Python values
decoded from JSON, or built by a caller; these tests use ``type(x) is`` on
purpose (a ``bool`` is an ``int`` to Python, never a number to JSON Schema) and
never recurse, so a hostile value costs no stack.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["excerpt", "is_plain_json", "json_type_name", "value_matches_type"]


def json_type_name(value: Any) -> str:
    """The JSON type of a Python value as JSON Schema names it."""
    if value is None:
        return "null"
    if type(value) is bool:
        return "boolean"
    if type(value) is int:
        return "integer"
    if type(value) is float:
        return "number"
    if type(value) is str:
        return "string"
    if type(value) is list:
        return "array"
    if type(value) is dict:
        return "object"
    return type(value).__name__


def value_matches_type(value: Any, type_name: str) -> bool:
    """Does ``value`` have the variable type ``type_name``? (``1.0`` is an integer,
    ``True`` is not a number, as in JSON Schema.)"""
    t = type(value)
    if type_name == "string":
        return t is str
    if type_name == "number":
        return (t is int) or (t is float and math.isfinite(value))
    if type_name == "integer":
        return t is int or (t is float and math.isfinite(value) and value.is_integer())
    if type_name == "boolean":
        return t is bool
    if type_name == "array":
        return t is list
    if type_name == "object":
        return t is dict
    return False


def is_plain_json(doc: Any, max_nesting: int) -> bool:
    """Is ``doc`` only JSON values (string keys, finite numbers), nested at most
    ``max_nesting`` deep? The fast answer, without saying where: validation walks
    the document again for the pointers when it is not."""
    stack = [(doc, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        t = type(node)
        if t is dict:
            if depth > max_nesting:
                return False
            for key in node:
                if type(key) is not str:
                    return False
            values: Any = node.values()
        elif t is list:
            if depth > max_nesting:
                return False
            values = node
        else:
            values = (node,)
            depth -= 1
        for value in values:
            vt = type(value)
            if vt is dict or vt is list:
                push((value, depth + 1))
            elif vt is str or vt is int or vt is bool or value is None:
                continue
            elif vt is float:
                if value - value != 0:  # NaN or ±Infinity
                    return False
            else:
                return False
    return True


def excerpt(value: Any, limit: int = 60) -> str:
    """``value`` as JSON for a message, cut to ``limit`` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
