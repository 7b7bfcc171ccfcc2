"""Validate a Guided Path document and report every problem at once.

Editors save drafts with problems and show them all; publishing refuses a
document with any. So :func:`validate_document` never stops at the first
problem and never raises, whatever it is given (the API passes it whatever a
client sent): each problem is an :class:`Issue` with a JSON Pointer to the
field, a stable ``code`` for programs and a ``message`` for people.

The checks, in order (later ones are skipped only when the input is not
JSON at all, or too big to look at safely):

1. JSON only, nesting depth, size in bytes, number of steps;
2. the published JSON Schema (``guided_paths/schema/guided-path.v1.json``);
3. plugin step configs against their step type's schema;
4. the graph: targets exist, every step reachable from ``start``, every step
   can reach an ``end``, no loop without an interactive step;
5. rules and inputs: JsonLogic allowlist, depth and size caps, ``vars.X`` is
   declared, ``answers.S`` is an interactive step;
6. ``store_as`` names a declared variable of a compatible type; question
   rules are consistent; app output schemas are valid JSON Schemas;
7. subpaths exist in ``known_paths`` and never loop back (A → B → A);
8. locales and text lengths.

Checks 1 to 3 (and the variables) are here, in :class:`DocumentChecker`; the
graphs (4, 7) are in :mod:`.validation_graph`, the steps' content (5, 6) in
:mod:`.validation_steps`, the texts (8) in :mod:`.validation_texts`.

No IO, no global state; the compiled document validator is built once.

Example::

    issues = validate_document(doc, StepTypeRegistry.with_builtins())
    for issue in issues:
        print(issue.pointer, issue.code, issue.message)

.. versionadded:: 0.1
"""

from __future__ import annotations

import json
import math
from typing import Any, Collection, Mapping

from . import validation_graph, validation_steps, validation_texts
from .document_schema import fast_is_valid, schema_validators
from .issues import Issue, schema_issues
from .json_pointer import escape, unescape
from .json_values import is_plain_json, json_type_name, value_matches_type
from .limits import DEFAULT_LIMITS, Limits
from .step_types import BUILTIN_STEP_TYPE_NAMES, COMMON_STEP_FIELDS, StepTypeRegistry

__all__ = [
    "DEFAULT_LIMITS",
    "Issue",
    "Limits",
    "json_type_name",
    "validate_document",
    "value_matches_type",
]

_VARIABLE_TYPES = ("string", "number", "integer", "boolean", "array", "object")


def validate_document(
    doc: Any,
    registry: StepTypeRegistry,
    *,
    known_paths: Mapping[str, dict] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    known_apps: Mapping[str, Mapping[str, Any]] | None = None,
    known_media: Collection[str] | None = None,
) -> list[Issue]:
    """Every problem in ``doc``; an empty list means it can be published.

    ``registry`` supplies the step types (built-in and plugins').
    ``known_paths`` maps path ids to the latest published documents of the
    tenant; when given, subpath targets must exist in it and subpath chains
    must not loop. ``known_apps`` is the tenant's allowlist of Guided Path Apps
    (``{app_id: app}``, see the ``list_guided_path_apps`` hook) and
    ``known_media`` the file ids of its Guided Path media; when given, ``app``
    steps and message ``media`` must name one of them. Never raises.
    """
    checker = DocumentChecker(doc, registry, known_paths, limits)
    checker.known_apps = known_apps
    checker.known_media = known_media
    try:
        checker.run()
    except _TooManyIssues:
        checker.issues.append(Issue(
            "", "validation.too_many_issues",
            f"more than {limits.max_issues} problems; fix these and validate again",
        ))
    except Exception as exc:  # noqa: BLE001 - the promise is "never raises"
        # A bug here must not turn a bad document into a 500; tests assert
        # this code never appears.
        checker.issues.append(Issue("", "validation.internal_error", f"the validator failed: {exc!r}"))
    return checker.issues


class _TooManyIssues(Exception):
    pass


class DocumentChecker:
    """One validation: the document, what we learned so far, the issues.

    The checks of the other ``validation_*`` modules are functions that take it
    as their first argument and report through :meth:`add`."""

    def __init__(
        self, doc: Any, registry: StepTypeRegistry, known_paths: Mapping[str, dict] | None, limits: Limits
    ) -> None:
        self.doc = doc
        self.registry = registry
        self.known_paths = known_paths
        self.limits = limits
        self.issues: list[Issue] = []
        self.steps: dict[str, dict] = {}
        self.variables: dict[str, str | None] = {}
        self.schema_broken_steps: set[str] = set()
        self.interactive_types: dict[Any, bool] = {}
        self.known_apps: Mapping[str, Mapping[str, Any]] | None = None
        self.known_media: Collection[str] | None = None

    # ---- plumbing ----------------------------------------------------------

    def add(self, pointer: str, code: str, message: str) -> None:
        if len(self.issues) >= self.limits.max_issues:
            raise _TooManyIssues
        self.issues.append(Issue(pointer, code, message))

    def run(self) -> None:
        if not self.check_json():
            return
        if not self.check_size():
            return
        self.check_schema()
        doc = self.doc
        if type(doc) is not dict:
            return
        steps = doc.get("steps")
        self.steps = {
            k: v for k, v in steps.items() if type(v) is dict and type(v.get("type")) is str
        } if type(steps) is dict else {}
        self.check_variables()
        self.check_step_types()
        validation_graph.check_graph(self)
        for step_id, step in self.steps.items():
            validation_steps.check_step(self, step_id, step)
        validation_graph.check_subpath_cycles(self)
        validation_texts.check_texts(self)

    # ---- 1. JSON, depth, size -------------------------------------------------

    def check_json(self) -> bool:
        """Only JSON values, nested at most ``max_nesting`` deep (iteratively,
        so self-referencing or absurdly deep input cannot hurt us)."""
        if is_plain_json(self.doc, self.limits.max_nesting):
            return True
        ok = True
        stack: list[tuple[Any, int, str]] = [(self.doc, 1, "")]
        while stack:
            node, depth, pointer = stack.pop()
            t = type(node)
            if t is dict or t is list:
                if depth > self.limits.max_nesting:
                    self.add(pointer, "document.too_deep",
                             f"the document nests deeper than {self.limits.max_nesting} levels")
                    return False
                if t is dict:
                    for key, value in node.items():
                        if type(key) is not str:
                            self.add(pointer, "document.not_json",
                                     f"object keys must be strings, not {type(key).__name__}")
                            ok = False
                            continue
                        stack.append((value, depth + 1, f"{pointer}/{escape(key)}"))
                else:
                    stack.extend((value, depth + 1, f"{pointer}/{i}") for i, value in enumerate(node))
            elif t is float:
                if not math.isfinite(node):
                    self.add(pointer, "document.not_json", "NaN and Infinity are not JSON numbers")
                    ok = False
            elif not (t is str or t is int or t is bool or node is None):
                self.add(pointer, "document.not_json", f"{t.__name__} is not a JSON value")
                ok = False
        return ok

    def check_size(self) -> bool:
        # check_json ran: no cycles, so the encoder need not look for them.
        text = json.dumps(self.doc, ensure_ascii=False, separators=(",", ":"), check_circular=False)
        size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
        if size > self.limits.max_document_bytes:
            self.add("", "limits.document_too_large",
                     f"the document is {size} bytes; the limit is {self.limits.max_document_bytes}")
            return False
        steps = self.doc.get("steps") if type(self.doc) is dict else None
        if type(steps) is dict and len(steps) > self.limits.max_steps:
            self.add("/steps", "limits.too_many_steps",
                     f"the path has {len(steps)} steps; the limit is {self.limits.max_steps}. "
                     "Split it into subpaths")
            return False
        return True

    # ---- 2. JSON Schema ------------------------------------------------------

    def check_schema(self) -> None:
        validators = schema_validators()
        if fast_is_valid(validators.document, self.doc):
            return
        found: list[Issue] = []
        for error in validators.skeleton.iter_errors(self.doc):
            found.extend(schema_issues(error, self.doc))
        steps = self.doc.get("steps") if type(self.doc) is dict else None
        if type(steps) is dict:
            for step_id, step in steps.items():
                if fast_is_valid(validators.step, step):
                    continue
                prefix = f"/steps/{escape(step_id)}"
                for error in validators.step_detail.iter_errors(step):
                    found.extend(schema_issues(error, step, prefix=prefix))
        found.sort(key=lambda issue: issue.pointer)
        for issue in found:
            parts = issue.pointer.split("/")
            if len(parts) > 2 and parts[1] == "steps":
                self.schema_broken_steps.add(unescape(parts[2]))
            self.add(issue.pointer, issue.code, issue.message)

    # ---- 3. step types ---------------------------------------------------------

    def check_step_types(self) -> None:
        for step_id, step in self.steps.items():
            name = step["type"]
            pointer = f"/steps/{escape(step_id)}"
            step_type = self.registry.get(name)
            if step_type is None:
                known = ", ".join(st.name for st in self.registry.all())
                self.add(f"{pointer}/type", "step.unknown_type",
                         f"unknown step type {name!r}; is the plugin that provides it enabled? Known: {known}")
                self.schema_broken_steps.add(step_id)
                continue
            if name in BUILTIN_STEP_TYPE_NAMES:
                continue  # the document schema describes built-in steps
            config = {k: v for k, v in step.items() if k not in COMMON_STEP_FIELDS}
            for error in self.registry.config_validator(name).iter_errors(config):
                for issue in schema_issues(error, config, prefix=pointer, code_prefix="step_config"):
                    self.schema_broken_steps.add(step_id)
                    self.add(issue.pointer, issue.code, issue.message)

    def is_interactive(self, step: dict) -> bool:
        name = step.get("type")
        flag = self.interactive_types.get(name)
        if flag is None:
            step_type = self.registry.get(name)
            flag = self.interactive_types[name] = step_type is not None and step_type.interactive
        return flag

    def answers_recorded(self, step: dict) -> bool:
        """Steps whose answers rules may read: questions and interactive plugin steps."""
        name = step.get("type")
        return name == "question" or (name not in BUILTIN_STEP_TYPE_NAMES and self.is_interactive(step))

    # ---- variables -------------------------------------------------------------

    def check_variables(self) -> None:
        variables = self.doc.get("variables")
        if type(variables) is not dict:
            return
        if len(variables) > self.limits.max_variables:
            self.add("/variables", "limits.too_many_variables",
                     f"{len(variables)} variables; the limit is {self.limits.max_variables}")
        for name, spec in variables.items():
            declared = spec.get("type") if type(spec) is dict else None
            self.variables[name] = declared if declared in _VARIABLE_TYPES else None
            if type(spec) is dict and "default" in spec and declared in _VARIABLE_TYPES:
                if not value_matches_type(spec["default"], declared):
                    self.add(f"/variables/{escape(name)}/default", "variable.bad_default",
                             f"the default of {name!r} is {json_type_name(spec['default'])}, "
                             f"but the variable is declared as {declared}")
