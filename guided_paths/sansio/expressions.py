"""Safe JsonLogic for Guided Path rules, with the semantics of json-logic-js.

The server (Python) and the JS SDK (json-logic-js in the browser) must agree on
every rule, or a customer would see a different branch offline than the agent
sees on the server. ``panzi-json-logic`` gives us the evaluation loop (its
``apply`` with the special forms ``if``, ``and``, ``map``…), but its operators
follow Python where JavaScript differs (``null == false``, ``"" == 0``,
``min()`` of nothing, integer results). So we hand ``apply`` our own operator
table, written against the ECMAScript coercion rules, and nothing else:

* an **allowlist** of operators — never ``method`` (calls Python methods) nor
  ``log`` (writes to stdout);
* depth and size caps checked **before** evaluation, without recursion, so a
  hostile rule cannot exhaust the stack or the CPU;
* numbers behave as JavaScript doubles; results are JSON values (``NaN`` and
  ``Infinity`` become ``null`` as ``JSON.stringify`` would, integral floats
  become ints).

The data a document's rules see (the *expression data model*)::

    {"vars": {name: value, ...},        # the run's declared variables
     "answers": {step_id: value, ...}}  # latest answer of interactive steps

so ``{"var": "vars.os"}`` reads a variable and ``{"var": "answers.ask_cable"}``
the answer to the question ``ask_cable``. Inside ``map``/``filter``/``all``/
``some``/``none``/``reduce`` the inner rule's ``var`` reads the current item
(``reduce``: ``current`` and ``accumulator``), exactly as in JsonLogic.

This module does no IO and keeps no state.

Example::

    >>> evaluate({"===": [{"var": "vars.os"}, "android"]},
    ...          {"vars": {"os": "android"}, "answers": {}})
    True

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from json_logic.apply import apply as _panzi_apply

__all__ = [
    "ALLOWED_OPERATORS",
    "DATA_ROOTS",
    "MAX_RULE_DEPTH",
    "MAX_RULE_NODES",
    "ExpressionError",
    "Reference",
    "RuleAnalysis",
    "analyze_rule",
    "analyze_template",
    "quick_strict_check",
    "quick_template_check",
    "strict_equals",
    "truthy",
    "RuleProblem",
    "check_rule",
    "check_template",
    "evaluate",
    "evaluate_template",
    "references",
    "template_references",
    "variables_used",
]

#: Nesting depth (arrays and objects) a rule may have.
MAX_RULE_DEPTH = 32
#: JSON values (operators, arguments, literals) a rule may contain.
MAX_RULE_NODES = 1000
#: The top-level keys of the data rules see.
DATA_ROOTS = ("vars", "answers")

#: Operators that evaluate their second argument once per item of the first;
#: inside them ``var`` reads the item, not the run's data.
_SCOPED_OPERATORS = frozenset({"map", "filter", "all", "some", "none", "reduce"})

#: Operators whose arguments are data paths (``missing`` and friends read data
#: through ``var`` internally).
_PATH_OPERATORS = frozenset({"var", "missing", "missing_some"})

#: Operators json-logic-js knows that we refuse, with the reason shown to users.
_REFUSED_OPERATORS = {
    "method": " (refused: it calls methods of host objects)",
}

# (minimum, maximum) argument counts, enforced by the document linter only:
# evaluate() accepts what json-logic-js accepts (e.g. {"and": []} is null).
_ARITY: dict[str, tuple[int, int | None]] = {
    "var": (0, 2), "missing": (0, None), "missing_some": (2, 2),
    "if": (1, None), "?:": (3, 3),
    "==": (2, 2), "===": (2, 2), "!=": (2, 2), "!==": (2, 2),
    "!": (1, 1), "!!": (1, 1), "or": (1, None), "and": (1, None),
    ">": (2, 2), ">=": (2, 2), "<": (2, 3), "<=": (2, 3),
    "max": (1, None), "min": (1, None),
    "+": (1, None), "-": (1, 2), "*": (1, None), "/": (2, 2), "%": (2, 2),
    "map": (2, 2), "filter": (2, 2), "reduce": (2, 3),
    "all": (2, 2), "none": (2, 2), "some": (2, 2),
    "merge": (0, None), "in": (2, 2), "cat": (0, None), "substr": (2, 3),
    "log": (1, 1),
}

#: Every operator a Guided Path rule may use.
ALLOWED_OPERATORS = frozenset(_ARITY)


class ExpressionError(ValueError):
    """A rule was refused or could not be evaluated.

    ``code`` is the same as the JS SDK's: ``invalid_rule``, ``too_deep``,
    ``too_many_nodes``, ``unknown_operator``, ``invalid_data`` or
    ``evaluation_failed``; ``pointer`` is a JSON Pointer into the rule, when
    there is one. The message says what is wrong and where.
    """

    def __init__(self, code: str, message: str, *, pointer: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.pointer = pointer


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


# --------------------------------------------------------------------------
# Static analysis
# --------------------------------------------------------------------------


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


# A node's location is a linked list ``(parent_link, key)`` (``None`` at the
# root), turned into a JSON Pointer only when something is reported: most
# rules have nothing to report, and building strings for every node would
# cost more than the analysis itself.
_Link = Any


def _pointer(link: _Link) -> str:
    parts: list[str] = []
    while link is not None:
        link, key = link
        parts.append(_escape(str(key)))
    return "".join(f"/{part}" for part in reversed(parts))


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
            why = _REFUSED_OPERATORS.get(op, "")
            problems.append(RuleProblem(
                _pointer(op_link), "expression.unknown_operator",
                f"unknown or refused operator {op!r}{why}; allowed: {', '.join(sorted(ALLOWED_OPERATORS))}",
            ))
            continue
        is_list = type(raw) is list
        args = raw if is_list else [raw]
        if strict:
            low, high = _ARITY[op]
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
        if op in _PATH_OPERATORS and not scoped:
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
            scoping = op in _SCOPED_OPERATORS
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
        low, high = _ARITY[op]
        if count < low or (high is not None and count > high):
            return None
        if op in _PATH_OPERATORS and not scoped:
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
        scoping = op in _SCOPED_OPERATORS
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


# --------------------------------------------------------------------------
# Templates: step inputs
# --------------------------------------------------------------------------


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
        elif _is_template_operation(node):
            yield link, node
        elif type(node) is dict:
            stack.extend(((link, k), v, depth + 1) for k, v in node.items())
        elif type(node) is list:
            stack.extend(((link, i), v, depth + 1) for i, v in enumerate(node))


_TOO_DEEP = object()


def _is_template_operation(node: Any) -> bool:
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


def evaluate_template(template: Any, data: Any) -> Any:
    """Evaluate an input template: JSON whose operations are evaluated in place.

    Step inputs (``action.input``, ``app.input``, ``subpath.input``) are
    objects such as ``{"body": {"serial": {"var": "vars.serial"}, "source": "gp"}}``.
    An object with exactly one key that is an allowed operator is a rule;
    any other object or array is kept, with its members evaluated. (A literal
    one-key object whose key is an operator name cannot be written; use a
    differently named key.)
    """
    if _is_template_operation(template):
        return evaluate(template, data)
    if type(template) is dict:
        return {k: evaluate_template(v, data) for k, v in template.items()}
    if type(template) is list:
        return [evaluate_template(v, data) for v in template]
    return template


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------


def evaluate(rule: Any, data: Any) -> Any:
    """Evaluate ``rule`` against ``data`` as json-logic-js would.

    Raises :class:`ExpressionError` for rules that are not allowed (unknown
    or forbidden operators, too deep, too large, non-JSON values) and for data
    that cannot be handled; the message names the first problem and where it is.
    The result is a JSON value.
    """
    problems = [] if _acceptable(rule) else analyze_rule(rule, strict=False).problems
    if problems:
        first = problems[0]
        where = f" at {first.pointer}" if first.pointer else ""
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise ExpressionError(
            first.code.removeprefix("expression."), f"{first.message}{where}{more}", pointer=first.pointer,
        )
    try:
        return _to_json(_panzi_apply(rule, data, _OPERATIONS))
    except ExpressionError:
        raise
    except RecursionError:
        raise ExpressionError("invalid_data", "the data is nested too deeply to evaluate this rule") from None
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError) as exc:
        raise ExpressionError("evaluation_failed", f"rule could not be evaluated: {exc}") from None


def _acceptable(rule: Any, max_depth: int = MAX_RULE_DEPTH, max_nodes: int = MAX_RULE_NODES) -> bool:
    """Would :func:`analyze_rule` (not strict) find nothing? The same rules as
    there, without pointers or references: a runner evaluates rules on every
    transition, and only a refusal needs explaining (then analyze_rule runs)."""
    stack: list[tuple[Any, int, bool]] = [(rule, 1, False)]
    pop, push = stack.pop, stack.append
    seen = 0
    while stack:
        node, depth, literal = pop()
        seen += 1
        if seen > max_nodes or depth > max_depth:
            return False
        t = type(node)
        if t is str or t is int or t is bool or node is None:
            continue
        if t is float:
            if node - node != 0:  # NaN or ±Infinity
                return False
        elif t is list:
            for item in node:
                push((item, depth + 1, literal))
        elif t is dict:
            if literal or len(node) != 1:
                for key, value in node.items():
                    if type(key) is not str:
                        return False
                    push((value, depth + 1, True))
                continue
            for op, raw in node.items():
                if op not in ALLOWED_OPERATORS:
                    return False
                if type(raw) is list:
                    seen += 1
                    if seen > max_nodes or depth + 1 > max_depth:
                        return False
                    for item in raw:
                        push((item, depth + 2, False))
                else:
                    push((raw, depth + 1, False))
        else:
            return False
    return True


def _to_json(value: Any) -> Any:
    """Results as JSON would carry them: no NaN/Infinity, integral floats as ints."""
    if type(value) is float:
        if not math.isfinite(value):
            return None
        if value.is_integer() and abs(value) <= 2**53:
            return int(value)
        return value
    if type(value) is list:
        return [_to_json(v) for v in value]
    if type(value) is dict:
        return {k: _to_json(v) for k, v in value.items()}
    return value


# ---- ECMAScript coercions ------------------------------------------------
#
# Python's bool is an int, so type tests below use ``type(x) is`` on purpose.

_NAN = float("nan")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_RADIX = {"0x": 16, "0X": 16, "0o": 8, "0O": 8, "0b": 2, "0B": 2}
_RADIX_DIGITS = {16: re.compile(r"[0-9a-fA-F]+"), 8: re.compile(r"[0-7]+"), 2: re.compile(r"[01]+")}
_PARSE_FLOAT_PREFIX = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_JS_WHITESPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def _js_type(value: Any) -> str:
    t = type(value)
    if value is None:
        return "null"
    if t is bool:
        return "boolean"
    if t is int or t is float:
        return "number"
    if t is str:
        return "string"
    return "object"


def _number(value: int | float) -> float:
    """A JSON number as a JavaScript double (huge ints become Infinity)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _string_to_number(text: str) -> float:
    text = text.strip(_JS_WHITESPACE)
    if not text:
        return 0.0
    if text in ("Infinity", "+Infinity"):
        return math.inf
    if text == "-Infinity":
        return -math.inf
    radix = _RADIX.get(text[:2])
    if radix is not None:
        digits = _RADIX_DIGITS[radix]
        return _number(int(text[2:], radix)) if digits.fullmatch(text[2:]) else _NAN
    if _DECIMAL.fullmatch(text):
        return float(text)
    return _NAN


def to_primitive(value: Any) -> Any:
    """ECMAScript ToPrimitive for JSON values: arrays and objects become strings."""
    if type(value) is list or type(value) is dict:
        return to_string(value)
    return value


def to_number(value: Any) -> float:
    """ECMAScript ToNumber."""
    t = type(value)
    if t is int or t is float:
        return _number(value)
    if value is None:
        return 0.0
    if t is bool:
        return 1.0 if value else 0.0
    if t is str:
        return _string_to_number(value)
    if t is list:
        return _string_to_number(to_string(value))
    return _NAN


def _number_to_string(x: float) -> str:
    """ECMAScript Number::toString (shortest round-trip digits, JS exponent rules)."""
    if x != x:
        return "NaN"
    if x == 0:
        return "0"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x < 0:
        return "-" + _number_to_string(-x)
    mantissa, _, exponent = repr(x).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    leading_zeros = len(int_part + frac_part) - len((int_part + frac_part).lstrip("0"))
    n = len(int_part) + (int(exponent) if exponent else 0) - leading_zeros  # value = 0.digits × 10^n
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    sign = "+" if e >= 0 else "-"
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{head}e{sign}{abs(e)}"


def to_string(value: Any) -> str:
    """ECMAScript ToString (``String(x)``) for JSON values."""
    t = type(value)
    if t is str:
        return value
    if value is None:
        return "null"
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value) if abs(value) < 10**21 else _number_to_string(_number(value))
    if t is float:
        return _number_to_string(value)
    if t is list:
        return _join(value, ",")
    return "[object Object]"


def _join(items: list[Any], separator: str) -> str:
    """Array.prototype.join: null (and undefined) become empty strings."""
    return separator.join("" if item is None else to_string(item) for item in items)


def truthy(value: Any) -> bool:
    """JsonLogic truthiness: JavaScript's, except that ``[]`` is false."""
    if type(value) is list:
        return bool(value)
    if type(value) is float:
        return value == value and value != 0.0
    if type(value) is dict:
        return True
    return bool(value)


def strict_equals(a: Any, b: Any) -> bool:
    """ECMAScript ``===``: same type and value; arrays/objects by identity."""
    ta = _js_type(a)
    if ta != _js_type(b):
        return False
    if ta == "number":
        return _number(a) == _number(b)
    if ta == "object":
        return a is b
    return a == b


def loose_equals(a: Any, b: Any) -> bool:
    """ECMAScript ``==`` (IsLooselyEqual) for JSON values."""
    ta, tb = _js_type(a), _js_type(b)
    if ta == tb:
        return strict_equals(a, b)
    if ta == "null" or tb == "null":
        return False
    if ta == "boolean":
        return loose_equals(to_number(a), b)
    if tb == "boolean":
        return loose_equals(a, to_number(b))
    if ta == "number" and tb == "string":
        return _number(a) == _string_to_number(b)
    if ta == "string" and tb == "number":
        return _string_to_number(a) == _number(b)
    if ta == "object" and tb != "object":
        return loose_equals(to_primitive(a), b)
    if tb == "object" and ta != "object":
        return loose_equals(a, to_primitive(b))
    return False


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


def _less_than(a: Any, b: Any) -> bool | None:
    """ECMAScript IsLessThan: ``None`` stands for *undefined* (a NaN was involved)."""
    pa, pb = to_primitive(a), to_primitive(b)
    if type(pa) is str and type(pb) is str:
        # JavaScript compares UTF-16 code units, not code points.
        return _utf16(pa) < _utf16(pb) if not (pa.isascii() and pb.isascii()) else pa < pb
    na, nb = to_number(pa), to_number(pb)
    if na != na or nb != nb:
        return None
    return na < nb


def _lt(a: Any, b: Any) -> bool:
    return _less_than(a, b) is True


def _le(a: Any, b: Any) -> bool:
    result = _less_than(b, a)
    return result is False


def _parse_float(value: Any) -> float:
    """The global ``parseFloat``: the longest numeric prefix of ``String(value)``."""
    if type(value) is int or type(value) is float:
        return _number(value)
    match = _PARSE_FLOAT_PREFIX.match(to_string(value).lstrip(_JS_WHITESPACE))
    if match is None:
        return _NAN
    text = match.group()
    if text.endswith("Infinity"):
        return -math.inf if text.startswith("-") else math.inf
    return float(text)


def _js_remainder(a: float, b: float) -> float:
    if b == 0 or a != a or b != b or math.isinf(a):
        return _NAN
    if math.isinf(b):
        return a
    return math.fmod(a, b)


def _js_divide(a: float, b: float) -> float:
    if b == 0:
        if a == 0 or a != a:
            return _NAN
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _to_integer_or_infinity(value: Any) -> float:
    number = to_number(value)
    if number != number:
        return 0
    if math.isinf(number):
        return number
    return math.trunc(number)


def _js_substr(text: str, start: Any, length: Any = None, *, has_length: bool) -> str:
    """String.prototype.substr on UTF-16 code units."""
    units = _utf16(text)
    size = len(units) // 2
    begin = _to_integer_or_infinity(start)
    if begin == -math.inf:
        begin = 0
    elif begin < 0:
        begin = max(size + begin, 0)
    begin = min(begin, size)
    count = size if not has_length else _to_integer_or_infinity(length)
    end = min(begin + count, size) if count > 0 else begin
    if end <= begin:
        return ""
    return units[int(begin) * 2:int(end) * 2].decode("utf-16-be", "surrogatepass")


# ---- operators (panzi calls each as op(data, *evaluated_args)) -----------


_MISSING = object()


def _js_index(container: list[Any] | str, prop: str) -> Any:
    if prop == "length":
        return len(container) if type(container) is list else len(_utf16(container)) // 2
    # Canonical array index: "0", "12", never "01" or "-1".
    if prop.isdigit() and prop.isascii() and (prop == "0" or prop[0] != "0"):
        index = int(prop)
        if type(container) is list:
            return container[index] if index < len(container) else _MISSING
        units = _utf16(container)
        if index < len(units) // 2:
            return units[index * 2:index * 2 + 2].decode("utf-16-be", "surrogatepass")
    return _MISSING


def op_var(data: Any, key: Any = _MISSING, default: Any = _MISSING, *_ignored: Any) -> Any:
    not_found = None if default is _MISSING else default
    if key is _MISSING or key is None or key == "" and type(key) is str:
        return data
    current = data
    for prop in to_string(key).split("."):
        if current is None:
            return not_found
        if type(current) is dict:
            current = current.get(prop, _MISSING)
        elif type(current) is list or type(current) is str:
            current = _js_index(current, prop)
        else:
            current = _MISSING
        if current is _MISSING:
            return not_found
    return current


def op_missing(data: Any, *args: Any) -> list[Any]:
    keys = args[0] if args and type(args[0]) is list else args
    missing = []
    for key in keys:
        value = op_var(data, key)
        if value is None or value == "" and type(value) is str:
            missing.append(key)
    return missing


def op_missing_some(data: Any, need_count: Any = None, options: Any = None, *_ignored: Any) -> list[Any]:
    if type(options) is not list:
        options = []
    are_missing = op_missing(data, options)
    if _le(need_count, len(options) - len(are_missing)):
        return []
    return are_missing


def op_in(data: Any, needle: Any = None, haystack: Any = None, *_ignored: Any) -> bool:
    if type(haystack) is str:
        return bool(haystack) and to_string(needle) in haystack
    if type(haystack) is list:
        return any(strict_equals(needle, item) for item in haystack)
    return False


def op_add(data: Any, *args: Any) -> float:
    total = 0.0
    for arg in args:
        total = total + _parse_float(arg)
    return total


def op_multiply(data: Any, *args: Any) -> Any:
    if not args:
        raise ExpressionError("evaluation_failed", "'*' needs at least one argument")
    product = args[0]  # Array.prototype.reduce without an initial value
    for arg in args[1:]:
        product = _parse_float(product) * _parse_float(arg)
    return product


def op_subtract(data: Any, *args: Any) -> float:
    a = args[0] if args else None
    if len(args) < 2:
        return -to_number(a) if args else _NAN
    return to_number(a) - to_number(args[1])


def op_substr(data: Any, *args: Any) -> str:
    source = args[0] if args else _MISSING
    text = "undefined" if source is _MISSING else to_string(source)
    start = args[1] if len(args) > 1 else None
    if len(args) > 2:
        end = args[2]
        if _lt(end, 0):
            rest = _js_substr(text, start, has_length=False)
            return _js_substr(rest, 0, len(_utf16(rest)) // 2 + to_number(end), has_length=True)
        return _js_substr(text, start, end, has_length=True)
    return _js_substr(text, start, has_length=False)


def op_merge(data: Any, *args: Any) -> list[Any]:
    merged: list[Any] = []
    for arg in args:
        if type(arg) is list:
            merged.extend(arg)
        else:
            merged.append(arg)
    return merged


def _between(compare: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def operator(data: Any, *args: Any) -> bool:
        a, b = (args + (None, None))[:2]
        if len(args) < 3:
            return compare(a, b)
        return compare(a, b) and compare(b, args[2])
    return operator


def _binary(fn: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    def operator(data: Any, *args: Any) -> Any:
        a, b = (args + (None, None))[:2]
        return fn(a, b)
    return operator


def _unary(fn: Callable[[Any], Any]) -> Callable[..., Any]:
    def operator(data: Any, *args: Any) -> Any:
        return fn(args[0] if args else None)
    return operator


def _min(data: Any, *args: Any) -> float:
    numbers = [to_number(a) for a in args]
    if any(n != n for n in numbers):
        return _NAN
    return min(numbers, default=math.inf)


def _max(data: Any, *args: Any) -> float:
    numbers = [to_number(a) for a in args]
    if any(n != n for n in numbers):
        return _NAN
    return max(numbers, default=-math.inf)


# ``if``, ``?:``, ``and``, ``or``, ``map``, ``filter``, ``reduce``, ``all``,
# ``some`` and ``none`` are special forms handled inside panzi's apply (their
# semantics match json-logic-js); everything else comes from this table, and
# apply() finds no other operator: we never pass panzi's BUILTINS.
_OPERATIONS: Mapping[str, Callable[..., Any]] = {
    "==": _binary(loose_equals),
    "!=": _binary(lambda a, b: not loose_equals(a, b)),
    "===": _binary(strict_equals),
    "!==": _binary(lambda a, b: not strict_equals(a, b)),
    "<": _between(_lt),
    "<=": _between(_le),
    ">": _binary(lambda a, b: _lt(b, a)),
    ">=": _binary(lambda a, b: _le(b, a)),
    "!": _unary(lambda a: not truthy(a)),
    "!!": _unary(truthy),
    "+": op_add,
    "*": op_multiply,
    "-": op_subtract,
    "/": _binary(lambda a, b: _js_divide(to_number(a), to_number(b))),
    "%": _binary(lambda a, b: _js_remainder(to_number(a), to_number(b))),
    "min": _min,
    "max": _max,
    "cat": lambda data, *args: _join(list(args), ""),
    "substr": op_substr,
    "merge": op_merge,
    "in": op_in,
    "var": op_var,
    "missing": op_missing,
    "missing_some": op_missing_some,
    # json-logic-js prints to the console; a server must not write to stdout
    # on behalf of a tenant's rule, so here it only returns its argument.
    "log": _unary(lambda a: a),
}
