"""The JsonLogic operators of a Guided Path rule, as json-logic-js defines them.

panzi-json-logic's ``apply`` walks a rule and handles the special forms itself
(``if``, ``?:``, ``and``, ``or``, ``map``, ``filter``, ``reduce``, ``all``,
``some``, ``none``); every other operator is looked up in the table it is given,
:data:`OPERATIONS`, and called as ``op(data, *evaluated_args)``. Ours follow
json-logic-js (through :mod:`.ecmascript`) where panzi's own follow Python, and
the table holds exactly the allowed operators: never ``method``, and a ``log``
that writes nothing.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from .ecmascript import (
    NAN,
    array_join,
    divide,
    less_or_equal,
    less_than,
    loose_equals,
    parse_float,
    remainder,
    strict_equals,
    substr,
    to_number,
    to_string,
    truthy,
    utf16,
)
from .rule_language import ExpressionError

__all__ = ["OPERATIONS"]

_MISSING = object()


def _js_index(container: list[Any] | str, prop: str) -> Any:
    if prop == "length":
        return len(container) if type(container) is list else len(utf16(container)) // 2
    # Canonical array index: "0", "12", never "01" or "-1".
    if prop.isdigit() and prop.isascii() and (prop == "0" or prop[0] != "0"):
        index = int(prop)
        if type(container) is list:
            return container[index] if index < len(container) else _MISSING
        units = utf16(container)
        if index < len(units) // 2:
            return units[index * 2:index * 2 + 2].decode("utf-16-be", "surrogatepass")
    return _MISSING


def op_var(data: Any, key: Any = _MISSING, default: Any = _MISSING, *_ignored: Any) -> Any:
    not_found = None if default is _MISSING else default
    if key is _MISSING or key is None or key == "" and type(key) is str:
        return data
    current = data
    for prop in to_string(key).split("."):
        if current is None:
            return not_found
        if type(current) is dict:
            current = current.get(prop, _MISSING)
        elif type(current) is list or type(current) is str:
            current = _js_index(current, prop)
        else:
            current = _MISSING
        if current is _MISSING:
            return not_found
    return current


def op_missing(data: Any, *args: Any) -> list[Any]:
    keys = args[0] if args and type(args[0]) is list else args
    missing = []
    for key in keys:
        value = op_var(data, key)
        if value is None or value == "" and type(value) is str:
            missing.append(key)
    return missing


def op_missing_some(data: Any, need_count: Any = None, options: Any = None, *_ignored: Any) -> list[Any]:
    if type(options) is not list:
        options = []
    are_missing = op_missing(data, options)
    if less_or_equal(need_count, len(options) - len(are_missing)):
        return []
    return are_missing


def op_in(data: Any, needle: Any = None, haystack: Any = None, *_ignored: Any) -> bool:
    if type(haystack) is str:
        return bool(haystack) and to_string(needle) in haystack
    if type(haystack) is list:
        return any(strict_equals(needle, item) for item in haystack)
    return False


def op_add(data: Any, *args: Any) -> float:
    total = 0.0
    for arg in args:
        total = total + parse_float(arg)
    return total


def op_multiply(data: Any, *args: Any) -> Any:
    if not args:
        raise ExpressionError("evaluation_failed", "'*' needs at least one argument")
    product = args[0]  # Array.prototype.reduce without an initial value
    for arg in args[1:]:
        product = parse_float(product) * parse_float(arg)
    return product


def op_subtract(data: Any, *args: Any) -> float:
    a = args[0] if args else None
    if len(args) < 2:
        return -to_number(a) if args else NAN
    return to_number(a) - to_number(args[1])


def op_substr(data: Any, *args: Any) -> str:
    source = args[0] if args else _MISSING
    text = "undefined" if source is _MISSING else to_string(source)
    start = args[1] if len(args) > 1 else None
    if len(args) > 2:
        end = args[2]
        if less_than(end, 0):
            rest = substr(text, start, has_length=False)
            return substr(rest, 0, len(utf16(rest)) // 2 + to_number(end), has_length=True)
        return substr(text, start, end, has_length=True)
    return substr(text, start, has_length=False)


def op_merge(data: Any, *args: Any) -> list[Any]:
    merged: list[Any] = []
    for arg in args:
        if type(arg) is list:
            merged.extend(arg)
        else:
            merged.append(arg)
    return merged


def _between(compare: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def operator(data: Any, *args: Any) -> bool:
        a, b = (args + (None, None))[:2]
        if len(args) < 3:
            return compare(a, b)
        return compare(a, b) and compare(b, args[2])
    return operator


def _binary(fn: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    def operator(data: Any, *args: Any) -> Any:
        a, b = (args + (None, None))[:2]
        return fn(a, b)
    return operator


def _unary(fn: Callable[[Any], Any]) -> Callable[..., Any]:
    def operator(data: Any, *args: Any) -> Any:
        return fn(args[0] if args else None)
    return operator


def _min(data: Any, *args: Any) -> float:
    numbers = [to_number(a) for a in args]
    if any(n != n for n in numbers):
        return NAN
    return min(numbers, default=math.inf)


def _max(data: Any, *args: Any) -> float:
    numbers = [to_number(a) for a in args]
    if any(n != n for n in numbers):
        return NAN
    return max(numbers, default=-math.inf)


# ``if``, ``?:``, ``and``, ``or``, ``map``, ``filter``, ``reduce``, ``all``,
# ``some`` and ``none`` are special forms handled inside panzi's apply (their
# semantics match json-logic-js); everything else comes from this table, and
# apply() finds no other operator: we never pass panzi's BUILTINS.
OPERATIONS: Mapping[str, Callable[..., Any]] = {
    "==": _binary(loose_equals),
    "!=": _binary(lambda a, b: not loose_equals(a, b)),
    "===": _binary(strict_equals),
    "!==": _binary(lambda a, b: not strict_equals(a, b)),
    "<": _between(less_than),
    "<=": _between(less_or_equal),
    ">": _binary(lambda a, b: less_than(b, a)),
    ">=": _binary(lambda a, b: less_or_equal(b, a)),
    "!": _unary(lambda a: not truthy(a)),
    "!!": _unary(truthy),
    "+": op_add,
    "*": op_multiply,
    "-": op_subtract,
    "/": _binary(lambda a, b: divide(to_number(a), to_number(b))),
    "%": _binary(lambda a, b: remainder(to_number(a), to_number(b))),
    "min": _min,
    "max": _max,
    "cat": lambda data, *args: array_join(list(args), ""),
    "substr": op_substr,
    "merge": op_merge,
    "in": op_in,
    "var": op_var,
    "missing": op_missing,
    "missing_some": op_missing_some,
    # json-logic-js prints to the console; a server must not write to stdout
    # on behalf of a tenant's rule, so here it only returns its argument.
    "log": _unary(lambda a: a),
}
