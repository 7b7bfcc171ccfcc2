"""Validation of where a path can go (checks 4 and 7 of :mod:`.validation`).

Within the document, the step graph: every target exists, every step is
reachable from ``start`` and can reach an ``end``, and no loop lacks a step
that waits for the customer (a run would spin). Across documents, the subpath
graph: a subpath names a published path, passes only variables it declares,
and no chain of subpaths leads back to a path already in it (A → B → A).
The graph algorithms are in :mod:`.graph`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import graph
from .json_pointer import escape

if TYPE_CHECKING:  # pragma: no cover
    from .validation import DocumentChecker

__all__ = ["check_graph", "check_subpath", "check_subpath_cycles"]


def check_graph(checker: DocumentChecker) -> None:
    steps = checker.steps
    adjacency: dict[str, list[str]] = {}
    goals: set[str] = set()
    for step_id, step in steps.items():
        targets = []
        for suffix, target in graph.step_edges(step):
            if target in steps:
                targets.append(target)
            else:
                checker.add(f"/steps/{escape(step_id)}{suffix}", "graph.unknown_target",
                            f"step {target!r} does not exist")
                goals.add(step_id)  # already reported; do not also call it a dead end
        adjacency[step_id] = targets
        if step["type"] == "end" or step_id in checker.schema_broken_steps:
            goals.add(step_id)

    start = checker.doc.get("start")
    if type(start) is str and steps:
        if start not in steps:
            checker.add("/start", "graph.unknown_start", f"the start step {start!r} does not exist")
        else:
            reached = graph.reachable_from(start, adjacency)
            # A broken step reachable from start might lead anywhere once
            # fixed: do not report its consequences as problems of their own.
            uncertain = reached & (goals - {s for s in goals if steps[s]["type"] == "end"})
            if uncertain:
                reached = set(steps)
            for step_id in steps:
                if step_id not in reached:
                    checker.add(f"/steps/{escape(step_id)}", "graph.unreachable",
                                f"step {step_id!r} cannot be reached from the start step {start!r}")

    alive = graph.can_reach(goals, adjacency)
    for step_id in steps:
        if step_id not in alive:
            checker.add(f"/steps/{escape(step_id)}", "graph.dead_end",
                        f"no route from step {step_id!r} leads to an end step; a run there could never finish")

    breakers = {
        step_id for step_id, step in steps.items()
        if checker.is_interactive(step) or step_id in checker.schema_broken_steps
    }
    for cycle in graph.cycles_without(adjacency, breakers):
        shown = " → ".join(cycle[:10]) + (" → …" if len(cycle) > 10 else "")
        checker.add(f"/steps/{escape(cycle[0])}", "graph.spin_cycle",
                    f"steps {shown} form a loop without a question (or another step that waits "
                    "for the customer), so a run could go round forever; add a question to the "
                    "loop or break it")


def check_subpath(checker: DocumentChecker, pointer: str, step_id: str, step: dict) -> None:
    target = step.get("path_id")
    if type(target) is not str:
        return
    own_id = checker.doc.get("id")
    if target == own_id:
        checker.add(f"{pointer}/path_id", "subpath.cycle", f"path {own_id!r} cannot run itself as a subpath")
        return
    if checker.known_paths is None:
        return
    child = checker.known_paths.get(target)
    if child is None:
        checker.add(f"{pointer}/path_id", "subpath.unknown_path",
                    f"there is no published path {target!r}; publish it first")
        return
    child_vars = child.get("variables") if type(child) is dict else None
    inputs = step.get("input")
    if type(child_vars) is dict and type(inputs) is dict:
        for key in inputs:
            if key not in child_vars:
                checker.add(f"{pointer}/input/{escape(key)}", "subpath.unknown_input",
                            f"path {target!r} declares no variable {key!r}")


def subpath_targets(checker: DocumentChecker, path_id: str) -> list[str]:
    document = checker.doc if path_id == checker.doc.get("id") else (checker.known_paths or {}).get(path_id)
    steps = document.get("steps") if type(document) is dict else None
    if type(steps) is not dict:
        return []
    return sorted({
        s["path_id"] for s in steps.values()
        if type(s) is dict and s.get("type") == "subpath" and type(s.get("path_id")) is str
    })


def check_subpath_cycles(checker: DocumentChecker) -> None:
    """A → B → A (or A → B → C → B): a run would nest subpaths forever."""
    own_id = checker.doc.get("id")
    if checker.known_paths is None or type(own_id) is not str:
        return
    for step_id, step in checker.steps.items():
        target = step.get("path_id") if step["type"] == "subpath" else None
        if type(target) is not str or target == own_id or target not in checker.known_paths:
            continue
        chain = find_cycle(checker, [own_id, target])
        if chain:
            checker.add(f"/steps/{escape(step_id)}/path_id", "subpath.cycle",
                        "subpaths loop: " + " → ".join(chain))


def find_cycle(checker: DocumentChecker, prefix: list[str]) -> list[str] | None:
    """Depth-first from the end of ``prefix``; the first chain that revisits a path."""
    stack: list[tuple[list[str], int]] = [(prefix, 0)]
    seen_dead: set[str] = set()
    while stack:
        chain, index = stack.pop()
        node = chain[-1]
        targets = subpath_targets(checker, node)
        if index < len(targets):
            stack.append((chain, index + 1))
            nxt = targets[index]
            if nxt in chain:
                return chain + [nxt]
            if nxt not in seen_dead:
                stack.append((chain + [nxt], 0))
        else:
            seen_dead.add(node)
    return None
