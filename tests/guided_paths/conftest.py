"""Fixtures for the pure Guided Path core: a step type registry and a small,
realistic document every test can change freely (each test gets its own copy)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from guidepath.guided_paths.sansio.step_types import StepType, StepTypeRegistry

CHARGE_DOC: dict[str, Any] = {
    "schema_version": 1,
    "id": "phone-wont-charge",
    "title": {"en": "Phone won't charge", "de": "Handy lädt nicht"},
    "description": "Checks the cable, the charger and the battery.",
    "locales": ["en", "de"],
    "variables": {
        "os": {"type": "string", "default": "android", "description": "Set by the SDK from the device."},
        "attempts": {"type": "integer", "default": 0},
        "cable": {"type": "string"},
        "diagnostics": {"type": "object"},
        "tried": {"type": "array", "default": []},
    },
    "start": "welcome",
    "steps": {
        "welcome": {
            "type": "message",
            "title": "Let's get your phone charging",
            "text": {"en": "We will check a few things.", "de": "Wir prüfen ein paar Dinge."},
            "next": "ask_cable",
        },
        "ask_cable": {
            "type": "question",
            "prompt": "Which cable do you use?",
            "kind": "single_choice",
            "options": [
                {"value": "usb_c", "label": "USB-C"},
                {"value": "lightning", "label": "Lightning"},
                {"value": "other", "label": "Something else"},
            ],
            "store_as": "cable",
            "next": "ask_tried",
        },
        "ask_tried": {
            "type": "question",
            "prompt": "What have you tried already?",
            "kind": "multiple_choice",
            "options": [
                {"value": "other_outlet", "label": "Another outlet"},
                {"value": "other_cable", "label": "Another cable"},
                {"value": "restart", "label": "Restarting the phone"},
            ],
            "required": False,
            "store_as": "tried",
            "next": "route",
        },
        "route": {
            "type": "decision",
            "branches": [
                {"when": {"===": [{"var": "answers.ask_cable"}, "other"]}, "next": "unsupported"},
                {"when": {"in": ["other_cable", {"var": "vars.tried"}]}, "next": "collect"},
            ],
            "default": "try_cable",
        },
        "try_cable": {
            "type": "question",
            "prompt": "Try another cable. Does it charge now?",
            "kind": "yes_no",
            "next": "cable_result",
        },
        "cable_result": {
            "type": "decision",
            "branches": [{"when": {"===": [{"var": "answers.try_cable"}, True]}, "next": "resolved"}],
            "default": "collect",
        },
        "collect": {
            "type": "action",
            "action": "diagnostics.collect",
            "input": {"what": ["battery", "charging"], "os": {"var": "vars.os"}},
            "store_as": "diagnostics",
            "next": "battery_check",
            "on_error": "escalate",
        },
        "battery_check": {
            "type": "decision",
            "branches": [
                {"when": {"<": [{"var": "vars.diagnostics.battery_health"}, 60]}, "next": "escalate"},
            ],
            "default": "unresolved",
        },
        "unsupported": {"type": "end", "outcome": "unresolved", "message": "Please use the original cable."},
        "resolved": {"type": "end", "outcome": "resolved", "message": "Great, it charges again."},
        "unresolved": {"type": "end", "outcome": "unresolved"},
        "escalate": {"type": "end", "outcome": "escalate", "message": "An agent will help you."},
    },
}

SIGNATURE = StepType(
    name="acme.signature",
    config_schema={
        "type": "object",
        "required": ["prompt"],
        "additionalProperties": False,
        "properties": {"prompt": {"type": "string", "maxLength": 200}},
    },
    description="Ask the customer to sign on screen.",
    interactive=True,
    answer_schema={
        "type": "object",
        "required": ["svg"],
        "additionalProperties": False,
        "properties": {"svg": {"type": "string", "minLength": 1}},
    },
)

REBOOT = StepType(
    name="acme.reboot",
    config_schema={"type": "object", "properties": {"delay_seconds": {"type": "integer", "minimum": 0}}},
    description="Reboot the device remotely.",
)


@pytest.fixture
def registry() -> StepTypeRegistry:
    """Built-in step types plus two plugin types owned by 'acme'."""
    registry = StepTypeRegistry.with_builtins()
    registry.register(SIGNATURE, owner="acme")
    registry.register(REBOOT, owner="acme")
    return registry


@pytest.fixture
def charge_doc() -> dict[str, Any]:
    return copy.deepcopy(CHARGE_DOC)


def minimal_doc(steps: dict[str, Any], *, start: str | None = None, **extra: Any) -> dict[str, Any]:
    """A document around ``steps`` (start defaults to the first step)."""
    return {
        "schema_version": 1,
        "id": extra.pop("id", "test-path"),
        "title": "Test",
        "start": start or next(iter(steps)),
        "steps": steps,
        **extra,
    }


@pytest.fixture
def make_doc():
    return minimal_doc
