"""Timestamps from text: RFC 3339 / ISO 8601, as query parameters carry them.

One parser for every ``since``/``until``-style input, so a contract tester's valid
``format: date-time`` value is never refused: ``T`` or ``t``, ``Z`` or ``z``, any
number of fraction digits (Python keeps six), a leap second ``:60`` (Python's
``datetime`` cannot hold it: it becomes ``:59.999999``, still ordered correctly
for a range query). A value without a zone is UTC.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from .errors import Invalid

_LEAP_SECOND = re.compile(r"(?<=T\d\d:\d\d:)60(?:\.\d+)?", re.IGNORECASE)


def parse_timestamp(raw: str, *, field: str) -> datetime:
    text = raw.replace("Z", "+00:00").replace("z", "+00:00")
    text, leap = _LEAP_SECOND.subn("59.999999", text)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{field} must be an RFC 3339 timestamp like 2026-01-31T12:00:00Z, got {raw[:40]!r}",
                      field=field) from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
