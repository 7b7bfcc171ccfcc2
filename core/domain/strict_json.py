"""Strict JSON in and out (RFC 8259), the one parser for every JSON input.

HTTP bodies, WebSocket messages and ``--json``/``--set`` on the command line all go
through :func:`loads`, so one malicious or careless document is refused the same way
everywhere, with a message that says what to change, instead of reaching code that
fails later in a way nobody chose (a 500, a dead socket, a stored value that breaks
every later read). It lives in ``domain`` rather than ``web`` because the CLI must
not import the web package.

What :func:`loads` refuses, beyond what :func:`json.loads` refuses:

* ``NaN``, ``Infinity`` and ``-Infinity``, and float literals that overflow to
  infinity (``1e400``): they are not JSON, and once stored they made every response
  that includes them invalid JSON for standard clients.
* integers outside signed 64 bits (``-2**63 .. 2**63-1``): what every database
  column and SQLite can hold, so an accepted integer can never overflow further in.
  Python alone would raise ``ValueError`` past 4,300 digits and ``OverflowError``
  at the database.
* nesting deeper than :data:`MAX_DEPTH` arrays/objects: checked *before* parsing by
  a linear scan (no recursion), so a body nested 100,000 levels deep costs one pass
  over the text, not a ``RecursionError``.
* strings (values or keys) holding U+0000 or a lone UTF-16 surrogate (``"\\ud800"``):
  PostgreSQL text and JSONB cannot hold NUL, and a lone surrogate cannot be encoded
  as UTF-8 by any database driver; both were 500s after the parse.

Every refusal is a :class:`BadJSON` — a ``DomainError`` (400 with the stable error
shape in the web layer) that is also a ``ValueError``, so callers that already
caught decode errors keep working.

:func:`dumps` is the matching output side: ``allow_nan=False``, with a fallback for
data stored before these rules (see its docstring).
"""

from __future__ import annotations

import json
import logging
import math
import re
from itertools import accumulate
from typing import Any, Callable

from .errors import DomainError
from .integers import INT64_MAX, INT64_MIN, MAX_DIGITS

log = logging.getLogger("guidepath.json")

#: Arrays and objects nested inside each other (the top-level value counts as 1).
MAX_DEPTH = 64


class BadJSON(DomainError, ValueError):
    """Not JSON, or JSON outside the limits above (400)."""

    status = 400
    code = "malformed_json"


class JSONTooDeep(BadJSON):
    code = "json_too_deep"


class JSONNumberOutOfRange(BadJSON):
    code = "json_number_out_of_range"


class JSONBadString(BadJSON):
    code = "json_bad_string"


# -- input --------------------------------------------------------------------------

# A string token (closed, or running to the end of an unterminated text), or a run of
# anything that is neither a bracket nor a quote. Removing both leaves the brackets.
# Possessive quantifiers and the end-of-text alternative mean every attempt matches
# and nothing backtracks, so the scan is linear on any input.
_NOT_BRACKETS = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)|[^\[\]{}"]++', re.DOTALL)
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# Only a \u escape can put NUL or a surrogate into a parsed string (raw NUL is a
# control character json refuses; UTF-8 decoding refuses encoded surrogates).
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def nesting_depth(text: str) -> int:
    """How deeply arrays/objects nest in ``text``, without parsing or recursing.

    Exact for valid JSON; for invalid JSON an upper bound of what a parser would
    have to descend into (stray closing brackets only lower it)."""
    brackets = _NOT_BRACKETS.sub("", text)
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def _reject_constant(name: str) -> Any:
    raise BadJSON(f"{name} is not a JSON number (RFC 8259 has no NaN or Infinity); send null or a string")


def _bounded_int(literal: str) -> int:
    digits = len(literal) - literal.startswith("-")
    if digits <= MAX_DIGITS:
        value = int(literal)
        if INT64_MIN <= value <= INT64_MAX:
            return value
    shown = literal if len(literal) <= 40 else f"{literal[:20]}… ({digits} digits)"
    raise JSONNumberOutOfRange(
        f"the integer {shown} is outside the accepted range -2^63 to 2^63-1 (signed 64 bits)")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        shown = literal if len(literal) <= 40 else literal[:20] + "…"
        raise JSONNumberOutOfRange(f"the number {shown} is too large for a 64-bit float")
    return value


def _check_strings(data: Any) -> None:
    """Refuse NUL and lone surrogates in any key or string value (iterative walk)."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            if "\x00" in node:
                raise JSONBadString("strings may not contain U+0000 (NUL); remove the \\u0000 escape")
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise JSONBadString("a string holds a lone UTF-16 surrogate escape (\\ud800–\\udfff "
                                    "without its pair), which is not Unicode text") from None


def loads(raw: str | bytes | bytearray, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse one JSON text strictly (see the module docstring); :class:`BadJSON` if not.

    Bytes may be UTF-8 (with or without a BOM), UTF-16 or UTF-32, as :func:`json.loads`
    detects them."""
    if isinstance(raw, (bytes, bytearray)):
        try:
            text = bytes(raw).decode(json.detect_encoding(raw))
        except UnicodeDecodeError as exc:
            raise BadJSON(f"the JSON text is not valid {exc.encoding.upper()} at byte {exc.start}") from None
    else:
        text = raw
        try:  # a str can hold what no UTF-8 text can (argv decoded with surrogateescape)
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise JSONBadString(f"the JSON text holds a lone surrogate at character {exc.start}, "
                                "which is not Unicode text") from None
    # Counting is far cheaper than the scan; fewer opening brackets cannot be too deep.
    if text.count("[") + text.count("{") > max_depth and (depth := nesting_depth(text)) > max_depth:
        raise JSONTooDeep(f"the JSON nests arrays/objects {depth} levels deep; at most {max_depth} are accepted")
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_int=_bounded_int,
                          parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise BadJSON(f"not valid JSON at character {exc.pos}: {exc.msg}") from None
    if _SUSPECT_ESCAPE.search(text):
        _check_strings(data)
    return data


# -- output -------------------------------------------------------------------------


def _null(_name: str) -> None:
    return None


def dumps(obj: Any, *, dumper: Callable[..., str] = json.dumps, **kwargs: Any) -> str:
    """``dumper(obj, allow_nan=False, **kwargs)``: always RFC 8259 JSON.

    Values this module refuses on input may still exist in data stored before it
    (``NaN`` in a device's ``extra`` on SQLite) or computed in code. Rather than fail
    every response that includes them, they are written as ``null`` — the value
    JavaScript's ``JSON.stringify`` gives them — and the substitution is logged.
    The fallback costs nothing unless such a value is present."""
    try:
        return dumper(obj, allow_nan=False, **kwargs)
    except ValueError as exc:
        if "JSON compliant" not in str(exc):
            raise
    log.warning("non-finite float (NaN/Infinity) in JSON output written as null")
    lenient = dumper(obj, allow_nan=True, **kwargs)
    return dumper(json.loads(lenient, parse_constant=_null), allow_nan=False, **kwargs)
