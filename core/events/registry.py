"""Event types and their JSON Schemas.

Every event type that the kernel or a plugin emits is registered once, with a JSON
Schema (Draft 2020-12) for its ``data``. Emitting validates against it, so a
consumer — a plugin, a webhook receiver in another company — can rely on the shape,
and ``GET /api/v1/events/types`` can publish the catalogue. Names are global: two
registrations of the same name are a start-up error that names both, because
silently letting the second win would change the contract under the first.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Iterable

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError, best_match

from .envelope import EVENT_TYPE_RE, MAX_TYPE_LENGTH
from .errors import EventTypeConflict, EventValidationError, UnknownEventType


@dataclass
class EventType:
    """A named event type: its data schema, schema version and a human description.

    ``version`` is written into every event as ``schema_version``; bump it (and keep
    old consumers working) when the schema changes incompatibly. ``owner`` says who
    registered it (``guidepath.core`` or a plugin's name) for conflict messages.
    """

    name: str
    schema: dict[str, Any]
    version: int = 1
    description: str = ""
    owner: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or len(self.name) > MAX_TYPE_LENGTH or not EVENT_TYPE_RE.fullmatch(self.name):
            raise ValueError(
                f"invalid event type name {self.name!r}: expected dotted lowercase names "
                "such as 'session.state_changed'"
            )
        if type(self.version) is not int or self.version < 1:
            raise ValueError(f"event type {self.name}: version must be an integer >= 1, got {self.version!r}")
        if not isinstance(self.schema, dict):
            raise ValueError(f"event type {self.name}: schema must be a JSON Schema object")
        try:
            Draft202012Validator.check_schema(self.schema)
        except SchemaError as exc:
            raise ValueError(f"event type {self.name}: invalid JSON Schema: {exc.message}") from exc

    @property
    def stream(self) -> str:
        """The topic stream its events go to (the part of the name before the first dot)."""
        return self.name.split(".", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        """The public description served by the events API."""
        return {"name": self.name, "version": self.version, "description": self.description, "schema": self.schema}


def _describe(event_type: EventType) -> str:
    who = f" from {event_type.owner}" if event_type.owner else ""
    return f"{event_type.name!r} v{event_type.version}{who} ({event_type.description or 'no description'})"


class EventTypeRegistry:
    """The catalogue of event types known to one kernel instance (not a global).

    Thread-safe; registration normally happens once at start-up and validation on
    every emit, so validators are compiled once at registration.
    """

    def __init__(self, types: Iterable[EventType] = ()) -> None:
        self._types: dict[str, EventType] = {}
        self._validators: dict[str, Draft202012Validator] = {}
        self._lock = threading.Lock()
        for event_type in types:
            self.register(event_type)

    def register(self, event_type: EventType, owner: str | None = None) -> EventType:
        """Add ``event_type``; :class:`EventTypeConflict` naming both if the name is taken.

        ``owner`` (a plugin's name) overrides ``event_type.owner`` for the message.
        """
        if owner:
            event_type = replace(event_type, owner=owner)
        validator = Draft202012Validator(event_type.schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        with self._lock:
            existing = self._types.get(event_type.name)
            if existing is not None and _same_contract(existing, event_type):
                # Two plugins that emit the same event (remote control and camera
                # sharing both emit ``relay.connected``) each declare it; the type is
                # one contract, so identical declarations are one type, kept as first.
                return existing
            if existing is not None:
                raise EventTypeConflict(
                    f"event type {event_type.name!r} is registered twice: "
                    f"first {_describe(existing)}, then {_describe(event_type)}"
                )
            self._types[event_type.name] = event_type
            self._validators[event_type.name] = validator
        return event_type

    def get(self, name: str) -> EventType:
        """The registered type called ``name``; :class:`UnknownEventType` if none."""
        try:
            return self._types[name]
        except KeyError:
            raise UnknownEventType(f"unknown event type {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __len__(self) -> int:
        return len(self._types)

    def all(self) -> list[EventType]:
        """Every registered type, sorted by name (a stable order for APIs and docs)."""
        with self._lock:
            return sorted(self._types.values(), key=lambda t: t.name)

    def validate(self, type: str, data: Any) -> None:
        """Check ``data`` against the schema of ``type``.

        Raises :class:`EventValidationError` whose ``pointer`` names the offending
        field — for a missing or unexpected property, the property itself rather
        than the object holding it, because that is what a person needs to fix.
        """
        validator = self._validators.get(type)
        if validator is None:
            raise EventValidationError(type, "", "unknown event type")
        error = best_match(validator.iter_errors(data))
        if error is None:
            return
        pointer, message = _locate(error)
        raise EventValidationError(type, pointer, message)


def _locate(error: ValidationError) -> tuple[str, str]:
    """The JSON pointer and message that best name what is wrong."""
    path = list(error.absolute_path)
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        missing = [name for name in error.validator_value if name not in instance]
        if missing:
            return _pointer([*path, missing[0]]), "is required"
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        known = set(schema.get("properties", {}))
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        extras = sorted(k for k in instance if k not in known and not any(p.search(k) for p in patterns))
        if extras:
            return _pointer([*path, extras[0]]), "is not allowed (unknown field)"
    return _pointer(path), error.message


def _pointer(parts: list[Any]) -> str:
    """RFC 6901: ``~`` becomes ``~0`` and ``/`` becomes ``~1``."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


# -- the kernel's own event types ------------------------------------------------

# Support session states; mirrors guidepath.core.domain.session_states (which this
# package must not import). A test keeps the two in step.
SESSION_STATES = ["created", "waiting", "active", "ended"]
# Likewise guidepath.core.domain.support_sessions.OUTCOMES and users.AVAILABILITY.
SESSION_OUTCOMES = ["resolved", "unresolved", "abandoned"]
AGENT_AVAILABILITY = ["online", "busy", "offline"]


def _id(prefix: str) -> dict[str, Any]:
    return {"type": "string", "pattern": f"^{prefix}_[0-9A-Za-z_-]{{1,64}}$"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


KERNEL_OWNER = "guidepath.core"

#: The event types the kernel itself emits. Data carries ids and states, not the
#: objects' personal data: consumers fetch what they need through the API with
#: their own permissions, and the event log does not become a second copy of PII.
KERNEL_EVENT_TYPES: tuple[EventType, ...] = (
    EventType(
        "session.created",
        _object(
            {
                "session_id": _id("ses"),
                "customer_id": _nullable(_id("cus")),
                "device_id": _nullable(_id("dev")),
                "agent_id": _nullable(_id("usr")),
            },
            ["session_id", "customer_id"],
        ),
        description="A support session was opened (state 'created').",
        owner=KERNEL_OWNER,
    ),
    EventType(
        "session.state_changed",
        _object(
            {
                "session_id": _id("ses"),
                "from_state": {"enum": SESSION_STATES},
                "to_state": {"enum": SESSION_STATES},
                "resolution": _nullable({"type": "string", "maxLength": 2000}),
                "agent_id": _nullable(_id("usr")),
                "outcome": _nullable({"enum": SESSION_OUTCOMES}),
            },
            ["session_id", "from_state", "to_state", "resolution", "agent_id"],
        ),
        description="A support session moved between states; resolution and outcome are set when it ended "
        "(outcome: since the agent console, absent from older events).",
        owner=KERNEL_OWNER,
    ),
    EventType(
        "session.transferred",
        _object(
            {
                "session_id": _id("ses"),
                "from_agent_id": _nullable(_id("usr")),
                "to_agent_id": _id("usr"),
                "note": _nullable({"type": "string", "maxLength": 1000}),
            },
            ["session_id", "from_agent_id", "to_agent_id"],
        ),
        description="An active session was handed to another agent (from_agent_id is null when it had none); "
        "note is the handing agent's words to the next one.",
        owner=KERNEL_OWNER,
    ),
    EventType(
        "session.message_posted",
        _object(
            {
                "session_id": _id("ses"),
                "message_id": _id("msg"),
                "kind": {"enum": ["chat", "note"]},
                "author_type": {"enum": ["agent", "customer", "system"]},
                "author_id": _nullable({"type": "string", "maxLength": 40}),
                "author_name": {"type": "string", "maxLength": 200},
                "body": {"type": "string", "minLength": 1, "maxLength": 4000},
            },
            ["session_id", "message_id", "kind", "author_type", "author_id", "author_name", "body"],
        ),
        description="A chat message or a private agent note was posted on a session. The body is included: "
        "the event is the notification agents' consoles render (notes are never shown to customers).",
        owner=KERNEL_OWNER,
    ),
    EventType(
        "session.customer_joined",
        _object({"session_id": _id("ses"), "customer_id": _nullable(_id("cus"))}, ["session_id", "customer_id"]),
        description="A customer redeemed an invite code for the session (customer_id is null when the "
        "session has no customer record).",
        owner=KERNEL_OWNER,
    ),
    EventType(
        "agent.availability_changed",
        _object({"user_id": _id("usr"), "availability": {"enum": AGENT_AVAILABILITY}},
                ["user_id", "availability"]),
        description="An agent set their availability (online, busy or offline).",
        owner=KERNEL_OWNER,
    ),
    EventType(
        "customer.created",
        _object({"customer_id": _id("cus")}, ["customer_id"]),
        description="A customer record was created.",
        owner=KERNEL_OWNER,
    ),
    EventType(
        "device.updated",
        _object(
            {
                "device_id": _id("dev"),
                "changed": {
                    "type": "array",
                    "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
                    "uniqueItems": True,
                },
            },
            ["device_id"],
        ),
        description="A device record changed; 'changed' lists the fields when known.",
        owner=KERNEL_OWNER,
    ),
    EventType(
        "plugin.settings_changed",
        _object(
            {
                "plugin": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"},
                "enabled": {"type": "boolean"},
                "changed_by": _nullable(_id("usr")),
            },
            ["plugin", "enabled"],
        ),
        description="An admin enabled, disabled or reconfigured a plugin for the tenant "
        "(the settings themselves are not in the event: they may hold secrets).",
        owner=KERNEL_OWNER,
    ),
)


def _same_contract(a: EventType, b: EventType) -> bool:
    return (a.version, a.schema, a.description) == (b.version, b.schema, b.description)
