"""Guided Paths benchmark: validating a large path, and one runner transition.

What is measured, each against a baseline taken in the same run:

* ``validate_ms``: :func:`validate_document` on a generated 5,000-step path
  (messages, questions of every kind, decisions with JsonLogic branches,
  actions; about 1 MB of JSON), median of several runs after one warm-up
  (which compiles the schema validators once per process, as an app does).
  Everything is checked: JSON-ness, size, the published schema, the graph,
  every rule and input, store_as, texts. Baseline ``jsonschema_ms``: the same
  document checked against the published schema alone with Python
  ``jsonschema`` (what a straightforward implementation would do; it is
  slower than our whole validation, which is why we use the Rust
  ``jsonschema-rs`` as an accelerator when it is installed).
* ``transition_us``: one runner transition, median over every transition of
  several realistic runs through a generated path (message acknowledgements,
  answers of each question kind, action results; each also does the answer
  checks, the undo checkpoint, the history and any automatic steps after
  it), replayed many times from the recorded states.
  ``decision_transition_us`` is the median of those that pass a decision
  (three JsonLogic branches), the most expensive kind. Baseline
  ``dictcopy_us``: the least any immutable-state transition does (copy the
  variables and answers dicts with one new key, append one history entry).

The summary's ``ratio`` is ``validate_ms / 200``: the share of the issue's
budget (validate a 5,000-step path in under 200 ms) that validation uses;
below 1 meets the target. The transition target (under 50 µs median) is
reported alongside, with ``transition_us`` itself.

``QUICK=1`` uses fewer repetitions (well under 60 seconds).
No network, no files, no processes: the core is pure.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import random
import statistics
import sys
import time
from typing import Any, Callable

from jsonschema import Draft202012Validator

from guidepath.guided_paths.sansio import runner
from guidepath.guided_paths.sansio.document_schema import document_schema, schema_validators
from guidepath.guided_paths.sansio.step_types import StepTypeRegistry
from guidepath.guided_paths.sansio.validation import validate_document

QUICK = os.environ.get("QUICK", "") not in ("", "0")
STEPS = 5_000
VALIDATE_TARGET_MS = 200.0
TRANSITION_TARGET_US = 50.0


def generate_path(count: int, seed: int = 7) -> dict[str, Any]:
    """A valid path of ``count`` steps that looks like a real one, scaled up:
    every few steps a message, questions of each kind, a decision on the
    answers (sometimes looping back to a question) and an action."""
    rnd = random.Random(seed)
    ids = [f"step_{i:05d}" for i in range(count - 2)] + ["end_resolved", "end_escalate"]
    steps: dict[str, dict[str, Any]] = {}
    last_question = None
    for index, step_id in enumerate(ids[:-2]):
        following = ids[index + 1]
        slot = index % 6
        if slot == 0:
            steps[step_id] = {
                "type": "message", "title": f"Check {index}",
                "text": f"Please look at the **indicator light** near the port ({index}). "
                        "If it blinks, wait ten seconds before you continue.",
                "next": following,
            }
        elif slot == 1:
            steps[step_id] = {
                "type": "question", "prompt": f"What does the light do now? ({index})", "kind": "single_choice",
                "options": [{"value": "off", "label": "It is off"}, {"value": "blinks", "label": "It blinks"},
                            {"value": "on", "label": "It is on"}],
                "store_as": "light", "next": following,
            }
            last_question = step_id
        elif slot == 2:
            target = ids[min(len(ids) - 3, index + rnd.randint(2, 12))]
            steps[step_id] = {
                "type": "decision",
                "branches": [
                    {"when": {"===": [{"var": f"answers.{last_question}"}, "on"]}, "next": target},
                    {"when": {"and": [{">": [{"var": "vars.attempts"}, 3]},
                                      {"in": [{"var": "vars.os"}, ["ios", "android"]]}]}, "next": "end_escalate"},
                    {"when": {"===": [{"var": f"answers.{last_question}"}, "off"]}, "next": last_question},
                ],
                "default": following,
            }
        elif slot == 3:
            steps[step_id] = {
                "type": "action", "action": "diagnostics.collect",
                "input": {"what": ["battery", "charging"], "os": {"var": "vars.os"}},
                "store_as": "diagnostics", "next": following, "on_error": "end_escalate",
            }
        elif slot == 4:
            steps[step_id] = {
                "type": "question", "prompt": "How many times did you try?", "kind": "number",
                "min": 0, "max": 100, "store_as": "attempts", "next": following,
            }
        else:
            steps[step_id] = {
                "type": "question", "prompt": "Which accessories do you use?", "kind": "multiple_choice",
                "options": [{"value": "case", "label": "A case"}, {"value": "dock", "label": "A dock"},
                            {"value": "wireless", "label": "A wireless charger"}],
                "required": False, "store_as": "accessories", "next": following,
            }
    steps["end_resolved"] = {"type": "end", "outcome": "resolved", "message": "It charges again."}
    steps["end_escalate"] = {"type": "end", "outcome": "escalate", "message": "An agent will take over."}
    return {
        "schema_version": 1, "id": "bench-path", "title": "Benchmark path",
        "description": "Generated for benchmarks/paths.",
        "variables": {
            "light": {"type": "string"}, "attempts": {"type": "integer", "default": 0},
            "os": {"type": "string", "default": "android"}, "diagnostics": {"type": "object"},
            "accessories": {"type": "array", "default": []},
        },
        "start": ids[0], "steps": steps,
    }


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def bench_validation(registry: StepTypeRegistry) -> tuple[float, float, float]:
    doc = generate_path(STEPS)
    issues = validate_document(doc, registry)  # warm-up; also proves the path is valid
    if issues:
        sys.exit(f"the generated path is invalid: {issues[:3]}")
    size = len(json.dumps(doc).encode())
    ours = median_ms(lambda: validate_document(doc, registry), 5 if QUICK else 15)
    plain = Draft202012Validator(document_schema())
    baseline = median_ms(lambda: plain.is_valid(doc), 1 if QUICK else 3)
    fast = schema_validators().document
    schema_rs = median_ms(lambda: fast.is_valid(doc), 5 if QUICK else 15) if fast is not None else float("nan")
    print(f"path: {STEPS} steps, {size / 1e6:.2f} MB of JSON")
    print(f"validate_document (all checks):          {ours:8.1f} ms   target < {VALIDATE_TARGET_MS:.0f} ms")
    print(f"baseline: Python jsonschema, schema only: {baseline:8.1f} ms")
    print(f"schema check alone with jsonschema-rs:    {schema_rs:8.1f} ms" + ("" if fast else " (not installed)"))
    return ours, baseline, schema_rs


def recorded_transitions(doc: dict[str, Any], runs: int, seed: int = 11) -> list[tuple[str, Callable[[], Any]]]:
    """Every transition of ``runs`` realistic runs, each as (kind, replay).

    Answers are drawn from a seeded generator, so routes differ between runs
    (some loop back, some escalate) but the benchmark is the same every time.
    ``kind`` is ``decision`` when the transition passed a decision step.
    """
    rnd = random.Random(seed)
    recorded: list[tuple[str, Callable[[], Any]]] = []
    for _ in range(runs):
        state = runner.start(doc, version=1, now="2026-01-01T00:00:00Z")
        while not state.finished and len(state.history) < 400:
            step = runner.waiting_step(doc, state)
            step_id = state.current_step
            if state.status == "waiting_action":
                args = (doc, state, step_id, {"battery": rnd.randint(0, 100)})
                call: Callable[..., Any] = runner.complete_action
            else:
                if step["type"] == "message":
                    value: Any = {"ack": True}
                elif step["kind"] == "single_choice":
                    value = rnd.choice(["blinks", "blinks", "on", "off"])
                elif step["kind"] == "number":
                    value = rnd.randint(0, 3)
                else:
                    value = rnd.sample(["case", "dock", "wireless"], rnd.randint(0, 2))
                args = (doc, state, step_id, value)
                call = runner.answer
            after = call(*args, now="2026-01-01T00:00:01Z")
            passed = {h.step_id for h in after.history[len(state.history):]}
            kind = "decision" if any(doc["steps"][p]["type"] == "decision" for p in passed) else "plain"
            recorded.append((kind, functools.partial(call, *args, now="2026-01-01T00:00:01Z")))
            state = after
    return recorded


def bench_transition() -> tuple[float, float, float]:
    doc = generate_path(600)
    recorded = recorded_transitions(doc, 8)
    rounds = 20 if QUICK else 100
    clock = time.perf_counter_ns
    timings: dict[str, list[int]] = {"decision": [], "plain": []}
    gc.collect()
    for _ in range(rounds):
        for kind, replay in recorded:
            began = clock()
            replay()
            timings[kind].append(clock() - began)
    every = timings["decision"] + timings["plain"]
    ours = statistics.median(every) / 1000
    through_decision = statistics.median(timings["decision"]) / 1000

    entry = runner.HistoryEntry("x", "answered", "2026-01-01T00:00:01Z", "blinks", "bench-path")
    copies = []
    for _ in range(rounds):
        for _kind, replay in recorded:
            state = replay.args[1]
            began = clock()
            variables = {**state.variables, "light": "blinks"}
            answers = {**state.answers, "x": "blinks"}
            history = state.history + (entry,)
            copies.append(clock() - began)
    del variables, answers, history
    baseline = statistics.median(copies) / 1000
    print(f"runner transitions, all kinds:        {ours:7.1f} µs median over {len(every)} "
          f"(acks, answers, action results)   target < {TRANSITION_TARGET_US:.0f} µs")
    print(f"  of which through a decision:        {through_decision:7.1f} µs median over {len(timings['decision'])}")
    print(f"baseline: copy two dicts + append history: {baseline:5.1f} µs")
    return ours, through_decision, baseline


def main() -> None:
    began = time.perf_counter()
    registry = StepTypeRegistry.with_builtins()
    validate_ms, jsonschema_ms, _ = bench_validation(registry)
    transition_us, decision_us, dictcopy_us = bench_transition()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"total {time.perf_counter() - began:.1f} s{' (QUICK)' if QUICK else ''}; "
          f"load average {load:.2f} on {os.cpu_count()} CPUs (timings grow with it)")
    print(
        f"RESULT bench=paths validate_ms={validate_ms:.1f} transition_us={transition_us:.1f} "
        f"decision_transition_us={decision_us:.1f} jsonschema_ms={jsonschema_ms:.1f} "
        f"dictcopy_us={dictcopy_us:.2f} ratio={validate_ms / VALIDATE_TARGET_MS:.3f}"
    )


if __name__ == "__main__":
    main()
