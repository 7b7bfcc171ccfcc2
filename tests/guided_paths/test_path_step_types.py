"""Step types: the seven built-ins, plugin types, and the registry's rules."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from guidepath.guided_paths.sansio.document_schema import document_schema
from guidepath.guided_paths.sansio.step_types import (
    BUILTIN_OWNER,
    BUILTIN_STEP_TYPE_NAMES,
    DuplicateStepTypeError,
    StepType,
    StepTypeRegistry,
    builtin_step_types,
)


def test_seven_builtins_in_order():
    types = builtin_step_types()
    assert [t.name for t in types] == list(BUILTIN_STEP_TYPE_NAMES) == [
        "message", "question", "decision", "action", "app", "subpath", "end",
    ]
    assert {t.name for t in types if t.interactive} == {"message", "question"}
    assert all(t.description for t in types)


def test_builtin_config_schemas_are_self_contained_and_validate_real_steps(charge_doc):
    by_name = {t.name: t for t in builtin_step_types()}
    for step in charge_doc["steps"].values():
        Draft202012Validator(by_name[step["type"]].config_schema).validate(step)
    question = by_name["question"].config_schema
    assert not Draft202012Validator(question).is_valid({"type": "question", "kind": "text"})


def test_message_answer_schema_is_an_acknowledgement():
    message = next(t for t in builtin_step_types() if t.name == "message")
    validator = Draft202012Validator(message.answer_schema)
    assert validator.is_valid({"ack": True})
    assert not validator.is_valid({"ack": False})


def test_registry_with_builtins():
    registry = StepTypeRegistry.with_builtins()
    assert len(registry) == 7
    assert registry.owner("question") == BUILTIN_OWNER
    assert "question" in registry and "acme.signature" not in registry
    assert registry.get("nope") is None
    assert registry.get(42) is None  # type: ignore[arg-type]


def test_plugins_register_from_any_owner(registry):
    assert registry.owner("acme.signature") == "acme"
    assert registry.get("acme.signature").interactive
    assert [t.name for t in registry.all()] == sorted(t.name for t in registry.all())
    assert registry.config_validator("acme.signature") is registry.config_validator("acme.signature")
    assert registry.answer_validator("acme.signature").is_valid({"svg": "<svg/>"})
    assert registry.answer_validator("acme.reboot") is None


def test_duplicate_names_are_an_error_naming_both_owners(registry):
    with pytest.raises(DuplicateStepTypeError) as info:
        registry.register(registry.get("acme.reboot"), owner="globex")
    assert "'acme'" in str(info.value) and "'globex'" in str(info.value)
    with pytest.raises(DuplicateStepTypeError, match=BUILTIN_OWNER):
        registry.register(StepType("question", {"type": "object"}), owner="globex")
    assert registry.owner("acme.reboot") == "acme"


def test_registries_are_independent():
    first, second = StepTypeRegistry.with_builtins(), StepTypeRegistry.with_builtins()
    first.register(StepType("acme.reboot", {"type": "object"}), owner="acme")
    assert "acme.reboot" not in second


def test_register_refuses_anything_but_step_types():
    with pytest.raises(TypeError, match="StepType"):
        StepTypeRegistry().register({"name": "x"}, owner="acme")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "Bad Name", "config_schema": {}}, "lowercase"),
        ({"name": "acme.x", "config_schema": {"type": "nonsense"}}, "config_schema is not a valid JSON Schema"),
        ({"name": "acme.x", "config_schema": {}, "interactive": True}, "needs an answer_schema"),
        ({"name": "acme.x", "config_schema": {}, "answer_schema": {}}, "not interactive"),
        ({"name": "acme.x", "config_schema": {}, "interactive": True, "answer_schema": {"minLength": "x"}},
         "answer_schema is not a valid JSON Schema"),
        ({"name": "acme.x", "config_schema": "schema"}, "must be a JSON Schema object"),
    ],
)
def test_step_type_refuses_bad_definitions(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StepType(**kwargs)


def test_document_schema_is_a_fresh_copy():
    first = document_schema()
    first["title"] = "changed"
    assert document_schema()["title"] != "changed"
