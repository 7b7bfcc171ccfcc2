"""Integers from text (query parameters, path segments): ASCII digits, bounded.

``str.isdigit()`` accepts ``"²"`` and ``"٣"`` while ``int()`` refuses the first and
reads the second as 3; ``int()`` also takes ``" 7"``, ``"1_000"`` and ``"+5"``, and
raises ``ValueError`` past 4,300 digits. Values past signed 64 bits pass both and
then overflow in SQLite (a 500). One strict reading keeps every integer that reaches
the database in range, with a message that names the field and the range.
"""

from __future__ import annotations

import re

from .errors import Invalid

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_DECIMAL = re.compile(r"-?[0-9]+")
#: Digits of the longest in-range value; longer text is refused before ``int()``.
MAX_DIGITS = len(str(INT64_MAX))


def parse_int(raw: str, *, field: str, minimum: int = 0, maximum: int = INT64_MAX) -> int:
    """``raw`` as an integer in ``minimum..maximum``; :class:`Invalid` (422) naming
    ``field`` otherwise. Accepts ASCII digits with an optional leading ``-`` only."""
    if not minimum <= maximum:
        raise ValueError(f"minimum {minimum} is above maximum {maximum}")
    digits = len(raw) - raw.startswith("-")
    if _DECIMAL.fullmatch(raw) and digits <= MAX_DIGITS:
        value = int(raw)
        if minimum <= value <= maximum:
            return value
    raise Invalid(f"{field} must be a whole number from {minimum} to {maximum} (ASCII digits), "
                  f"got {_shown(raw)}", field=field)


def _shown(raw: str) -> str:
    return repr(raw) if len(raw) <= 40 else f"{raw[:20]!r}… ({len(raw)} characters)"
