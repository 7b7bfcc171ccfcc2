"""Step types: what a step of a given ``type`` looks like and how a run treats it.

The seven built-in types are defined by the published document schema
(``guided_paths/schema/guided-path.v1.json``); plugins add their own through the
``register_step_types`` hook, each with a JSON Schema for the step's config.
A :class:`StepTypeRegistry` belongs to whoever builds it (the app, a test), not
to this module: two apps in one process never share step types.

A step type is *interactive* when a run waits for the customer on it (an
answer validated by its ``answer_schema``); otherwise the host completes it
(``waiting_action``). That flag is also what lets a loop through the step pass
validation: a cycle must contain an interactive step so a run cannot spin.

Example, a plugin's hook implementation::

    @hookimpl
    def register_step_types():
        return [StepType(
            name="acme.signature",
            config_schema={"type": "object", "properties": {"prompt": {"type": "string"}}},
            description="Ask the customer to sign on screen.",
            interactive=True,
            answer_schema={"type": "object", "required": ["svg"],
                           "properties": {"svg": {"type": "string"}}},
        )]

.. versionadded:: 0.1
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .document_schema import DOCUMENT_SCHEMA_ID, document_schema

__all__ = [
    "BUILTIN_STEP_TYPE_NAMES",
    "BUILTIN_OWNER",
    "COMMON_STEP_FIELDS",
    "DuplicateStepTypeError",
    "StepType",
    "StepTypeRegistry",
    "builtin_step_types",
]

#: Built-in types, in the order the docs present them.
BUILTIN_STEP_TYPE_NAMES = ("message", "question", "decision", "action", "app", "subpath", "end")
#: Owner name the built-in step types are registered under.
BUILTIN_OWNER = "guided_paths"
#: Fields every plugin step may carry; the rest of the step is its config.
COMMON_STEP_FIELDS = frozenset({"type", "title", "next", "store_as"})

_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}(\.[a-z][a-z0-9_]{0,31}){0,3}")

_DESCRIPTIONS = {
    "message": "Shows markdown text and media; the customer acknowledges with {\"ack\": true}.",
    "question": "Asks the customer (single or multiple choice, text, number, yes/no) and validates the answer.",
    "decision": "Goes to the first branch whose JsonLogic rule is truthy, else to the default. Automatic.",
    "action": "Asks a plugin to do something (collect diagnostics, request remote control, call a webhook); waits for its result.",
    "app": "Shows a Guided Path App in a sandboxed iframe; waits for its output, validated against output_schema.",
    "subpath": "Runs another published path, then continues here.",
    "end": "Ends the run with an outcome: resolved, unresolved or escalate.",
}

# What the customer sends for the built-in interactive types. A question's
# answer is further checked against its kind and rules by the runner.
_ANSWER_SCHEMAS: dict[str, dict[str, Any]] = {
    "message": {
        "type": "object", "required": ["ack"], "additionalProperties": False,
        "properties": {"ack": {"const": True}},
    },
    "question": {"type": ["string", "number", "boolean", "array", "null"]},
}


class DuplicateStepTypeError(ValueError):
    """Two owners registered the same step type name."""


@dataclass(frozen=True, slots=True)
class StepType:
    """A kind of step.

    ``config_schema`` is a JSON Schema (2020-12) for the step's own fields.
    For plugin types it sees the step without :data:`COMMON_STEP_FIELDS`; for
    built-in types it is the full step definition from the published schema.
    ``answer_schema`` validates what the customer sends; required for
    interactive types, meaningless otherwise.
    """

    name: str
    config_schema: dict[str, Any]
    description: str = ""
    interactive: bool = False
    answer_schema: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ValueError(
                f"step type name {self.name!r} must be lowercase words joined by dots "
                "or underscores, like 'acme.signature'"
            )
        for label, schema in (("config_schema", self.config_schema), ("answer_schema", self.answer_schema)):
            if schema is None and label == "answer_schema":
                continue
            if not isinstance(schema, (dict, bool)):
                raise ValueError(f"step type {self.name!r}: {label} must be a JSON Schema object")
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as exc:
                raise ValueError(f"step type {self.name!r}: {label} is not a valid JSON Schema: {exc.message}") from None
        if self.interactive and self.answer_schema is None:
            raise ValueError(
                f"step type {self.name!r} is interactive, so it needs an answer_schema "
                "describing what the customer sends"
            )
        if not self.interactive and self.answer_schema is not None:
            raise ValueError(f"step type {self.name!r} is not interactive; remove its answer_schema")

    @property
    def builtin(self) -> bool:
        return self.name in BUILTIN_STEP_TYPE_NAMES


def _builtin_config_schema(name: str) -> dict[str, Any]:
    """The built-in step's definition, self-contained (with the schema's $defs)."""
    schema = document_schema()
    definition = copy.deepcopy(schema["$defs"][f"{name}_step"])
    return {
        "$schema": schema["$schema"],
        "$comment": f"{DOCUMENT_SCHEMA_ID}#/$defs/{name}_step",
        **definition,
        "$defs": schema["$defs"],
    }


def builtin_step_types() -> list[StepType]:
    """The seven built-in step types, to register under :data:`BUILTIN_OWNER`.

    The same (immutable) objects every call: building them checks their
    schemas against the meta-schema, which is slow, and an app builds a
    registry per tenant view. Treat their schema dicts as read-only.
    """
    return list(_builtin_step_types())


@functools.cache
def _builtin_step_types() -> tuple[StepType, ...]:
    return tuple(
        StepType(
            name=name,
            config_schema=_builtin_config_schema(name),
            description=_DESCRIPTIONS[name],
            interactive=name in _ANSWER_SCHEMAS,
            answer_schema=copy.deepcopy(_ANSWER_SCHEMAS.get(name)),
        )
        for name in BUILTIN_STEP_TYPE_NAMES
    )


@dataclass
class StepTypeRegistry:
    """The step types known to one app (or one tenant's view of it).

    Names are unique: registering a name twice is an error naming both
    owners, so two plugins can never silently shadow each other.
    """

    _types: dict[str, StepType] = field(default_factory=dict, init=False, repr=False)
    _owners: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _validators: dict[str, Draft202012Validator] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def with_builtins(cls) -> StepTypeRegistry:
        """A registry holding the built-in step types."""
        registry = cls()
        for step_type in builtin_step_types():
            registry.register(step_type, owner=BUILTIN_OWNER)
        return registry

    def register(self, step_type: StepType, *, owner: str) -> None:
        """Add ``step_type``, contributed by ``owner`` (a plugin name)."""
        if not isinstance(step_type, StepType):
            raise TypeError(
                f"{owner!r} registered {step_type!r}; register_step_types must return StepType objects"
            )
        existing = self._owners.get(step_type.name)
        if existing is not None:
            raise DuplicateStepTypeError(
                f"step type {step_type.name!r} is registered by both {existing!r} and {owner!r}; "
                "disable one of them or rename the step type"
            )
        self._types[step_type.name] = step_type
        self._owners[step_type.name] = owner

    def get(self, name: str) -> StepType | None:
        """The step type called ``name``, or ``None``."""
        return self._types.get(name) if isinstance(name, str) else None

    def owner(self, name: str) -> str | None:
        """Who registered ``name``."""
        return self._owners.get(name) if isinstance(name, str) else None

    def all(self) -> list[StepType]:
        """Every registered step type, sorted by name."""
        return [self._types[name] for name in sorted(self._types)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._types

    def __iter__(self) -> Iterator[StepType]:
        return iter(self.all())

    def __len__(self) -> int:
        return len(self._types)

    def config_validator(self, name: str) -> Draft202012Validator:
        """A compiled validator for the type's config, built once per registry."""
        validator = self._validators.get(name)
        if validator is None:
            validator = Draft202012Validator(self._types[name].config_schema)
            self._validators[name] = validator
        return validator

    def answer_validator(self, name: str) -> Draft202012Validator | None:
        """A compiled validator for the type's answers, or ``None``."""
        step_type = self._types[name]
        if step_type.answer_schema is None:
            return None
        key = f"answer:{name}"
        validator = self._validators.get(key)
        if validator is None:
            validator = Draft202012Validator(step_type.answer_schema)
            self._validators[key] = validator
        return validator
