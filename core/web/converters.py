"""The app's ``int`` URL converter: ASCII digits within signed 64 bits.

Werkzeug's own accepts any Unicode decimal digit (``\\d``) and any size, so
``/versions/9223372036854775808`` reached SQLite and overflowed (a 500). Installed as
``int`` app-wide by the factory before any blueprint is registered, it bounds every
``<int:…>`` route — plugins' too — without their code changing: a value out of range
does not match the route (404), like any other malformed path.

The upper bound is in the regex itself, not only in ``to_python``: werkzeug checks a
rule's methods before its converters, so a value refused by ``to_python`` on a route
that has a sibling rule for other methods (``GET`` beside ``PUT/PATCH/DELETE`` on the
same path) would be answered 405 instead of 404.
"""

from __future__ import annotations

import builtins

from werkzeug.routing import IntegerConverter, Map

from ..domain.integers import INT64_MAX, INT64_MIN


def at_most(bound: int) -> str:
    """A regex matching exactly the ASCII decimals 0..``bound`` (leading zeros allowed)."""
    digits = str(bound)
    width = len(digits)
    shorter = [f"[0-9]{{1,{width - 1}}}"] if width > 1 else []
    # Same width: equal to the bound up to position i, then a smaller digit, then anything.
    same_width = [f"{digits[:i]}[0-{int(d) - 1}][0-9]{{{width - i - 1}}}" for i, d in enumerate(digits) if d != "0"]
    return "(?:" + "|".join([*shorter, *same_width, digits]) + ")"


class Int64Converter(IntegerConverter):
    regex = at_most(INT64_MAX)

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002 - werkzeug's names
                 max: int | None = None, signed: bool = False) -> None:  # noqa: A002
        low = INT64_MIN if signed else 0
        min = low if min is None else builtins.max(min, low)  # noqa: A001
        max = INT64_MAX if max is None else builtins.min(max, INT64_MAX)  # noqa: A001
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
        # Lower bounds above 0 are left to to_python (werkzeug's check).
        positive = at_most(max) if max >= 0 else None
        negative = f"-{at_most(-min)}" if min < 0 else None
        self.regex = "|".join(part for part in (negative, positive) if part) or "(?!)"
