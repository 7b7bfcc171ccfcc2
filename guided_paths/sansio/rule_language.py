"""What a Guided Path rule may be: its operators, their arguments, its size.

A rule is JsonLogic restricted to :data:`ALLOWED_OPERATORS`, nested at most
:data:`MAX_RULE_DEPTH` deep and holding at most :data:`MAX_RULE_NODES` values,
reading data under :data:`DATA_ROOTS`. The JS SDK enforces the same limits and
allowlist (``sdk_js/src/expression-limits.json``; the conformance tests check
both sides), so a rule the server accepts runs the same in the browser.
:class:`ExpressionError` is how a rule is refused, or fails, on either side.

Used by the analysis (:mod:`.rule_analysis`), the operators
(:mod:`.jsonlogic_operators`) and the evaluator (:mod:`.expressions`).
"""

from __future__ import annotations

__all__ = [
    "ALLOWED_OPERATORS",
    "ARITY",
    "DATA_ROOTS",
    "MAX_RULE_DEPTH",
    "MAX_RULE_NODES",
    "PATH_OPERATORS",
    "REFUSED_OPERATORS",
    "SCOPED_OPERATORS",
    "ExpressionError",
]

#: Nesting depth (arrays and objects) a rule may have.
MAX_RULE_DEPTH = 32
#: JSON values (operators, arguments, literals) a rule may contain.
MAX_RULE_NODES = 1000
#: The top-level keys of the data rules see.
DATA_ROOTS = ("vars", "answers")

#: Operators that evaluate their second argument once per item of the first;
#: inside them ``var`` reads the item, not the run's data.
SCOPED_OPERATORS = frozenset({"map", "filter", "all", "some", "none", "reduce"})

#: Operators whose arguments are data paths (``missing`` and friends read data
#: through ``var`` internally).
PATH_OPERATORS = frozenset({"var", "missing", "missing_some"})

#: Operators json-logic-js knows that we refuse, with the reason shown to users.
REFUSED_OPERATORS = {
    "method": " (refused: it calls methods of host objects)",
}

#: (minimum, maximum) argument counts, enforced by the document linter only:
#: evaluate() accepts what json-logic-js accepts (e.g. {"and": []} is null).
ARITY: dict[str, tuple[int, int | None]] = {
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
ALLOWED_OPERATORS = frozenset(ARITY)


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

