"""The pure runner: transitions, answer checks, subpaths, back, persistence."""

from __future__ import annotations

import copy
import json

import pytest

from guidepath.guided_paths.sansio import runner
from guidepath.guided_paths.sansio.runner import (
    AnswerError,
    RunDocumentError,
    RunState,
    abandon,
    answer,
    back,
    complete_action,
    complete_app,
    enter_subpath,
    start,
    step_input,
    waiting_step,
)

T0, T1, T2, T3, T4 = (f"2026-01-01T10:00:0{i}Z" for i in range(5))


def run_to_cable_choice(doc, choice="usb_c", tried=None):
    state = start(doc, version=1, now=T0)
    state = answer(doc, state, "welcome", {"ack": True}, now=T1)
    state = answer(doc, state, "ask_cable", choice, now=T2)
    if state.current_step == "ask_tried":
        state = answer(doc, state, "ask_tried", tried if tried is not None else [], now=T3)
    return state


# ---- happy paths ---------------------------------------------------------------------------


def test_start_waits_on_the_first_message(charge_doc):
    state = start(charge_doc, version=7, now=T0)
    assert (state.path_id, state.version, state.status, state.current_step) == (
        "phone-wont-charge", 7, "waiting_answer", "welcome")
    assert state.variables == {"os": "android", "attempts": 0, "tried": []}
    assert state.answers == {}
    assert [(h.step_id, h.event, h.at) for h in state.history] == [("welcome", "entered", T0)]
    assert waiting_step(charge_doc, state)["type"] == "message"


def test_a_full_run_to_resolved(charge_doc):
    state = run_to_cable_choice(charge_doc)
    assert (state.status, state.current_step) == ("waiting_answer", "try_cable")
    assert state.variables["cable"] == "usb_c" and state.variables["tried"] == []
    state = answer(charge_doc, state, "try_cable", True, now=T4)
    assert (state.status, state.current_step, state.outcome) == ("completed", None, "resolved")
    assert state.finished
    events = [(h.step_id, h.event) for h in state.history]
    assert events[-5:] == [
        ("try_cable", "answered"), ("cable_result", "entered"), ("cable_result", "completed"),
        ("resolved", "entered"), ("resolved", "completed")]
    assert state.history[-1].value == "resolved"
    assert state.checkpoints == () and not state.can_go_back
    decision = next(h for h in state.history if h.step_id == "cable_result" and h.event == "completed")
    assert decision.value == {"branch": 0, "next": "resolved"}


def test_decision_routes_on_answers_and_variables(charge_doc):
    assert run_to_cable_choice(charge_doc, "other").outcome == "unresolved"
    state = run_to_cable_choice(charge_doc, tried=["other_cable"])
    assert (state.status, state.current_step) == ("waiting_action", "collect")


def test_actions_wait_for_the_host_and_store_results(charge_doc):
    state = run_to_cable_choice(charge_doc, tried=["other_cable"])
    assert step_input(charge_doc, state) == {"what": ["battery", "charging"], "os": "android"}
    assert state.history[-1].value == {"what": ["battery", "charging"], "os": "android"}
    done = complete_action(charge_doc, state, "collect", {"battery_health": 40}, now=T4)
    assert done.variables["diagnostics"] == {"battery_health": 40}
    assert (done.status, done.outcome) == ("completed", "escalate")
    assert state.status == "waiting_action"  # the input state is untouched


def test_failed_action_goes_to_on_error_and_keeps_variables(charge_doc):
    state = run_to_cable_choice(charge_doc, tried=["other_cable"])
    failed = complete_action(charge_doc, state, "collect", {"error": "device offline"}, now=T4, ok=False)
    assert failed.outcome == "escalate"
    assert "diagnostics" not in failed.variables
    assert failed.history[-3].value == {"ok": False, "result": {"error": "device offline"}}
    del charge_doc["steps"]["collect"]["on_error"]
    charge_doc["steps"]["battery_check"]["branches"][0]["when"] = {
        "<": [{"var": ["vars.diagnostics.battery_health", 100]}, 60]}
    failed = complete_action(charge_doc, state, "collect", {}, now=T4, ok=False)
    assert failed.outcome == "unresolved"  # went on at next: battery_check's default


def test_initial_variables_override_defaults(charge_doc):
    state = start(charge_doc, version=1, variables={"os": "ios", "attempts": 2.0}, now=T0)
    assert state.variables["os"] == "ios" and state.variables["attempts"] == 2.0
    with pytest.raises(AnswerError) as info:
        start(charge_doc, version=1, variables={"nope": 1}, now=T0)
    assert (info.value.code, info.value.field) == ("unknown_variable", "variables.nope")
    with pytest.raises(AnswerError) as info:
        start(charge_doc, version=1, variables={"attempts": "two"}, now=T0)
    assert (info.value.code, info.value.field) == ("wrong_type", "variables.attempts")


def test_state_shares_nothing_mutable_with_the_document(charge_doc):
    state = start(charge_doc, version=1, now=T0)
    state.variables["tried"].append("x")
    assert charge_doc["variables"]["tried"]["default"] == []


# ---- refused answers ---------------------------------------------------------------------------


def refuse(doc, state, step_id, value):
    with pytest.raises(AnswerError) as info:
        answer(doc, state, step_id, value, now=T4)
    return info.value.code, info.value.field


def test_answers_to_other_steps_are_refused(charge_doc):
    state = start(charge_doc, version=1, now=T0)
    assert refuse(charge_doc, state, "ask_cable", "usb_c") == ("not_current_step", "step_id")
    with pytest.raises(AnswerError, match="waiting for an answer to step 'welcome'"):
        answer(charge_doc, state, "ask_cable", "usb_c", now=T1)
    with pytest.raises(AnswerError) as info:
        complete_action(charge_doc, state, "welcome", {}, now=T1)
    assert info.value.code == "not_current_step"


def test_finished_runs_refuse_everything(charge_doc):
    state = run_to_cable_choice(charge_doc, "other")
    assert refuse(charge_doc, state, "ask_cable", "usb_c")[0] == "run_finished"
    for call in (lambda: back(charge_doc, state, now=T4), lambda: abandon(state, now=T4)):
        with pytest.raises(AnswerError) as info:
            call()
        assert info.value.code == "run_finished"


def test_message_needs_an_acknowledgement(charge_doc):
    state = start(charge_doc, version=1, now=T0)
    for value in (True, {"ack": False}, {"ack": True, "extra": 1}, None):
        assert refuse(charge_doc, state, "welcome", value) == ("wrong_type", "value")


@pytest.mark.parametrize(
    ("step", "value", "code", "field"),
    [
        ({"kind": "single_choice", "options": [{"value": "a", "label": "A"}, {"value": 1, "label": "1"}]}, "b",
         "not_an_option", "value"),
        ({"kind": "single_choice", "options": [{"value": 1, "label": "1"}]}, True, "not_an_option", "value"),
        ({"kind": "single_choice", "options": [{"value": 1, "label": "1"}]}, "1", "not_an_option", "value"),
        ({"kind": "single_choice", "options": [{"value": "a", "label": "A"}]}, None, "required", "value"),
        ({"kind": "multiple_choice", "options": [{"value": "a", "label": "A"}]}, "a", "wrong_type", "value"),
        ({"kind": "multiple_choice", "options": [{"value": "a", "label": "A"}]}, ["a", "z"], "not_an_option",
         "value/1"),
        ({"kind": "multiple_choice", "options": [{"value": "a", "label": "A"}]}, ["a", "a"], "duplicate_choice",
         "value/1"),
        ({"kind": "multiple_choice", "options": [{"value": "a", "label": "A"}]}, [], "too_few_selected", "value"),
        ({"kind": "multiple_choice", "max_selected": 1,
          "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]}, ["a", "b"], "too_many_selected",
         "value"),
        ({"kind": "text"}, 5, "wrong_type", "value"),
        ({"kind": "text"}, "   ", "required", "value"),
        ({"kind": "text", "max_length": 3}, "abcd", "too_long", "value"),
        ({"kind": "text", "min_length": 3}, "ab", "too_short", "value"),
        ({"kind": "text", "pattern": "[A-Z]{2}[0-9]+"}, "AB12x", "pattern_mismatch", "value"),
        ({"kind": "text"}, "x" * 10_001, "too_long", "value"),
        ({"kind": "number"}, "5", "wrong_type", "value"),
        ({"kind": "number"}, True, "wrong_type", "value"),
        ({"kind": "number"}, float("nan"), "wrong_type", "value"),
        ({"kind": "number", "min": 0}, -1, "too_small", "value"),
        ({"kind": "number", "max": 10}, 10.5, "too_large", "value"),
        ({"kind": "number", "store_as": "whole"}, 2.5, "not_integer", "value"),
        ({"kind": "yes_no"}, "yes", "wrong_type", "value"),
        ({"kind": "yes_no"}, 1, "wrong_type", "value"),
    ],
)
def test_question_answers_are_checked(make_doc, step, value, code, field):
    doc = make_doc(
        {"q": {"type": "question", "prompt": "?", "next": "e", **step}, "e": {"type": "end", "outcome": "resolved"}},
        variables={"whole": {"type": "integer"}},
    )
    state = start(doc, version=1, now=T0)
    assert refuse(doc, state, "q", value) == (code, field)


@pytest.mark.parametrize(
    ("step", "value", "recorded"),
    [
        ({"kind": "single_choice", "options": [{"value": 1, "label": "1"}]}, 1.0, 1),
        ({"kind": "multiple_choice", "options": [{"value": "a", "label": "A"}], "required": False}, [], []),
        ({"kind": "text", "pattern": "[A-Z]{2}[0-9]+"}, "AB12", "AB12"),
        ({"kind": "number", "store_as": "whole"}, 3.0, 3),
        ({"kind": "yes_no"}, False, False),
        ({"kind": "text", "required": False}, None, None),
    ],
)
def test_good_answers_are_recorded(make_doc, step, value, recorded):
    doc = make_doc(
        {"q": {"type": "question", "prompt": "?", "next": "e", **step}, "e": {"type": "end", "outcome": "resolved"}},
        variables={"whole": {"type": "integer"}},
    )
    state = answer(doc, start(doc, version=1, now=T0), "q", value, now=T1)
    assert state.answers == {"q": recorded}
    assert type(state.answers["q"]) is type(recorded)
    if step.get("store_as"):
        assert state.variables["whole"] == recorded and type(state.variables["whole"]) is int


# ---- apps ---------------------------------------------------------------------------------------


@pytest.fixture
def app_doc(make_doc):
    return make_doc(
        {
            "app": {
                "type": "app", "app_id": "app_speedtest",
                "input": {"customer": {"var": "vars.name"}},
                "output_schema": {"type": "object", "required": ["mbps"],
                                  "properties": {"mbps": {"type": "number", "minimum": 0}}},
                "store_as": "speed", "next": "check",
            },
            "check": {"type": "decision", "branches": [{"when": {">": [{"var": "vars.speed.mbps"}, 10]},
                                                        "next": "ok"}], "default": "slow"},
            "ok": {"type": "end", "outcome": "resolved"},
            "slow": {"type": "end", "outcome": "escalate"},
        },
        variables={"speed": {"type": "object"}, "name": {"type": "string", "default": "Ada"}},
    )


def test_app_output_is_validated_before_it_reaches_variables(app_doc):
    state = start(app_doc, version=1, now=T0)
    assert (state.status, state.current_step) == ("waiting_app", "app")
    assert step_input(app_doc, state) == {"customer": "Ada"}
    with pytest.raises(AnswerError) as info:
        complete_app(app_doc, state, "app", {"mbps": -3}, now=T1)
    assert (info.value.code, info.value.field) == ("invalid_output", "output/mbps")
    with pytest.raises(AnswerError) as info:
        complete_app(app_doc, state, "app", {"speed": 3}, now=T1)
    assert info.value.code == "invalid_output" and "mbps" in info.value.message
    done = complete_app(app_doc, state, "app", {"mbps": 50.5}, now=T1)
    assert done.variables["speed"] == {"mbps": 50.5} and done.outcome == "resolved"


def test_app_output_must_fit_the_variable(app_doc):
    app_doc["steps"]["app"]["output_schema"] = {}
    state = start(app_doc, version=1, now=T0)
    with pytest.raises(AnswerError) as info:
        complete_app(app_doc, state, "app", [1, 2], now=T1)
    assert info.value.code == "invalid_output"


# ---- plugin step types -------------------------------------------------------------------------------


def test_plugin_steps(make_doc, registry):
    doc = make_doc(
        {
            "sign": {"type": "acme.signature", "prompt": "Sign", "store_as": "signature", "next": "reboot"},
            "reboot": {"type": "acme.reboot", "delay_seconds": 5, "store_as": "reboot", "next": "e"},
            "e": {"type": "end", "outcome": "resolved"},
        },
        variables={"signature": {"type": "object"}, "reboot": {"type": "object"}},
    )
    with pytest.raises(RunDocumentError) as info:
        start(doc, version=1, now=T0)  # no registry: the plugin type is unknown
    assert info.value.code == "unknown_step_type"
    state = start(doc, version=1, now=T0, step_types=registry)
    assert (state.status, state.current_step) == ("waiting_answer", "sign")
    with pytest.raises(AnswerError) as refused:
        answer(doc, state, "sign", {"svg": ""}, now=T1, step_types=registry)
    assert (refused.value.code, refused.value.field) == ("invalid_answer", "value/svg")
    state = answer(doc, state, "sign", {"svg": "<svg/>"}, now=T1, step_types=registry)
    assert state.answers == {"sign": {"svg": "<svg/>"}} and state.variables["signature"] == {"svg": "<svg/>"}
    assert (state.status, state.current_step) == ("waiting_action", "reboot")
    state = complete_action(doc, state, "reboot", {"rebooted": True}, now=T2, step_types=registry)
    assert state.outcome == "resolved" and state.variables["reboot"] == {"rebooted": True}


# ---- subpaths ----------------------------------------------------------------------------------------


@pytest.fixture
def family(make_doc):
    parent = make_doc(
        {
            "intro": {"type": "message", "text": "Hi", "next": "wifi"},
            "wifi": {"type": "subpath", "path_id": "check-wifi", "input": {"band": {"var": "vars.band"}},
                     "store_as": "wifi", "next": "after"},
            "after": {"type": "decision",
                      "branches": [{"when": {"===": [{"var": "vars.wifi.outcome"}, "resolved"]}, "next": "done"}],
                      "default": "agent"},
            "done": {"type": "end", "outcome": "resolved"},
            "agent": {"type": "end", "outcome": "escalate"},
        },
        id="home", variables={"band": {"type": "string", "default": "5ghz"}, "wifi": {"type": "object"}},
    )
    child = make_doc(
        {
            "restart": {"type": "question", "prompt": "Restart the router. Better?", "kind": "yes_no", "next": "r"},
            "r": {"type": "decision", "branches": [{"when": {"var": "answers.restart"}, "next": "fixed"},
                                                   {"when": {"===": [{"var": "vars.band"}, "2ghz"]},
                                                    "next": "give_up"}],
                  "default": "escalate"},
            "fixed": {"type": "end", "outcome": "resolved"},
            "give_up": {"type": "end", "outcome": "unresolved"},
            "escalate": {"type": "end", "outcome": "escalate"},
        },
        id="check-wifi", variables={"band": {"type": "string", "default": "2ghz"}},
    )
    loads: list[str] = []

    def load_path(path_id):
        loads.append(path_id)
        if path_id != "check-wifi":
            raise LookupError(f"no published path {path_id!r}")
        return copy.deepcopy(child), 4

    return parent, child, load_path, loads


def test_subpath_runs_inside_the_run_and_returns(family):
    parent, _child, load_path, loads = family
    state = start(parent, version=2, now=T0, load_path=load_path)
    state = answer(parent, state, "intro", {"ack": True}, now=T1, load_path=load_path)
    assert loads == ["check-wifi"]
    assert (state.current_path_id, state.current_version, state.current_step) == ("check-wifi", 4, "restart")
    assert state.variables == {"band": "5ghz"} and state.answers == {}
    assert waiting_step(parent, state)["prompt"].startswith("Restart")
    assert state.stack[0].parent_step == "wifi" and state.stack[0].parent_variables["band"] == "5ghz"
    done = answer(parent, state, "restart", True, now=T2)  # no loader needed inside: the child is pinned
    assert done.outcome == "resolved" and done.stack == () and done.documents == {}
    assert done.variables["wifi"] == {"outcome": "resolved", "variables": {"band": "5ghz"}}
    assert ("restart", "answered", "check-wifi") in [(h.step_id, h.event, h.path_id) for h in done.history]
    wifi_entered = next(h for h in done.history if h.step_id == "wifi" and h.event == "entered")
    assert wifi_entered.value == {"path_id": "check-wifi", "version": 4}


def test_unresolved_subpath_returns_and_escalation_ends_the_run(family):
    parent, _child, load_path, _ = family
    state = start(parent, version=2, now=T0, load_path=load_path)
    state = answer(parent, state, "intro", {"ack": True}, now=T1, load_path=load_path)
    escalated = answer(parent, state, "restart", False, now=T2)
    assert escalated.outcome == "escalate" and escalated.stack == ()
    assert escalated.variables == {"band": "5ghz"}  # back at the top level
    assert escalated.history[-1].step_id == "wifi" and escalated.history[-1].path_id == "home"


def test_subpath_without_a_loader_waits_in_subpath(family):
    parent, _child, load_path, _ = family
    state = start(parent, version=2, now=T0)
    state = answer(parent, state, "intro", {"ack": True}, now=T1)
    assert (state.status, state.current_step) == ("in_subpath", "wifi")
    state = enter_subpath(parent, state, now=T2, load_path=load_path)
    assert (state.status, state.current_path_id, state.current_step) == ("waiting_answer", "check-wifi", "restart")
    assert [h.event for h in state.history if h.step_id == "wifi"] == ["entered"]


def test_missing_subpath_is_a_document_error(family):
    parent, _child, _load_path, _ = family
    parent["steps"]["wifi"]["path_id"] = "gone"

    def load_path(path_id):
        raise LookupError("not published")

    state = start(parent, version=2, now=T0)
    with pytest.raises(RunDocumentError) as info:
        answer(parent, state, "intro", {"ack": True}, now=T1, load_path=load_path)
    assert info.value.code == "subpath_unavailable" and "not published" in info.value.message


def test_subpath_that_runs_itself_is_stopped(make_doc):
    doc = make_doc({"again": {"type": "subpath", "path_id": "loop", "next": "e"},
                    "e": {"type": "end", "outcome": "resolved"}}, id="loop")
    with pytest.raises(RunDocumentError) as info:
        start(doc, version=1, now=T0, load_path=lambda path_id: (doc, 1))
    assert info.value.code == "subpath_cycle"


def test_back_across_a_subpath_boundary(family):
    parent, _child, load_path, _ = family
    state = start(parent, version=2, now=T0, load_path=load_path)
    inside = answer(parent, state, "intro", {"ack": True}, now=T1, load_path=load_path)
    again = back(parent, inside, now=T2)
    assert (again.current_step, again.stack, again.documents) == ("intro", (), {})
    assert again.variables == state.variables


# ---- back and abandon ---------------------------------------------------------------------------------


def test_back_restores_variables_and_answers(charge_doc):
    state = run_to_cable_choice(charge_doc, tried=["other_cable"])
    assert state.current_step == "collect"
    undone = back(charge_doc, state, now=T4)
    assert (undone.status, undone.current_step) == ("waiting_answer", "ask_tried")
    assert undone.answers == {"ask_cable": "usb_c"}
    assert undone.variables == {"os": "android", "attempts": 0, "tried": [], "cable": "usb_c"}
    assert undone.history[-1].event == "back" and undone.history[-1].step_id == "ask_tried"
    assert len(undone.history) == len(state.history) + 1
    twice = back(charge_doc, undone, now=T4)
    assert twice.current_step == "ask_cable" and "cable" not in twice.variables


def test_back_undoes_action_results_too(charge_doc):
    charge_doc["steps"]["battery_check"]["default"] = "try_cable"
    state = run_to_cable_choice(charge_doc, tried=["other_cable"])
    state = complete_action(charge_doc, state, "collect", {"battery_health": 90}, now=T4)
    assert state.current_step == "try_cable" and state.variables["diagnostics"] == {"battery_health": 90}
    undone = back(charge_doc, state, now=T4)
    assert undone.current_step == "ask_tried" and "diagnostics" not in undone.variables


def test_nothing_to_undo(charge_doc):
    with pytest.raises(AnswerError) as info:
        back(charge_doc, start(charge_doc, version=1, now=T0), now=T1)
    assert info.value.code == "nothing_to_undo"


def test_abandon(charge_doc):
    state = run_to_cable_choice(charge_doc)
    gone = abandon(state, now=T4)
    assert gone.status == "abandoned" and gone.finished and gone.current_step == "try_cable"
    assert refuse(charge_doc, gone, "try_cable", True)[0] == "run_finished"


# ---- guards ------------------------------------------------------------------------------------------


def test_a_document_that_spins_is_stopped_with_a_clear_error(make_doc):
    doc = make_doc({
        "a": {"type": "decision", "branches": [{"when": True, "next": "b"}], "default": "e"},
        "b": {"type": "decision", "branches": [{"when": True, "next": "a"}], "default": "e"},
        "e": {"type": "end", "outcome": "resolved"},
    })
    with pytest.raises(RunDocumentError) as info:
        start(doc, version=1, now=T0)
    assert info.value.code == "auto_advance_limit" and "loops without a question" in info.value.message


def test_wrong_document_is_refused(charge_doc, make_doc):
    state = start(charge_doc, version=1, now=T0)
    other = make_doc({"e": {"type": "end", "outcome": "resolved"}}, id="other")
    with pytest.raises(RunDocumentError) as info:
        answer(other, state, "welcome", {"ack": True}, now=T1)
    assert info.value.code == "wrong_document"


def test_missing_steps_are_document_errors(charge_doc):
    charge_doc["steps"]["welcome"]["next"] = "gone"
    state = start(charge_doc, version=1, now=T0)
    with pytest.raises(RunDocumentError, match="no step 'gone'"):
        answer(charge_doc, state, "welcome", {"ack": True}, now=T1)


def test_rule_errors_at_run_time_name_the_step(charge_doc):
    charge_doc["steps"]["route"]["branches"][0]["when"] = {"method": []}
    state = start(charge_doc, version=1, now=T0)
    state = answer(charge_doc, state, "welcome", {"ack": True}, now=T1)
    state = answer(charge_doc, state, "ask_cable", "usb_c", now=T2)
    with pytest.raises(RunDocumentError) as info:
        answer(charge_doc, state, "ask_tried", [], now=T3)
    assert info.value.code == "expression_error" and "'route', branch 0" in info.value.message


def test_action_results_must_be_json_objects(charge_doc):
    state = run_to_cable_choice(charge_doc, tried=["other_cable"])
    for bad in ([1], "ok", {"x": {1, 2}}, {"x": float("nan")}):
        with pytest.raises(AnswerError) as info:
            complete_action(charge_doc, state, "collect", bad, now=T4)
        assert (info.value.code, info.value.field) == ("wrong_type", "result")


# ---- persistence ----------------------------------------------------------------------------------------


def test_state_round_trips_through_json(family):
    parent, _child, load_path, _ = family
    state = start(parent, version=2, now=T0, load_path=load_path)
    state = answer(parent, state, "intro", {"ack": True}, now=T1, load_path=load_path)
    saved = json.loads(json.dumps(state.to_dict()))
    restored = RunState.from_dict(saved)
    assert restored == state
    assert answer(parent, restored, "restart", True, now=T2) == answer(parent, state, "restart", True, now=T2)


def test_to_dict_shares_nothing(charge_doc):
    state = run_to_cable_choice(charge_doc, tried=["restart"])
    saved = state.to_dict()
    saved["variables"]["tried"].append("x")
    saved["history"].clear()
    assert state.variables["tried"] == ["restart"] and state.history


@pytest.mark.parametrize("bad", [{}, {"status": "dancing"}, {"format": 99, "status": "completed"}, {"status": "completed"}])
def test_from_dict_refuses_what_is_not_a_state(bad):
    with pytest.raises(ValueError):
        RunState.from_dict(bad)


def test_the_runner_is_deterministic(charge_doc):
    first = run_to_cable_choice(charge_doc, tried=["other_cable"])
    second = run_to_cable_choice(copy.deepcopy(charge_doc), tried=["other_cable"])
    assert first == second and json.dumps(first.to_dict()) == json.dumps(second.to_dict())


def test_public_names():
    assert {"start", "answer", "complete_action", "complete_app", "back", "abandon", "RunState",
            "HistoryEntry", "Frame", "AnswerError"} <= set(runner.__all__)


def test_the_wrong_call_for_the_current_step_says_which_to_use(charge_doc):
    state = start(charge_doc, version=1, now=T0)
    with pytest.raises(AnswerError) as info:
        complete_action(charge_doc, state, "welcome", {}, now=T1)
    assert info.value.code == "not_current_step"
    assert info.value.message == "step 'welcome' is waiting for an answer; use answer()"
    with pytest.raises(AnswerError, match="use answer"):
        enter_subpath(charge_doc, state, now=T1, load_path=lambda path_id: ({}, 1))
