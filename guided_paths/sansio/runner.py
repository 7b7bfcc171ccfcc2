"""The Guided Path runner: state in, event in → state out.

Pure and deterministic, like Flask's ``sansio``: no IO, no clock (callers
pass ``now``), no randomness, no global state. Persistence, HTTP and events
are built around it; property tests drive it directly. A :class:`RunState`
is an immutable value: every function returns a new one and never changes
its arguments, so a caller can keep the old state (to compare, to retry, to
emit events about the difference).

The state machine::

    start ──► (auto: decision, end, subpath entry)
                 │
                 ├─ message / question / interactive plugin step ─► waiting_answer ──answer()──┐
                 ├─ action / non-interactive plugin step ─────────► waiting_action ─complete_action()┤
                 ├─ app ──────────────────────────────────────────► waiting_app ───complete_app()──┤
                 ├─ subpath without a loader ─────────────────────► in_subpath ────enter_subpath()─┤
                 └─ end ──────────────────────────────────────────► completed (outcome)            │
                                                   ◄───────────────── next step ◄─────────────────┘
    any waiting state ──abandon()──► abandoned;   back(): undo the last answer

A ``message`` waits for ``{"ack": true}`` (the customer reads it, then
continues); ``decision``, ``end`` and entering a ``subpath`` are automatic.
Automatic steps are bounded (:data:`MAX_AUTO_STEPS`): a document that loops
without waiting (validation refuses those) fails with a clear error instead
of spinning.

The run's value and the errors are in :mod:`.run_state`, the checks of what a
customer, a plugin or an app sends in :mod:`.answers`; this module moves the run.

Subpaths run inside the same run: the parent's variables and answers are
saved on a :class:`Frame`, the child starts with its own defaults plus the
step's ``input``, and when the child ends its ``{"outcome", "variables"}``
lands in the parent's ``store_as`` variable. The child's document is pinned
into the state when entered, so a run never changes version halfway. An
``escalate`` outcome in a subpath ends the whole run (the customer needs an
agent); ``resolved``/``unresolved`` return to the parent.

Example::

    state = start(doc, version=3, now="2026-01-01T10:00:00Z")
    state.status, state.current_step          # ("waiting_answer", "ask_cable")
    state = answer(doc, state, "ask_cable", "usb_c", now="2026-01-01T10:00:09Z")

.. versionadded:: 0.1
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Callable, Mapping

from . import expressions
from .answers import check_plugin_answer, check_question_answer, schema_error
from .json_values import is_plain_json, json_type_name, value_matches_type
from .limits import DEFAULT_LIMITS
from .run_state import (
    AnswerError,
    Checkpoint,
    Frame,
    HistoryEntry,
    HistoryEvent,
    RunDocumentError,
    RunnerError,
    RunState,
    RunStatus,
)
from .step_types import BUILTIN_STEP_TYPE_NAMES

if TYPE_CHECKING:
    from .step_types import StepTypeRegistry

__all__ = [
    "MAX_AUTO_STEPS",
    "MAX_SUBPATH_DEPTH",
    "AnswerError",
    "Checkpoint",
    "Frame",
    "HistoryEntry",
    "RunDocumentError",
    "RunState",
    "RunnerError",
    "abandon",
    "answer",
    "back",
    "complete_action",
    "complete_app",
    "enter_subpath",
    "start",
    "step_input",
    "waiting_step",
]

PathLoader = Callable[[str], "tuple[dict, int]"]

#: Automatic steps (decisions, ends, subpath entries) one transition may take.
MAX_AUTO_STEPS = 1_000
#: How deeply subpaths may nest at run time.
MAX_SUBPATH_DEPTH = 8


# --------------------------------------------------------------------------
# Public transitions
# --------------------------------------------------------------------------


def start(
    doc: Mapping[str, Any],
    *,
    version: int,
    variables: Mapping[str, Any] | None = None,
    now: str,
    load_path: PathLoader | None = None,
    step_types: StepTypeRegistry | None = None,
) -> RunState:
    """Start a run of ``doc`` (published as ``version``) and advance to the
    first step that waits.

    ``variables`` override the declared defaults (declared names only, of the
    declared type: an :class:`AnswerError` otherwise). ``load_path`` loads the
    latest published version of a subpath, ``(document, version)``; without
    it the run stops at a subpath step in ``in_subpath``. ``step_types`` is
    needed only for plugin step types.
    """
    path_id = doc.get("id") if isinstance(doc, Mapping) else None
    if type(path_id) is not str:
        raise RunDocumentError("invalid_document", "the document has no id; validate it before running it")
    initial = _initial_variables(doc, variables, field_prefix="variables")
    state = RunState(path_id=path_id, version=version, status="in_subpath", current_step=None,
                     variables=initial, answers={})
    run = _Transition(doc, state, now, load_path, step_types)
    start_step = doc.get("start")
    if type(start_step) is not str:
        raise RunDocumentError("invalid_document", "the document has no start step")
    run.advance(start_step)
    return run.freeze()


def answer(
    doc: Mapping[str, Any],
    state: RunState,
    step_id: str,
    value: Any,
    *,
    now: str,
    load_path: PathLoader | None = None,
    step_types: StepTypeRegistry | None = None,
) -> RunState:
    """Answer the step the run waits on and advance to the next one that waits.

    ``value``: ``{"ack": true}`` for a message; for a question, by kind: an
    option's value (single choice), a list of option values (multiple
    choice), a string (text), a number (number), ``true``/``false`` (yes/no),
    or ``null`` to skip a question that is not required; for an interactive
    plugin step, whatever its ``answer_schema`` accepts.
    Raises :class:`AnswerError` and changes nothing when the answer is refused.
    """
    run = _Transition(doc, state, now, load_path, step_types)
    step = run.expect(step_id, "waiting_answer")
    kind = step["type"]
    if kind == "message":
        if not (type(value) is dict and value.get("ack") is True and len(value) == 1):
            raise AnswerError("wrong_type", 'acknowledge a message with {"ack": true}', "value")
        recorded, store = value, False
    elif kind == "question":
        recorded = check_question_answer(step, value, run.declared_type(step.get("store_as")))
        store = True
    else:
        recorded = check_plugin_answer(run.step_type(kind), value)
        store = True
    run.checkpoint(step_id)
    run.record(step_id, "answered", recorded)
    if store:
        run.answers = {**run.answers, step_id: recorded}
        target = step.get("store_as")
        if type(target) is str and recorded is not None:
            run.store(target, recorded, field="value")
    run.advance(_next_of(step, step_id))
    return run.freeze()


def complete_action(
    doc: Mapping[str, Any],
    state: RunState,
    step_id: str,
    result: dict[str, Any],
    *,
    now: str,
    ok: bool = True,
    load_path: PathLoader | None = None,
    step_types: StepTypeRegistry | None = None,
) -> RunState:
    """Report the result of the action (or non-interactive plugin step) the
    run waits on, and advance.

    On success ``result`` goes to the step's ``store_as`` variable and the
    run continues at ``next``. On failure (``ok=False``) variables are left
    as they were and the run continues at ``on_error`` if the step has one,
    else at ``next``; rules can tell by the variable still holding its default.
    """
    run = _Transition(doc, state, now, load_path, step_types)
    step = run.expect(step_id, "waiting_action")
    if type(result) is not dict:
        raise AnswerError("wrong_type", f"an action result must be an object, not {json_type_name(result)}", "result")
    if not is_plain_json(result, DEFAULT_LIMITS.max_nesting):
        raise AnswerError("wrong_type", "an action result must be plain JSON", "result")
    run.record(step_id, "completed", {"ok": bool(ok), "result": result})
    target = step.get("store_as")
    if ok and type(target) is str:
        run.store(target, result, field="result", code="invalid_result")
    following = step.get("on_error") if not ok and type(step.get("on_error")) is str else _next_of(step, step_id)
    run.advance(following)
    return run.freeze()


def complete_app(
    doc: Mapping[str, Any],
    state: RunState,
    step_id: str,
    output: Any,
    *,
    now: str,
    load_path: PathLoader | None = None,
    step_types: StepTypeRegistry | None = None,
) -> RunState:
    """Take a Guided Path App's output, validated against the step's
    ``output_schema`` (and the ``store_as`` variable's type) before it
    reaches the variables, and advance."""
    run = _Transition(doc, state, now, load_path, step_types)
    step = run.expect(step_id, "waiting_app")
    if not is_plain_json(output, DEFAULT_LIMITS.max_nesting):
        raise AnswerError("invalid_output", "the app's output must be plain JSON", "output")
    schema = step.get("output_schema", True)
    error = schema_error(schema, output)
    if error is not None:
        where, message = error
        raise AnswerError("invalid_output", f"the app's output does not match its output_schema: {message}",
                          "output" + (f"/{where}" if where else ""))
    run.record(step_id, "completed", output)
    target = step.get("store_as")
    if type(target) is str:
        run.store(target, output, field="output", code="invalid_output")
    run.advance(_next_of(step, step_id))
    return run.freeze()


def enter_subpath(
    doc: Mapping[str, Any],
    state: RunState,
    *,
    now: str,
    load_path: PathLoader,
    step_types: StepTypeRegistry | None = None,
) -> RunState:
    """Continue a run that stopped at a subpath step (``in_subpath``)."""
    run = _Transition(doc, state, now, load_path, step_types)
    step = run.expect(state.current_step, "in_subpath")
    run.enter_subpath(state.current_step or "", step)
    return run.freeze()


def back(doc: Mapping[str, Any], state: RunState, *, now: str) -> RunState:
    """Undo the last answer: the run waits again on the step last answered,
    with variables and answers exactly as they were before that answer
    (action and app results since then are undone too). The history keeps
    everything, plus a ``back`` entry."""
    _check_document(doc, state)
    if state.finished:
        raise AnswerError("run_finished", f"the run is {state.status}; it cannot go back")
    if not state.checkpoints:
        raise AnswerError("nothing_to_undo", "there is no answered step to go back to")
    checkpoint = state.checkpoints[-1]
    checkpoints = state.checkpoints[:-1]
    path_id = checkpoint.stack[-1].path_id if checkpoint.stack else state.path_id
    entry = HistoryEntry(checkpoint.step_id, "back", now, None, path_id)
    return RunState(
        path_id=state.path_id,
        version=state.version,
        status=checkpoint.status,
        current_step=checkpoint.step_id,
        variables=checkpoint.variables,
        answers=checkpoint.answers,
        history=state.history + (entry,),
        outcome=None,
        stack=checkpoint.stack,
        checkpoints=checkpoints,
        documents=_keep_documents(state.documents, checkpoint.stack, checkpoints),
    )


def abandon(state: RunState, *, now: str) -> RunState:
    """Stop the run for good (the customer left, or an agent closed it).
    ``now`` is accepted for symmetry; the moment lives in the caller's record."""
    if state.finished:
        raise AnswerError("run_finished", f"the run is already {state.status}")
    return RunState(
        path_id=state.path_id, version=state.version, status="abandoned", current_step=state.current_step,
        variables=state.variables, answers=state.answers, history=state.history, outcome=None,
        stack=state.stack, checkpoints=(), documents=_keep_documents(state.documents, state.stack, ()),
    )


def waiting_step(doc: Mapping[str, Any], state: RunState) -> dict[str, Any] | None:
    """The definition of the step the run waits on (from the subpath's
    document while inside one), or ``None`` for a finished run."""
    if state.finished or state.current_step is None:
        return None
    steps = _current_document(doc, state).get("steps", {})
    step = steps.get(state.current_step)
    return step if type(step) is dict else None


def step_input(doc: Mapping[str, Any], state: RunState) -> dict[str, Any]:
    """The evaluated ``input`` of the action, app or subpath step the run waits
    on: what the host passes to the plugin or the app."""
    step = waiting_step(doc, state)
    if step is None:
        return {}
    template = step.get("input", {})
    try:
        resolved = expressions.evaluate_template(template, {"vars": state.variables, "answers": state.answers})
    except expressions.ExpressionError as exc:
        raise RunDocumentError("expression_error", f"step {state.current_step!r} input: {exc.message}") from None
    return resolved if type(resolved) is dict else {}


# --------------------------------------------------------------------------
# The transition engine
# --------------------------------------------------------------------------


def _check_document(doc: Any, state: RunState) -> None:
    if not (type(doc) is dict or isinstance(doc, Mapping)) or doc.get("id") != state.path_id:
        raise RunDocumentError(
            "wrong_document",
            f"this run belongs to path {state.path_id!r} version {state.version}; pass that document",
        )


def _current_document(doc: Mapping[str, Any], state: RunState) -> Mapping[str, Any]:
    if not state.stack:
        return doc
    return state.documents[state.stack[-1].document_key]


def _keep_documents(
    documents: dict[str, dict], stack: tuple[Frame, ...], checkpoints: tuple[Checkpoint, ...]
) -> dict[str, dict]:
    """Subpath documents still needed by the stack or a checkpoint."""
    needed = {frame.document_key for frame in stack}
    for checkpoint in checkpoints:
        needed.update(frame.document_key for frame in checkpoint.stack)
    if needed >= documents.keys():
        return documents
    return {key: value for key, value in documents.items() if key in needed}


def _next_of(step: Mapping[str, Any], step_id: str) -> str:
    target = step.get("next")
    if type(target) is not str:
        raise RunDocumentError("invalid_document", f"step {step_id!r} has no next step")
    return target


def _initial_variables(
    doc: Mapping[str, Any], given: Mapping[str, Any] | None, *, field_prefix: str
) -> dict[str, Any]:
    declared = doc.get("variables") or {}
    values = {
        name: copy.deepcopy(spec["default"])
        for name, spec in declared.items()
        if type(spec) is dict and "default" in spec
    }
    for name, value in (given or {}).items():
        spec = declared.get(name)
        if type(spec) is not dict:
            raise AnswerError("unknown_variable", f"the path declares no variable {name!r}", f"{field_prefix}.{name}")
        if not value_matches_type(value, spec.get("type")):
            raise AnswerError(
                "wrong_type",
                f"variable {name!r} is {spec.get('type')}, not {json_type_name(value)}",
                f"{field_prefix}.{name}",
            )
        values[name] = copy.deepcopy(value)
    return values


# What each waiting status waits for, and the call that provides it.
_WAITING = {
    "waiting_answer": ("an answer to", "an answer", "answer()"),
    "waiting_action": ("the result of", "the action's result", "complete_action()"),
    "waiting_app": ("the output of", "the app's output", "complete_app()"),
    "in_subpath": ("the subpath of", "its subpath to be loaded", "enter_subpath()"),
}


class _Transition:
    """One transition's working copy of a state. Dicts are replaced, never
    mutated, so the input state and everything it shares stay intact."""

    __slots__ = ("root", "state", "now", "load_path", "step_types", "status", "current", "variables",
                 "answers", "entries", "outcome", "stack", "checkpoints", "documents")

    def __init__(self, root: Mapping[str, Any], state: RunState, now: str,
                 load_path: PathLoader | None, step_types: StepTypeRegistry | None) -> None:
        _check_document(root, state)
        self.root = root
        self.state = state
        self.now = now
        self.load_path = load_path
        self.step_types = step_types
        self.status: RunStatus = state.status
        self.current = state.current_step
        self.variables = state.variables
        self.answers = state.answers
        self.entries: list[HistoryEntry] = []
        self.outcome = state.outcome
        self.stack = state.stack
        self.checkpoints = state.checkpoints
        self.documents = state.documents

    def freeze(self) -> RunState:
        return RunState(
            path_id=self.state.path_id,
            version=self.state.version,
            status=self.status,
            current_step=self.current,
            variables=self.variables,
            answers=self.answers,
            history=self.state.history + tuple(self.entries),
            outcome=self.outcome,
            stack=self.stack,
            checkpoints=self.checkpoints,
            documents=self.documents,
        )

    # ---- context ------------------------------------------------------------

    @property
    def document(self) -> Mapping[str, Any]:
        return self.documents[self.stack[-1].document_key] if self.stack else self.root

    @property
    def path_id(self) -> str:
        return self.stack[-1].path_id if self.stack else self.state.path_id

    def step(self, step_id: str) -> dict[str, Any]:
        steps = self.document.get("steps")
        step = steps.get(step_id) if type(steps) is dict else None
        if type(step) is not dict or type(step.get("type")) is not str:
            raise RunDocumentError(
                "invalid_document", f"path {self.path_id!r} has no step {step_id!r}; validate the document"
            )
        return step

    def step_type(self, name: str) -> Any:
        step_type = self.step_types.get(name) if self.step_types is not None else None
        if step_type is None:
            raise RunDocumentError(
                "unknown_step_type",
                f"step type {name!r} is not available; is the plugin that provides it enabled?",
            )
        return step_type

    def declared_type(self, name: Any) -> str | None:
        declared = self.document.get("variables") or {}
        spec = declared.get(name) if type(name) is str else None
        return spec.get("type") if type(spec) is dict else None

    def data(self) -> dict[str, Any]:
        return {"vars": self.variables, "answers": self.answers}

    # ---- bookkeeping ----------------------------------------------------------

    def expect(self, step_id: Any, status: RunStatus) -> dict[str, Any]:
        """The waiting step, if the run waits on ``step_id`` in ``status``."""
        state = self.state
        if state.finished:
            raise AnswerError("run_finished", f"the run is {state.status}; start a new run")
        if state.status != status or state.current_step != step_id:
            waiting, what, call = _WAITING[state.status]
            if state.current_step != step_id:
                message = f"the run is waiting for {waiting} step {state.current_step!r}, not {step_id!r}"
            else:
                message = f"step {step_id!r} is waiting for {what}; use {call}"
            raise AnswerError("not_current_step", message, "step_id")
        return self.step(step_id)

    def record(self, step_id: str, event: HistoryEvent, value: Any = None, path_id: str | None = None) -> None:
        self.entries.append(HistoryEntry(step_id, event, self.now, value, path_id or self.path_id))

    def checkpoint(self, step_id: str) -> None:
        self.checkpoints = self.checkpoints + (
            Checkpoint(step_id, self.status, self.variables, self.answers, self.stack),
        )

    def store(self, name: str, value: Any, *, field: str, code: str = "wrong_type") -> None:
        declared = self.declared_type(name)
        if declared is None:
            raise RunDocumentError("invalid_document", f"variable {name!r} is not declared in path {self.path_id!r}")
        if not value_matches_type(value, declared):
            raise AnswerError(code, f"variable {name!r} holds {declared} values, not {json_type_name(value)}", field)
        if declared == "integer" and type(value) is float:
            value = int(value)
        self.variables = {**self.variables, name: value}

    # ---- advancing --------------------------------------------------------------

    def advance(self, step_id: str) -> None:
        """Enter ``step_id`` and keep going through automatic steps until a
        step waits or the run ends."""
        auto = 0
        while True:
            step = self.step(step_id)
            kind = step["type"]
            if kind in ("message", "question"):
                return self.wait(step_id, "waiting_answer")
            if kind == "action":
                return self.wait(step_id, "waiting_action", self.resolve_input(step_id, step))
            if kind == "app":
                return self.wait(step_id, "waiting_app", self.resolve_input(step_id, step))
            if kind not in BUILTIN_STEP_TYPE_NAMES:
                interactive = self.step_type(kind).interactive
                return self.wait(step_id, "waiting_answer" if interactive else "waiting_action")
            auto += 1
            if auto > MAX_AUTO_STEPS:
                raise RunDocumentError(
                    "auto_advance_limit",
                    f"the run went through {MAX_AUTO_STEPS} automatic steps without waiting for anyone "
                    f"(last: {step_id!r} in path {self.path_id!r}); the path loops without a question",
                )
            if kind == "decision":
                self.record(step_id, "entered")
                step_id = self.decide(step_id, step)
            elif kind == "end":
                self.record(step_id, "entered")
                following = self.end(step_id, step)
                if following is None:
                    return
                step_id = following
            elif kind == "subpath":
                if self.load_path is None:
                    self.record(step_id, "entered")
                    self.status, self.current = "in_subpath", step_id
                    return
                step_id = self.push_subpath(step_id, step, record=True)
            else:  # pragma: no cover - every built-in type is handled above
                raise RunDocumentError("invalid_document", f"cannot run step type {kind!r}")

    def wait(self, step_id: str, status: RunStatus, value: Any = None) -> None:
        self.record(step_id, "entered", value)
        self.status, self.current = status, step_id

    def resolve_input(self, step_id: str, step: Mapping[str, Any]) -> Any:
        if "input" not in step:
            return None
        try:
            return expressions.evaluate_template(step["input"], self.data())
        except expressions.ExpressionError as exc:
            raise RunDocumentError("expression_error", f"step {step_id!r} input: {exc.message}") from None

    def decide(self, step_id: str, step: Mapping[str, Any]) -> str:
        branches = step.get("branches") or []
        data = self.data()
        for index, branch in enumerate(branches):
            try:
                matched = expressions.truthy(expressions.evaluate(branch.get("when"), data))
            except expressions.ExpressionError as exc:
                raise RunDocumentError(
                    "expression_error", f"decision {step_id!r}, branch {index}: {exc.message}",
                ) from None
            if matched:
                self.record(step_id, "completed", {"branch": index, "next": branch["next"]})
                return branch["next"]
        default = step.get("default")
        if type(default) is not str:
            raise RunDocumentError("invalid_document", f"decision {step_id!r} has no default")
        self.record(step_id, "completed", {"branch": None, "next": default})
        return default

    def end(self, step_id: str, step: Mapping[str, Any]) -> str | None:
        """Finish the current path; the parent's next step when it was a subpath."""
        outcome = step.get("outcome")
        self.record(step_id, "completed", outcome)
        if self.stack and outcome != "escalate":
            return self.pop_subpath(outcome)
        while self.stack:  # escalation ends the whole run, at the top level
            frame = self.stack[-1]
            self.stack = self.stack[:-1]
            self.variables, self.answers = frame.parent_variables, frame.parent_answers
            self.record(frame.parent_step, "completed", {"outcome": outcome})
        self.status, self.current, self.outcome = "completed", None, outcome
        # A finished run cannot go back: drop what only back() needed.
        self.checkpoints, self.documents = (), {}
        return None

    def enter_subpath(self, step_id: str, step: Mapping[str, Any]) -> None:
        self.advance(self.push_subpath(step_id, step, record=False))

    def push_subpath(self, step_id: str, step: Mapping[str, Any], *, record: bool) -> str:
        """Enter the subpath of ``step``; returns the child's start step.
        ``record``: add the subpath step's ``entered`` entry (not yet recorded)."""
        if len(self.stack) >= MAX_SUBPATH_DEPTH:
            raise RunDocumentError(
                "subpath_too_deep", f"subpaths nest more than {MAX_SUBPATH_DEPTH} levels deep at step {step_id!r}",
            )
        target = step.get("path_id")
        assert self.load_path is not None
        try:
            child, child_version = self.load_path(target)
        except RunnerError:
            raise
        except Exception as exc:  # noqa: BLE001 - the loader is the caller's code
            raise RunDocumentError("subpath_unavailable", f"cannot load subpath {target!r}: {exc}") from None
        if not isinstance(child, Mapping) or child.get("id") != target or type(child.get("start")) is not str:
            raise RunDocumentError("subpath_unavailable", f"the loader returned no valid document for {target!r}")
        if any(frame.path_id == target for frame in self.stack) or target == self.state.path_id:
            raise RunDocumentError("subpath_cycle", f"subpath {target!r} is already running in this run")
        inputs = self.resolve_input(step_id, step) or {}
        try:
            child_variables = _initial_variables(child, inputs, field_prefix="input")
        except AnswerError as exc:
            raise RunDocumentError("subpath_input", f"step {step_id!r}: {exc.message}", exc.field) from None
        frame = Frame(target, int(child_version), step_id, self.variables, self.answers)
        if record:
            self.record(step_id, "entered", {"path_id": target, "version": frame.version})
        self.stack = self.stack + (frame,)
        if frame.document_key not in self.documents:
            self.documents = {**self.documents, frame.document_key: copy.deepcopy(dict(child))}
        self.variables, self.answers = child_variables, {}
        return child["start"]

    def pop_subpath(self, outcome: Any) -> str:
        frame = self.stack[-1]
        child_variables = self.variables
        self.stack = self.stack[:-1]
        self.variables, self.answers = frame.parent_variables, frame.parent_answers
        step = self.step(frame.parent_step)
        self.record(frame.parent_step, "completed", {"outcome": outcome})
        target = step.get("store_as")
        if type(target) is str:
            self.store(target, {"outcome": outcome, "variables": child_variables}, field="result")
        return _next_of(step, frame.parent_step)
