"""Event type patterns a subscription names: ``*`` (everything), ``stream.*``
(every type whose name starts with ``stream.``; ``run.*``, ``session.*``) or an
exact type name. Each must match at least one registered event type, so a typo is
a 422 naming it instead of a subscription that silently never fires."""

from __future__ import annotations

import re
from typing import Iterable

from guidepath.core.plugin_api import Invalid

#: What the OpenAPI document says a pattern looks like (the server also checks the types exist).
PATTERN_RE = r"^(\*|[a-z][a-z0-9_]{0,62}(\.[a-z][a-z0-9_]{0,62})*\.\*|[a-z][a-z0-9_]{0,62}(\.[a-z][a-z0-9_]{0,62})+)$"
_PATTERN = re.compile(PATTERN_RE)
MAX_PATTERNS = 50


def matches(pattern: str, event_type: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def matches_any(patterns: Iterable[str], event_type: str) -> bool:
    return any(matches(p, event_type) for p in patterns)


def check(patterns: list[str], known: Iterable[str]) -> list[str]:
    """The patterns, de-duplicated in order; 422 naming the first unknown one."""
    names = sorted(set(known))
    out: list[str] = []
    for index, pattern in enumerate(patterns):
        field = f"event_types.{index}"
        if not isinstance(pattern, str) or not _PATTERN.fullmatch(pattern):
            raise Invalid(f"{pattern!r} is not an event type pattern: use '*', 'stream.*' (such as 'session.*') "
                          "or an exact event type name", field=field)
        if not any(matches(pattern, name) for name in names):
            raise Invalid(f"unknown event type {pattern!r}: no registered event type matches it "
                          "(GET /api/v1/events/types lists them)", field=field, code="unknown_event_type")
        if pattern not in out:
            out.append(pattern)
    return out
