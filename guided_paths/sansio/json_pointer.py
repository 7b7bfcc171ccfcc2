"""JSON Pointers (RFC 6901), the way every problem the core reports says where it is.

Validation issues, rule problems and schema errors all point into a document
with one: ``/steps/ask~1cable/options/0``. A token escapes ``~`` as ``~0`` and
``/`` as ``~1``, in that order (and unescapes in the reverse order), so a step id
or a key holding either character still round-trips.

Example::

    >>> pointer_to(["steps", "a/b", 0])
    '/steps/a~1b/0'
    >>> unescape("a~1b")
    'a/b'
"""

from __future__ import annotations

from typing import Any, Iterable

__all__ = ["escape", "pointer_to", "unescape"]


def escape(token: Any) -> str:
    """One reference token (any key or index), escaped."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """The key an escaped reference token stands for."""
    return token.replace("~1", "/").replace("~0", "~")


def pointer_to(tokens: Iterable[Any]) -> str:
    """The pointer to ``tokens`` (keys and indexes, outermost first); ``""`` is the root."""
    return "".join(f"/{escape(token)}" for token in tokens)
