"""Event types: registration, conflicts, and validation errors that name the field."""

from __future__ import annotations

import pytest

from guidepath.core.domain import session_states
from guidepath.core.events import (
    KERNEL_EVENT_TYPES,
    EventType,
    EventTypeConflict,
    EventTypeRegistry,
    EventValidationError,
    UnknownEventType,
)
from guidepath.core.events.registry import SESSION_STATES


@pytest.fixture
def registry() -> EventTypeRegistry:
    return EventTypeRegistry(KERNEL_EVENT_TYPES)


def simple(name: str = "crm.contact_synced", **kwargs) -> EventType:
    schema = {
        "type": "object",
        "properties": {"contact_id": {"type": "string"}},
        "required": ["contact_id"],
        "additionalProperties": False,
    }
    return EventType(name, schema, **kwargs)


def test_kernel_types_are_registered_and_listed_in_name_order(registry):
    names = [t.name for t in registry.all()]
    assert names == sorted(names)
    assert {
        "session.state_changed",
        "session.created",
        "customer.created",
        "device.updated",
        "plugin.settings_changed",
    } <= set(names)
    assert registry.get("session.created").stream == "session"
    assert "device.updated" in registry and len(registry) == len(KERNEL_EVENT_TYPES)


def test_kernel_schemas_forbid_unknown_fields():
    for event_type in KERNEL_EVENT_TYPES:
        assert event_type.schema["additionalProperties"] is False, event_type.name
        assert event_type.schema["type"] == "object"


def test_get_unknown_type_raises(registry):
    with pytest.raises(UnknownEventType, match="nope.never"):
        registry.get("nope.never")


def test_duplicate_registration_names_both(registry):
    registry.register(simple(description="first"), owner="crm_sync")
    with pytest.raises(EventTypeConflict) as info:
        registry.register(simple(description="second"), owner="other_crm")
    message = str(info.value)
    assert "crm.contact_synced" in message
    assert "crm_sync" in message and "other_crm" in message
    assert "first" in message and "second" in message


def test_two_plugins_may_declare_the_same_contract(registry):
    """Remote control and camera sharing both emit relay.connected: one type."""
    first = registry.register(simple(), owner="remote_control")
    assert registry.register(simple(), owner="camera_share") is first
    assert registry.get("crm.contact_synced").owner == "remote_control"
    with pytest.raises(EventTypeConflict):
        registry.register(simple(version=2), owner="camera_share")


def test_a_plugin_cannot_take_over_a_kernel_type(registry):
    with pytest.raises(EventTypeConflict, match="guidepath.core"):
        registry.register(simple("session.created"), owner="evil")


def test_register_does_not_mutate_shared_definitions():
    shared = simple()
    EventTypeRegistry().register(shared, owner="plugin_a")
    assert shared.owner == ""


@pytest.mark.parametrize("name", ["nodot", "Crm.Thing", "crm.", ".thing", "crm thing.x"])
def test_event_type_names_are_validated(name):
    with pytest.raises(ValueError, match="invalid event type name"):
        simple(name)


def test_invalid_json_schema_is_rejected_at_definition():
    with pytest.raises(ValueError, match="invalid JSON Schema"):
        EventType("crm.bad", {"type": "no-such-type"})
    with pytest.raises(ValueError, match="version"):
        simple(version=0)


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        # exactly what the domain emits today
        ("session.created", {"session_id": "ses_01hx0000000000000000000000", "customer_id": None}),
        ("session.created", {"session_id": "ses_1", "customer_id": "cus_1", "device_id": "dev_1", "agent_id": None}),
        (
            "session.state_changed",
            {"session_id": "ses_1", "from_state": "active", "to_state": "ended", "resolution": "fixed", "agent_id": "usr_1"},
        ),
        (
            "session.state_changed",
            {"session_id": "ses_1", "from_state": "created", "to_state": "waiting", "resolution": None, "agent_id": None},
        ),
        ("customer.created", {"customer_id": "cus_01hx"}),
        ("device.updated", {"device_id": "dev_1"}),
        ("device.updated", {"device_id": "dev_1", "changed": ["os_version", "memory_bytes"]}),
        ("plugin.settings_changed", {"plugin": "webhooks", "enabled": True}),
        ("plugin.settings_changed", {"plugin": "acme-crm", "enabled": False, "changed_by": "usr_1"}),
    ],
)
def test_kernel_types_accept_valid_data(registry, event_type, data):
    registry.validate(event_type, data)


@pytest.mark.parametrize(
    ("event_type", "data", "pointer", "reason"),
    [
        ("session.state_changed",
         {"from_state": "active", "to_state": "ended", "resolution": None, "agent_id": None},
         "/session_id", "is required"),
        ("session.state_changed",
         {"session_id": "ses_1", "from_state": "active", "to_state": "gone", "resolution": None, "agent_id": None},
         "/to_state", "is not one of"),
        ("session.state_changed",
         {"session_id": "ses_1", "from_state": "active", "to_state": "ended", "resolution": 7, "agent_id": None},
         "/resolution", ""),
        ("session.created", {"session_id": "ses_1", "customer_id": None, "bogus": 1}, "/bogus", "not allowed"),
        ("session.created", {"session_id": "cus_1", "customer_id": None}, "/session_id", "does not match"),
        ("customer.created", {}, "/customer_id", "is required"),
        ("device.updated", {"device_id": "dev_1", "changed": ["ok", 3]}, "/changed/1", "is not of type"),
        ("plugin.settings_changed", {"plugin": "webhooks", "enabled": "yes"}, "/enabled", "is not of type"),
    ],
)
def test_validation_errors_name_the_field(registry, event_type, data, pointer, reason):
    with pytest.raises(EventValidationError) as info:
        registry.validate(event_type, data)
    error = info.value
    assert error.pointer == pointer
    assert error.event_type == event_type
    assert reason in error.reason
    assert pointer in str(error) and event_type in str(error)


def test_pointer_escapes_slash_and_tilde():
    registry = EventTypeRegistry()
    registry.register(EventType(
        "crm.odd_keys",
        {"type": "object", "properties": {"a/b": {"type": "object", "properties": {"c~d": {"type": "integer"}}}}},
    ))
    with pytest.raises(EventValidationError) as info:
        registry.validate("crm.odd_keys", {"a/b": {"c~d": "x"}})
    assert info.value.pointer == "/a~1b/c~0d"


def test_validating_an_unknown_type_is_a_validation_error(registry):
    with pytest.raises(EventValidationError, match="unknown event type"):
        registry.validate("nope.never", {})


def test_non_object_data_points_at_the_root(registry):
    with pytest.raises(EventValidationError) as info:
        registry.validate("customer.created", ["cus_1"])
    assert info.value.pointer == ""


def test_to_dict_is_what_the_api_serves(registry):
    described = registry.get("customer.created").to_dict()
    assert set(described) == {"name", "version", "description", "schema"}
    assert described["schema"]["required"] == ["customer_id"]


def test_session_states_follow_the_domain_state_machine():
    assert SESSION_STATES == list(session_states.STATES)
