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

No IO, no global state; the compiled document validator is built once.

Example::

    issues = validate_document(doc, StepTypeRegistry.with_builtins())
    for issue in issues:
        print(issue.pointer, issue.code, issue.message)

.. versionadded:: 0.1
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Collection, Mapping

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError

from . import expressions, graph
from .json_pointer import escape, pointer_to, unescape
from .step_types import BUILTIN_STEP_TYPE_NAMES, COMMON_STEP_FIELDS, StepTypeRegistry, _schema_text

__all__ = [
    "DEFAULT_LIMITS",
    "Issue",
    "Limits",
    "json_type_name",
    "validate_document",
    "value_matches_type",
]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem: where (JSON Pointer), what (stable code), and what to do."""

    pointer: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits. They keep validation, storage and runs cheap and keep a
    hostile document from costing more than a normal one."""

    max_document_bytes: int = 2 * 1024 * 1024
    max_nesting: int = 64
    max_steps: int = 10_000
    max_variables: int = 1_000
    max_title_length: int = 200
    max_text_length: int = 20_000
    max_label_length: int = 500
    max_options: int = 200
    max_branches: int = 200
    max_rule_depth: int = expressions.MAX_RULE_DEPTH
    max_rule_nodes: int = expressions.MAX_RULE_NODES
    max_pattern_length: int = 500
    max_answer_length: int = 10_000
    max_issues: int = 1_000


DEFAULT_LIMITS = Limits()

_VARIABLE_TYPES = ("string", "number", "integer", "boolean", "array", "object")


def json_type_name(value: Any) -> str:
    """The JSON type of a Python value as JSON Schema names it."""
    if value is None:
        return "null"
    if type(value) is bool:
        return "boolean"
    if type(value) is int:
        return "integer"
    if type(value) is float:
        return "number"
    if type(value) is str:
        return "string"
    if type(value) is list:
        return "array"
    if type(value) is dict:
        return "object"
    return type(value).__name__


def value_matches_type(value: Any, type_name: str) -> bool:
    """Does ``value`` have the variable type ``type_name``? (``1.0`` is an integer,
    ``True`` is not a number, as in JSON Schema.)"""
    t = type(value)
    if type_name == "string":
        return t is str
    if type_name == "number":
        return (t is int) or (t is float and math.isfinite(value))
    if type_name == "integer":
        return t is int or (t is float and math.isfinite(value) and value.is_integer())
    if type_name == "boolean":
        return t is bool
    if type_name == "array":
        return t is list
    if type_name == "object":
        return t is dict
    return False


def _compatible(produced: str | None, declared: str | None) -> bool:
    """Can a value of type ``produced`` be stored in a ``declared`` variable?"""
    if produced is None or declared is None or produced == declared:
        return True
    return produced == "integer" and declared == "number"


@dataclass(frozen=True)
class _SchemaValidators:
    """The document schema, compiled once, split so that a 5,000-step document
    costs one fast check: ``document``/``step`` answer "valid?" (Rust
    ``jsonschema-rs`` when installed); ``skeleton``/``step_detail`` produce the
    precise errors (Python ``jsonschema``) only for the parts that failed."""

    document: Any
    step: Any
    skeleton: Draft202012Validator
    step_detail: Draft202012Validator


@functools.cache
def _schema_validators() -> _SchemaValidators:
    schema = json.loads(_schema_text())
    step_schema = {"$schema": schema["$schema"], **schema["$defs"]["step"], "$defs": schema["$defs"]}
    skeleton = json.loads(_schema_text())
    skeleton["properties"]["steps"]["additionalProperties"] = True
    try:
        import jsonschema_rs
    except ImportError:  # optional accelerator: same results, slower
        fast_document = fast_step = None
    else:
        fast_document = jsonschema_rs.Draft202012Validator(schema)
        fast_step = jsonschema_rs.Draft202012Validator(step_schema)
    return _SchemaValidators(
        document=fast_document,
        step=fast_step,
        skeleton=Draft202012Validator(skeleton),
        step_detail=Draft202012Validator(step_schema),
    )


def _fast_is_valid(validator: Any, instance: Any) -> bool | None:
    """``validator.is_valid`` of the accelerator, ``None`` when it cannot say."""
    if validator is None:
        return None
    try:
        return bool(validator.is_valid(instance))
    except Exception:  # noqa: BLE001 - e.g. an int too large for it; use the slow path
        return None


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


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
    checker = _DocumentChecker(doc, registry, known_paths, limits)
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


def _is_plain_json(doc: Any, max_nesting: int) -> bool:
    """The fast answer to "JSON only, not too deep?" for the common case;
    :meth:`_DocumentChecker.check_json` finds the pointers when it is not."""
    stack = [(doc, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        t = type(node)
        if t is dict:
            if depth > max_nesting:
                return False
            for key in node:
                if type(key) is not str:
                    return False
            values: Any = node.values()
        elif t is list:
            if depth > max_nesting:
                return False
            values = node
        else:
            values = (node,)
            depth -= 1
        for value in values:
            vt = type(value)
            if vt is dict or vt is list:
                push((value, depth + 1))
            elif vt is str or vt is int or vt is bool or value is None:
                continue
            elif vt is float:
                if value - value != 0:  # NaN or ±Infinity
                    return False
            else:
                return False
    return True


class _TooManyIssues(Exception):
    pass


class _DocumentChecker:
    """One validation: the document, what we learned so far, the issues."""

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
        self.check_graph()
        for step_id, step in self.steps.items():
            self.check_step(step_id, step)
        self.check_subpath_cycles()
        self.check_texts()

    # ---- 1. JSON, depth, size -------------------------------------------------

    def check_json(self) -> bool:
        """Only JSON values, nested at most ``max_nesting`` deep (iteratively,
        so self-referencing or absurdly deep input cannot hurt us)."""
        if _is_plain_json(self.doc, self.limits.max_nesting):
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
        validators = _schema_validators()
        if _fast_is_valid(validators.document, self.doc):
            return
        found: list[Issue] = []
        for error in validators.skeleton.iter_errors(self.doc):
            found.extend(_schema_issues(error, self.doc))
        steps = self.doc.get("steps") if type(self.doc) is dict else None
        if type(steps) is dict:
            for step_id, step in steps.items():
                if _fast_is_valid(validators.step, step):
                    continue
                prefix = f"/steps/{escape(step_id)}"
                for error in validators.step_detail.iter_errors(step):
                    found.extend(_schema_issues(error, step, prefix=prefix))
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
                for issue in _schema_issues(error, config, prefix=pointer, code_prefix="step_config"):
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

    # ---- 4. graph ------------------------------------------------------------

    def check_graph(self) -> None:
        steps = self.steps
        adjacency: dict[str, list[str]] = {}
        goals: set[str] = set()
        for step_id, step in steps.items():
            targets = []
            for suffix, target in graph.step_edges(step):
                if target in steps:
                    targets.append(target)
                else:
                    self.add(f"/steps/{escape(step_id)}{suffix}", "graph.unknown_target",
                             f"step {target!r} does not exist")
                    goals.add(step_id)  # already reported; do not also call it a dead end
            adjacency[step_id] = targets
            if step["type"] == "end" or step_id in self.schema_broken_steps:
                goals.add(step_id)

        start = self.doc.get("start")
        if type(start) is str and steps:
            if start not in steps:
                self.add("/start", "graph.unknown_start", f"the start step {start!r} does not exist")
            else:
                reached = graph.reachable_from(start, adjacency)
                # A broken step reachable from start might lead anywhere once
                # fixed: do not report its consequences as problems of their own.
                uncertain = reached & (goals - {s for s in goals if steps[s]["type"] == "end"})
                if uncertain:
                    reached = set(steps)
                for step_id in steps:
                    if step_id not in reached:
                        self.add(f"/steps/{escape(step_id)}", "graph.unreachable",
                                 f"step {step_id!r} cannot be reached from the start step {start!r}")

        alive = graph.can_reach(goals, adjacency)
        for step_id in steps:
            if step_id not in alive:
                self.add(f"/steps/{escape(step_id)}", "graph.dead_end",
                         f"no route from step {step_id!r} leads to an end step; a run there could never finish")

        breakers = {
            step_id for step_id, step in steps.items()
            if self.is_interactive(step) or step_id in self.schema_broken_steps
        }
        for cycle in graph.cycles_without(adjacency, breakers):
            shown = " → ".join(cycle[:10]) + (" → …" if len(cycle) > 10 else "")
            self.add(f"/steps/{escape(cycle[0])}", "graph.spin_cycle",
                     f"steps {shown} form a loop without a question (or another step that waits "
                     "for the customer), so a run could go round forever; add a question to the "
                     "loop or break it")

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

    # ---- 5./6. per step ----------------------------------------------------------

    def check_step(self, step_id: str, step: dict) -> None:
        pointer = f"/steps/{escape(step_id)}"
        kind = step["type"]
        if kind == "decision":
            branches = step.get("branches")
            if type(branches) is list:
                if len(branches) > self.limits.max_branches:
                    self.add(f"{pointer}/branches", "limits.too_many_branches",
                             f"{len(branches)} branches; the limit is {self.limits.max_branches}")
                for index, branch in enumerate(branches):
                    if type(branch) is dict and "when" in branch:
                        self.check_rule(f"{pointer}/branches/{index}/when", branch["when"])
        elif kind == "question":
            self.check_question(pointer, step)
        elif kind == "message":
            self.check_media(pointer, step)
        if kind == "app":
            self.check_app(pointer, step)
        if kind in ("action", "app", "subpath"):
            if "input" in step:
                self.check_template(f"{pointer}/input", step["input"])
            if kind == "app" and isinstance(step.get("output_schema"), (dict, bool)):
                try:
                    Draft202012Validator.check_schema(step["output_schema"])
                except SchemaError as exc:
                    self.add(f"{pointer}/output_schema", "app.bad_output_schema",
                             f"output_schema is not a valid JSON Schema: {exc.message}")
                except Exception as exc:  # noqa: BLE001 - e.g. a regex the engine rejects
                    self.add(f"{pointer}/output_schema", "app.bad_output_schema",
                             f"output_schema cannot be used: {exc}")
            if kind == "subpath":
                self.check_subpath(pointer, step_id, step)
        self.check_store_as(pointer, step)

    def check_app(self, pointer: str, step: dict) -> None:
        app_id = step.get("app_id")
        if self.known_apps is None or type(app_id) is not str:
            return
        app = self.known_apps.get(app_id)
        if app is None:
            self.add(f"{pointer}/app_id", "app.unknown_app",
                     f"app {app_id!r} is not registered for this account; an admin registers "
                     "Guided Path Apps with POST /api/v1/guided-path-apps")
        elif app.get("error"):
            self.add(f"{pointer}/app_id", "app.not_allowed", f"app {app_id!r} cannot be used: {app['error']}")
        else:
            self.check_app_input(pointer, app_id, app, step.get("input", {}))

    def check_app_input(self, pointer: str, app_id: str, app: Mapping[str, Any], template: Any) -> None:
        """A constant input must match the app's declared ``input_schema`` (one built
        from variables is checked when the app is shown)."""
        schema = app.get("input_schema", True)
        if not isinstance(schema, (dict, bool)):
            return
        try:
            if expressions.template_references(template):
                return
            value = expressions.evaluate_template(template, {})
        except expressions.ExpressionError:
            return  # reported by check_template
        try:
            errors = list(Draft202012Validator(schema).iter_errors(value))
        except Exception:  # noqa: BLE001 - the registry checked the schema; never crash validation
            return
        for err in errors:
            self.add(f"{pointer}/input{pointer_to(err.absolute_path)}", "app.input_invalid",
                     f"the input does not match the input_schema app {app_id!r} declares: {err.message}")

    def check_media(self, pointer: str, step: dict) -> None:
        media = step.get("media")
        if self.known_media is None or type(media) is not list:
            return
        for index, item in enumerate(media):
            file_id = item.get("file_id") if type(item) is dict else None
            if type(file_id) is str and file_id not in self.known_media:
                self.add(f"{pointer}/media/{index}/file_id", "message.unknown_media",
                         f"there is no Guided Path media {file_id!r} in this account; upload it with "
                         "POST /api/v1/guided-paths/media")

    def check_rule(self, pointer: str, rule: Any) -> None:
        limits = {"max_depth": self.limits.max_rule_depth, "max_nodes": self.limits.max_rule_nodes}
        paths = expressions.quick_strict_check(rule, **limits)
        if paths is not None and all(self.reference_ok(path) for path in paths):
            return  # nearly every rule: nothing to report, no need for pointers
        self.report_analysis(pointer, expressions.analyze_rule(rule, **limits))

    def check_template(self, pointer: str, template: Any) -> None:
        limits = {"max_depth": self.limits.max_rule_depth, "max_nodes": self.limits.max_rule_nodes}
        paths = expressions.quick_template_check(template, **limits)
        if paths is not None and all(self.reference_ok(path) for path in paths):
            return
        self.report_analysis(pointer, expressions.analyze_template(template, **limits))

    def reference_ok(self, path: str) -> bool:
        root, dot, rest = path.partition(".")
        name = rest.partition(".")[0]
        if root == "vars":
            return name in self.variables
        target = self.steps.get(name)
        return target is not None and self.answers_recorded(target)

    def report_analysis(self, pointer: str, analysis: expressions.RuleAnalysis) -> None:
        for problem in analysis.problems:
            self.add(pointer + problem.pointer, problem.code, problem.message)
        self.check_references(pointer, analysis.references)

    def check_references(self, pointer: str, references: list[expressions.Reference]) -> None:
        for ref in references:
            root, dot, rest = ref.path.partition(".")
            if not dot:
                continue  # reported by the rule check (unknown_root)
            name = rest.partition(".")[0]
            if root == "vars" and name not in self.variables:
                self.add(pointer + ref.pointer, "expression.unknown_variable",
                         f"variable {name!r} is not declared; add it under /variables")
            elif root == "answers":
                target = self.steps.get(name)
                if target is None:
                    self.add(pointer + ref.pointer, "expression.unknown_answer",
                             f"there is no step {name!r} whose answer could be read")
                elif not self.answers_recorded(target):
                    self.add(pointer + ref.pointer, "expression.unknown_answer",
                             f"step {name!r} is a {target['type']} step; only questions "
                             "(and interactive plugin steps) have answers")

    def check_question(self, pointer: str, step: dict) -> None:
        kind = step.get("kind")
        options = step.get("options")
        if type(options) is list:
            if len(options) > self.limits.max_options:
                self.add(f"{pointer}/options", "limits.too_many_options",
                         f"{len(options)} options; the limit is {self.limits.max_options}")
            values = [o.get("value") for o in options if type(o) is dict]
            # The common case (distinct strings) needs no pairwise comparison.
            distinct = all(type(v) is str for v in values) and len(set(values)) == len(values)
            seen: list[Any] = []
            for index, option in enumerate(() if distinct else options):
                if type(option) is not dict or "value" not in option:
                    continue
                value = option["value"]
                if any(expressions.strict_equals(value, other) for other in seen):
                    self.add(f"{pointer}/options/{index}/value", "question.duplicate_option",
                             f"option value {_short(value)} appears more than once")
                seen.append(value)

        def number(key: str) -> float | None:
            value = step.get(key)
            return value if type(value) in (int, float) else None

        for low, high in (("min", "max"), ("min_length", "max_length"), ("min_selected", "max_selected")):
            a, b = number(low), number(high)
            if a is not None and b is not None and a > b:
                self.add(f"{pointer}/{high}", "question.bad_range", f"{high} ({b}) is smaller than {low} ({a})")
        max_length = number("max_length")
        if kind == "text" and max_length is not None and max_length > self.limits.max_answer_length:
            self.add(f"{pointer}/max_length", "limits.answer_too_long",
                     f"max_length may be at most {self.limits.max_answer_length}")
        if kind == "multiple_choice" and type(options) is list:
            for key in ("min_selected", "max_selected"):
                value = number(key)
                if value is not None and value > len(options):
                    self.add(f"{pointer}/{key}", "question.bad_range",
                             f"{key} ({value}) is more than the {len(options)} options")
        pattern = step.get("pattern")
        if type(pattern) is str:
            if len(pattern) > self.limits.max_pattern_length:
                self.add(f"{pointer}/pattern", "limits.pattern_too_long",
                         f"the pattern may be at most {self.limits.max_pattern_length} characters")
            else:
                try:
                    re.compile(pattern)
                except (re.error, RecursionError, OverflowError) as exc:
                    self.add(f"{pointer}/pattern", "question.bad_pattern", f"invalid regular expression: {exc}")

    def produced_type(self, step: dict) -> str | None:
        """The JSON type a step stores with ``store_as``, when it can be known."""
        kind = step.get("type")
        if kind == "question":
            q = step.get("kind")
            if q == "single_choice":
                options = step.get("options")
                values = [o.get("value") for o in options if type(o) is dict] if type(options) is list else []
                types = {json_type_name(v) for v in values}
                if types == {"string"}:
                    return "string"
                if types <= {"integer", "number"} and types:
                    return "integer" if types == {"integer"} else "number"
                return None
            if type(q) is not str:
                return None  # reported by the schema
            return {"multiple_choice": "array", "text": "string", "number": "number", "yes_no": "boolean"}.get(q)
        if kind in ("action", "subpath"):
            return "object"
        if kind == "app":
            schema = step.get("output_schema")
            declared = schema.get("type") if type(schema) is dict else None
            return declared if type(declared) is str else None
        step_type = self.registry.get(kind)
        if step_type is None or kind in BUILTIN_STEP_TYPE_NAMES:
            return None
        if step_type.interactive:
            declared = step_type.answer_schema.get("type") if type(step_type.answer_schema) is dict else None
            return declared if type(declared) is str else None
        return "object"

    def check_store_as(self, pointer: str, step: dict) -> None:
        name = step.get("store_as")
        if type(name) is not str:
            return
        if name not in self.variables:
            self.add(f"{pointer}/store_as", "store_as.unknown_variable",
                     f"variable {name!r} is not declared; add it under /variables")
            return
        declared = self.variables[name]
        produced = self.produced_type(step)
        # A number question may fill an integer variable: the runner then accepts whole numbers only.
        if step.get("type") == "question" and step.get("kind") == "number" and declared == "integer":
            return
        if not _compatible(produced, declared):
            self.add(f"{pointer}/store_as", "store_as.type_mismatch",
                     f"this step stores {'an' if produced[0] in 'aeiou' else 'a'} {produced}, "
                     f"but variable {name!r} is declared as {declared}")

    # ---- 7. subpaths -------------------------------------------------------------

    def check_subpath(self, pointer: str, step_id: str, step: dict) -> None:
        target = step.get("path_id")
        if type(target) is not str:
            return
        own_id = self.doc.get("id")
        if target == own_id:
            self.add(f"{pointer}/path_id", "subpath.cycle", f"path {own_id!r} cannot run itself as a subpath")
            return
        if self.known_paths is None:
            return
        child = self.known_paths.get(target)
        if child is None:
            self.add(f"{pointer}/path_id", "subpath.unknown_path",
                     f"there is no published path {target!r}; publish it first")
            return
        child_vars = child.get("variables") if type(child) is dict else None
        inputs = step.get("input")
        if type(child_vars) is dict and type(inputs) is dict:
            for key in inputs:
                if key not in child_vars:
                    self.add(f"{pointer}/input/{escape(key)}", "subpath.unknown_input",
                             f"path {target!r} declares no variable {key!r}")

    def subpath_targets(self, path_id: str) -> list[str]:
        document = self.doc if path_id == self.doc.get("id") else (self.known_paths or {}).get(path_id)
        steps = document.get("steps") if type(document) is dict else None
        if type(steps) is not dict:
            return []
        return sorted({
            s["path_id"] for s in steps.values()
            if type(s) is dict and s.get("type") == "subpath" and type(s.get("path_id")) is str
        })

    def check_subpath_cycles(self) -> None:
        """A → B → A (or A → B → C → B): a run would nest subpaths forever."""
        own_id = self.doc.get("id")
        if self.known_paths is None or type(own_id) is not str:
            return
        for step_id, step in self.steps.items():
            target = step.get("path_id") if step["type"] == "subpath" else None
            if type(target) is not str or target == own_id or target not in self.known_paths:
                continue
            chain = self.find_cycle([own_id, target])
            if chain:
                self.add(f"/steps/{escape(step_id)}/path_id", "subpath.cycle",
                         "subpaths loop: " + " → ".join(chain))

    def find_cycle(self, prefix: list[str]) -> list[str] | None:
        """Depth-first from the end of ``prefix``; the first chain that revisits a path."""
        stack: list[tuple[list[str], int]] = [(prefix, 0)]
        seen_dead: set[str] = set()
        while stack:
            chain, index = stack.pop()
            node = chain[-1]
            targets = self.subpath_targets(node)
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

    # ---- 8. texts and locales --------------------------------------------------

    def check_texts(self) -> None:
        locales = self.doc.get("locales")
        valid_locales = (
            [x for x in locales if type(x) is str] if type(locales) is list and locales else None
        )
        limits = self.limits
        fields: list[tuple[str, Any, int]] = [
            ("/title", self.doc.get("title"), limits.max_title_length),
            ("/description", self.doc.get("description"), limits.max_text_length),
        ]
        for step_id, step in self.steps.items():
            pointer = f"/steps/{escape(step_id)}"
            fields.append((f"{pointer}/title", step.get("title"), limits.max_title_length))
            kind = step["type"]
            if kind == "message":
                fields.append((f"{pointer}/text", step.get("text"), limits.max_text_length))
                media = step.get("media")
                if type(media) is list:
                    fields.extend(
                        (f"{pointer}/media/{i}/alt", m.get("alt"), limits.max_label_length)
                        for i, m in enumerate(media) if type(m) is dict
                    )
            elif kind == "question":
                fields.append((f"{pointer}/prompt", step.get("prompt"), limits.max_text_length))
                options = step.get("options")
                if type(options) is list:
                    fields.extend(
                        (f"{pointer}/options/{i}/label", o.get("label"), limits.max_label_length)
                        for i, o in enumerate(options) if type(o) is dict
                    )
            elif kind == "end":
                fields.append((f"{pointer}/message", step.get("message"), limits.max_text_length))
        for pointer, value, max_length in fields:
            self.check_text(pointer, value, max_length, valid_locales)

    def check_text(self, pointer: str, value: Any, max_length: int, locales: list[str] | None) -> None:
        if type(value) is str:
            if len(value) > max_length:
                self.add(pointer, "limits.text_too_long",
                         f"{len(value)} characters; the limit here is {max_length}")
            return
        if type(value) is not dict:
            return
        if locales is None:
            self.add(pointer, "text.locales_missing",
                     "localised text needs the document's locales; add \"locales\" (the first is the default)")
            return
        for locale, text in value.items():
            if locale not in locales:
                self.add(f"{pointer}/{escape(locale)}", "text.unknown_locale",
                         f"locale {locale!r} is not one of the document's locales ({', '.join(locales)})")
            if type(text) is str and len(text) > max_length:
                self.add(f"{pointer}/{escape(locale)}", "limits.text_too_long",
                         f"{len(text)} characters; the limit here is {max_length}")
        if locales[0] not in value:
            self.add(pointer, "text.missing_default_locale",
                     f"the text has no version in the default locale {locales[0]!r}")


# ---- JSON Schema errors → issues ---------------------------------------------------


def _schema_issues(
    error: ValidationError, root: Any, *, prefix: str = "", code_prefix: str = "schema"
) -> list[Issue]:
    """Turn one jsonschema error into issues with precise pointers and readable
    messages (jsonschema's own messages quote whole instances)."""
    path = list(error.absolute_path)
    pointer = prefix + pointer_to(path)
    instance = error.instance
    validator = error.validator
    value = error.validator_value
    schema_path = list(error.absolute_schema_path)

    if "propertyNames" in schema_path:
        # The instance is the offending key; point at it.
        key_pointer = f"{pointer}/{escape(instance)}"
        what = "step id" if path == ["steps"] else "variable name" if path == ["variables"] else "name"
        detail = error.message if validator != "pattern" else f"must match {value}"
        return [Issue(key_pointer, f"{code_prefix}.bad_name", f"{what} {_short(instance)}: {detail}")]
    if validator == "required":
        missing = [name for name in value if type(instance) is dict and name not in instance
                   and repr(name) in error.message]
        return [
            Issue(f"{pointer}/{escape(name)}", f"{code_prefix}.required", f"{name!r} is required here")
            for name in missing[:1] or value[:1]
        ]
    if validator == "additionalProperties" and type(instance) is dict and value is False:
        allowed = set(error.schema.get("properties", {}))
        extras = [k for k in instance if k not in allowed]
        listing = ", ".join(sorted(allowed)) or "none"
        return [
            Issue(f"{pointer}/{escape(k)}", f"{code_prefix}.unknown_field",
                  f"unknown field {k!r}; allowed here: {listing}")
            for k in extras
        ]
    if validator is None or (validator == "not" and value == {}):  # "never allowed here"
        name = path[-1] if path else "this value"
        return [Issue(pointer, f"{code_prefix}.not_allowed", f"{name!r} is not allowed here{_context(root, path)}")]
    if validator == "type":
        expected = " or ".join(value) if type(value) is list else value
        return [Issue(pointer, f"{code_prefix}.type",
                      f"must be {expected}, not {json_type_name(instance)}")]
    if validator == "enum":
        return [Issue(pointer, f"{code_prefix}.enum",
                      f"{_short(instance)} is not one of {', '.join(_short(v) for v in value)}")]
    if validator == "const":
        return [Issue(pointer, f"{code_prefix}.const", f"must be {_short(value)}, not {_short(instance)}")]
    if validator == "pattern":
        return [Issue(pointer, f"{code_prefix}.pattern", f"{_short(instance)} does not match {value}")]
    message = error.message
    if len(message) > 300:
        message = message[:299] + "…"
    return [Issue(pointer, f"{code_prefix}.{_snake(str(validator))}", message)]


def _context(root: Any, path: list[Any]) -> str:
    """Explain a ``false`` schema inside a question (``options`` on a text question…)."""
    node = root
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return ""
    if type(node) is dict and type(node.get("kind")) is str:
        return f" for a question of kind {node['kind']!r}"
    return ""
