"""JavaScript's rules for JSON values: coercion, equality, comparison, arithmetic.

json-logic-js (which the JS SDK runs) computes with JavaScript's semantics, and a
rule must take the same branch on the server as in the browser: ``null == 0`` is
false, ``"" == 0`` is true, ``"10" < "9"``, ``+`` of strings parses them as numbers,
``substr`` counts UTF-16 code units. These functions are the ECMAScript
abstract operations (ToNumber, ToString, IsLooselyEqual, IsLessThan…) for the
values JSON can carry, so :mod:`.jsonlogic_operators` can be written against the
specification rather than against Python.

Python's bool is an int, so type tests use ``type(x) is`` on purpose.

Example::

    >>> loose_equals("", 0), strict_equals("", 0), to_string(1e21)
    (True, False, '1e+21')
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = [
    "NAN",
    "array_join",
    "divide",
    "less_or_equal",
    "less_than",
    "loose_equals",
    "parse_float",
    "remainder",
    "strict_equals",
    "substr",
    "to_number",
    "to_primitive",
    "to_string",
    "truthy",
    "utf16",
]

NAN = float("nan")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_RADIX = {"0x": 16, "0X": 16, "0o": 8, "0O": 8, "0b": 2, "0B": 2}
_RADIX_DIGITS = {16: re.compile(r"[0-9a-fA-F]+"), 8: re.compile(r"[0-7]+"), 2: re.compile(r"[01]+")}
_PARSE_FLOAT_PREFIX = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_JS_WHITESPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def _js_type(value: Any) -> str:
    t = type(value)
    if value is None:
        return "null"
    if t is bool:
        return "boolean"
    if t is int or t is float:
        return "number"
    if t is str:
        return "string"
    return "object"


def _number(value: int | float) -> float:
    """A JSON number as a JavaScript double (huge ints become Infinity)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _string_to_number(text: str) -> float:
    text = text.strip(_JS_WHITESPACE)
    if not text:
        return 0.0
    if text in ("Infinity", "+Infinity"):
        return math.inf
    if text == "-Infinity":
        return -math.inf
    radix = _RADIX.get(text[:2])
    if radix is not None:
        digits = _RADIX_DIGITS[radix]
        return _number(int(text[2:], radix)) if digits.fullmatch(text[2:]) else NAN
    if _DECIMAL.fullmatch(text):
        return float(text)
    return NAN


def to_primitive(value: Any) -> Any:
    """ECMAScript ToPrimitive for JSON values: arrays and objects become strings."""
    if type(value) is list or type(value) is dict:
        return to_string(value)
    return value


def to_number(value: Any) -> float:
    """ECMAScript ToNumber."""
    t = type(value)
    if t is int or t is float:
        return _number(value)
    if value is None:
        return 0.0
    if t is bool:
        return 1.0 if value else 0.0
    if t is str:
        return _string_to_number(value)
    if t is list:
        return _string_to_number(to_string(value))
    return NAN


def _number_to_string(x: float) -> str:
    """ECMAScript Number::toString (shortest round-trip digits, JS exponent rules)."""
    if x != x:
        return "NaN"
    if x == 0:
        return "0"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x < 0:
        return "-" + _number_to_string(-x)
    mantissa, _, exponent = repr(x).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    leading_zeros = len(int_part + frac_part) - len((int_part + frac_part).lstrip("0"))
    n = len(int_part) + (int(exponent) if exponent else 0) - leading_zeros  # value = 0.digits × 10^n
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    sign = "+" if e >= 0 else "-"
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{head}e{sign}{abs(e)}"


def to_string(value: Any) -> str:
    """ECMAScript ToString (``String(x)``) for JSON values."""
    t = type(value)
    if t is str:
        return value
    if value is None:
        return "null"
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value) if abs(value) < 10**21 else _number_to_string(_number(value))
    if t is float:
        return _number_to_string(value)
    if t is list:
        return array_join(value, ",")
    return "[object Object]"


def array_join(items: list[Any], separator: str) -> str:
    """Array.prototype.join: null (and undefined) become empty strings."""
    return separator.join("" if item is None else to_string(item) for item in items)


def truthy(value: Any) -> bool:
    """JsonLogic truthiness: JavaScript's, except that ``[]`` is false."""
    if type(value) is list:
        return bool(value)
    if type(value) is float:
        return value == value and value != 0.0
    if type(value) is dict:
        return True
    return bool(value)


def strict_equals(a: Any, b: Any) -> bool:
    """ECMAScript ``===``: same type and value; arrays/objects by identity."""
    ta = _js_type(a)
    if ta != _js_type(b):
        return False
    if ta == "number":
        return _number(a) == _number(b)
    if ta == "object":
        return a is b
    return a == b


def loose_equals(a: Any, b: Any) -> bool:
    """ECMAScript ``==`` (IsLooselyEqual) for JSON values."""
    ta, tb = _js_type(a), _js_type(b)
    if ta == tb:
        return strict_equals(a, b)
    if ta == "null" or tb == "null":
        return False
    if ta == "boolean":
        return loose_equals(to_number(a), b)
    if tb == "boolean":
        return loose_equals(a, to_number(b))
    if ta == "number" and tb == "string":
        return _number(a) == _string_to_number(b)
    if ta == "string" and tb == "number":
        return _string_to_number(a) == _number(b)
    if ta == "object" and tb != "object":
        return loose_equals(to_primitive(a), b)
    if tb == "object" and ta != "object":
        return loose_equals(a, to_primitive(b))
    return False


def utf16(text: str) -> bytes:
    """``text`` as UTF-16 code units (big-endian, two bytes each), what JavaScript counts."""
    return text.encode("utf-16-be", "surrogatepass")


def _is_less_than(a: Any, b: Any) -> bool | None:
    """ECMAScript IsLessThan: ``None`` stands for *undefined* (a NaN was involved)."""
    pa, pb = to_primitive(a), to_primitive(b)
    if type(pa) is str and type(pb) is str:
        # JavaScript compares UTF-16 code units, not code points.
        return utf16(pa) < utf16(pb) if not (pa.isascii() and pb.isascii()) else pa < pb
    na, nb = to_number(pa), to_number(pb)
    if na != na or nb != nb:
        return None
    return na < nb


def less_than(a: Any, b: Any) -> bool:
    """``a < b``."""
    return _is_less_than(a, b) is True


def less_or_equal(a: Any, b: Any) -> bool:
    """``a <= b``: not ``b < a``, and false when a NaN is involved."""
    result = _is_less_than(b, a)
    return result is False


def parse_float(value: Any) -> float:
    """The global ``parseFloat``: the longest numeric prefix of ``String(value)``."""
    if type(value) is int or type(value) is float:
        return _number(value)
    match = _PARSE_FLOAT_PREFIX.match(to_string(value).lstrip(_JS_WHITESPACE))
    if match is None:
        return NAN
    text = match.group()
    if text.endswith("Infinity"):
        return -math.inf if text.startswith("-") else math.inf
    return float(text)


def remainder(a: float, b: float) -> float:
    """``a % b`` on doubles: the sign of ``a``, NaN for a zero divisor."""
    if b == 0 or a != a or b != b or math.isinf(a):
        return NAN
    if math.isinf(b):
        return a
    return math.fmod(a, b)


def divide(a: float, b: float) -> float:
    """``a / b`` on doubles: ±Infinity for a zero divisor, NaN for ``0 / 0``."""
    if b == 0:
        if a == 0 or a != a:
            return NAN
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _to_integer_or_infinity(value: Any) -> float:
    number = to_number(value)
    if number != number:
        return 0
    if math.isinf(number):
        return number
    return math.trunc(number)


def substr(text: str, start: Any, length: Any = None, *, has_length: bool) -> str:
    """String.prototype.substr on UTF-16 code units."""
    units = utf16(text)
    size = len(units) // 2
    begin = _to_integer_or_infinity(start)
    if begin == -math.inf:
        begin = 0
    elif begin < 0:
        begin = max(size + begin, 0)
    begin = min(begin, size)
    count = size if not has_length else _to_integer_or_infinity(length)
    end = min(begin + count, size) if count > 0 else begin
    if end <= begin:
        return ""
    return units[int(begin) * 2:int(end) * 2].decode("utf-16-be", "surrogatepass")
