"""Kafka topic names: ``gp.{tenant_id}.{stream}``.

Every topic carries exactly one tenant, so isolation on the bus is a matter of
subscribing to the right names, and broker ACLs can be written per tenant prefix.
The tenant id is validated strictly (never user text), so a topic name can be parsed
back without ambiguity and a pattern for one tenant can never match another's topic.

Pure functions only: no I/O, no broker.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .errors import TopicError
from ..domain.ids import TENANT_ID

PREFIX = "gp"

#: A tenant id: ``t`` and 16 lowercase hex characters (see docs/architecture.md).
TENANT_ID_RE = TENANT_ID  # the one definition is guidepath.core.domain.ids

#: A stream: the part of an event type before its first dot (``session``).
#: At most 63 characters so a topic name stays far below Kafka's 249.
STREAM_RE = re.compile(r"[a-z][a-z0-9_]{0,62}")

_STREAM_PART = r"[a-z][a-z0-9_]{0,62}"

#: Every guidepath topic of every tenant (for platform-wide consumers such as the
#: kernel's dispatcher, which then routes each event by its tenant).
ALL_TENANTS_PATTERN = rf"^{PREFIX}\.t[0-9a-f]{{16}}\.{_STREAM_PART}$"

_TOPIC_RE = re.compile(rf"{PREFIX}\.(t[0-9a-f]{{16}})\.({_STREAM_PART})")


class TopicName(NamedTuple):
    """A parsed topic name."""

    tenant_id: str
    stream: str


def check_tenant_id(tenant_id: str) -> str:
    """Return ``tenant_id`` unchanged, or raise :class:`TopicError` if malformed."""
    if not isinstance(tenant_id, str) or not TENANT_ID_RE.fullmatch(tenant_id):
        raise TopicError(f"invalid tenant id {tenant_id!r}: expected 't' and 16 lowercase hex characters")
    return tenant_id


def check_stream(stream: str) -> str:
    """Return ``stream`` unchanged, or raise :class:`TopicError` if malformed."""
    if not isinstance(stream, str) or not STREAM_RE.fullmatch(stream):
        raise TopicError(
            f"invalid stream {stream!r}: expected a lowercase letter, then up to 62 "
            "lowercase letters, digits or underscores"
        )
    return stream


def topic_for(tenant_id: str, stream: str) -> str:
    """The topic that carries ``tenant_id``'s events of ``stream``."""
    return f"{PREFIX}.{check_tenant_id(tenant_id)}.{check_stream(stream)}"


def tenant_pattern(tenant_id: str) -> str:
    """A regular expression matching every topic of ``tenant_id`` and nothing else.

    Anchored at both ends: a consumer subscribed with it cannot pick up another
    tenant's topic even if a future topic scheme appended to the name.
    """
    return rf"^{PREFIX}\.{check_tenant_id(tenant_id)}\.{_STREAM_PART}$"


def parse_topic(topic: str) -> TopicName:
    """Split a topic name into tenant id and stream; :class:`TopicError` if it is not ours."""
    match = _TOPIC_RE.fullmatch(topic) if isinstance(topic, str) else None
    if match is None:
        raise TopicError(f"not a guidepath topic: {topic!r} (expected 'gp.{{tenant_id}}.{{stream}}')")
    return TopicName(match.group(1), match.group(2))
