"""The step graph of a Guided Path: edges, reachability, dead ends, spin loops.

Kept apart from validation because the runner and the editor need the same
notion of "where can this step go": one function, :func:`step_edges`, decides
it for every step type. Everything here is iterative (no recursion), so a
10,000-step chain costs no stack, and tolerant of malformed steps (a
validator calls it on documents that failed the schema).

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections import deque
from typing import Any, Iterable, Mapping

__all__ = [
    "can_reach",
    "cycles_without",
    "reachable_from",
    "step_edges",
]


def step_edges(step: Any) -> list[tuple[str, str]]:
    """``(pointer suffix, target step id)`` for each outgoing edge of ``step``.

    ``decision``: every branch's ``next`` and ``default``; ``action``: ``next``
    and ``on_error``; ``end``: none; every other type (plugin types included):
    ``next``. Targets that are not strings are skipped.

    >>> step_edges({"type": "decision", "branches": [{"when": True, "next": "a"}], "default": "b"})
    [('/branches/0/next', 'a'), ('/default', 'b')]
    """
    if type(step) is not dict:
        return []
    kind = step.get("type")
    edges: list[tuple[str, str]] = []
    if kind == "end":
        return edges
    if kind == "decision":
        branches = step.get("branches")
        if type(branches) is list:
            for index, branch in enumerate(branches):
                if type(branch) is dict and type(branch.get("next")) is str:
                    edges.append((f"/branches/{index}/next", branch["next"]))
        if type(step.get("default")) is str:
            edges.append(("/default", step["default"]))
        return edges
    if type(step.get("next")) is str:
        edges.append(("/next", step["next"]))
    if kind == "action" and type(step.get("on_error")) is str:
        edges.append(("/on_error", step["on_error"]))
    return edges


def reachable_from(start: str, adjacency: Mapping[str, Iterable[str]]) -> set[str]:
    """Steps reachable from ``start`` (itself included), breadth first."""
    if start not in adjacency:
        return set()
    seen = {start}
    queue = deque([start])
    while queue:
        for target in adjacency.get(queue.popleft(), ()):
            if target not in seen and target in adjacency:
                seen.add(target)
                queue.append(target)
    return seen


def can_reach(goals: Iterable[str], adjacency: Mapping[str, Iterable[str]]) -> set[str]:
    """Steps from which some step in ``goals`` can be reached (goals included)."""
    reverse: dict[str, list[str]] = {node: [] for node in adjacency}
    for node, targets in adjacency.items():
        for target in targets:
            if target in reverse:
                reverse[target].append(node)
    seen = {goal for goal in goals if goal in reverse}
    queue = deque(seen)
    while queue:
        for source in reverse[queue.popleft()]:
            if source not in seen:
                seen.add(source)
                queue.append(source)
    return seen


def cycles_without(adjacency: Mapping[str, Iterable[str]], breakers: set[str]) -> list[list[str]]:
    """Cycles that avoid every step in ``breakers``.

    Returns the strongly connected components (Tarjan, iterative) of the
    graph with ``breakers`` removed that contain a cycle: more than one step,
    or one step that loops to itself. A run could spin forever in each of them
    without waiting for anyone. Components come in discovery order, each sorted.
    """
    nodes = [node for node in adjacency if node not in breakers]
    graph = {
        node: [t for t in adjacency[node] if t in adjacency and t not in breakers]
        for node in nodes
    }
    index_of: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index_of:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child_index = work.pop()
            if child_index == 0:
                index_of[node] = lowlink[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = graph[node]
            recursed = False
            while child_index < len(children):
                child = children[child_index]
                child_index += 1
                if child not in index_of:
                    work.append((node, child_index))
                    work.append((child, 0))
                    recursed = True
                    break
                if child in on_stack:
                    lowlink[node] = min(lowlink[node], index_of[child])
            if recursed:
                continue
            if lowlink[node] == index_of[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    components.append(sorted(component))
            if work:
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[node])
    return components
