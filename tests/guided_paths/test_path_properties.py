"""Property tests of the pure core (hypothesis).

* Any sequence of valid answers keeps a run in a legal state: it reaches an
  end or waits on a step of the right kind; it never raises.
* Back, then the same answer, gives the same state (ignoring history).
* Validation never raises and never fails internally, whatever it is given;
  a document it accepts always starts.
* The optional Rust accelerator and Python jsonschema agree.

The document strategy builds graphs that satisfy validation by construction:
steps form a chain (so every step is reachable and reaches the final end),
decisions may jump forward anywhere or back only to a question (so every loop
contains a step that waits for the customer).
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from guidepath.guided_paths.sansio import runner
from guidepath.guided_paths.sansio.document_schema import document_schema, schema_validators
from guidepath.guided_paths.sansio.runner import AnswerError, RunDocumentError, RunState
from guidepath.guided_paths.sansio.step_types import StepTypeRegistry
from guidepath.guided_paths.sansio.validation import Issue, validate_document

REGISTRY = StepTypeRegistry.with_builtins()


def examples(count: int) -> settings:
    # No example database: the suite must not write into the work tree.
    return settings(max_examples=count, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

VARIABLES = {
    "choice": {"type": "string"},
    "picked": {"type": "array", "default": []},
    "note": {"type": "string", "default": ""},
    "amount": {"type": "number", "default": 0},
    "flag": {"type": "boolean", "default": False},
    "diag": {"type": "object"},
}
STORE_FOR_KIND = {"single_choice": "choice", "multiple_choice": "picked", "text": "note",
                  "number": "amount", "yes_no": "flag"}
OPTION_VALUES = ["a", "b", "c", "d"]
NOW = "2026-01-01T00:00:00Z"


# ---- documents -----------------------------------------------------------------------------


@st.composite
def question_step(draw: Any, next_step: str) -> dict:
    kind = draw(st.sampled_from(sorted(STORE_FOR_KIND)))
    step: dict[str, Any] = {"type": "question", "prompt": "?", "kind": kind, "next": next_step}
    if kind in ("single_choice", "multiple_choice"):
        count = draw(st.integers(1, 4))
        step["options"] = [{"value": v, "label": v.upper()} for v in OPTION_VALUES[:count]]
        if kind == "multiple_choice":
            low = draw(st.integers(0, count))
            step["min_selected"] = low
            step["max_selected"] = draw(st.integers(low, count))
    if kind == "number" and draw(st.booleans()):
        step["min"], step["max"] = -50, 50
    if kind == "text" and draw(st.booleans()):
        step["max_length"] = 20
    if draw(st.booleans()):
        step["store_as"] = STORE_FOR_KIND[kind]
    return step


def rule_over(draw: Any, questions: list[tuple[str, dict]]) -> Any:
    choices = [
        {"===": [{"var": "vars.flag"}, draw(st.booleans())]},
        {">": [{"var": "vars.amount"}, draw(st.integers(-50, 50))]},
        {"in": [draw(st.sampled_from(OPTION_VALUES)), {"var": "vars.picked"}]},
        draw(st.booleans()),
    ]
    for step_id, step in questions:
        if step["kind"] in ("single_choice", "multiple_choice"):
            choices.append({"in": [draw(st.sampled_from(OPTION_VALUES)), {"var": f"answers.{step_id}"}]})
        elif step["kind"] == "yes_no":
            choices.append({"===": [{"var": f"answers.{step_id}"}, draw(st.booleans())]})
        elif step["kind"] == "number":
            choices.append({"<": [{"var": [f"answers.{step_id}", 0]}, draw(st.integers(-50, 50))]})
        else:
            choices.append({"!!": {"var": f"answers.{step_id}"}})
    return draw(st.sampled_from(choices))


@st.composite
def valid_documents(draw: Any) -> dict:
    count = draw(st.integers(1, 10))
    ids = [f"s{i}" for i in range(count)] + ["end_main"]
    kinds = draw(st.lists(st.sampled_from(["message", "question", "question", "decision", "action"]),
                          min_size=count, max_size=count))
    steps: dict[str, dict] = {}
    questions: list[tuple[str, dict]] = []
    for index, kind in enumerate(kinds):
        step_id, following = ids[index], ids[index + 1]
        forward = ids[index + 1:] + ["end_alt"]
        if kind == "message":
            steps[step_id] = {"type": "message", "text": "Read this.", "next": following}
        elif kind == "question":
            steps[step_id] = draw(question_step(following))
            questions.append((step_id, steps[step_id]))
        elif kind == "action":
            steps[step_id] = {"type": "action", "action": "diagnostics.collect", "store_as": "diag",
                              "input": {"flag": {"var": "vars.flag"}}, "next": following}
            if draw(st.booleans()):
                steps[step_id]["on_error"] = draw(st.sampled_from(forward))
        else:
            # forward anywhere, or back to a question (every loop then contains a question)
            targets = forward + [q for q, _ in questions]
            branches = [{"when": rule_over(draw, questions), "next": draw(st.sampled_from(targets))}
                        for _ in range(draw(st.integers(1, 3)))]
            steps[step_id] = {"type": "decision", "branches": branches, "default": following}
    steps["end_main"] = {"type": "end", "outcome": draw(st.sampled_from(["resolved", "unresolved", "escalate"]))}
    if any(t == "end_alt" for s in steps.values() for t in _targets(s)):
        steps["end_alt"] = {"type": "end", "outcome": "unresolved"}
    return {"schema_version": 1, "id": "generated", "title": "Generated", "variables": copy.deepcopy(VARIABLES),
            "start": "s0", "steps": steps}


def _targets(step: dict) -> list[str]:
    if step["type"] == "decision":
        return [b["next"] for b in step["branches"]] + [step["default"]]
    return [step[k] for k in ("next", "on_error") if k in step]


# ---- answers ---------------------------------------------------------------------------------


def valid_answer(draw: Any, step: dict) -> Any:
    if step["type"] == "message":
        return {"ack": True}
    kind = step["kind"]
    if kind == "single_choice":
        return draw(st.sampled_from([o["value"] for o in step["options"]]))
    if kind == "multiple_choice":
        values = [o["value"] for o in step["options"]]
        return draw(st.lists(st.sampled_from(values), unique=True,
                             min_size=step["min_selected"], max_size=step["max_selected"]))
    if kind == "text":
        return draw(st.text(min_size=1, max_size=step.get("max_length", 40)).filter(lambda s: s.strip()))
    if kind == "number":
        low, high = step.get("min", -1e6), step.get("max", 1e6)
        return draw(st.one_of(st.integers(int(low), int(high)),
                              st.floats(low, high, allow_nan=False, allow_infinity=False)))
    return draw(st.booleans())


def core(state: RunState) -> tuple:
    """A state without its history (which records the detour on purpose)."""
    return (state.status, state.current_step, state.variables, state.answers, state.outcome,
            state.stack, state.checkpoints, state.documents)


def check_legal(doc: dict, state: RunState) -> None:
    if state.status == "completed":
        assert state.current_step is None and state.outcome in ("resolved", "unresolved", "escalate")
        return
    step = doc["steps"][state.current_step]
    expected = {"message": "waiting_answer", "question": "waiting_answer", "action": "waiting_action"}
    assert expected[step["type"]] == state.status
    assert state.history[-1].step_id == state.current_step and state.history[-1].event == "entered"


@examples(60)
@given(doc=valid_documents())
def test_generated_documents_are_valid(doc):
    assert validate_document(doc, REGISTRY) == []


@examples(60)
@given(doc=valid_documents(), data=st.data())
def test_valid_answers_reach_an_end_or_wait(doc, data):
    state = runner.start(doc, version=1, now=NOW)
    for _ in range(40):
        check_legal(doc, state)
        if state.finished:
            break
        step_id = state.current_step
        step = doc["steps"][step_id]
        if state.status == "waiting_action":
            ok = data.draw(st.booleans(), label="ok")
            state = runner.complete_action(doc, state, step_id, {"battery": data.draw(st.integers(0, 100))},
                                           now=NOW, ok=ok)
        else:
            state = runner.answer(doc, state, step_id, valid_answer(data.draw, step), now=NOW)
    check_legal(doc, state)
    event(f"run ended {state.status}" + (f" ({state.outcome})" if state.outcome else ""))
    assert RunState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


@examples(80)
@given(doc=valid_documents(), data=st.data())
def test_back_then_the_same_answer_gives_the_same_state(doc, data):
    state = runner.start(doc, version=1, now=NOW)
    for _ in range(15):
        if state.finished:
            break
        step_id = state.current_step
        step = doc["steps"][step_id]
        if state.status == "waiting_action":
            state = runner.complete_action(doc, state, step_id, {"n": 1}, now=NOW)
            continue
        value = valid_answer(data.draw, step)
        answered = runner.answer(doc, state, step_id, value, now=NOW)
        if not answered.finished:
            undone = runner.back(doc, answered, now="later")
            assert core(undone) == core(state)
            again = runner.answer(doc, undone, step_id, value, now="even later")
            assert core(again) == core(answered)
            event(f"back after a {step['type']}")
        state = answered


@examples(40)
@given(doc=valid_documents(), data=st.data())
def test_invalid_answers_change_nothing(doc, data):
    state = runner.start(doc, version=1, now=NOW)
    assume(state.status == "waiting_answer")
    step = doc["steps"][state.current_step]
    junk = data.draw(st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2),
                               st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
    before = state.to_dict()
    try:
        after = runner.answer(doc, state, state.current_step, junk, now=NOW)
    except AnswerError as error:
        event(f"refused: {error.code}")
        assert error.code and error.message
        assert error.field is not None and error.field.startswith("value")
    else:
        check_legal(doc, after)
    assert state.to_dict() == before
    with pytest.raises(AnswerError):
        runner.answer(doc, state, "not-a-step", junk, now=NOW)
    del step


# ---- validation never crashes ------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=25,
)
python_garbage = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5) | st.binary(max_size=3)
    | st.just(object()) | st.sampled_from([math.nan, math.inf, ..., len]),
    lambda children: (st.lists(children, max_size=3) | st.tuples(children, children)
                      | st.dictionaries(st.one_of(st.text(max_size=4), st.integers(), st.none()), children, max_size=3)
                      | st.frozensets(st.integers(), max_size=2)),
    max_leaves=15,
)


def assert_only_issues(issues: Any) -> None:
    assert isinstance(issues, list)
    for issue in issues:
        assert isinstance(issue, Issue)
        assert isinstance(issue.code, str) and isinstance(issue.message, str) and issue.message
        assert issue.pointer == "" or issue.pointer.startswith("/")
        assert issue.code != "validation.internal_error", issue.message


@st.composite
def mutated_documents(draw: Any) -> dict:
    """A valid document with one value somewhere replaced or removed."""
    doc = draw(valid_documents())
    paths: list[list[Any]] = []
    stack: list[tuple[list[Any], Any]] = [([], doc)]
    while stack:
        path, node = stack.pop()
        paths.append(path)
        if isinstance(node, dict):
            stack.extend((path + [k], v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((path + [i], v) for i, v in enumerate(node))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths[1:]))
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(json_values | st.sampled_from(["s0", "end_main", "question", "vars.x"]))
        except (KeyError, IndexError, TypeError):
            continue
    return doc


@examples(100)
@given(doc=json_values)
def test_random_json_never_crashes_validation(doc):
    assert_only_issues(validate_document(doc, REGISTRY))
    assert_only_issues(validate_document({"schema_version": 1, "steps": doc, "start": "a"}, REGISTRY))


@examples(100)
@given(doc=python_garbage)
def test_python_garbage_never_crashes_validation(doc):
    assert_only_issues(validate_document(doc, REGISTRY))
    assert_only_issues(validate_document({"id": "x", "steps": {"a": doc}}, REGISTRY, known_paths={"x": doc}))


@examples(100)
@given(doc=mutated_documents(), known=st.none() | st.dictionaries(st.sampled_from(["generated", "b"]), json_values))
def test_mutated_documents_give_issues_or_run(doc, known):
    issues = validate_document(doc, REGISTRY, known_paths=known)
    assert_only_issues(issues)
    event("mutant valid" if not issues else "mutant invalid")
    if not issues:
        try:
            state = runner.start(doc, version=1, now=NOW)
        except RunDocumentError as error:  # only a subpath the validator could not see
            assert error.code in ("subpath_unavailable",), error
        else:
            assert state.status in ("waiting_answer", "waiting_action", "waiting_app", "in_subpath", "completed")


_FULL = Draft202012Validator(document_schema())


@examples(60)
@given(doc=mutated_documents() | json_values)
def test_the_accelerator_agrees_with_python_jsonschema(doc):
    fast = schema_validators().document
    if fast is None:
        pytest.fail("jsonschema-rs is a declared dependency (pyproject.toml) but is not importable")
    assert fast.is_valid(doc) == _FULL.is_valid(doc)


@examples(25)
@given(doc=st.from_type(object) | st.from_type(dict) | st.from_type(list))
def test_arbitrary_python_objects_never_crash_validation(doc):
    assert_only_issues(validate_document(doc, REGISTRY))
    assert_only_issues(validate_document({"schema_version": 1, "id": "x", "title": doc, "start": "a",
                                          "steps": {"a": {"type": "end", "outcome": doc}}}, REGISTRY))
