"""The event envelope: what every message on the bus looks like.

An event is immutable once made: it is written to the outbox inside the business
transaction, published later (possibly more than once), and consumers de-duplicate
by ``id``. The envelope is deliberately small and flat so that a consumer in any
language can read it, and strictly validated on the way in so that a malformed
message is rejected at the edge instead of deep inside a plugin.

Wire format (UTF-8 JSON, keys in this order)::

    {"id": "evt_…", "tenant_id": "t…", "type": "session.state_changed",
     "time": "2026-01-02T03:04:05.678901Z", "schema_version": 1, "data": {…}}
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import EnvelopeError
from .topics import TENANT_ID_RE

ID_PREFIX = "evt_"

#: ``evt_`` and a random URL-safe string (22 characters from 16 random bytes).
EVENT_ID_RE = re.compile(r"evt_[A-Za-z0-9_-]{16,64}")

#: ``stream.name`` with one or more dotted parts; the first part is the stream.
EVENT_TYPE_RE = re.compile(r"[a-z][a-z0-9_]{0,62}(\.[a-z][a-z0-9_]{0,62})+")
MAX_TYPE_LENGTH = 128

FIELDS = ("id", "tenant_id", "type", "time", "schema_version", "data")

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def new_event_id() -> str:
    """A fresh, unguessable event id."""
    return ID_PREFIX + secrets.token_urlsafe(16)


def utc_now_iso() -> str:
    """The current time as UTC ISO-8601 with a ``Z`` suffix and microseconds."""
    return datetime.now(UTC).strftime(_TIME_FORMAT)


@dataclass(frozen=True)
class Event:
    """One event of one tenant.

    Construct with :meth:`new` (fresh id and time) or :meth:`from_json` (from the
    wire). Direct construction is validated too, so an ``Event`` instance is always
    well-formed. Hash and equality use the id only for hashing: ``data`` is a dict.
    """

    id: str
    tenant_id: str
    type: str
    time: str
    schema_version: int
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not EVENT_ID_RE.fullmatch(self.id):
            raise EnvelopeError(f"invalid event id {self.id!r}: expected 'evt_' and a random URL-safe string")
        if not isinstance(self.tenant_id, str) or not TENANT_ID_RE.fullmatch(self.tenant_id):
            raise EnvelopeError(f"invalid tenant_id {self.tenant_id!r}: expected 't' and 16 lowercase hex characters")
        if (
            not isinstance(self.type, str)
            or len(self.type) > MAX_TYPE_LENGTH
            or not EVENT_TYPE_RE.fullmatch(self.type)
        ):
            raise EnvelopeError(
                f"invalid event type {self.type!r}: expected dotted lowercase names such as "
                "'session.state_changed'"
            )
        _check_time(self.time)
        if type(self.schema_version) is not int or self.schema_version < 1:
            raise EnvelopeError(f"invalid schema_version {self.schema_version!r}: expected an integer >= 1")
        if not isinstance(self.data, dict):
            raise EnvelopeError(f"invalid data: expected a JSON object, got {type(self.data).__name__}")

    def __hash__(self) -> int:
        return hash(self.id)

    @classmethod
    def new(cls, tenant_id: str, type: str, data: dict[str, Any], schema_version: int = 1) -> Event:
        """A fresh event with a new id and the current time.

        ``data`` goes through a JSON round trip: that proves it is serialisable now
        (not later, in the publisher, after the transaction committed) and detaches
        it from the caller's dict, so what was validated is what gets stored.
        """
        if not isinstance(data, dict):  # ``type`` is a parameter here, hence __class__
            raise EnvelopeError(f"invalid data: expected a JSON object, got {data.__class__.__name__}")
        try:
            detached = json.loads(json.dumps(data, ensure_ascii=False, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise EnvelopeError(f"event data is not JSON-serialisable: {exc}") from exc
        return cls(
            id=new_event_id(),
            tenant_id=tenant_id,
            type=type,
            time=utc_now_iso(),
            schema_version=schema_version,
            data=detached,
        )

    @property
    def stream(self) -> str:
        """The topic stream: the part of :attr:`type` before the first dot."""
        return self.type.split(".", 1)[0]

    @property
    def occurred_at(self) -> datetime:
        """:attr:`time` as an aware UTC ``datetime``."""
        return datetime.fromisoformat(self.time)

    def to_dict(self) -> dict[str, Any]:
        """The envelope as a plain dict (keys in wire order)."""
        return {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "type": self.type,
            "time": self.time,
            "schema_version": self.schema_version,
            "data": self.data,
        }

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON, the bytes stored in the outbox and sent on the bus."""
        try:
            text = json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise EnvelopeError(f"event {self.id} data is not JSON-serialisable: {exc}") from exc
        return text.encode("utf-8")

    @classmethod
    def from_dict(cls, obj: Any) -> Event:
        """Validate an envelope dict (exactly the six fields) and build the event."""
        if not isinstance(obj, dict):
            raise EnvelopeError(f"event envelope must be a JSON object, got {type(obj).__name__}")
        missing = [name for name in FIELDS if name not in obj]
        unexpected = sorted(set(obj) - set(FIELDS))
        if missing or unexpected:
            parts = []
            if missing:
                parts.append("missing " + ", ".join(missing))
            if unexpected:
                parts.append("unexpected " + ", ".join(map(str, unexpected)))
            raise EnvelopeError("malformed event envelope: " + "; ".join(parts))
        return cls(**{name: obj[name] for name in FIELDS})

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        """Parse and validate an envelope from the wire; :class:`EnvelopeError` if malformed."""
        try:
            obj = json.loads(raw)
        except (TypeError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise EnvelopeError(f"event envelope is not valid JSON: {exc}") from exc
        return cls.from_dict(obj)


def _check_time(value: Any) -> None:
    if not isinstance(value, str) or not value.endswith("Z"):
        raise EnvelopeError(f"invalid time {value!r}: expected UTC ISO-8601 ending in 'Z'")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise EnvelopeError(f"invalid time {value!r}: {exc}") from exc
    if parsed.tzinfo is None or parsed.utcoffset() != UTC.utcoffset(None):
        raise EnvelopeError(f"invalid time {value!r}: expected UTC")
