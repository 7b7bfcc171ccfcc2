"""validate_document: every check, precise pointers, all problems at once, never raises."""

from __future__ import annotations

import copy
import json
import math

import pytest
from jsonschema import Draft202012Validator

from guidepath.guided_paths.sansio.document_schema import document_schema, schema_validators
from guidepath.guided_paths.sansio.step_types import StepTypeRegistry
from guidepath.guided_paths.sansio.validation import DEFAULT_LIMITS, Issue, Limits, validate_document


def found(issues: list[Issue]) -> set[tuple[str, str]]:
    return {(issue.pointer, issue.code) for issue in issues}


def test_the_sample_document_is_valid(charge_doc, registry):
    assert validate_document(charge_doc, registry) == []


def test_the_sample_document_is_valid_without_plugins(charge_doc):
    assert validate_document(charge_doc, StepTypeRegistry.with_builtins()) == []


# ---- JSON, size --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "pointer"),
    [
        ({1, 2}, "/title"),
        (b"bytes", "/title"),
        (float("nan"), "/title"),
        (math.inf, "/title"),
        ((1, 2), "/title"),
        ({1: "x"}, "/title"),
    ],
)
def test_non_json_values_are_reported_with_a_pointer(charge_doc, registry, bad, pointer):
    charge_doc["title"] = bad
    issues = validate_document(charge_doc, registry)
    assert [(i.pointer, i.code) for i in issues] == [(pointer, "document.not_json")]


def test_deep_and_cyclic_documents(registry):
    deep: object = "x"
    for _ in range(10_000):
        deep = {"a": deep}
    assert [i.code for i in validate_document(deep, registry)] == ["document.too_deep"]
    cyclic: dict = {}
    cyclic["self"] = cyclic
    assert [i.code for i in validate_document(cyclic, registry)] == ["document.too_deep"]


def test_document_size_limit(charge_doc, registry):
    charge_doc["description"] = "x" * 300
    limits = Limits(max_document_bytes=2_000)
    assert found(validate_document(charge_doc, registry, limits=limits)) == {("", "limits.document_too_large")}


def test_step_count_limit(charge_doc, registry):
    limits = Limits(max_steps=5)
    assert found(validate_document(charge_doc, registry, limits=limits)) == {("/steps", "limits.too_many_steps")}


@pytest.mark.parametrize("doc", [None, 1, "doc", [], [1, {"a": 2}], {}, True])
def test_not_a_document_at_all(registry, doc):
    issues = validate_document(doc, registry)
    assert issues and all(i.code.startswith("schema.") for i in issues)


# ---- schema -----------------------------------------------------------------------------


def test_schema_issues_point_at_the_field(charge_doc, registry):
    charge_doc["schema_version"] = 2
    charge_doc["id"] = "Not A Slug"
    del charge_doc["title"]
    charge_doc["surprise"] = 1
    charge_doc["steps"]["welcome"]["type"] = "message"
    del charge_doc["steps"]["welcome"]["next"]
    charge_doc["steps"]["ask_cable"]["kind"] = "maybe"
    charge_doc["steps"]["try_cable"]["options"] = [{"value": "y", "label": "Y"}]
    charge_doc["steps"]["unresolved"]["outcome"] = "fixed"
    charge_doc["variables"]["attempts"]["type"] = "int"
    issues = validate_document(charge_doc, registry)
    assert {
        ("/schema_version", "schema.const"),
        ("/id", "schema.pattern"),
        ("/title", "schema.required"),
        ("/surprise", "schema.unknown_field"),
        ("/steps/welcome/next", "schema.required"),
        ("/steps/ask_cable/kind", "schema.enum"),
        ("/steps/try_cable/options", "schema.not_allowed"),
        ("/steps/unresolved/outcome", "schema.enum"),
        ("/variables/attempts/type", "schema.enum"),
    } <= found(issues)
    by_pointer = {i.pointer: i.message for i in issues}
    assert by_pointer["/steps/try_cable/options"] == "'options' is not allowed here for a question of kind 'yes_no'"
    assert "allowed here" in by_pointer["/surprise"]


def test_bad_step_ids_and_variable_names_point_at_the_key(charge_doc, registry):
    charge_doc["steps"]["Bad Id"] = {"type": "end", "outcome": "resolved"}
    charge_doc["variables"]["9lives"] = {"type": "string"}
    issues = found(validate_document(charge_doc, registry))
    assert ("/steps/Bad Id", "schema.bad_name") in issues
    assert ("/variables/9lives", "schema.bad_name") in issues


def test_kind_specific_rules_are_refused_on_other_kinds(charge_doc, registry):
    charge_doc["steps"]["ask_cable"]["min"] = 1
    charge_doc["steps"]["ask_cable"]["pattern"] = "x"
    charge_doc["steps"]["try_cable"]["max_selected"] = 1
    assert {
        ("/steps/ask_cable/min", "schema.not_allowed"),
        ("/steps/ask_cable/pattern", "schema.not_allowed"),
        ("/steps/try_cable/max_selected", "schema.not_allowed"),
    } <= found(validate_document(charge_doc, registry))


def test_messages_do_not_quote_huge_values(charge_doc, registry):
    charge_doc["steps"]["welcome"]["next"] = {"x": "y" * 10_000}
    issues = validate_document(charge_doc, registry)
    assert all(len(i.message) < 400 for i in issues)


# ---- plugin step types ------------------------------------------------------------------


def test_plugin_step_config_is_checked_against_the_plugins_schema(charge_doc, registry):
    charge_doc["steps"]["welcome"]["next"] = "sign"
    charge_doc["steps"]["sign"] = {"type": "acme.signature", "title": "Sign", "next": "ask_cable", "prompt": 5}
    charge_doc["steps"]["reboot"] = {"type": "acme.reboot", "next": "resolved", "delay_seconds": -1, "x": 1}
    charge_doc["steps"]["resolved"]["outcome"] = "resolved"
    charge_doc["steps"]["try_cable"]["next"] = "reboot"
    issues = found(validate_document(charge_doc, registry))
    assert ("/steps/sign/prompt", "step_config.type") in issues
    assert ("/steps/reboot/delay_seconds", "step_config.minimum") in issues
    assert not any(p == "/steps/reboot/x" for p, _ in issues)  # its schema allows more fields


def test_plugin_steps_need_next(charge_doc, registry):
    charge_doc["steps"]["sign"] = {"type": "acme.signature", "prompt": "Sign here"}
    assert ("/steps/sign/next", "schema.required") in found(validate_document(charge_doc, registry))


def test_unknown_step_type_names_the_known_ones(charge_doc):
    charge_doc["steps"]["welcome"]["next"] = "sign"
    charge_doc["steps"]["sign"] = {"type": "acme.signature", "prompt": "Sign", "next": "ask_cable"}
    issues = validate_document(charge_doc, StepTypeRegistry.with_builtins())
    assert [(i.pointer, i.code) for i in issues] == [("/steps/sign/type", "step.unknown_type")]
    assert "question" in issues[0].message


# ---- graph ------------------------------------------------------------------------------


def test_unknown_targets_and_start(charge_doc, registry):
    charge_doc["start"] = "nope"
    charge_doc["steps"]["route"]["branches"][1]["next"] = "gone"
    charge_doc["steps"]["collect"]["on_error"] = "also_gone"
    issues = found(validate_document(charge_doc, registry))
    assert {
        ("/start", "graph.unknown_start"),
        ("/steps/route/branches/1/next", "graph.unknown_target"),
        ("/steps/collect/on_error", "graph.unknown_target"),
    } <= issues
    assert not any(code in ("graph.dead_end", "graph.unreachable") for _, code in issues)


def test_unreachable_steps(charge_doc, registry):
    charge_doc["steps"]["island"] = {"type": "end", "outcome": "resolved"}
    charge_doc["steps"]["bridge"] = {"type": "message", "text": "x", "next": "island"}
    assert {("/steps/island", "graph.unreachable"), ("/steps/bridge", "graph.unreachable")} == found(
        validate_document(charge_doc, registry)
    )


def test_dead_ends(charge_doc, registry):
    charge_doc["steps"]["try_cable"]["next"] = "loop_a"
    charge_doc["steps"]["loop_a"] = {"type": "question", "prompt": "?", "kind": "yes_no", "next": "loop_b"}
    charge_doc["steps"]["loop_b"] = {"type": "message", "text": "again", "next": "loop_a"}
    issues = found(validate_document(charge_doc, registry))
    assert {("/steps/loop_a", "graph.dead_end"), ("/steps/loop_b", "graph.dead_end"),
            ("/steps/try_cable", "graph.dead_end")} <= issues
    assert ("/steps/cable_result", "graph.unreachable") in issues


def test_loops_need_an_interactive_step(charge_doc, registry):
    # decision → action → decision: nobody waits, a run could spin
    charge_doc["steps"]["battery_check"]["branches"].append(
        {"when": {"===": [{"var": "vars.attempts"}, 0]}, "next": "collect"}
    )
    issues = validate_document(charge_doc, registry)
    assert [(i.pointer, i.code) for i in issues] == [("/steps/battery_check", "graph.spin_cycle")]
    assert "battery_check → collect" in issues[0].message


def test_loops_through_a_question_are_fine(charge_doc, registry):
    charge_doc["steps"]["cable_result"]["branches"].append(
        {"when": {"===": [{"var": "answers.try_cable"}, False]}, "next": "try_cable"}
    )
    assert validate_document(charge_doc, registry) == []


def test_loops_through_an_interactive_plugin_step_are_fine(charge_doc, registry):
    charge_doc["steps"]["battery_check"]["default"] = "sign"
    charge_doc["steps"]["battery_check"]["branches"].append(
        {"when": {"===": [{"var": "vars.attempts"}, 0]}, "next": "unresolved"}
    )
    charge_doc["steps"]["sign"] = {"type": "acme.signature", "prompt": "Sign", "next": "collect"}
    assert validate_document(charge_doc, registry) == []
    charge_doc["steps"]["sign"] = {"type": "acme.reboot", "next": "collect"}  # not interactive
    assert "graph.spin_cycle" in {i.code for i in validate_document(charge_doc, registry)}


def test_a_decision_looping_to_itself(make_doc, registry):
    doc = make_doc({
        "d": {"type": "decision", "branches": [{"when": True, "next": "d"}], "default": "end"},
        "end": {"type": "end", "outcome": "resolved"},
    })
    assert found(validate_document(doc, registry)) == {("/steps/d", "graph.spin_cycle")}


# ---- rules and references ---------------------------------------------------------------------


def test_rules_are_checked_with_pointers(charge_doc, registry):
    branches = charge_doc["steps"]["route"]["branches"]
    branches[0]["when"] = {"===": [{"var": "answers.collect"}, 1]}
    branches[1]["when"] = {"and": [{"var": "vars.missing_var"}, {"method": ["x", "y"]}, {"var": "answers.ghost"}]}
    charge_doc["steps"]["battery_check"]["branches"][0]["when"] = {"var": "os"}
    issues = found(validate_document(charge_doc, registry))
    assert {
        ("/steps/route/branches/0/when/===/0/var", "expression.unknown_answer"),
        ("/steps/route/branches/1/when/and/0/var", "expression.unknown_variable"),
        ("/steps/route/branches/1/when/and/1/method", "expression.unknown_operator"),
        ("/steps/route/branches/1/when/and/2/var", "expression.unknown_answer"),
        ("/steps/battery_check/branches/0/when/var", "expression.unknown_root"),
    } == issues


def test_rule_caps_follow_the_limits(charge_doc, registry):
    charge_doc["steps"]["route"]["branches"][0]["when"] = {"cat": ["x"] * 50}
    issues = validate_document(charge_doc, registry, limits=Limits(max_rule_nodes=20))
    assert found(issues) == {("/steps/route/branches/0/when", "expression.too_many_nodes")}


def test_inputs_are_checked(charge_doc, registry):
    charge_doc["steps"]["collect"]["input"] = {"os": {"var": "vars.nope"}, "extra": {"cat": ["a", {"var": "x"}]}}
    assert found(validate_document(charge_doc, registry)) == {
        ("/steps/collect/input/os/var", "expression.unknown_variable"),
        ("/steps/collect/input/extra/cat/1/var", "expression.unknown_root"),
    }


# ---- store_as and question rules -------------------------------------------------------------------


def test_store_as(charge_doc, registry):
    charge_doc["steps"]["ask_cable"]["store_as"] = "undeclared"
    charge_doc["steps"]["ask_tried"]["store_as"] = "os"  # array into a string variable
    charge_doc["steps"]["collect"]["store_as"] = "attempts"  # object into an integer
    assert found(validate_document(charge_doc, registry)) == {
        ("/steps/ask_cable/store_as", "store_as.unknown_variable"),
        ("/steps/ask_tried/store_as", "store_as.type_mismatch"),
        ("/steps/collect/store_as", "store_as.type_mismatch"),
    }


def test_store_as_compatibility_rules(make_doc, registry):
    doc = make_doc(
        {
            "n": {"type": "question", "prompt": "?", "kind": "number", "store_as": "whole", "next": "c"},
            "c": {"type": "question", "prompt": "?", "kind": "single_choice", "store_as": "num",
                  "options": [{"value": 1, "label": "one"}, {"value": 2, "label": "two"}], "next": "a"},
            "a": {"type": "app", "app_id": "app_1", "output_schema": {"type": "string"}, "store_as": "flag",
                  "next": "e"},
            "e": {"type": "end", "outcome": "resolved"},
        },
        variables={"whole": {"type": "integer"}, "num": {"type": "number"}, "flag": {"type": "boolean"}},
    )
    assert found(validate_document(doc, registry)) == {("/steps/a/store_as", "store_as.type_mismatch")}


def test_question_rules(charge_doc, registry):
    cable = charge_doc["steps"]["ask_cable"]
    cable["options"].append({"value": "usb_c", "label": "USB-C again"})
    tried = charge_doc["steps"]["ask_tried"]
    tried["min_selected"], tried["max_selected"] = 3, 2
    charge_doc["steps"]["text_q"] = {"type": "question", "prompt": "?", "kind": "text", "pattern": "([a-z",
                                     "min_length": 5, "max_length": 100_000, "next": "resolved"}
    charge_doc["steps"]["num_q"] = {"type": "question", "prompt": "?", "kind": "number", "min": 5, "max": 1,
                                    "next": "resolved"}
    charge_doc["steps"]["try_cable"]["next"] = "text_q"
    charge_doc["steps"]["text_q"]["next"] = "num_q"
    charge_doc["steps"]["num_q"]["next"] = "cable_result"
    assert {
        ("/steps/ask_cable/options/3/value", "question.duplicate_option"),
        ("/steps/ask_tried/max_selected", "question.bad_range"),
        ("/steps/text_q/pattern", "question.bad_pattern"),
        ("/steps/text_q/max_length", "limits.answer_too_long"),
        ("/steps/num_q/max", "question.bad_range"),
    } == found(validate_document(charge_doc, registry))


def test_variable_defaults_must_have_the_declared_type(charge_doc, registry):
    charge_doc["variables"]["attempts"]["default"] = 1.5
    charge_doc["variables"]["os"]["default"] = None
    assert found(validate_document(charge_doc, registry)) == {
        ("/variables/attempts/default", "variable.bad_default"),
        ("/variables/os/default", "variable.bad_default"),
    }


def test_app_output_schema_must_be_a_schema(make_doc, registry):
    doc = make_doc({
        "a": {"type": "app", "app_id": "app_1", "output_schema": {"type": "bogus"}, "next": "e"},
        "e": {"type": "end", "outcome": "resolved"},
    })
    assert found(validate_document(doc, registry)) == {("/steps/a/output_schema", "app.bad_output_schema")}


# ---- subpaths ----------------------------------------------------------------------------------


def subpath_doc(make_doc, path_id: str, target: str, **step_extra) -> dict:
    return make_doc(
        {
            "go": {"type": "subpath", "path_id": target, "next": "e", **step_extra},
            "e": {"type": "end", "outcome": "resolved"},
        },
        id=path_id,
    )


def test_subpaths_must_exist_when_known_paths_are_given(make_doc, registry):
    doc = subpath_doc(make_doc, "a", "b")
    assert validate_document(doc, registry) == []  # nothing known: cannot tell
    assert found(validate_document(doc, registry, known_paths={})) == {("/steps/go/path_id", "subpath.unknown_path")}


def test_a_path_cannot_run_itself(make_doc, registry):
    doc = subpath_doc(make_doc, "a", "a")
    assert found(validate_document(doc, registry)) == {("/steps/go/path_id", "subpath.cycle")}


def test_subpath_cycles_through_known_paths(make_doc, registry):
    a = subpath_doc(make_doc, "a", "b")
    b = subpath_doc(make_doc, "b", "c")
    c = subpath_doc(make_doc, "c", "a")
    issues = validate_document(a, registry, known_paths={"b": b, "c": c, "a": subpath_doc(make_doc, "a", "x")})
    assert [(i.pointer, i.code) for i in issues] == [("/steps/go/path_id", "subpath.cycle")]
    assert issues[0].message == "subpaths loop: a → b → c → a"
    # a loop further down (b → c → b) also means a run of a would never end
    c_loops = subpath_doc(make_doc, "c", "b")
    issues = validate_document(a, registry, known_paths={"b": b, "c": c_loops})
    assert issues[0].message == "subpaths loop: a → b → c → b"


def test_subpath_inputs_must_be_the_childs_variables(make_doc, registry):
    child = make_doc({"e": {"type": "end", "outcome": "resolved"}}, id="child",
                     variables={"serial": {"type": "string"}})
    doc = subpath_doc(make_doc, "a", "child", input={"serial": "123", "nope": 1})
    assert found(validate_document(doc, registry, known_paths={"child": child})) == {
        ("/steps/go/input/nope", "subpath.unknown_input"),
    }


def test_garbage_known_paths_do_not_break_validation(make_doc, registry):
    doc = subpath_doc(make_doc, "a", "b")
    assert validate_document(doc, registry, known_paths={"b": "garbage"}) == []  # type: ignore[dict-item]
    assert validate_document(doc, registry, known_paths={"b": {"steps": [1, 2]}}) == []


# ---- texts and locales ----------------------------------------------------------------------------


def test_locales_and_text_lengths(charge_doc, registry):
    charge_doc["steps"]["welcome"]["text"] = {"fr": "Bonjour", "de": "Hallo"}
    charge_doc["steps"]["ask_cable"]["options"][0]["label"] = "x" * 600
    charge_doc["steps"]["welcome"]["title"] = "t" * 201
    assert found(validate_document(charge_doc, registry)) == {
        ("/steps/welcome/text/fr", "text.unknown_locale"),
        ("/steps/welcome/text", "text.missing_default_locale"),
        ("/steps/ask_cable/options/0/label", "limits.text_too_long"),
        ("/steps/welcome/title", "limits.text_too_long"),
    }


def test_localised_text_needs_locales(charge_doc, registry):
    del charge_doc["locales"]
    issues = found(validate_document(charge_doc, registry))
    assert issues == {("/title", "text.locales_missing"), ("/steps/welcome/text", "text.locales_missing")}


# ---- all at once, and the safety nets -------------------------------------------------------------------


def test_every_problem_is_reported_at_once(charge_doc, registry):
    charge_doc["steps"]["welcome"]["next"] = "gone"
    charge_doc["steps"]["ask_cable"]["store_as"] = "undeclared"
    charge_doc["steps"]["route"]["branches"][0]["when"] = {"var": "vars.nope"}
    charge_doc["title"] = 5
    codes = {i.code for i in validate_document(charge_doc, registry)}
    assert {"graph.unknown_target", "store_as.unknown_variable", "expression.unknown_variable",
            "schema.type"} <= codes


def test_issue_count_is_capped(make_doc, registry):
    steps = {f"s{i}": {"type": "message", "text": "x", "next": f"gone{i}"} for i in range(50)}
    issues = validate_document(make_doc(steps), registry, limits=Limits(max_issues=10))
    assert len(issues) == 11 and issues[-1].code == "validation.too_many_issues"


def test_the_accelerator_and_python_jsonschema_agree(charge_doc):
    validators = schema_validators()
    if validators.document is None:
        pytest.fail("jsonschema-rs is a declared dependency (pyproject.toml) but is not importable")
    full = Draft202012Validator(document_schema())
    broken = copy.deepcopy(charge_doc)
    broken["steps"]["welcome"]["media"] = [{"file_id": "nope"}]
    broken["steps"]["ask_cable"]["pattern"] = "x"
    for doc in (charge_doc, broken, {}, {"steps": []}, {"steps": {"a": {"type": "x.y"}}}):
        assert validators.document.is_valid(doc) == full.is_valid(doc)


def test_validation_does_not_change_the_document(charge_doc, registry):
    before = json.dumps(charge_doc, sort_keys=True)
    validate_document(charge_doc, registry, known_paths={"x": charge_doc})
    assert json.dumps(charge_doc, sort_keys=True) == before


def test_defaults(registry):
    assert DEFAULT_LIMITS.max_steps == 10_000
    assert DEFAULT_LIMITS.max_document_bytes == 2 * 1024 * 1024


def test_the_documented_example_is_valid_and_runs(registry):
    from pathlib import Path

    from guidepath.guided_paths.sansio import runner

    text = (Path(__file__).resolve().parents[2] / "docs" / "guided-paths.md").read_text("utf-8")
    example = json.loads(text.split("```json\n", 1)[1].split("\n```", 1)[0])
    assert validate_document(example, registry) == []
    state = runner.start(example, version=1, now="t")
    state = runner.answer(example, state, "welcome", {"ack": True}, now="t")
    state = runner.answer(example, state, "ask_cable", "usb_c", now="t")
    state = runner.answer(example, state, "ask_tried", ["other_cable"], now="t")
    state = runner.complete_action(example, state, "collect", {"battery_health": 41}, now="t")
    assert state.outcome == "escalate"


@pytest.mark.parametrize("bad", [[], {}, ["text"], {"kind": 1}])
def test_unhashable_values_where_names_belong(charge_doc, registry, bad):
    # found by the mutation property test: a list as a question kind with store_as
    charge_doc["steps"]["ask_cable"]["kind"] = bad
    charge_doc["steps"]["try_cable"]["kind"] = bad
    charge_doc["steps"]["route"]["branches"][0]["next"] = bad
    charge_doc["steps"]["collect"]["store_as"] = bad
    codes = {i.code for i in validate_document(charge_doc, registry)}
    assert "validation.internal_error" not in codes and "schema.enum" in codes
