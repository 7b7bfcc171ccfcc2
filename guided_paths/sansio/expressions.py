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

The pieces: what a rule may be (:mod:`.rule_language`), JavaScript's
semantics for JSON values (:mod:`.ecmascript`), the operators
(:mod:`.jsonlogic_operators`), the static analysis (:mod:`.rule_analysis`).
This module evaluates, and is where the rest of the package imports them from.
No IO, no state.

Example::

    >>> evaluate({"===": [{"var": "vars.os"}, "android"]},
    ...          {"vars": {"os": "android"}, "answers": {}})
    True

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
from typing import Any

from json_logic.apply import apply as _panzi_apply

from .ecmascript import strict_equals, truthy
from .jsonlogic_operators import OPERATIONS
from .rule_analysis import (
    Reference,
    RuleAnalysis,
    RuleProblem,
    analyze_rule,
    analyze_template,
    check_rule,
    check_template,
    is_template_rule,
    quick_strict_check,
    quick_template_check,
    references,
    template_references,
    variables_used,
)
from .rule_language import ALLOWED_OPERATORS, DATA_ROOTS, MAX_RULE_DEPTH, MAX_RULE_NODES, ExpressionError

__all__ = [
    "ALLOWED_OPERATORS",
    "DATA_ROOTS",
    "MAX_RULE_DEPTH",
    "MAX_RULE_NODES",
    "ExpressionError",
    "Reference",
    "RuleAnalysis",
    "RuleProblem",
    "analyze_rule",
    "analyze_template",
    "check_rule",
    "check_template",
    "evaluate",
    "evaluate_template",
    "quick_strict_check",
    "quick_template_check",
    "references",
    "strict_equals",
    "template_references",
    "truthy",
    "variables_used",
]


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
        return _to_json(_panzi_apply(rule, data, OPERATIONS))
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


def evaluate_template(template: Any, data: Any) -> Any:
    """Evaluate an input template: JSON whose operations are evaluated in place.

    Step inputs (``action.input``, ``app.input``, ``subpath.input``) are
    objects such as ``{"body": {"serial": {"var": "vars.serial"}, "source": "gp"}}``.
    An object with exactly one key that is an allowed operator is a rule;
    any other object or array is kept, with its members evaluated. (A literal
    one-key object whose key is an operator name cannot be written; use a
    differently named key.)
    """
    if is_template_rule(template):
        return evaluate(template, data)
    if type(template) is dict:
        return {k: evaluate_template(v, data) for k, v in template.items()}
    if type(template) is list:
        return [evaluate_template(v, data) for v in template]
    return template
