"""Static analysis of Guided Path rules: what is wrong with a rule, and what it reads.

Validation checks every rule of a document before it is published, and the
editor shows every problem at once with a JSON Pointer into the rule, so the
analysis never raises and never evaluates anything: one iterative walk (no
recursion, stopping at the caps of :mod:`.rule_language`) finds the problems
(:class:`RuleProblem`) and the data paths read at the top scope
(:class:`Reference`). The quick checks answer "anything to report?" for the
common case without building pointers or messages.

Step inputs are *templates*: JSON in which every object with exactly one key
that is an allowed operator is a rule (:func:`is_template_rule`).

Example::

    >>> [p.code for p in check_rule({"var": "os"})]
    ['expression.unknown_root']
    >>> sorted(variables_used({"in": ["usb_c", {"var": "answers.q1"}]}))
    ['answers.q1']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterator

from .ecmascript import to_string
from .json_pointer import pointer_to
from .rule_language import (
    ALLOWED_OPERATORS,
    ARITY,
    DATA_ROOTS,
    MAX_RULE_DEPTH,
    MAX_RULE_NODES,
    PATH_OPERATORS,
    REFUSED_OPERATORS,
    SCOPED_OPERATORS,
)

__all__ = [
    "Reference",
    "RuleAnalysis",
    "RuleProblem",
    "analyze_rule",
    "analyze_template",
    "check_rule",
    "check_template",
    "is_template_rule",
    "quick_strict_check",
    "quick_template_check",
    "references",
    "template_references",
    "variables_used",
]


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """One problem in a rule; ``pointer`` is a JSON Pointer relative to the rule."""

    pointer: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Reference:
    """A data path a rule reads at the top scope, e.g. ``vars.os.version``.

    ``root`` is ``vars`` or ``answers`` (or anything else the rule wrote),
    ``name`` the variable or step id, ``pointer`` where in the rule it is
    (built only when asked for: most references are fine and never shown).
    """

    path: str
    link: Any = field(default=None, repr=False, compare=False)
    prefix: str = field(default="", repr=False, compare=False)

    @property
    def pointer(self) -> str:
        return self.prefix + _pointer(self.link)

    @property
    def root(self) -> str:
        return self.path.partition(".")[0]

    @property
    def name(self) -> str | None:
        _root, dot, rest = self.path.partition(".")
        return rest.partition(".")[0] if dot else None


# A node's location is a linked list ``(parent_link, key)`` (``None`` at the
# root), turned into a JSON Pointer only when something is reported: most
# rules have nothing to report, and building strings for every node would
# cost more than the analysis itself.
_Link = Any


def _pointer(link: _Link) -> str:
    keys: list[Any] = []
    while link is not None:
        link, key = link
        keys.append(key)
    return pointer_to(reversed(keys))


@dataclass(frozen=True, slots=True)
class RuleAnalysis:
    """What :func:`analyze_rule` found: the problems and the data paths read."""

    problems: list[RuleProblem]
    references: list[Reference]


def analyze_rule(
    rule: Any,
    *,
    strict: bool = True,
    max_depth: int = MAX_RULE_DEPTH,
    max_nodes: int = MAX_RULE_NODES,
) -> RuleAnalysis:
    """Check ``rule`` and list the data it reads, in one pass; never raises.

    Always checked (``evaluate`` refuses rules with these): JSON values only,
    known and allowed operators, at most ``max_depth`` nested arrays/objects
    and ``max_nodes`` values. The walk is iterative and stops at the caps, so
    a hostile rule costs no more than a large legitimate one.

    ``strict`` adds what a Guided Path document needs before publishing:
    argument counts; ``var``/``missing``/``missing_some`` paths that are
    literal strings starting with ``vars.`` or ``answers.`` at the top scope;
    no multi-key objects (json-logic-js would silently treat them as data);
    a literal initial value for ``reduce`` (json-logic-js versions disagree on
    whether it is evaluated).

    References are the literal data paths read at the top scope: inside the
    per-item argument of ``map``/``filter``/``all``/``some``/``none``/``reduce``
    ``var`` reads the item, not the run's data.
    """
    problems: list[RuleProblem] = []
    found: list[Reference] = []
    # Entries: (value, depth, scoped, literal, link). ``literal`` marks the
    # contents of objects with zero or several keys: data, not operations.
    stack: list[tuple[Any, int, bool, bool, _Link]] = [(rule, 1, False, False, None)]
    pop, push = stack.pop, stack.append
    seen = 0
    too_deep_reported = False
    while stack:
        node, depth, scoped, literal, link = pop()
        seen += 1
        if seen > max_nodes:
            problems.append(RuleProblem(
                "", "expression.too_many_nodes",
                f"the rule has more than {max_nodes} values; split it or simplify it",
            ))
            break
        if depth > max_depth:
            if not too_deep_reported:
                too_deep_reported = True
                problems.append(RuleProblem(
                    _pointer(link), "expression.too_deep",
                    f"the rule nests deeper than {max_depth} levels; flatten it",
                ))
            continue
        t = type(node)
        if t is str or t is int or t is bool or node is None:
            continue
        if t is float:
            if not math.isfinite(node):
                problems.append(RuleProblem(_pointer(link), "expression.invalid_rule", "NaN and Infinity are not JSON numbers"))
            continue
        if t is not list and t is not dict:
            problems.append(RuleProblem(
                _pointer(link), "expression.invalid_rule", f"a rule may only contain JSON values, not {t.__name__}",
            ))
            continue
        if t is list:
            for index in range(len(node) - 1, -1, -1):
                push((node[index], depth + 1, scoped, literal, (link, index)))
            continue
        if literal or len(node) != 1:
            if any(type(key) is not str for key in node):
                problems.append(RuleProblem(_pointer(link), "expression.invalid_rule", "object keys must be strings"))
                continue
            if strict and not literal:
                problems.append(RuleProblem(
                    _pointer(link), "expression.malformed",
                    "an operation is an object with exactly one key (the operator); this object "
                    f"has {len(node)}, so json-logic-js would treat it as data",
                ))
            for key, value in node.items():
                push((value, depth + 1, scoped, True, (link, key)))
            continue
        ((op, raw),) = node.items()
        op_link = (link, op)
        if op not in ALLOWED_OPERATORS:
            if type(op) is not str:
                problems.append(RuleProblem(_pointer(link), "expression.invalid_rule", "object keys must be strings"))
                continue
            why = REFUSED_OPERATORS.get(op, "")
            problems.append(RuleProblem(
                _pointer(op_link), "expression.unknown_operator",
                f"unknown or refused operator {op!r}{why}; allowed: {', '.join(sorted(ALLOWED_OPERATORS))}",
            ))
            continue
        is_list = type(raw) is list
        args = raw if is_list else [raw]
        if strict:
            low, high = ARITY[op]
            if len(args) < low or (high is not None and len(args) > high):
                expected = f"{low}" if low == high else f"at least {low}" if high is None else f"{low} to {high}"
                problems.append(RuleProblem(
                    _pointer(op_link), "expression.arity",
                    f"{op!r} takes {expected} argument(s), got {len(args)}",
                ))
            elif op == "reduce" and len(args) == 3 and type(args[2]) in (dict, list):
                problems.append(RuleProblem(
                    _pointer((op_link, 2)), "expression.non_literal_initial",
                    "the initial value of 'reduce' must be a literal (string, number, boolean or null)",
                ))
        if op in PATH_OPERATORS and not scoped:
            for index, path in ((0, args[0] if args else None),) if op == "var" else _literal_paths(op, args):
                path_link = (op_link, index) if is_list else op_link
                if type(path) in (int, float, bool) and not strict:
                    path = to_string(path)  # {"var": 1} reads "1", as json-logic-js does
                if type(path) is not str:
                    if strict:
                        problems.append(RuleProblem(
                            _pointer(path_link), "expression.dynamic_var",
                            f"{op!r} must name its data path as a literal string (like \"vars.os\") "
                            "so it can be checked before publishing",
                        ))
                    continue
                if path != "":
                    found.append(Reference(path, path_link))
                root, dot, _rest = path.partition(".")
                if strict and (not dot or root not in DATA_ROOTS):
                    problems.append(RuleProblem(
                        _pointer(path_link), "expression.unknown_root",
                        f"data path {path!r} must start with 'vars.<variable>' or 'answers.<step_id>'",
                    ))
        if is_list:
            seen += 1  # the argument list is a value too
            if seen > max_nodes:
                problems.append(RuleProblem(
                    "", "expression.too_many_nodes",
                    f"the rule has more than {max_nodes} values; split it or simplify it",
                ))
                break
            if depth + 1 > max_depth:
                push((raw, depth + 1, scoped, False, op_link))  # reported as too deep
                continue
            scoping = op in SCOPED_OPERATORS
            for index in range(len(raw) - 1, -1, -1):
                push((raw[index], depth + 2, scoped or (scoping and index == 1), False, (op_link, index)))
        else:
            push((raw, depth + 1, scoped, False, op_link))
    return RuleAnalysis(problems, found)


def quick_strict_check(
    rule: Any, *, max_depth: int = MAX_RULE_DEPTH, max_nodes: int = MAX_RULE_NODES
) -> list[str] | None:
    """The data paths ``rule`` reads if :func:`analyze_rule` (strict) would
    find no problem, else ``None`` (then run it to learn what and where).

    A validator checks thousands of rules, nearly all fine; this walk skips
    what only a problem needs (pointers, messages). Rules using ``missing``
    or ``missing_some`` always take the full analysis.
    """
    paths: list[str] = []
    stack: list[tuple[Any, int, bool]] = [(rule, 1, False)]
    pop, push = stack.pop, stack.append
    seen = 0
    while stack:
        node, depth, scoped = pop()
        seen += 1
        if seen > max_nodes or depth > max_depth:
            return None
        t = type(node)
        if t is str or t is int or t is bool or node is None:
            continue
        if t is float:
            if node - node != 0:
                return None
            continue
        if t is list:
            for item in node:
                push((item, depth + 1, scoped))
            continue
        if t is not dict or len(node) != 1:
            return None
        ((op, raw),) = node.items()
        if op not in ALLOWED_OPERATORS:
            return None
        is_list = type(raw) is list
        count = len(raw) if is_list else 1
        low, high = ARITY[op]
        if count < low or (high is not None and count > high):
            return None
        if op in PATH_OPERATORS and not scoped:
            if op != "var":
                return None
            path = (raw[0] if count else None) if is_list else raw
            if type(path) is not str:
                return None
            root, dot, _rest = path.partition(".")
            if not dot or root not in DATA_ROOTS:
                return None
            paths.append(path)
        if not is_list:
            push((raw, depth + 1, scoped))
            continue
        if op == "reduce" and count == 3 and type(raw[2]) in (dict, list):
            return None
        seen += 1
        if seen > max_nodes or depth + 1 > max_depth:
            return None
        scoping = op in SCOPED_OPERATORS
        for index, item in enumerate(raw):
            push((item, depth + 2, scoped or (scoping and index == 1)))
    return paths


def quick_template_check(
    template: Any, *, max_depth: int = MAX_RULE_DEPTH, max_nodes: int = MAX_RULE_NODES
) -> list[str] | None:
    """:func:`quick_strict_check` for every rule in an input template."""
    paths: list[str] = []
    for _link, rule in _template_rules(template):
        found = None if rule is _TOO_DEEP else quick_strict_check(rule, max_depth=max_depth, max_nodes=max_nodes)
        if found is None:
            return None
        paths.extend(found)
    return paths


def check_rule(
    rule: Any,
    *,
    strict: bool = True,
    max_depth: int = MAX_RULE_DEPTH,
    max_nodes: int = MAX_RULE_NODES,
) -> list[RuleProblem]:
    """Every problem in ``rule`` (see :func:`analyze_rule`); never raises."""
    return analyze_rule(rule, strict=strict, max_depth=max_depth, max_nodes=max_nodes).problems


def _literal_paths(op: str, args: list[Any]) -> Iterator[tuple[int, Any]]:
    """The data-path arguments of ``var``/``missing``/``missing_some``."""
    if op == "var":
        yield 0, args[0] if args else None
    elif op == "missing":
        if args and type(args[0]) is list:
            yield from ((0, p) for p in args[0])
        else:
            yield from enumerate(args)
    elif op == "missing_some" and len(args) == 2:
        keys = args[1]
        if type(keys) is list:
            yield from ((1, p) for p in keys)
        else:
            yield 1, keys


def references(rule: Any) -> list[Reference]:
    """Every literal data path ``rule`` reads at the top scope; never raises."""
    return analyze_rule(rule, strict=False).references


def variables_used(rule: Any) -> set[str]:
    """The data paths a rule reads at the top scope, as written
    (``vars.device.os``, ``answers.ask_cable``), like the SDK's ``variablesUsed``.
    Names computed at run time cannot be listed; the paths used to compute
    them are. ``{"var": ""}`` (all the data) is not listed.

    >>> sorted(variables_used({"and": [{"var": "vars.device.os"},
    ...                                {"missing": ["answers.q1"]}]}))
    ['answers.q1', 'vars.device.os']
    """
    return {ref.path for ref in references(rule)}


# ---- templates: step inputs -----------------------------------------------


def _template_rules(template: Any) -> Iterator[tuple[_Link, Any]]:
    """The rules inside an input template, with their locations (iteratively).

    Nesting deeper than :data:`MAX_RULE_DEPTH` yields ``_TOO_DEEP`` at the
    first level too deep, and nothing below it.
    """
    stack: list[tuple[_Link, Any, int]] = [(None, template, 1)]
    while stack:
        link, node, depth = stack.pop()
        if depth > MAX_RULE_DEPTH:
            yield link, _TOO_DEEP
        elif is_template_rule(node):
            yield link, node
        elif type(node) is dict:
            stack.extend(((link, k), v, depth + 1) for k, v in node.items())
        elif type(node) is list:
            stack.extend(((link, i), v, depth + 1) for i, v in enumerate(node))


_TOO_DEEP = object()


def is_template_rule(node: Any) -> bool:
    """Is ``node``, inside a template, a rule: one key, an allowed operator?"""
    if type(node) is not dict or len(node) != 1:
        return False
    for op in node:
        return op in ALLOWED_OPERATORS
    return False


def analyze_template(
    template: Any, *, max_depth: int = MAX_RULE_DEPTH, max_nodes: int = MAX_RULE_NODES
) -> RuleAnalysis:
    """:func:`analyze_rule` for every rule in an input template (strict);
    pointers are relative to the template. Never raises."""
    problems: list[RuleProblem] = []
    found: list[Reference] = []
    for link, rule in _template_rules(template):
        prefix = _pointer(link)
        if rule is _TOO_DEEP:
            problems.append(RuleProblem(
                prefix, "expression.too_deep", f"the input nests deeper than {MAX_RULE_DEPTH} levels",
            ))
            continue
        analysis = analyze_rule(rule, max_depth=max_depth, max_nodes=max_nodes)
        problems.extend(RuleProblem(prefix + p.pointer, p.code, p.message) for p in analysis.problems)
        found.extend(Reference(r.path, r.link, prefix + r.prefix) for r in analysis.references)
    return RuleAnalysis(problems, found)


def check_template(template: Any, **limits: int) -> list[RuleProblem]:
    """Every problem in an input template (see :func:`evaluate_template`)."""
    return analyze_template(template, **limits).problems


def template_references(template: Any) -> list[Reference]:
    """Like :func:`references`, for every rule in an input template."""
    return analyze_template(template).references
